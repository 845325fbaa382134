"""The compare stage in order: find the base, build its report, compare, judge the budget. No I/O beyond git.

The command line calls these; each returns a new Report with its ``comparison`` or ``budget`` filled in, so
rendering stays one pass over one model.
"""

from __future__ import annotations

import os

from ci_carbon.assemble import assemble, report_of
from ci_carbon.compare import base, delta
from ci_carbon.compare import budget as gate
from ci_carbon.core import files
from ci_carbon.core.report import Report, SourceInfo
from ci_carbon.core.results import against
from ci_carbon.core.review import Baseline, BasePoint
from ci_carbon.core.settings import BudgetConfig, inverted_pairs
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.sources.manifest import ManifestSource


def manifest_against_base(head: Report, manifest: str, ref: str, repo_path: str) -> Report:
    """``head`` compared with the manifest as it was at the merge-base of HEAD and ``ref``."""
    repo, point = base.find(ref, repo_path)
    found = base.manifest_at(repo, point, manifest)
    where = base.label(point, found.path)
    if found.text is None:  # the manifest did not exist at the base: every job is added
        base_report = report_of((), SourceInfo("manifest", where))
    else:
        base_report = assemble(ManifestSource(where, text=found.text), keep=True)
    baseline = Baseline(point, "manifest", found.path, found.renamed_from, found.text is not None)
    return head._replace(comparison=delta.compare(base_report, head, baseline))


def pull_request_commits(ref: str, repo_path: str) -> tuple[BasePoint, tuple[str, ...]]:
    """The merge-base and the commits after it up to HEAD: the runs of these are the pull request's."""
    repo, point = base.find(ref, repo_path)
    commits = base.commits_since(repo, point)
    if not commits:
        raise InputError([InputProblem(repo_path, None, "--base", f"HEAD is the merge-base with '{ref}': there are "
                                                                  "no commits of the pull request to select runs by")])
    return point, commits


def runs_against_base(head: Report, base_report: Report, point: BasePoint) -> Report:
    """``head`` (the pull request's runs) compared with the runs of the merge-base commit, if it has any; with a
    metric, the pull request's best run against the base's (core/results.py)."""
    found = bool(base_report.source and base_report.source.read)
    compared = head._replace(comparison=delta.compare(base_report, head, Baseline(point, "mlflow", found=found)))
    change = against(head.results, base_report.results)
    if change is None or compared.results is None:
        return compared
    return compared._replace(results=compared.results._replace(against_base=change))


def event_labels(path: str | None) -> tuple[str, ...]:
    """The pull request's label names in a GitHub event payload (``pull_request.labels[].name``); () if none."""
    import json

    if not path or not os.path.isfile(path):
        return ()
    try:
        event = json.loads(files.read_bytes(path, "JSON file"))
    except (files.Unreadable, ValueError) as err:
        raise InputError([InputProblem(path, None, "GITHUB_EVENT_PATH", f"cannot be read as JSON: {err}")]) from None
    labels = (event.get("pull_request") or {}).get("labels") or [] if isinstance(event, dict) else []
    return tuple(str(label["name"]) for label in labels if isinstance(label, dict) and label.get("name"))


def judge(report: Report, config: BudgetConfig, cli: dict[str, float | None], approved: bool,
          labels: tuple[str, ...]) -> Report:
    """``report`` with the budget's verdict; unchanged when no threshold is set anywhere."""
    limits = gate.merge(cli, config)
    wrong = inverted_pairs(limits)
    if wrong:
        raise InputError([InputProblem("ci-carbon", None, f"--budget-{w.replace('_', '-')}",
                                       f"{limits[w]:g} is above {f} ({limits[f]:g}); a warning threshold must not be "
                                       "above its failure threshold") for w, f in wrong])
    if all(v is None for v in limits.values()):
        return report
    who = gate.approval(approved, labels, config.approve_label)
    return report._replace(budget=gate.evaluate(report, limits, config.approve_label, who))
