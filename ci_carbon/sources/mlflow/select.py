"""Turn command-line choices into a Selection: dates as UTC milliseconds, git ranges as commit lists."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from ci_carbon.errors import InputError, InputProblem
from ci_carbon.sources.mlflow.records import Selection


def parse_time(text: str, option: str) -> int:
    """'2026-07-01' or an ISO 8601 time → ms since the epoch; a time without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError([InputProblem(option, None, None, f"'{text}' is not a date (write 2026-07-01 or "
                                                           "2026-07-01T12:00:00Z)")]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


_COMMIT = re.compile(r"[0-9a-f]{7,64}")


def _usable(since_ms: int | None, until_ms: int | None, commits: tuple[str, ...], since: str | None,
            until: str | None) -> None:
    """A selection that can select nothing by construction is a usage mistake, not an empty report."""
    problems = []
    if since_ms is not None and until_ms is not None and since_ms >= until_ms:
        problems.append(InputProblem("--since", None, None, f"'{since}' is not before --until '{until}': no run can "
                                                            "start in that window"))
    for commit in commits:
        if not _COMMIT.fullmatch(commit):
            problems.append(InputProblem("--git-commit", None, None, f"'{commit}' is not a commit: give at least 7 "
                                                                     "hexadecimal characters of its SHA"))
    if problems:
        raise InputError(problems)


def build(experiments: tuple[str, ...] = (), filter_: str = "", since: str | None = None, until: str | None = None,
          run_ids: tuple[str, ...] = (), git_commits: tuple[str, ...] = (), git_range: str | None = None,
          repo: str = ".", active_only: bool = False) -> Selection:
    commits = tuple(c.strip().lower() for c in git_commits)
    since_ms = parse_time(since, "--since") if since else None
    until_ms = parse_time(until, "--until") if until else None
    _usable(since_ms, until_ms, commits, since, until)
    if git_range:
        from ci_carbon.sources.git import commits_in_range

        commits += commits_in_range(git_range, repo)
        if not commits:
            raise InputError([InputProblem(repo, None, "--git-range", f"'{git_range}' has no commits")])
    return Selection(
        experiments=tuple(experiments), filter=filter_ or "",
        since=since_ms, until=until_ms,
        run_ids=tuple(run_ids), git_commits=commits, include_deleted=not active_only,
    )
