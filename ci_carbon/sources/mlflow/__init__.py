"""The MLflow source: runs of a tracking server or SQL store → JobSpecs, with measured power where logged.

Readers (``client_reader``, ``sql_reader``) return the same :class:`~.records.RunRecord` s; ``power`` integrates
logged power histories; ``mapping`` turns a run into a JobSpec. Nothing here is imported on the manifest path.
"""
