"""Fit a Markdown report into a forge's comment limit by leaving out whole sections, least important first.

A forge refuses a comment over its limit (GitHub: 65,536 characters), and a body cut at the limit would break a
table, a Mermaid block or a ``<details>`` element. So the report is read as a list of sections, each made of whole
blocks (a fenced code block, a ``<details>`` element, a table, a list, a paragraph, a heading), and only whole
sections, whole list items and whole table rows are ever left out:

1. the "Method and data sources" details,
2. the details with the jobs beyond the first ten ("N more jobs"),
3. the notes on jobs,
4. the inputs not estimated,
5. the everyday equivalents ("That is about"),
6. the recommendations beyond the first five,
7. any other collapsed ``<details>`` section (added by later report parts),
8. the Mermaid chart,
9. the remaining recommendations.

Then, as a last resort, table rows from the end of each table. Once the body fits, what was left out is put back,
most important first, wherever it still fits. One templated line (supplied by the caller) says what was left out.

The section roles are recognised by the summary or heading text of templates/report.md.j2 (the patterns below);
tests render the real template and fail if a pattern stops matching.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

ROLES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("method", "details", re.compile(r"Method and data sources")),
    ("more_jobs", "details", re.compile(r"[\d,]+ more jobs?")),
    ("notes", "details", re.compile(r"Notes on .+")),
    ("skipped", "details", re.compile(r".+ not estimated")),
    ("equivalents", "heading", re.compile(r"That is about")),
    ("advice", "heading", re.compile(r"What you can do")),
    ("chart", "fence", re.compile(r"mermaid")),
)
ADVICE_KEPT = 5
# (role, items kept): None leaves the whole section out
DROP_ORDER: tuple[tuple[str, int | None], ...] = (
    ("method", None), ("more_jobs", None), ("notes", None), ("skipped", None), ("equivalents", None),
    ("advice", ADVICE_KEPT), ("details", None), ("chart", None), ("advice", None),
)

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s{0,3}(\d+[.)]|[-*+])\s")
_SUMMARY = re.compile(r"<summary>(.*?)</summary>", re.S)
_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass(frozen=True)
class Block:
    """One Markdown block, kept whole; a table's rows and a list's items may be left out one by one."""

    kind: str  # fence | details | heading | table | list | text
    text: str  # the part always kept: the whole block, a table's header and separator, nothing for a list
    items: tuple[str, ...] = ()  # table rows or list items, each with its lines
    tail: str = ""  # the blank lines after the block
    title: str = ""  # a details summary, a heading's text, a fence's info string
    level: int = 0  # a heading's level


@dataclass(frozen=True)
class Section:
    """What is kept or left out together: a details element, a fence, or a heading with its blocks."""

    role: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Left:
    """Something left out, for the templated line: a section, or items ``first``..``last`` of one of its parts."""

    role: str
    title: str
    first: int = 0
    last: int = 0


@dataclass
class _State:
    dropped: set[int] = field(default_factory=set)
    keep: dict[tuple[int, int], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Fitted:
    body: str
    left_out: tuple[Left, ...]


def size(text: str) -> int:
    """Length as a forge may count it: UTF-16 code units (an emoji counts twice), never less than characters."""
    return len(text.encode("utf-16-le")) // 2


# -- reading the Markdown into blocks and sections --------------------------------------------------------------


def _starts_block(line: str) -> bool:
    stripped = line.lstrip()
    return bool(_FENCE.match(line) or stripped.startswith("<details") or _HEADING.match(line)
                or stripped.startswith("|") or _ITEM.match(line))


def _fence_end(lines: Sequence[str], start: int) -> int:
    opening = _FENCE.match(lines[start])
    marker = opening.group(1) if opening else "```"
    for i in range(start + 1, len(lines)):
        closing = _FENCE.match(lines[i])
        if closing and closing.group(1)[0] == marker[0] and len(closing.group(1)) >= len(marker) \
                and not lines[i].strip()[len(closing.group(1)):]:
            return i + 1
    return len(lines)


def _details_end(lines: Sequence[str], start: int) -> int:
    depth, i = 0, start
    while i < len(lines):
        if _FENCE.match(lines[i]) and i > start:
            i = _fence_end(lines, i)
            continue
        depth += lines[i].count("<details") - lines[i].count("</details>")
        i += 1
        if depth <= 0:
            return i
    return len(lines)


def _run_end(lines: Sequence[str], start: int, same: Callable[[str], bool]) -> int:
    i = start + 1
    while i < len(lines) and lines[i].strip() and same(lines[i]):
        i += 1
    return i


def _block_end(kind: str, lines: Sequence[str], start: int) -> int:
    if kind == "fence":
        return _fence_end(lines, start)
    if kind == "details":
        return _details_end(lines, start)
    if kind == "heading":
        return start + 1
    if kind == "table":
        return _run_end(lines, start, lambda line: line.lstrip().startswith("|"))
    if kind == "list":
        return _run_end(lines, start, lambda line: bool(_ITEM.match(line)) or not _starts_block(line))
    return _run_end(lines, start, lambda line: not _starts_block(line))


def _kind(line: str) -> str:
    stripped = line.lstrip()
    if _FENCE.match(line):
        return "fence"
    if stripped.startswith("<details"):
        return "details"
    if _HEADING.match(line):
        return "heading"
    if stripped.startswith("|"):
        return "table"
    return "list" if _ITEM.match(line) else "text"


def _items(lines: Sequence[str]) -> tuple[str, ...]:
    items: list[str] = []
    for line in lines:
        if _ITEM.match(line) or not items:
            items.append(line)
        else:
            items[-1] += line
    return tuple(items)


def _block(kind: str, lines: Sequence[str], tail: str) -> Block:
    text = "".join(lines)
    if kind == "table" and len(lines) >= 2:
        return Block(kind, "".join(lines[:2]), tuple(lines[2:]), tail)
    if kind == "list":
        return Block(kind, "", _items(lines), tail)
    if kind == "details":
        summary = _SUMMARY.search(text)
        return Block(kind, text, (), tail, " ".join(summary.group(1).split()) if summary else "")
    if kind == "heading":
        match = _HEADING.match(lines[0])
        return Block(kind, text, (), tail, match.group(2) if match else "", len(match.group(1)) if match else 0)
    if kind == "fence":
        return Block(kind, text, (), tail, lines[0].strip().lstrip("`~").strip())
    return Block(kind, text, (), tail)


def blocks(body: str) -> list[Block]:
    """The body as blocks; joining every block's text, items and tail gives the body back exactly."""
    lines = _LINES.findall(body)  # only \n ends a line, as in Markdown (str.splitlines also splits at \x0c, \u2028…)
    out: list[Block] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():  # blank lines before the first block
            end = i + 1
            while end < len(lines) and not lines[end].strip():
                end += 1
            out.append(Block("text", "".join(lines[i:end])))
            i = end
            continue
        kind = _kind(lines[i])
        end = _block_end(kind, lines, i)
        after = end
        while after < len(lines) and not lines[after].strip():
            after += 1
        out.append(_block(kind, lines[i:end], "".join(lines[end:after])))
        i = after
    return out


