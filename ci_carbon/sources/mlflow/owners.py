"""Who a nested run belongs to: a child run that does not say its team or project takes its parent's.

Why: sweep trials (Optuna, Ray Tune, a loop of ``mlflow.start_run(nested=True)``) are started by a library that sets
none of the organisation's tags; the parent run, started by the user's script, carries them. Without this, trials
were counted under whatever else the config names (``mlflow.user``: the OS user of the training box, often
``root``). The parent may be outside the selection (``--since``, ``--git-commit``) or in another chunk of a stream,
so parents are read by id through the reader, the SQL one or the client, and so are their own parents in turn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ci_carbon.core.settings import MlflowConfig
from ci_carbon.sources.mlflow.mapping import OWNER_FIELDS, Owner, inherit, owner
from ci_carbon.sources.mlflow.records import RunReader, RunRecord, Selection

PARENT_TAG = "mlflow.parentRunId"
ID_CHUNK = 100  # run ids per read: the client puts them in one search filter
MAX_DEPTH = 32  # nesting levels followed (a parent chain that loops, in a damaged store, stops here)


def owners(reader: RunReader, parent_ids: Iterable[str], config: MlflowConfig,
           known: Mapping[str, RunRecord] | None = None) -> dict[str, Owner]:
    """Parent run id → the owner its children inherit: what the parent says, over what its own parent passes on.

    ``known``: records already read (the client path holds the selected runs), so only the others are read. A
    parent that cannot be found (deleted for good, another store) passes nothing on.
    """
    records = dict(known or {})
    wanted = set(parent_ids)
    for _ in range(MAX_DEPTH):
        _read(reader, wanted - records.keys(), records)
        above = {records[i].tags[PARENT_TAG] for i in wanted & records.keys()
                 if records[i].tags.get(PARENT_TAG) and not _complete(records[i], config)}
        if not above - wanted:
            break
        wanted |= above
    found: dict[str, Owner] = {}
    return {run_id: _resolved(run_id, records, config, found, frozenset()) for run_id in set(parent_ids)}


def _complete(record: RunRecord, config: MlflowConfig) -> bool:
    """The run says every owner field by its best name: nothing above it could change what it passes on."""
    said = owner(record, config)
    return all(field in said and said[field][0] == 0 for field in OWNER_FIELDS)


def _read(reader: RunReader, run_ids: set[str], into: dict[str, RunRecord]) -> None:
    ids = sorted(run_ids)
    for start in range(0, len(ids), ID_CHUNK):
        for record in reader.runs(Selection(run_ids=tuple(ids[start:start + ID_CHUNK]))):
            into[record.run_id] = record


def _resolved(run_id: str, records: Mapping[str, RunRecord], config: MlflowConfig, found: dict[str, Owner],
              seen: frozenset[str]) -> Owner:
    """The owner ``run_id`` passes on (memoised in ``found``; a loop in the chain ends where it closes)."""
    if run_id in found:
        return found[run_id]
    record = records.get(run_id)
    if record is None or run_id in seen:
        return {}
    own = owner(record, config)
    parent = record.tags.get(PARENT_TAG)
    result = inherit(own, _resolved(parent, records, config, found, seen | {run_id})) if parent else own
    found[run_id] = result
    return result
