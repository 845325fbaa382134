"""Turn command-line choices into a Selection: dates as UTC milliseconds, git ranges as commit lists."""

from __future__ import annotations

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


def build(experiments: tuple[str, ...] = (), filter_: str = "", since: str | None = None, until: str | None = None,
          run_ids: tuple[str, ...] = (), git_commits: tuple[str, ...] = (), git_range: str | None = None,
          repo: str = ".", active_only: bool = False) -> Selection:
    commits = tuple(c.strip().lower() for c in git_commits)
    if git_range:
        from ci_carbon.sources.git import commits_in_range

        commits += commits_in_range(git_range, repo)
        if not commits:
            raise InputError([InputProblem(repo, None, "--git-range", f"'{git_range}' has no commits")])
    return Selection(
        experiments=tuple(experiments), filter=filter_ or "",
        since=parse_time(since, "--since") if since else None, until=parse_time(until, "--until") if until else None,
        run_ids=tuple(run_ids), git_commits=commits, include_deleted=not active_only,
    )
