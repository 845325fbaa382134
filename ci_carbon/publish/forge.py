"""The forge-neutral upsert of the sticky comment, over a small interface that GitHub and GitLab implement.

Which comments are ours: a comment is edited or deleted only when (1) its first line is exactly our marker with
the same report key and (2) its author is the identity the token writes as (``Forge.identity``). A marker alone
proves nothing (anyone can paste one into a comment), so a comment by another account is never touched, however
exactly it imitates ours; the command reports how many such comments it ignored.

Order of reports: the marker carries the report time; when one of our comments for the key already holds a newer
report, nothing is written (a re-run of an old commit must not overwrite the report of a newer one). An equal time
is the same event re-run and may update.

Races and lost answers: after creating, the comments are listed again and our duplicates for the key deleted, the
newest report kept (:func:`_settle`), so two runs racing on one pull request end with one comment. A create is never
retried blindly: after a failed answer the comments are listed first (:func:`_create`), since a 502 may arrive after
the forge wrote the comment. After an edit the comments are listed again too: when a racing run wrote an older report
over ours, ours is written again. (Only an older run's edit that lands after our second look can still win; a later
run of either kind sets it right.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ci_carbon.publish import markers
from ci_carbon.publish.markers import Marker
from ci_carbon.publish.transport import ForgeError

EDIT_TRIES = 3  # times our edit is written again when a racing older report replaced it
CREATE_TRIES = 4  # as transport.RETRIES: the first try and three more, each after looking for the first's comment
BEHAVIOURS = ("update", "new", "delete-and-new")


@dataclass(frozen=True)
class Comment:
    """A pull-request comment or merge-request note, as much of it as the upsert needs."""

    id: int | None
    author: str
    body: str
    url: str = ""


@dataclass(frozen=True)
class Head:
    """A pull request as the forge lists it for a commit: its number, where its head is, whether it is open."""

    number: int
    sha: str
    branch: str
    open: bool = True


class Forge(Protocol):
    """What the upsert needs from a forge; github.py and gitlab.py implement it over their REST APIs (each module
    registered in forges.py returns one from its ``client``)."""

    name: str  # the forge's registry name (forges.py): picks the templates' wording
    limit: int  # the most characters a comment body may have
    where: str  # the pull request, for messages: "owner/repo#12"

    def identity(self) -> str | None:
        """The login the token writes as; None when unknown (a dry run), in which case nothing is edited."""
        ...

    def comments(self) -> list[Comment]:
        """Every comment of the pull request, through all pages, oldest first."""
        ...

    def create(self, body: str) -> Comment: ...

    def update(self, comment: Comment, body: str) -> Comment: ...

    def delete(self, comment: Comment) -> None: ...

    def edit_url(self) -> str:
        """The URL pattern for editing or deleting one of our comments, as a dry run prints it."""
        ...

    def heads(self, sha: str) -> list[Head]:
        """The pull requests the forge associates with commit ``sha`` (for ``comment --head-sha``)."""
        ...


@dataclass(frozen=True)
class Outcome:
    """What the upsert did: ``action`` is created, updated, unchanged or older (nothing written)."""

    action: str
    comment: Comment | None
    identity: str | None
    deleted: int = 0
    ignored: int = 0  # comments with our key's marker written by another account
    newer: datetime | None = None  # the newer report time already posted, when action is "older"


def partition(comments: Sequence[Comment], key: str, identity: str | None
              ) -> tuple[list[tuple[Comment, Marker]], int]:
    """Our comments for ``key`` (with their markers), and how many others carry that key's marker."""
    ours: list[tuple[Comment, Marker]] = []
    others = 0
    for comment in comments:
        marker = markers.parse(comment.body)
        if marker is None or marker.key != key:
            continue
        if identity is not None and comment.author == identity and comment.id is not None:
            ours.append((comment, marker))
        else:
            others += 1
    return ours, others


def _latest(ours: Sequence[tuple[Comment, Marker]]) -> tuple[Comment, Marker]:
    """The comment holding the newest report (the highest id among equal times: the last one written).

    Every run orders by the same two values, both read from the forge, so two racing runs agree on which survives.
    """
    return max(ours, key=lambda pair: (pair[1].time, pair[0].id or 0))


def _create(forge: Forge, text: str, key: str, identity: str | None) -> Comment:
    """Create the comment; after a failure that may have come after the forge wrote it (a 502 from a proxy, a
    dropped connection), look again before creating a second one: a comment of ours with exactly this text is it."""
    for attempt in range(CREATE_TRIES):
        try:
            return forge.create(text)
        except ForgeError as err:
            if err.reason != "unreachable" or attempt == CREATE_TRIES - 1:
                raise
        ours, _ = partition(forge.comments(), key, identity)
        written = [c for c, _ in ours if markers.same_body(c.body, text)]
        if written:
            return max(written, key=lambda c: c.id or 0)
    raise AssertionError("unreachable")  # the loop returns or raises


