"""Property-based tests of the escapers, one per sink (issue 9, items 7 and 11): for any user text, Markdown shows it
without links, mentions, tags or commands; HTML has no raw '<' from it; CSV keeps each row on one physical line and
reads back to the escaped value; workflow commands cannot be split or forged; and no sink passes an invisible or
direction-changing character through raw. Bounded and derandomized, so CI is deterministic."""

from __future__ import annotations

import csv
import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ci_carbon.errors import one_line
from ci_carbon.render.environment import environment
from ci_carbon.render.filters import _cell, cite, csvrow, ghdata, ghprop, md, mdcode, mermaid, plain

BOUNDED = settings(max_examples=200, deadline=None, derandomize=True, database=None)
HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                    "\U000e0000-\U000e007f]")
# Pieces an attacker strings together: schemes and www (autolinks), workflow commands, mentions, tags, table pipes,
# formula signs, line breaks, bidi overrides, zero-width and tag characters.
PIECES = st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "www.", "WWW.", "mailto:", "xmpp:", "::",
                          "::error::", "##[error]", "\n", "\r", "\r\n", "\t", "\x0b", "\x85", "\u2028", "\u202e",
                          "\u2066", "\u200b", "\ufeff", "\U000e0041", "@", "#1", "<", ">", "<!--", "|", "`", "\\",
                          "=", "+", "-", " ", ":", "/", ".", "evil.example", "a"])
USER_TEXT = st.lists(PIECES | st.text(max_size=4), max_size=12).map("".join)


def _no_command_line_start(text: str) -> None:
    for line in text.splitlines() or [""]:
        assert not line.lstrip().startswith("::"), line
    assert "##[" not in text


@BOUNDED
@given(USER_TEXT)
def test_markdown_user_text_is_inert(text: str):
    out = md(text)
    assert "\n" not in out and "\r" not in out
    assert not HIDDEN.search(out)
    _no_command_line_start(out)
    assert not re.search(r"(?<!\\):(?=/)", out), "a scheme's ':' is escaped: no https:// autolink"
    assert not re.search(r"(?i)www\.", out), "the '.' of www. is escaped: no www autolink"
    assert not re.search(r"(?i)(mailto|xmpp):", out)
    assert not re.search("[<>@]", out), "no tag, no comment marker, no @-mention"
    assert not re.search(r"(?<!\\)[|`]", out), "table pipes and code backticks escaped"


@BOUNDED
@given(USER_TEXT)
def test_our_citations_keep_their_links(text: str):
    """cite is md without the link rule: the same text, only the autolink escapes differ."""
    assert md(text).replace("\\:", ":").replace("\\.", ".") == cite(text).replace("\\:", ":").replace("\\.", ".")
    assert cite("https://www.example.org/a") == "https://www.example.org/a"


@BOUNDED
@given(USER_TEXT)
def test_markdown_code_span_shows_the_text(text: str):
    out = mdcode(text)
    shown = plain(text)
    fence = re.match("`+", out).group()
    assert out.startswith(fence) and out.endswith(fence)
    assert out[len(fence):len(out) - len(fence)].strip(" ") == shown.strip(" ") or shown.strip(" ") == ""
    assert fence not in shown, "the fence is longer than any run of backticks in the text"
    assert "\n" not in out and not HIDDEN.search(out)
    _no_command_line_start(out)


@BOUNDED
@given(USER_TEXT)
def test_html_has_no_raw_tag_from_user_text(text: str):
    page = environment().from_string("{% autoescape true %}<td>{{ x|plain }}</td>{% endautoescape %}").render(x=text)
    inner = page[len("<td>"):-len("</td>")]
    assert "<" not in inner and ">" not in inner
    assert "\n" not in inner and not HIDDEN.search(inner), "one line: the text cannot begin a line of the page"
    _no_command_line_start(page)


@BOUNDED
@given(st.lists(USER_TEXT, min_size=1, max_size=4))
def test_csv_rows_stay_one_line_and_read_back(cells: list[str]):
    line = csvrow([*cells, 1.5])
    assert "\n" not in line and "\r" not in line, "every row is one physical line"
    assert not HIDDEN.search(line)
    _no_command_line_start(line)
    assert line.lstrip()[:1] not in ("=", "+", "-", "@"), "no formula where a spreadsheet reads a row"
    read = next(csv.reader(io.StringIO(line)))
    assert read == [*(_cell(c) for c in cells), "1.5"]
    for cell, back in zip(cells, read[:-1], strict=True):
        assert back in (one_line(cell), "'" + one_line(cell)), "the value itself, one line, maybe quoted"


@BOUNDED
@given(USER_TEXT)
def test_workflow_command_values_cannot_split_or_forge(text: str):
    data, prop = ghdata(text), ghprop(text)
    for out in (data, prop):
        assert "\n" not in out and "\r" not in out and not HIDDEN.search(out) and "##[" not in out
    assert ":" not in prop and "," not in prop
    assert "%" not in re.sub("%(25|0D|0A)", "", data), "every '%' the runner reads is one of its escapes"
    assert "%" not in re.sub("%(25|0D|0A|3A|2C)", "", prop)


@BOUNDED
@given(USER_TEXT)
def test_mermaid_labels_hold_only_safe_characters_and_codes(text: str):
    out = mermaid(text)
    assert re.fullmatch(r"(?:[A-Za-z0-9 .,_/+-]|#\d+;)*", out), out


@BOUNDED
@given(USER_TEXT)
def test_one_line_is_one_inert_line_and_stable(text: str):
    out = one_line(text)
    assert "\n" not in out and "\r" not in out and not HIDDEN.search(out) and "##[" not in out
    assert one_line(out) == out
