"""The sticky marker: exact, versioned, first line only; report text can never carry one of its own."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ci_carbon.publish import markers
from ci_carbon.publish.markers import Marker

WHEN = datetime(2026, 7, 1, 12, 0, 5, tzinfo=timezone.utc)


def test_marker_line_is_exact_and_round_trips():
    marker = Marker("CI/carbon (aws, a100) --> x=1", WHEN)
    line = marker.line()
    assert line == ("<!-- ci-carbon:comment v1 key=CI%2Fcarbon%20%28aws%2C%20a100%29%20--%3E%20x%3D1 "
                    "time=2026-07-01T12:00:05Z -->")
    assert markers.parse(line + "\nbody") == marker
    assert line.count("-->") == 1


@pytest.mark.parametrize("first_line", [
    "<!-- ci-carbon:comment v2 key=default time=2026-07-01T12:00:05Z -->",  # another version
    "<!-- ci-carbon:comment v1 key=default time=2026-07-01T12:00:05Z --> trailing",
    " <!-- ci-carbon:comment v1 key=default time=2026-07-01T12:00:05Z -->",
    "<!-- ci-carbon:comment v1 key=default time=2026-07-01 -->",
    "<!-- ci-carbon:comment v1 key=a b time=2026-07-01T12:00:05Z -->",
    "&lt;!-- ci-carbon:comment v1 key=default time=2026-07-01T12:00:05Z --&gt;",
])
def test_only_the_exact_marker_counts(first_line: str):
    assert markers.parse(first_line + "\n") is None


def test_a_marker_below_the_first_line_does_not_count():
    assert markers.parse("hello\n" + Marker("default", WHEN).line()) is None


def test_report_text_cannot_carry_a_marker():
    forged = Marker("default", datetime(2099, 1, 1, tzinfo=timezone.utc)).line()
    body = f"{forged}\n### report\n| x {forged} |\n```\n{forged}\n```\n"
    clean = markers.neutralise(body)
    assert "<!-- ci-carbon" not in clean
    assert clean.startswith("### report\n")
    posted = markers.compose(Marker("default", WHEN), clean)
    assert posted.count("<!-- ci-carbon") == 1 and markers.parse(posted) == Marker("default", WHEN)


def test_times_are_utc_seconds():
    assert markers.parse_time("2026-07-01T14:00:05.123+02:00") == WHEN
    assert markers.parse_time("2026-07-01T12:00:05") == WHEN
    assert markers.parse_time("2026-07-01T12:00:05Z") == WHEN
    with pytest.raises(ValueError):
        markers.parse_time("yesterday")


def test_same_body_ignores_line_ends_and_trailing_space():
    assert markers.same_body("a\r\nb\r\n", "a\nb")
    assert not markers.same_body("a\nb", "a\nc")


@pytest.mark.parametrize("time", ["2026-99-99T00:00:00Z", "2026-02-30T12:00:00Z", "0000-01-01T00:00:00Z",
                                  "2026-07-01T24:00:00Z", "2026-07-01T12:61:00Z"])
def test_a_malformed_marker_time_is_no_marker(time: str):
    assert markers.parse(f"<!-- ci-carbon:comment v1 key=default time={time} -->\nplanted") is None
