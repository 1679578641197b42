"""The pure time rules at calendar edges: budget windows, counters, thresholds, off-peak prices.

No clock and no I/O: the edge instant is passed in, and every expected window is the one written
out in ``tests/calendar/edges.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from llmops_contracts.costs import Budget
from llmops_contracts.llm import Usage
from llmops_costs import budgets as rules
from llmops_costs.budgets import CallScope
from llmops_costs.pricing import MissingPrice, PriceTable
from tests.calendar.edges import EDGES, Edge, utc

D = Decimal
DAY = Budget(id="day", scope="tenant", window="day", limit=D("0.000246"), thresholds_pct=[50, 100])
MONTH = Budget(id="month", scope="tenant", window="month", limit=D("10"))
TENANT = CallScope()
#: Zones either side of UTC: a window is the UTC calendar's whatever zone the time is given in.
ZONES = [timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30))]


def test_the_edges_table_is_consistent() -> None:
    # Only the table's own arithmetic (never the code under test): the step reaches the midnight.
    for edge in EDGES:
        assert edge.at + edge.step == edge.next_midnight
        assert edge.next_midnight == edge.day[1] == edge.day_after[0]


def test_day_and_month_windows_hold_the_instant(edge: Edge) -> None:
    assert rules.window(DAY, edge.at) == edge.day
    assert rules.window(MONTH, edge.at) == edge.month
    assert rules.window(DAY, edge.next_midnight) == edge.day_after
    assert rules.window(MONTH, edge.next_midnight) == edge.month_after
    for zone in ZONES:
        assert rules.window(DAY, edge.at.astimezone(zone)) == edge.day
        assert rules.window(MONTH, edge.at.astimezone(zone)) == edge.month
    assert rules.window_end(DAY, edge.day[0]) == edge.day[1]
    assert rules.window_end(MONTH, edge.month[0]) == edge.month[1]
    assert rules.window_end(MONTH, edge.month_after[0]) == edge.month_after[1]


def test_a_custom_window_ending_at_the_instant_does_not_hold_it(edge: Edge) -> None:
    start = edge.at - timedelta(days=1)
    just_before = edge.at - timedelta(microseconds=1)
    ended = Budget(
        id="ended", scope="tenant", window="custom", starts_at=start, ends_at=edge.at, limit=D(1)
    )
    starting = Budget(
        id="starting",
        scope="tenant",
        window="custom",
        starts_at=edge.at,
        ends_at=edge.next_midnight,
        limit=D(1),
    )
    assert rules.window(ended, edge.at) is None
    assert rules.window(ended, just_before) == (start, edge.at)
    assert rules.window(starting, edge.at) == (edge.at, edge.next_midnight)
    assert rules.window(starting, just_before) is None
    assert rules.window(starting, edge.next_midnight) is None
    deltas = rules.counter_deltas(
        [ended, starting], [(TENANT, edge.at, D("0.000123")), (TENANT, just_before, D("0.000007"))]
    )
    assert deltas == {("ended", start): D("0.000007"), ("starting", edge.at): D("0.000123")}


def test_counter_deltas_put_each_call_in_the_windows_of_its_own_time(edge: Edge) -> None:
    calls = [
        (TENANT, edge.at, D("0.000123")),
        (TENANT, edge.next_midnight, D("0.000100")),
        (TENANT, edge.at, D("0.000001")),
    ]
    expected = {
        ("day", edge.day[0]): D("0.000124"),
        ("day", edge.day_after[0]): D("0.000100"),
    }
    if edge.month_after == edge.month:  # 1 March: the next midnight is still March
        expected[("month", edge.month[0])] = D("0.000224")
    else:
        expected[("month", edge.month[0])] = D("0.000124")
        expected[("month", edge.month_after[0])] = D("0.000100")
    assert rules.counter_deltas([DAY, MONTH], calls) == expected


def test_thresholds_and_the_hard_limit_reached_exactly_at_the_edge(edge: Edge) -> None:
    # The day window's spend, call by call: two calls at the edge reach 50% and 100% exactly.
    ((key, first),) = rules.counter_deltas([DAY], [(TENANT, edge.at, D("0.000123"))]).items()
    assert key == ("day", edge.day[0])
    assert rules.alerts_between(DAY, D(0), first) == ["threshold:50.0"]
    assert rules.alerts_between(DAY, first, first + D("0.000123")) == ["threshold:100.0"]
    hard = DAY.model_copy(update={"hard": True})
    assert rules.alerts_between(hard, first, first + D("0.000123")) == [
        "threshold:100.0",
        rules.EXCEEDED,
    ]
    # The check after the first call: one more such call would reach the limit exactly.
    assert not rules.decide([(hard, first)], D("0.000123")).allow
    assert rules.decide([(hard, first)], D("0.000122")).allow
    # After midnight the new window has spent nothing.
    assert rules.decide([(hard, D(0))], D("0.000123")).allow


#: Off-peak every day from 16:30 to 00:30 UTC, at a quarter of the standard rate.
NIGHT = PriceTable.from_dict(
    {
        "version": "night-1",
        "models": {
            "night": {
                "provider": "deepseek",
                "tiers": {"standard": [{"input": "0.000004", "output": "0"}]},
                "off_peak": {
                    "hours_utc": ["16:30-00:30"],
                    "tiers": {"standard": [{"input": "0.000001", "output": "0"}]},
                },
            }
        },
    }
)
#: Whether each edge instant is off-peak (23:59:59 and midnight are; noon is not).
OFF_PEAK = {
    "last-ms-of-2026": True,
    "last-second-of-january-2027": True,
    "leap-day-noon-2028": False,
    "first-instant-of-march-2028": True,
}


def test_off_peak_prices_follow_the_call_time_across_midnight(edge: Edge) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=0)

    def priced(at: datetime) -> tuple[Decimal, str]:
        result = NIGHT.price_call(usage, "night", "deepseek", None, at)
        assert not isinstance(result, MissingPrice), result
        return result.cost, result.tier

    night, day = (D(1), "standard/off_peak"), (D(4), "standard")
    assert priced(edge.at) == (night if OFF_PEAK[edge.name] else day)
    # The window wraps midnight: open through the next midnight, closed from 00:30 exactly.
    assert priced(edge.next_midnight) == night
    assert priced(edge.next_midnight + timedelta(minutes=29, seconds=59, microseconds=999999)) == (
        night
    )
    assert priced(edge.next_midnight + timedelta(minutes=30)) == day


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2028, 2, 29, 0, 30), (utc(2028, 2, 1), utc(2028, 3, 1))),
        (utc(2027, 2, 28, 23, 59, 59, 999999), (utc(2027, 2, 1), utc(2027, 3, 1))),
        (utc(2100, 2, 28, 12), (utc(2100, 2, 1), utc(2100, 3, 1))),  # 2100 is no leap year
    ],
)
def test_february_months_end_on_the_right_day(at: datetime, expected: object) -> None:
    assert rules.window(MONTH, at) == expected
