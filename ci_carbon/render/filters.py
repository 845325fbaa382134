"""Jinja filters: number formatting and escaping for what a report shows. Words stay in templates/."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ci_carbon.errors import one_line, visible

_INERT = str.maketrans({
    **{ch: "\\" + ch for ch in "\\`*_[]|~"},  # Markdown emphasis, links, code, table cells, strike-through
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",  # HTML
    "@": "&#64;", "#": "&#35;",  # GitHub @-mentions and #issue links
})
_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 .,_/+-]")
# What GitHub's Markdown (GFM's autolink extension) turns into a link or a command without any brackets: a ':'
# before '/' (https://…, ftp://…) or after mailto/xmpp, the '.' of 'www.', and '::' (a workflow command where a line
# begins). A backslash before the ':' or the '.' breaks the match and still shows the character.
_AUTOLINK = re.compile(r"(?i):(?=[/:])|(?<=mailto):|(?<=xmpp):|(?<=www)\.")


def sig(value: float, digits: int = 3) -> str:
    """A number to ``digits`` significant figures, with thousands separators, no exponent."""
    if value == 0 or not math.isfinite(value):
        return "0"
    rounded = float(f"{value:.{digits}g}")
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:,.{decimals}f}"


def mass(kg: float) -> str:
    """kg CO2eq in the unit a reader grasps: g below 1 kg, t from 1,000 kg."""
    if abs(kg) >= 1000:
        return f"{sig(kg / 1000)} t"
    if 0 < abs(kg) < 1:
        return f"{sig(kg * 1000)} g"
    return f"{sig(kg)} kg"


def energy(kwh: float) -> str:
    if abs(kwh) >= 1_000_000:
        return f"{sig(kwh / 1_000_000)} GWh"
    if abs(kwh) >= 1000:
        return f"{sig(kwh / 1000)} MWh"
    return f"{sig(kwh)} kWh"


def dmass(kg: float) -> str:
    """A change in kg CO2eq with its sign: +12.3 kg, -450 g, 0 kg."""
    return ("+" if kg > 0 else "") + mass(kg)


def dpct(percent: float) -> str:
    """A relative change with its sign, two significant figures: +8.0 %, -100 %."""
    return ("+" if percent > 0 else "") + f"{sig(percent, 2)} %"


def number(value: float, digits: int = 4) -> str:
    """A plain number for machines and YAML: ``digits`` significant figures, no separators, no exponent."""
    if value == 0 or not math.isfinite(value):
        return "0"
    return sig(value, digits).replace(",", "")


def yamlstr(text: object) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML), one line."""
    return json.dumps(plain(text), ensure_ascii=False)


