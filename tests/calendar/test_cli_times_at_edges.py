"""The command line's times at calendar edges: ``--since 7d`` and friends, and the daily chart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from llmops.audit import parse_moment
from llmops.costs import daily_spend, period_label
from llmops_contracts.costs import CostReport, CostReportRow
from tests.calendar.edges import Edge, utc

#: What each relative option means at each edge instant, worked out by hand on a calendar.
RELATIVE = {
    "last-ms-of-2026": {
        "now": utc(2026, 12, 31, 23, 59, 59, 999000),
        "45s": utc(2026, 12, 31, 23, 59, 14, 999000),
        "30m": utc(2026, 12, 31, 23, 29, 59, 999000),
        "24h": utc(2026, 12, 30, 23, 59, 59, 999000),
        "1d": utc(2026, 12, 30, 23, 59, 59, 999000),
        "2d": utc(2026, 12, 29, 23, 59, 59, 999000),
        "7d": utc(2026, 12, 24, 23, 59, 59, 999000),
        "1w": utc(2026, 12, 24, 23, 59, 59, 999000),
        "31d": utc(2026, 11, 30, 23, 59, 59, 999000),
        "366d": utc(2025, 12, 30, 23, 59, 59, 999000),
    },
    "last-second-of-january-2027": {
        "now": utc(2027, 1, 31, 23, 59, 59),
        "45s": utc(2027, 1, 31, 23, 59, 14),
        "30m": utc(2027, 1, 31, 23, 29, 59),
        "24h": utc(2027, 1, 30, 23, 59, 59),
        "1d": utc(2027, 1, 30, 23, 59, 59),
        "2d": utc(2027, 1, 29, 23, 59, 59),
        "7d": utc(2027, 1, 24, 23, 59, 59),
        "1w": utc(2027, 1, 24, 23, 59, 59),
        "31d": utc(2026, 12, 31, 23, 59, 59),
        "366d": utc(2026, 1, 30, 23, 59, 59),
    },
    "leap-day-noon-2028": {
        "now": utc(2028, 2, 29, 12),
        "45s": utc(2028, 2, 29, 11, 59, 15),
        "30m": utc(2028, 2, 29, 11, 30),
        "24h": utc(2028, 2, 28, 12),
        "1d": utc(2028, 2, 28, 12),
        "2d": utc(2028, 2, 27, 12),
        "7d": utc(2028, 2, 22, 12),
        "1w": utc(2028, 2, 22, 12),
        "31d": utc(2028, 1, 29, 12),
        "366d": utc(2027, 2, 28, 12),
    },
    "first-instant-of-march-2028": {
        "now": utc(2028, 3, 1),
        "45s": utc(2028, 2, 29, 23, 59, 15),
        "30m": utc(2028, 2, 29, 23, 30),
        "24h": utc(2028, 2, 29),
        "1d": utc(2028, 2, 29),
        "2d": utc(2028, 2, 28),  # across the leap day
        "7d": utc(2028, 2, 23),
        "1w": utc(2028, 2, 23),
        "31d": utc(2028, 1, 30),
        "366d": utc(2027, 3, 1),
    },
}


def test_relative_moments_count_back_on_the_calendar(edge: Edge) -> None:
    expected = RELATIVE[edge.name]
    assert {text: parse_moment(text, now=edge.at) for text in expected} == expected
    assert parse_moment(" 7d ", now=edge.at) == expected["7d"]
    assert parse_moment("NOW", now=edge.at) == expected["now"]


@pytest.fixture
def local_zone_ahead_of_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local zone 14 hours ahead of UTC: a naive time read as local time shows."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        yield
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.usefixtures("local_zone_ahead_of_utc")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2028-02-29", utc(2028, 2, 29)),  # a bare date is its midnight UTC
        ("2028-03-01", utc(2028, 3, 1)),
        ("2026-12-31T23:59:59.999", utc(2026, 12, 31, 23, 59, 59, 999000)),  # no zone: UTC
        ("2026-12-31T23:59:59.999Z", utc(2026, 12, 31, 23, 59, 59, 999000)),
        ("2027-01-01T00:30:00+01:00", utc(2026, 12, 31, 23, 30)),  # last year, in UTC
        ("2028-02-29T23:00:00-02:00", utc(2028, 3, 1, 1)),  # next month, in UTC
    ],
)
def test_iso_moments_do_not_depend_on_the_clock(edge: Edge, text: str, expected: datetime) -> None:
    moment = parse_moment(text, now=edge.at)
    assert moment == expected
    assert moment.utcoffset() is not None


def test_a_day_that_does_not_exist_is_refused(edge: Edge) -> None:
    for text in ("2027-02-29", "2028-02-30", "2026-12-32"):
        with pytest.raises(ValueError, match="neither a relative time"):
            parse_moment(text, now=edge.at)


def _row(hour: datetime, cost: str) -> CostReportRow:
    return CostReportRow(
        period_start=hour,
        group={},
        calls=1,
        priced_calls=1,
        estimated_calls=0,
        price_missing_calls=0,
        usage_missing_calls=0,
        input_tokens=0,
        output_tokens=0,
        cache_read_input_tokens=0,
        cache_creation_input_tokens=0,
        reasoning_tokens=0,
        cost=Decimal(cost),
        provided_cost=Decimal(0),
    )


def test_the_daily_chart_has_every_utc_day_across_the_leap_day_and_the_year() -> None:
    rows = [
        _row(utc(2028, 2, 28, 23), "1"),
        _row(utc(2028, 3, 1), "2"),
        # An hour given in another zone is charted on its UTC day (29 February, not 1 March).
        _row(utc(2028, 2, 29, 23, 0).astimezone(timezone(timedelta(hours=2))), "4"),
    ]
    report = CostReport(
        since=utc(2028, 2, 28),
        until=utc(2028, 3, 2),
        by=[],
        granularity="hour",
        rows=rows,
        total=_row(utc(2028, 2, 28), "7"),
    )
    assert daily_spend(report) == [
        (date(2028, 2, 28), Decimal(1)),
        (date(2028, 2, 29), Decimal(4)),
        (date(2028, 3, 1), Decimal(2)),
    ]
    # Labels are UTC too: 01:00 on 1 March at +02:00 is the 23:00 hour of 29 February.
    east = utc(2028, 2, 29, 23).astimezone(timezone(timedelta(hours=2)))
    assert (period_label(east, "hour"), period_label(east, "day")) == (
        "2028-02-29 23:00",
        "2028-02-29",
    )
    year = report.model_copy(
        update={"rows": [_row(utc(2026, 12, 30, 12), "1"), _row(utc(2027, 1, 1, 0), "3")]}
    )
    assert daily_spend(year) == [
        (date(2026, 12, 30), Decimal(1)),
        (date(2026, 12, 31), Decimal(0)),
        (date(2027, 1, 1), Decimal(3)),
    ]