def _settle(forge: Forge, created: Comment, marker: Marker, identity: str | None) -> Comment:
    """After creating: list again and delete every other comment of ours for the key, keeping the newest report.

    Two runs that both listed before either wrote (two pushes a second apart) each create one; each then sees both
    (the later one at least) and deletes the same one, so exactly one stays. A comment the other run deleted first
    is already gone (404): that is the outcome wanted, not an error.
    """
    ours, _ = partition(forge.comments(), marker.key, identity)
    if not ours:
        return created
    keep, _ = _latest(ours)
    for comment, _ in ours:
        if comment.id != keep.id:
            try:
                forge.delete(comment)
            except ForgeError as err:
                if err.reason != "not_found":
                    raise
    return keep


def _updated(forge: Forge, latest: Comment, text: str, marker: Marker, identity: str | None,
             ignored: int) -> Outcome:
    """Edit our comment, then look again: when a racing run's older report was written over ours after we read
    (both edited the same comment), write ours again, so the newer report stays (a bounded number of times)."""
    updated = forge.update(latest, text)
    for _ in range(EDIT_TRIES):
        kept = _settle(forge, updated, marker, identity)
        shown = markers.parse(kept.body)
        if shown is None or shown.time >= marker.time:
            break
        updated = forge.update(kept, text)
    if kept.id == updated.id and markers.same_body(kept.body, text):
        return Outcome("updated", updated, identity, ignored=ignored)
    if shown is not None and shown.time > marker.time:  # a racing run's newer report is there now
        return Outcome("older", kept, identity, ignored=ignored, newer=shown.time)
    return Outcome("updated", kept, identity, ignored=ignored)


def upsert(forge: Forge, body: str, marker: Marker, behaviour: str) -> Outcome:
    """Post ``body`` under ``marker`` as ``behaviour`` says: update (edit ours or create), new, delete-and-new."""
    identity = forge.identity()
    ours, ignored = partition(forge.comments(), marker.key, identity)
    text = markers.compose(marker, body)
    if ours:
        latest, newest = _latest(ours)
        if newest.time > marker.time:
            return Outcome("older", latest, identity, ignored=ignored, newer=newest.time)
        if behaviour == "update":
            if markers.same_body(latest.body, text):
                return Outcome("unchanged", latest, identity, ignored=ignored)
            return _updated(forge, latest, text, marker, identity, ignored)
    deleted = 0
    if behaviour == "delete-and-new":
        for comment, _ in ours:
            forge.delete(comment)
            deleted += 1
    created = _create(forge, text, marker.key, identity)
    if behaviour == "new" or identity is None:  # "new" keeps every copy; without an identity nothing is ours
        return Outcome("created", created, identity, deleted=deleted, ignored=ignored)
    kept = _settle(forge, created, marker, identity)
    if kept.id == created.id:
        return Outcome("created", created, identity, deleted=deleted, ignored=ignored)
    newer = markers.parse(kept.body)
    if newer is not None and newer.time > marker.time:  # a racing run posted a newer report: ours went
        return Outcome("older", kept, identity, deleted=deleted, ignored=ignored, newer=newer.time)
    return Outcome("unchanged", kept, identity, deleted=deleted, ignored=ignored)


@dataclass(frozen=True)
class Target:
    """Where to post, as the CI environment (and the options) say; ``number`` is None outside a pull request."""

    forge: str  # the forge's registry name (forges.py): "github", "gitlab"
    api: str  # the REST API's base URL
    project: str  # "owner/repo" on GitHub, the project id or path on GitLab
    number: int | None  # the pull request number, or the merge request iid
    token: str | None
    token_name: str  # the variable the token came from, for messages
    key: str  # the default report key
    time: datetime | None  # the report time the event implies
    event: str = ""  # the event or pipeline source, for messages
    web: str = ""  # the project's web URL where the API does not return one
    label: str = ""  # the project as people name it, where ``project`` is a number (GitLab's CI_PROJECT_PATH)
    sign: str = "#"  # between the project and the number, as the forge writes a reference: "#" (GitHub), "!" (GitLab)

    @property
    def where(self) -> str:
        """The pull request as the forge writes it: owner/repo#12, group/project!7."""
        return f"{self.label or self.project}{self.sign}{self.number}"


def resolve(heads: Sequence[Head], sha: str, branch: str | None, given: int | None) -> int | str:
    """The one open pull request whose head is ``sha`` on ``branch``, checked against a number given elsewhere.

    Why: the fork-safe workflow_run job must not take the pull request number from the fork's artifact (a fork
    could point it at any issue). The head SHA and branch come from the workflow_run event, which GitHub writes;
    the forge says which pull request they belong to. Returns the number, or why none can be trusted: "none" (no
    open pull request has that commit on that branch), "branch" (they have it, on another branch), "several",
    "given" (the number given or in the event is another one). A pull request whose head moved on since (a later
    push) still counts: the marker's report time keeps its newer report in place.
    """
    found = [h for h in heads if h.open]
    if not found:
        return "none"
    on_branch = [h for h in found if branch is None or h.branch == branch]
    if not on_branch:
        return "branch"
    exact = [h for h in on_branch if h.sha.lower() == sha.lower()] or on_branch
    numbers = sorted({h.number for h in exact})
    if len(numbers) > 1:
        return "several"
    if given is not None and given != numbers[0]:
        return "given"
    return numbers[0]
