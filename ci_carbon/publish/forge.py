"""The forge-neutral upsert of the sticky comment, over a small interface that GitHub and GitLab implement.

Which comments are ours: a comment is edited or deleted only when (1) its first line is exactly our marker with
the same report key and (2) its author is the identity the token writes as (``Forge.identity``). A marker alone
proves nothing (anyone can paste one into a comment), so a comment by another account is never touched, however
exactly it imitates ours; the command reports how many such comments it ignored.

Order of reports: the marker carries the report time; when one of our comments for the key already holds a newer
report, nothing is written (a re-run of an old commit must not overwrite the report of a newer one). An equal time
is the same event re-run and may update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ci_carbon.publish import markers
from ci_carbon.publish.markers import Marker

BEHAVIOURS = ("update", "new", "delete-and-new")


@dataclass(frozen=True)
class Comment:
    """A pull-request comment or merge-request note, as much of it as the upsert needs."""

    id: int | None
    author: str
    body: str
    url: str = ""


class Forge(Protocol):
    """What the upsert needs from a forge; github.py and gitlab.py implement it over their REST APIs."""

    name: str  # "github" or "gitlab": picks the templates' wording
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
        if identity is not None and comment.author == identity:
            ours.append((comment, marker))
        else:
            others += 1
    return ours, others


def _latest(ours: Sequence[tuple[Comment, Marker]]) -> tuple[Comment, Marker]:
    """The comment holding the newest report (the highest id among equal times: the last one written)."""
    return max(ours, key=lambda pair: (pair[1].time, pair[0].id or 0))


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
            return Outcome("updated", forge.update(latest, text), identity, ignored=ignored)
    deleted = 0
    if behaviour == "delete-and-new":
        for comment, _ in ours:
            forge.delete(comment)
            deleted += 1
    return Outcome("created", forge.create(text), identity, deleted=deleted, ignored=ignored)


@dataclass(frozen=True)
class Target:
    """Where to post, as the CI environment (and the options) say; ``number`` is None outside a pull request."""

    forge: str  # "github" or "gitlab"
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

    @property
    def where(self) -> str:
        """The pull request as the forge writes it: owner/repo#12, group/project!7."""
        sign = "#" if self.forge == "github" else "!"
        return f"{self.label or self.project}{sign}{self.number}"
