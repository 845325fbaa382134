"""Which job names a recommendation keeps while estimates stream past.

A report lists every job a recommendation concerns, in the report's own order (largest emissions first); a quarter's
summary of 100,000 runs keeps the largest few and counts the rest (its sentences name three and say "and N more").
A rule adds each member with its rank and never knows which of the two it is filling.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, overload

Rank = tuple[float, str, str]  # (−kg, name, id): the report's order


def rank(kg: float, name: str, run_id: str) -> Rank:
    return (-kg, name, run_id)


class Names(Protocol):
    def add(self, rank: Rank, name: str, order: tuple[Any, ...] | None = None) -> None:
        """A member: its rank in the report, and the rule's own order for it where the rule has one."""
        ...

    def result(self) -> Sequence[str]: ...


class Sample(Sequence[str]):
    """The names a recommendation concerns: the first few kept, all of them counted (``len``).

    Sentences name the first three and count the rest (templates/advice.j2 uses ``jobs[:3]`` and ``jobs|length``).
    """

    __slots__ = ("names", "total")

    def __init__(self, names: Iterable[str], total: int):
        self.names = tuple(names)
        self.total = total

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: Any) -> Any:
        return self.names[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sample) and (self.names, self.total) == (other.names, other.total)

    def __hash__(self) -> int:
        return hash((self.names, self.total))

    def __repr__(self) -> str:
        return f"Sample({self.names!r}, total={self.total})"


class AllNames:
    """Every member, in the rule's order (else the report's): what a report lists."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[tuple[Any, ...], str]] = []

    def add(self, rank: Rank, name: str, order: tuple[Any, ...] | None = None) -> None:
        self.items.append((order if order is not None else rank, name))

    def result(self) -> tuple[str, ...]:
        return tuple(name for _, name in sorted(self.items))


class LargestNames:
    """The ``keep`` largest members (then by name and id), all counted: what a quarter's summary lists."""

    __slots__ = ("heap", "keep", "total")

    def __init__(self, keep: int = 20) -> None:
        self.keep = keep
        self.heap: list[tuple[_Reversed, str]] = []  # a min-heap of the kept: the smallest kept is on top
        self.total = 0

    def add(self, rank: Rank, name: str, order: tuple[Any, ...] | None = None) -> None:
        self.total += 1
        item = (_Reversed(rank), name)
        if len(self.heap) < self.keep:
            heapq.heappush(self.heap, item)
        elif item[0] > self.heap[0][0]:
            heapq.heapreplace(self.heap, item)

    def result(self) -> Sample:
        return Sample((name for _, name in sorted(self.heap, key=lambda item: item[0].rank)), self.total)


class _Reversed:
    """A rank that sorts backwards, so that a min-heap keeps the best-ranked (largest) members."""

    __slots__ = ("rank",)

    def __init__(self, rank: Rank):
        self.rank = rank

    def __lt__(self, other: _Reversed) -> bool:
        return self.rank > other.rank

    def __gt__(self, other: _Reversed) -> bool:
        return self.rank < other.rank

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.rank == other.rank

    def __hash__(self) -> int:
        return hash(self.rank)


NamesFactory = Callable[[], Names]
