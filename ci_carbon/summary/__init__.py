"""The quarterly organisation footprint summary (``ci-carbon summary``, issue 5).

period (which runs belong to which quarter) → collect (stream the store, estimate and advise a chunk at a time) →
aggregate (running sums, the :class:`~ci_carbon.summary.model.Summary`) → render (Markdown, HTML, CSV, JSON).
"""