def _role(kind: str, title: str) -> str:
    for role, of_kind, pattern in ROLES:
        if of_kind == kind and pattern.fullmatch(title):
            return role
    return kind


def sections(body: str) -> list[Section]:
    """The body as sections: a level-4-or-deeper heading takes the lists, tables and paragraphs after it."""
    out: list[Section] = []
    group: list[Block] = []
    for block in blocks(body):
        if group and block.kind in ("list", "table", "text"):
            group.append(block)
            continue
        if group:
            out.append(Section(_role("heading", group[0].title), group[0].title, tuple(group)))
            group = []
        if block.kind == "heading" and block.level >= 4:
            group = [block]
        else:
            out.append(Section(_role(block.kind, block.title), block.title, (block,)))
    if group:
        out.append(Section(_role("heading", group[0].title), group[0].title, tuple(group)))
    return out


# -- choosing what to leave out ---------------------------------------------------------------------------------


def _render(parts: Sequence[Section], state: _State) -> str:
    out: list[str] = []
    for i, section in enumerate(parts):
        if i in state.dropped:
            continue
        for j, block in enumerate(section.blocks):
            kept = state.keep.get((i, j))
            items = block.items if kept is None else block.items[:kept]
            out.append(block.text + "".join(items) + block.tail)
    return "".join(out)


