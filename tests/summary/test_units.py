"""The pure parts: periods, option parsing, number formats, chart scales, and recommendation sentences over samples."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ci_carbon.advice.names import Sample
from ci_carbon.core.report import Recommendation
from ci_carbon.errors import InputError
from ci_carbon.redact import redact as shown
from ci_carbon.render.payload import advice_text
from ci_carbon.summary import period
from ci_carbon.summary.charts import nice_ticks
from ci_carbon.summary.choices import parse_compare, parse_groups
from ci_carbon.summary.render import share_pct, signed_mass, signed_pct


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_quarters_and_their_neighbours():
    q1 = period.parse_quarter("2026-Q1", utc(2026, 5, 1))
    assert period.previous(q1).label == "2025-Q4" and period.year_before(q1).label == "2025-Q1"
    assert period.previous(q1).end == q1.start  # nothing falls between two quarters
    assert period.months(q1) == ["2026-01", "2026-02", "2026-03"]
    assert q1.as_dict() == {"start": "2026-01-01", "end": "2026-04-01", "label": "2026-Q1"}
    assert period.parse_quarter("last", utc(2026, 1, 1)).label == "2025-Q4"
    assert period.parse_quarter("last", utc(2026, 3, 31, 23, 59)).label == "2025-Q4"
    with pytest.raises(InputError):
        period.parse_quarter("Q3 2026", utc(2026, 1, 1))


def test_custom_windows():
    months = period.window(utc(2026, 1, 1), utc(2026, 3, 1))
    assert months.label == "2026-01-01 – 2026-02-28"
    assert period.previous(months).label == "2025-11-01 – 2025-12-31"  # as many calendar months before
    odd = period.window(utc(2026, 1, 10), utc(2026, 1, 20))
    assert period.previous(odd).as_dict() == {"start": "2025-12-31", "end": "2026-01-10",
                                              "label": "2025-12-31 – 2026-01-09"}
    leap = period.window(utc(2028, 2, 29), utc(2028, 3, 2))
    assert period.year_before(leap).start == utc(2027, 2, 28)
    assert period.months(period.window(utc(2026, 11, 15), utc(2027, 1, 2))) == ["2026-11", "2026-12", "2027-01"]
    with pytest.raises(InputError):
        period.window(utc(2026, 1, 2), utc(2026, 1, 1))
    assert period.month_of(int(utc(2026, 9, 30, 23, 59).timestamp() * 1000)) == "2026-09"
    assert period.month_of(None) == ""


def test_group_and_compare_options():
    assert parse_groups(("team,project", "team+hardware", "tag:cluster", "team")) == (
        ("team",), ("project",), ("team", "hardware"), ("tag:cluster",))
    with pytest.raises(InputError) as err:
        parse_groups(("team,tag:",))
    assert "unknown field 'tag:'" in str(err.value.problems[0])
    assert parse_compare(()) == ("previous", "year")
    assert parse_compare(("year",)) == ("year",) and parse_compare(("none",)) == ()
    with pytest.raises(InputError):
        parse_compare(("last-year",))


def test_number_formats():
    assert share_pct(0.4231) == "42 %" and share_pct(0.0004) == "<0.1 %" and share_pct(0) == "0 %"
    assert signed_pct(12.34) == "+12 %" and signed_pct(-5.26) == "\u22125.3 %" and signed_pct(0.01) == "±0 %"
    assert signed_pct(None) == "–"
    assert signed_mass(1500) == "+1.50 t" and signed_mass(-0.25) == "\u2212250 g" and signed_mass(0) == "±0 kg"


def test_chart_scale():
    assert nice_ticks(33.0) == [0, 10, 20, 30, 40]
    assert nice_ticks(0.0) == [0.0, 1.0]
    assert nice_ticks(2.4) == pytest.approx([0, 1, 2, 3])


def test_sentences_name_three_and_count_the_rest():
    rec = Recommendation("waste", Sample(["a", "b", "c", "d"], 100_000), 12.5, {"what": "failed", "count": 100_000})
    text = advice_text(rec)
    assert text.startswith("100000 failed or killed runs ('a', 'b', 'c' and 99997 more) used 12.5 kg")
    assert list(rec.jobs) == ["a", "b", "c", "d"] and len(rec.jobs) == 100_000


def test_store_passwords_are_never_shown():
    assert shown("postgresql://bob:s3cr3t@db:5432/mlflow") == "postgresql://bob:***@db:5432/mlflow"
    assert shown("http://mlflow:5000") == "http://mlflow:5000" and shown("sqlite:///a.db") == "sqlite:///a.db"


def test_a_profile_chart_leaves_out_hours_without_a_value_and_shades_at_most_a_day():
    """The when-to-run columns (charts.profile_chart): an hour the 30 days had no value for gets no column, a window
    longer than a day shades each hour once, and a start now that is already the best is the one marked."""
    from ci_carbon.core.hourly import best_start
    from ci_carbon.core.model import Profile
    from ci_carbon.summary.charts import profile_chart
    from ci_carbon.summary.model import PlannedProfile

    by_hour = tuple(None if h == 5 else 50.0 + 10.0 * ((h - 3) % 24) for h in range(24))  # 03:00 lowest (50)
    now = int(utc(2026, 11, 3, 3).timestamp() * 1000)
    start = best_start(by_hour, now, 30, 1.0)
    assert start is not None and start.best_hour == 3 and start.delay_hours == 0 and start.cut == 0.0
    chart = profile_chart(PlannedProfile("p", "1", Profile("electricitymaps", "DE", by_hour, 30, now, "direct"),
                                         30, 1.0, start, 0.0))
    assert [b.hour for b in chart.bars if b.value is None] == [5] and chart.bars[5].height == 0.0
    assert all(b.window for b in chart.bars)  # 30 h from 03:00 covers every hour of the day; each is shaded once
    assert [b.hour for b in chart.bars if b.best] == [3] == [b.hour for b in chart.bars if b.now]
    # ticks up to the highest mean, 50 + 10 × 23 = 280 at 02:00: steps of 100 (70 raw), 0 … 300; 168 units for 300
    assert [t.value for t in chart.ticks] == [0, 100, 200, 300]
    assert chart.bars[2].height == round(280 * 168 / 300, 1) == 156.8
