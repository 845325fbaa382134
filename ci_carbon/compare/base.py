"""Where a pull request started: the merge-base of HEAD and the base ref, and the manifest as it was there.

The merge-base, not the base branch's tip: commits that landed on the base branch after the pull request
branched off are not the pull request's doing, and must not show in its delta. CI checkouts are often shallow
(actions/checkout fetches one commit by default), so when the merge-base is not in the clone it is fetched by
deepening the history step by step; when that is impossible the user gets one line saying which fetch depth
to set.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from ci_carbon.core.review import BasePoint
from ci_carbon.errors import InputError, InputProblem
from ci_carbon.sources.git import Git, GitError, NotARepository

DEEPEN_START = 32  # commits fetched by the first `git fetch --deepen`; doubled on each try
DEEPEN_CAP = 4096  # the largest single step: about 8,000 commits fetched in all before giving up
FULL_HISTORY = "check out the full history (actions/checkout: `fetch-depth: 0`) or run `git fetch --unshallow`"
_SHA = re.compile(r"[0-9a-fA-F]{7,40}")


class BaseManifest(NamedTuple):
    path: str  # repository-relative path at the base (the old name when the manifest was renamed)
    text: str | None  # None: the manifest did not exist at the base
    renamed_from: str = ""


def _problem(where: str, message: str) -> InputError:
    return InputError([InputProblem(where, None, "--base", message)])


def open_repo(path: str) -> Git:
    try:
        return Git.open(path)
    except NotARepository as err:
        why = str(err) if "not installed" in str(err) else "is not inside a git repository (give --repo DIR)"
        raise _problem(path, why) from None


def _resolve(repo: Git, ref: str) -> str | None:
    return repo.commit(ref)


def _shallow(repo: Git) -> bool:
    return repo.run("rev-parse", "--is-shallow-repository") == "true"


def _remote_of(repo: Git, ref: str) -> tuple[str | None, str]:
    """(remote, branch) for a ref such as origin/main; a bare name belongs to origin (or the only remote)."""
    names = repo.remotes()
    first, _, rest = ref.partition("/")
    if rest and first in names:
        return first, rest
    return ("origin" if "origin" in names else (names[0] if names else None)), ref


def _fetch_ref(repo: Git, ref: str) -> str | None:
    """Fetch a base that the clone lacks (actions/checkout fetches only the pull request's ref); its SHA or None."""
    remote, branch = _remote_of(repo, ref)
    if remote is None:
        return None
    depth = ["--depth=1"] if _shallow(repo) else []
    target = branch if _SHA.fullmatch(ref) else f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"
    try:
        repo.run("fetch", "--quiet", *depth, remote, target)
    except GitError:
        return None
    return _resolve(repo, ref) or _resolve(repo, f"{remote}/{branch}")


def _merge_base(repo: Git, head: str, base: str) -> str | None:
    try:
        out = repo.run("merge-base", head, base).split()
    except GitError:  # exit 1: no common ancestor in the history at hand
        return None
    return out[0] if out else None


def _deepen(repo: Git, head: str, base: str, ref: str) -> tuple[str | None, int]:
    """Deepen a shallow clone in doubling steps until the merge-base appears; (merge-base or None, commits fetched).

    A base named remote/branch is fetched by its own refspec, so that a clone whose remote maps every branch
    does not fetch them all; git deepens every shallow boundary, HEAD's included, either way.
    """
    remote, branch = _remote_of(repo, ref)
    named = ref.startswith(f"{remote}/") and not _SHA.fullmatch(ref)
    refspec = [f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"] if named else []
    fetched, step = 0, DEEPEN_START
    while step <= DEEPEN_CAP and _shallow(repo):
        try:
            repo.run("fetch", "--quiet", f"--deepen={step}", remote, *refspec)  # type: ignore[arg-type]
        except GitError:
            break
        fetched += step
        found = _merge_base(repo, head, base)
        if found:
            return found, fetched
        step *= 2
    return None, fetched


def find(ref: str, repo_path: str = ".") -> tuple[Git, BasePoint]:
    """The repository and the merge-base of HEAD and ``ref``, deepening a shallow clone when needed."""
    repo = open_repo(repo_path)
    head = _resolve(repo, "HEAD")
    if head is None:
        raise _problem(repo_path, "the repository has no commit at HEAD")
    base = _resolve(repo, ref) or _fetch_ref(repo, ref)
    if base is None:
        raise _problem(repo_path, f"cannot resolve '{ref}' (not in this clone, and fetching it failed); "
                                  f"{FULL_HISTORY}")
    found, fetched = _merge_base(repo, head, base), 0
    if found is None and _shallow(repo):
        if _remote_of(repo, ref)[0] is None:
            raise _problem(repo_path, f"no merge-base of HEAD and '{ref}' in this shallow clone, and no remote to "
                                      f"fetch more history from; {FULL_HISTORY}")
        found, fetched = _deepen(repo, head, base, ref)
        if found is None and _shallow(repo):
            raise _problem(repo_path, f"no merge-base of HEAD and '{ref}' after fetching {fetched:,} more commits "
                                      f"of history; {FULL_HISTORY}")
    if found is None:
        raise _problem(repo_path, f"HEAD and '{ref}' have no common history: nothing to compare with")
    return repo, BasePoint(ref, found, head, fetched)


def commits_since(repo: Git, point: BasePoint) -> tuple[str, ...]:
    """The pull request's commits: reachable from HEAD and not from the merge-base."""
    return tuple(repo.run("rev-list", f"{point.sha}..{point.head}").split())


def _relative(repo: Git, manifest: str) -> str:
    root = os.path.realpath(repo.root or ".")
    rel = os.path.relpath(os.path.realpath(manifest), root)
    if rel == ".." or rel.startswith(".." + os.sep):
        raise InputError([InputProblem(manifest, None, "--manifest", f"is outside the repository at {root}, so "
                                                                      "--base cannot find it there")])
    return rel.replace(os.sep, "/")


def _renamed_from(repo: Git, point: BasePoint, path: str) -> str:
    """The manifest's old path when the pull request renamed it (git's rename detection), else ''."""
    status = repo.run("diff", "--find-renames", "--name-status", point.sha, point.head)
    for line in status.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].startswith("R") and parts[2] == path:
            return parts[1]
    return ""


def manifest_at(repo: Git, point: BasePoint, manifest: str) -> BaseManifest:
    """The manifest's text at the merge-base (following a rename), or None when it did not exist there."""
    path = _relative(repo, manifest)
    old = _renamed_from(repo, point, path)
    at = old or path
    raw = repo.blob(point.sha, at)
    if raw is None:
        return BaseManifest(at, None, old)
    try:
        return BaseManifest(at, raw.decode("utf-8-sig"), old)
    except UnicodeDecodeError:
        raise InputError([InputProblem(label(point, at), None, None, "is not UTF-8 text")]) from None


def label(point: BasePoint, path: str) -> str:
    """How a problem in the base's manifest names it: the file and the commit it was read from."""
    return f"{path} (base {point.sha[:7]})"
