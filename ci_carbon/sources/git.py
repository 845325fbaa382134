"""Git lookups with GitPython: the commits of a range, for selecting the runs a pull request produced."""

from __future__ import annotations

from ci_carbon.errors import InputError, InputProblem


def commits_in_range(spec: str, repo_path: str = ".") -> tuple[str, ...]:
    """Full SHAs of ``A..B`` (commits reachable from B and not from A), or of a single commit-ish."""
    import git

    try:
        repo = git.Repo(repo_path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise InputError([InputProblem(repo_path, None, "--git-range", "is not inside a git repository")]) from None
    try:
        if ".." in spec:
            return tuple(c.hexsha for c in repo.iter_commits(spec))
        return (repo.commit(spec).hexsha,)
    except (git.GitCommandError, git.BadName, ValueError) as err:
        message = str(err).strip().splitlines()[-1] if str(err).strip() else "unknown revision"
        raise InputError([InputProblem(repo_path, None, "--git-range", f"cannot resolve '{spec}': {message}")]
                         ) from None
