"""The report model: what a command folds its estimates into, and what every format renders.

These are the value types the stages hand each other after the estimate — totals, recommendations, what was not
estimated, where the jobs came from — and the :class:`Report` that holds them. They sit at the bottom of the house
with the job model, so that no stage has to import a later one to name what it produces; what a pull-request review
adds (the comparison with the base, the budget's verdict) is in :mod:`ci_carbon.core.review`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ci_carbon import __version__
from ci_carbon.core.equivalents import Equivalent
from ci_carbon.core.model import EMPTY, Estimate, Factor, Notice, Skipped
from ci_carbon.core.results import Results
from ci_carbon.core.review import Budget, Comparison
from ci_carbon.core.rows import Rows
from ci_carbon.core.totals import Totals


class Recommendation(NamedTuple):
    """One way to cut emissions; the sentence is templates/advice.j2's, from ``params``.

    ``saving_kg`` is None for a hint whose saving no measurement supports (a peak-efficiency ratio, an idle draw
    nobody published): the design contract's null.
    """

    kind: str  # region | provider | hardware | search | waste | quantify
    jobs: Sequence[str]
    saving_kg: float | None
    params: Mapping[str, object] = EMPTY


COUNTED_ELSEWHERE = ("parent",)  # skipped inputs whose energy is counted through other jobs


class SourceInfo(NamedTuple):
    """Where the jobs came from, as a report may show it (a URI's password is never in ``where``)."""

    kind: str  # manifest | mlflow | codecarbon
    where: str  # the file or tracking URI
    reader: str = ""  # mlflow: sql | client
    read: int = 0  # runs or jobs read
    notes: tuple[Notice, ...] = ()  # about the source as a whole (words: templates/notices.j2, source_note)


class Report(NamedTuple):
    rows: Rows  # every job as the formats show it, largest emissions first, then by name and id
    totals: Totals
    recommendations: tuple[Recommendation, ...]
    factors: tuple[Factor, ...]  # every factor any job used, once, sorted by name
    equivalents: tuple[Equivalent, ...]
    source: SourceInfo | None = None
    skipped: tuple[Skipped, ...] = ()
    tool_version: str = __version__
    comparison: Comparison | None = None  # against the pull request's base, when asked
    budget: Budget | None = None  # the budget gate's verdict, when thresholds are set
    estimates: tuple[Estimate, ...] = ()  # the estimates behind the rows, where the command kept them (a review)
    results: Results | None = None  # carbon per result, when a metric was asked for (core/results.py)

    @property
    def not_estimated(self) -> int:
        """Inputs selected but not estimated; a search's parent runs are counted through their children instead."""
        return sum(1 for s in self.skipped if s.code not in COUNTED_ELSEWHERE)

    @property
    def selected(self) -> int:
        return self.totals.jobs + self.not_estimated