def ghdata(text: object) -> str:
    """The message of a GitHub Actions workflow command, escaped as the runner expects (% CR LF)."""
    return visible(str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def ghprop(text: object) -> str:
    """A property value of a workflow command (file=…, title=…): also ':' and ','."""
    return ghdata(text).replace(":", "%3A").replace(",", "%2C")


def plain(text: object) -> str:
    """User text for a plain-text sink (CSV, annotations, HTML under autoescape, JSON sentences): one line, every
    invisible or direction-changing character shown as an escape."""
    return visible(" ".join(str(text).split()))


def cite(text: object) -> str:
    """Our own text in Markdown (a factor's published source): inert like :func:`md`, but its links stay links."""
    return plain(text).translate(_INERT)


def md(text: object) -> str:
    """User text made inert in Markdown and HTML: no tables broken, no tags, no @-mentions, no autolinks
    (https://…, www.…), no workflow command, no hidden characters, one line."""
    return _AUTOLINK.sub(lambda m: "\\" + m.group(), cite(text))


def mdcode(text: object) -> str:
    """User text as a Markdown code span (a path, a store's URI): shown as written, never a link, a mention or a
    tag; fenced by one backtick more than its longest run of backticks (CommonMark's rule), one line."""
    shown = plain(text)
    fence = "`" * (max((len(run) for run in re.findall("`+", shown)), default=0) + 1)
    pad = " " if shown[:1] == "`" or shown[-1:] == "`" else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def mermaid(text: object) -> str:
    """A Mermaid label: safe characters kept, everything else written as Mermaid's #code; entity."""
    return "".join(ch if _MERMAID_SAFE.match(ch) else f"#{ord(ch)};" for ch in " ".join(str(text).split()))


# What a spreadsheet starts a formula with (OWASP CSV injection), and ':' (a line of CSV on standard output that
# begins '::' is a GitHub workflow command).
_FORMULA = ("=", "+", "-", "@", ":")


def _cell(value: object) -> object:
    """A CSV cell. Text is made one line with hidden characters shown (:func:`errors.one_line`), so no cell spans
    physical lines; text that, after any leading spaces, begins with a formula sign or ':' gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = one_line(value)
        return "'" + text if text.lstrip()[:1] in _FORMULA else text
    return value


def csvrow(values: list[object]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_cell(v) for v in values])
    return buf.getvalue().rstrip("\n")


def csvlines(rows: Iterable[Mapping[str, object]], columns: list[str], size: int = 1000) -> Iterator[str]:
    """``columns`` of each row as CSV lines, ``size`` rows to a piece: one writer for a whole quarter's runs, and
    pieces a streamed template writes as they come. Cells as :func:`csvrow` makes them."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    batch: list[list[object]] = []
    for row in rows:
        batch.append([_cell(row[column]) for column in columns])
        if len(batch) == size:
            yield _written(writer, buf, batch)
            batch = []
    if batch:
        yield _written(writer, buf, batch)


def _written(writer: Any, buf: io.StringIO, batch: list[list[object]]) -> str:
    writer.writerows(batch)
    text = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return text


def pick(mapping: dict, keys: list[str]) -> list[object]:
    """The values of ``keys`` in order: one CSV row from one JSON job."""
    return [mapping[k] for k in keys]


class Records:
    """A list of records made one at a time as it is written: 100,000 job dicts need not all live at once."""

    def __init__(self, items: Sequence[Any], make: Callable[[Any], dict]):
        self._items, self._make = items, make

    def __iter__(self) -> Iterator[dict]:
        return map(self._make, self._items)

    def __len__(self) -> int:
        return len(self._items)


def _plain(value: object) -> object:
    """What orjson does not serialise itself: named tuples as lists (as json.dumps does), mappings as dicts."""
    if isinstance(value, (Records, Sequence)) and not isinstance(value, (str, bytes, Mapping)):
        return list(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(item: object) -> bytes:
    """Compact JSON as UTF-8; orjson writes 100,000 jobs in a fifth of json.dumps' time."""
    import orjson  # here, not at the top: the Markdown path (a manifest in CI) does not pay for it

    return orjson.dumps(item, default=_plain, option=orjson.OPT_NON_STR_KEYS)


def tojson(value: dict) -> str:
    """JSON with one top-level key per line and one record per line in lists of records.

    Readable and diff-friendly (a changed job is a changed line), and fast: one orjson call per line.
    """
    return "".join(jsonpieces(value))


def _records(item: object) -> bool:
    """A list of records written one per line: the jobs (a lazy sequence of rows), or a list of objects."""
    if isinstance(item, (Records, Sequence)) and not isinstance(item, (str, bytes, tuple, list, Mapping)):
        return len(item) > 0
    return isinstance(item, list) and bool(item) and all(isinstance(x, dict) for x in item)


def jsonpieces(value: dict, rows: int = 1000) -> Iterator[str]:
    """:func:`tojson`'s text in pieces of up to ``rows`` records, for a template streamed to its file: a
    100,000-job report is 100 MB of text that need never be held whole."""
    yield "{\n"
    for index, (key, item) in enumerate(value.items()):
        head = (b",\n" if index else b"") + b"  " + _dumps(key) + b": "
        if _records(item):
            pieces = [head, b"[\n    "]
            for row, record in enumerate(item):
                pieces += (b",\n    " if row else b"", _dumps(record))
                if len(pieces) >= 2 * rows:
                    yield b"".join(pieces).decode()
                    pieces = []
            pieces.append(b"\n  ]")
            yield b"".join(pieces).decode()
        else:
            yield (head + _dumps(item)).decode()
    yield "\n}"


def total_from(rows: Sequence[Mapping[str, Any]], start: int, column: str) -> float:
    """The sum of one number over the rows from ``start`` on: the chart's slice of all other jobs."""
    total = getattr(rows, "total", None)
    if total is not None:
        return float(total(column, start))
    return sum((row[column] for row in rows[start:]), 0.0)


def grouped_notes(jobs: Iterable[Mapping[str, Any]], leave_out: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The jobs' notices, one per kind: a notice with the same code and parameters (so the same sentence) once, with
    every job it concerns in the jobs' order; kinds in the order they first appear. A report of 50 jobs that all
    lack a CPU then shows one note naming them, not 50 times the same sentence. ``leave_out``: codes the report
    says once elsewhere (the market method's per-grid notes, in its method paragraph; the JSON keeps them per job)."""
    groups: dict[str, dict[str, Any]] = {}
    quiet = frozenset(leave_out)
    for job in jobs:
        for note in job.get("notices") or ():
            if note.get("code") in quiet:
                continue
            key = json.dumps([note.get("code"), note.get("params")], sort_keys=True, default=str)
            group = groups.setdefault(key, {"notice": note, "jobs": []})
            if job["name"] not in group["jobs"]:
                group["jobs"].append(job["name"])
    return list(groups.values())


FILTERS = {"sig": sig, "mass": mass, "energy": energy, "md": md, "mdcode": mdcode, "cite": cite, "plain": plain,
           "mermaid": mermaid, "csvrow": csvrow, "csvlines": csvlines, "pick": pick, "total_from": total_from,
           "tojson": tojson, "jsonpieces": jsonpieces, "dmass": dmass, "dpct": dpct, "number": number,
           "yamlstr": yamlstr, "ghdata": ghdata, "ghprop": ghprop,
           "grouped_notes": grouped_notes}