def _left_out(parts: Sequence[Section], state: _State) -> tuple[Left, ...]:
    left: list[Left] = []
    for i, section in enumerate(parts):
        if i in state.dropped:
            left.append(Left(section.role, section.title))
            continue
        for (at, j), kept in sorted(state.keep.items()):
            total = len(section.blocks[j].items) if at == i else 0
            if kept < total:
                left.append(Left("rows" if section.blocks[j].kind == "table" else section.role, section.title,
                                 kept + 1, total))
    return tuple(left)


class _Fitter:
    """Applies the drop order to one body against one budget; ``note`` renders the line saying what was left out."""

    def __init__(self, body: str, budget: int, note: Callable[[Sequence[Left]], str]):
        self.parts = sections(body)
        self.budget = budget
        self.note = note
        self.state = _State()

    def text(self) -> str:
        body = _render(self.parts, self.state)
        left = _left_out(self.parts, self.state)
        if not left:
            return body
        return body.rstrip("\n") + "\n\n" + self.note(left).strip() + "\n"

    def fits(self) -> bool:
        return size(self.text()) <= self.budget

    def _list_block(self, i: int) -> int | None:
        return next((j for j, b in enumerate(self.parts[i].blocks) if b.kind == "list"), None)

    def steps(self) -> list[tuple[int, int | None, int | None]]:
        """(section, block, items kept) in drop order; block None leaves the whole section out."""
        out: list[tuple[int, int | None, int | None]] = []
        for role, kept in DROP_ORDER:
            for i, section in enumerate(self.parts):
                if section.role != role:
                    continue
                block = self._list_block(i) if kept is not None else None
                if kept is None:
                    out.append((i, None, None))
                elif block is not None and len(section.blocks[block].items) > kept:
                    out.append((i, block, kept))
        return out

    def apply(self, step: tuple[int, int | None, int | None]) -> None:
        i, j, kept = step
        if j is None:
            self.state.dropped.add(i)
        else:
            self.state.keep[(i, j)] = kept or 0

    def undo(self, step: tuple[int, int | None, int | None]) -> None:
        i, j, _ = step
        if j is None:
            self.state.dropped.discard(i)
        else:
            self.state.keep.pop((i, j), None)

    def trim_tables(self) -> None:
        """Last resort: the most table rows that fit, tables from the end of the body first."""
        for i in reversed(range(len(self.parts))):
            for j, block in enumerate(self.parts[i].blocks):
                if self.fits():
                    return
                if i in self.state.dropped or block.kind != "table" or not block.items:
                    continue
                low, high = 0, len(block.items)
                while low < high:  # largest number of rows that fits
                    middle = (low + high + 1) // 2
                    self.state.keep[(i, j)] = middle
                    low, high = (middle, high) if self.fits() else (low, middle - 1)
                self.state.keep[(i, j)] = low

    def keep_leading(self) -> None:
        """Beyond last resort: the first sections that fit, whole; the rest left out."""
        for i in reversed(range(1, len(self.parts))):
            if self.fits():
                return
            self.state.dropped.add(i)

    def restore(self, applied: Sequence[tuple[int, int | None, int | None]]) -> None:
        for step in reversed(applied):
            self.undo(step)
            if not self.fits():
                self.apply(step)


def fit(body: str, budget: int, note: Callable[[Sequence[Left]], str]) -> Fitted:
    """The body, or the most of it that fits in ``budget`` (see the module's drop order), and what was left out."""
    if size(body) <= budget:
        return Fitted(body, ())
    fitter = _Fitter(body, budget, note)
    applied = []
    for step in fitter.steps():
        if fitter.fits():
            break
        fitter.apply(step)
        applied.append(step)
    fitter.trim_tables()
    fitter.keep_leading()
    fitter.restore(applied)
    text = fitter.text()
    if size(text) > budget:  # one block alone is larger than the limit: cut it at a line, then a character
        text = _cut(text, budget)
    return Fitted(text, _left_out(fitter.parts, fitter.state))


def _cut(text: str, budget: int) -> str:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    for line in lines:
        if size("".join(out) + line) > budget:
            break
        out.append(line)
    kept = "".join(out)
    if kept:
        return kept
    return text.encode("utf-16-le")[: budget * 2].decode("utf-16-le", errors="ignore")
