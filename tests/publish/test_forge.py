"""The forge-neutral upsert on an in-memory forge: which comments are ours, and what each behaviour writes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ci_carbon.publish.forge import Comment, upsert
from ci_carbon.publish.markers import Marker, compose

T0 = datetime(2026, 7, 1, 12, tzinfo=timezone.utc)
T1 = datetime(2026, 7, 1, 13, tzinfo=timezone.utc)


class Memory:
    """A forge kept in a list; records each write."""

    name, limit, where = "github", 65_536, "o/r#1"

    def __init__(self, me: str | None, comments: list[Comment]):
        self.me, self.stored, self.writes = me, list(comments), []

    def identity(self) -> str | None:
        return self.me

    def comments(self) -> list[Comment]:
        return list(self.stored)

    def create(self, body: str) -> Comment:
        made = Comment(100 + len(self.stored), self.me or "", body)
        self.writes.append(("create", made.id))
        self.stored.append(made)
        return made

    def update(self, comment: Comment, body: str) -> Comment:
        self.writes.append(("update", comment.id))
        edited = Comment(comment.id, comment.author, body)
        self.stored = [edited if c.id == comment.id else c for c in self.stored]
        return edited

    def delete(self, comment: Comment) -> None:
        self.writes.append(("delete", comment.id))
        self.stored = [c for c in self.stored if c.id != comment.id]

    def edit_url(self) -> str:
        return "x/{id}"


def mine(cid: int, when: datetime, key: str = "k", author: str = "bot", text: str = "old") -> Comment:
    return Comment(cid, author, compose(Marker(key, when), text))


def test_updates_the_newest_of_our_comments_at_an_equal_time():
    forge = Memory("bot", [mine(1, T0), mine(2, T1), mine(3, T1), mine(4, T1, key="other")])
    outcome = upsert(forge, "new", Marker("k", T1), "update")
    assert outcome.action == "updated"  # the last written of the newest; the look after it removes our others
    assert forge.writes == [("update", 3), ("delete", 1), ("delete", 2)] and [c.id for c in forge.stored] == [3, 4]


def test_without_an_identity_nothing_is_edited():
    forge = Memory(None, [mine(1, T0)])
    outcome = upsert(forge, "new", Marker("k", T1), "delete-and-new")
    assert forge.writes == [("create", 101)] and outcome.ignored == 1


@pytest.mark.parametrize("behaviour", ["update", "new", "delete-and-new"])
def test_a_newer_report_of_ours_blocks_every_behaviour(behaviour: str):
    forge = Memory("bot", [mine(1, T1)])
    outcome = upsert(forge, "new", Marker("k", T0), behaviour)
    assert outcome.action == "older" and outcome.newer == T1 and forge.writes == []


def test_a_newer_forged_report_blocks_nothing():
    forge = Memory("bot", [mine(1, T1, author="mallory")])
    outcome = upsert(forge, "new", Marker("k", T0), "update")
    assert outcome.action == "created" and outcome.ignored == 1 and forge.writes == [("create", 101)]


def test_delete_and_new_deletes_every_copy_of_ours():
    forge = Memory("bot", [mine(1, T0), mine(2, T0), mine(3, T0, author="alice")])
    outcome = upsert(forge, "new", Marker("k", T1), "delete-and-new")
    assert forge.writes == [("delete", 1), ("delete", 2), ("create", 101)] and outcome.deleted == 2


class Racing(Memory):
    """A forge where another run's older report is written over ours right after our edit, once."""

    def __init__(self, me: str, comments: list[Comment], older: str):
        super().__init__(me, comments)
        self.older = older

    def update(self, comment: Comment, body: str) -> Comment:
        edited = super().update(comment, body)
        if self.older:
            self.stored = [Comment(c.id, c.author, self.older) for c in self.stored]
            self.older = ""
        return edited


def test_an_older_report_written_over_ours_is_written_over_again():
    forge = Racing("bot", [mine(1, T0)], compose(Marker("k", T0), "racing older"))
    outcome = upsert(forge, "newest", Marker("k", T1), "update")
    assert forge.writes == [("update", 1), ("update", 1)] and outcome.action == "updated"
    assert forge.stored[0].body == compose(Marker("k", T1), "newest")
