"""The costs service at calendar edges: its real SQL repository, a fixed clock moved by hand.

A call is recorded at the edge instant, the clock crosses the next midnight (and the month end,
when there is one), and the budget windows, alerts, rollup hours, anomaly history and outbox
cut-off are checked against the windows written out in ``tests/calendar/edges.py``. Costs are
exact literals (see ``PRICES`` in the conftest): $0.000123 is 123 input tokens.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from llmops_contracts.costs import (
    Budget,
    BudgetCheck,
    BudgetsRequest,
    CostReportQuery,
    PricesLoad,
)
from llmops_contracts.llm import Usage
from tests.calendar.conftest import OUTBOX_GRACE_S, Costs
from tests.calendar.edges import Edge, utc
from tests.services.costs.support import call

D = Decimal


async def set_budgets(costs: Costs, *budgets: Budget) -> None:
    for budget in budgets:
        await costs.service.manage_budgets(
            costs.tenant, BudgetsRequest(action="set", budget=budget)
        )


async def windows(costs: Costs, estimated: str = "0") -> tuple[bool, dict[str, Any]]:
    """(allow, {budget id: (window start, window end, spent)}) of a budget check now."""
    decision = await costs.service.check_budget(
        costs.tenant, BudgetCheck(estimated_cost=D(estimated))
    )
    return decision.allow, {
        s.budget.id: (s.window_start, s.window_end, s.spent) for s in decision.budgets
    }


def alerts(costs: Costs) -> list[tuple[Any, ...]]:
    """The tenant's budget alerts as published: (kind, pct, window, spent, event time)."""
    out = []
    for e in costs.sink.published:
        kind = e.type.split(".")[2]
        if e.tenant == costs.tenant and kind.startswith("budget_"):
            pct = getattr(e.data, "threshold_pct", None)
            data = e.data
            out.append(
                (data.budget_id, kind, pct, data.window_start, data.window_end, data.spent, e.time)
            )
    return out


DAILY_HARD = Budget(
    id="daily",
    scope="tenant",
    window="day",
    limit=D("0.000246"),
    thresholds_pct=[50, 100],
    hard=True,
)
MONTHLY = Budget(id="monthly", scope="tenant", window="month", limit=D("1"), thresholds_pct=[50])


async def test_a_call_at_the_edge_counts_in_its_windows_and_the_next_ones_start_at_zero(
    costs: Costs, edge: Edge
) -> None:
    await set_budgets(costs, DAILY_HARD, MONTHLY)
    assert await costs.record(costs.call(123, edge.at)) == 1

    allow, seen = await windows(costs, estimated="0.000123")
    assert seen == {
        "daily": (*edge.day, D("0.000123")),
        "monthly": (*edge.month, D("0.000123")),
    }
    assert not allow  # 0.000123 spent + 0.000123 estimated reaches the daily hard limit

    assert costs.clock.advance(edge.step) == edge.next_midnight
    allow, seen = await windows(costs, estimated="0.000123")
    # Only the first instant of March keeps its month across the midnight.
    month_spent = D("0.000123") if edge.month_after == edge.month else D(0)
    assert seen == {
        "daily": (*edge.day_after, D(0)),
        "monthly": (*edge.month_after, month_spent),
    }
    assert allow
    # The windows left behind keep the call's exact cost.
    assert await costs.repository.spent(
        costs.tenant, [("daily", edge.day[0]), ("monthly", edge.month[0])]
    ) == {("daily", edge.day[0]): D("0.000123"), ("monthly", edge.month[0]): D("0.000123")}


async def test_budget_alerts_fire_once_per_window_and_again_in_the_next(
    costs: Costs, edge: Edge
) -> None:
    await set_budgets(costs, DAILY_HARD)
    # Reaching 50% and then 100% exactly, at the edge instant; more spend fires nothing more.
    await costs.record(costs.call(123, edge.at))
    await costs.record(costs.call(123, edge.at))
    await costs.record(costs.call(1, edge.at))
    costs.clock.advance(edge.step)
    # The next window fires its 50% again; a late call of the old window (its event time is
    # before midnight) adds to the old window, where every alert has fired already.
    await costs.record(costs.call(123, edge.next_midnight))
    await costs.record(costs.call(1, edge.at))

    day, after = edge.day, edge.day_after
    assert alerts(costs) == [
        ("daily", "budget_threshold_crossed", 50.0, *day, D("0.000123"), edge.at),
        ("daily", "budget_threshold_crossed", 100.0, *day, D("0.000246"), edge.at),
        ("daily", "budget_exceeded", None, *day, D("0.000246"), edge.at),
        ("daily", "budget_threshold_crossed", 50.0, *after, D("0.000123"), edge.next_midnight),
    ]
    assert await costs.repository.spent(costs.tenant, [("daily", day[0]), ("daily", after[0])]) == {
        ("daily", day[0]): D("0.000248"),
        ("daily", after[0]): D("0.000123"),
    }


async def test_setting_a_budget_recomputes_the_window_holding_the_clock(
    costs: Costs, edge: Edge
) -> None:
    # The ledger before any budget: the day's first instant (included), a microsecond before it
    # (the day before), the edge, and the next midnight (the next day).
    await costs.record(
        costs.call(1, edge.day[0]),
        costs.call(5, edge.day[0] - timedelta(microseconds=1)),
        costs.call(123, edge.at),
        costs.call(77, edge.next_midnight),
    )
    daily = Budget(
        id="daily", scope="tenant", window="day", limit=D("0.000248"), thresholds_pct=[50]
    )
    listed = await costs.service.manage_budgets(
        costs.tenant, BudgetsRequest(action="set", budget=daily)
    )
    assert [(s.window_start, s.window_end, s.spent) for s in listed] == [(*edge.day, D("0.000124"))]
    # The recomputed spend reaches 50% exactly: it fires at once, dated by the clock.
    assert alerts(costs) == [
        ("daily", "budget_threshold_crossed", 50.0, *edge.day, D("0.000124"), edge.at)
    ]

    costs.clock.advance(edge.step)
    changed = daily.model_copy(update={"limit": D("0.000154")})
    listed = await costs.service.manage_budgets(
        costs.tenant, BudgetsRequest(action="set", budget=changed)
    )
    assert [(s.window_start, s.window_end, s.spent) for s in listed] == [
        (*edge.day_after, D("0.000077"))
    ]
    assert alerts(costs)[1:] == [
        (
            "daily",
            "budget_threshold_crossed",
            50.0,
            *edge.day_after,
            D("0.000077"),
            edge.next_midnight,
        )
    ]
    # Setting a budget drops the counters of earlier windows.
    assert await costs.repository.spent(costs.tenant, [("daily", edge.day[0])]) == {}


async def test_a_custom_window_ending_at_the_instant_no_longer_holds_it(
    costs: Costs, edge: Edge
) -> None:
    day_before = edge.at - timedelta(days=1)
    ended = Budget(
        id="ended",
        scope="tenant",
        window="custom",
        starts_at=day_before,
        ends_at=edge.at,
        limit=D("0.000001"),
        hard=True,
    )
    starting = ended.model_copy(
        update={"id": "starting", "starts_at": edge.at, "ends_at": edge.next_midnight}
    )
    await set_budgets(costs, ended, starting)
    await costs.record(costs.call(123, edge.at))

    # The ended budget's window does not hold the instant: it neither counts the call nor
    # denies (its tiny hard limit would); the one starting at the instant holds it.
    allow, seen = await windows(costs)
    assert seen == {"starting": (edge.at, edge.next_midnight, D("0.000123"))}
    assert not allow  # the starting budget's limit is long reached
    # A late call from a microsecond before the instant counts in the ended window only.
    await costs.record(costs.call(7, edge.at - timedelta(microseconds=1)))
    assert await costs.repository.spent(
        costs.tenant, [("ended", day_before), ("starting", edge.at)]
    ) == {("ended", day_before): D("0.000007"), ("starting", edge.at): D("0.000123")}


async def test_a_call_priced_after_midnight_counts_in_the_window_of_its_time(
    costs: Costs, edge: Edge
) -> None:
    await set_budgets(costs, DAILY_HARD)
    waiting = call(
        costs.tenant, "edge-model-2", Usage(input_tokens=123, output_tokens=0), time=edge.at
    )
    await costs.record(waiting)
    [missing] = costs.sink.of(costs.tenant, "price_missing")
    assert missing.time == edge.at

    # Its price arrives after midnight (an override in effect since before the call).
    costs.clock.advance(edge.step)
    override = {
        "provider": "openai",
        "model": "edge-model-2",
        "effective_from": "2026-01-01T00:00:00+00:00",
        "prices": {"tiers": {"standard": [{"input": "0.000001", "output": "0"}]}},
    }
    loaded = await costs.service.load_prices(costs.tenant, PricesLoad(overrides=[override]))
    assert loaded.repriced == 1

    [recorded] = costs.sink.of(costs.tenant, "cost_recorded")
    assert (recorded.data.computed_cost, recorded.data.repriced) == (D("0.000123"), True)
    assert recorded.time == edge.next_midnight  # priced now
    _, seen = await windows(costs)
    assert seen == {"daily": (*edge.day_after, D(0))}
    assert await costs.repository.spent(costs.tenant, [("daily", edge.day[0])]) == {
        ("daily", edge.day[0]): D("0.000123")
    }
    assert alerts(costs) == [  # the old window's 50%, fired when it was priced
        ("daily", "budget_threshold_crossed", 50.0, *edge.day, D("0.000123"), edge.next_midnight)
    ]
    report = await costs.service.report(
        costs.tenant,
        CostReportQuery(since=edge.day[0], until=edge.day_after[1], granularity="hour"),
    )
    assert [(r.period_start, r.cost, r.priced_calls) for r in report.rows] == [
        (edge.hour, D("0.000123"), 1)
    ]


async def test_the_rollup_hour_is_the_hour_of_the_event_time(costs: Costs, edge: Edge) -> None:
    await costs.record(costs.call(123, edge.at))
    costs.clock.advance(edge.step)
    await costs.record(costs.call(77, edge.next_midnight))

    def rows(report: Any) -> list[tuple[Any, ...]]:
        return [(r.period_start, r.cost, r.calls) for r in report.rows]

    span = {"since": edge.day[0], "until": edge.day_after[1]}
    hourly = await costs.service.report(costs.tenant, CostReportQuery(**span, granularity="hour"))
    assert rows(hourly) == [
        (edge.hour, D("0.000123"), 1),
        (edge.next_midnight, D("0.000077"), 1),
    ]
    daily = await costs.service.report(costs.tenant, CostReportQuery(**span, granularity="day"))
    assert rows(daily) == [
        (edge.day[0], D("0.000123"), 1),
        (edge.day_after[0], D("0.000077"), 1),
    ]
    assert (daily.since, daily.until, daily.total.cost) == (*span.values(), D("0.000200"))


async def test_a_report_until_now_ends_with_the_hour_of_the_clock(costs: Costs, edge: Edge) -> None:
    await costs.record(costs.call(123, edge.at), costs.call(5, edge.at - timedelta(hours=1)))
    report = await costs.service.report(
        costs.tenant, CostReportQuery(since=utc(2026, 1, 1), granularity="hour")
    )
    # Rounded up to the end of the clock's hour; `until` is exclusive, so at an instant that is
    # an hour's very start (midnight of 1 March) the calls of that instant are not before it.
    on_the_hour = edge.at == edge.hour
    assert report.until == (edge.hour if on_the_hour else edge.hour + timedelta(hours=1))
    expected = [(edge.hour - timedelta(hours=1), D("0.000005"))]
    if not on_the_hour:
        expected.append((edge.hour, D("0.000123")))
    assert [(r.period_start, r.cost) for r in report.rows] == expected


def hour_code(hour: Any) -> int:
    """The micro-dollars spent in ``hour`` by the anomaly test: MMDDHH, so the history shows which
    calendar hour each value came from (29 February is 22923, 1 March 12 a.m. 30100)."""
    return int(hour.month * 10000 + hour.day * 100 + hour.hour)


async def test_anomaly_history_is_the_24_hours_before_the_hour_across_the_edge(
    costs: Costs, edge: Edge
) -> None:
    history_hours = [edge.history_first + timedelta(hours=k) for k in range(24)]
    # The test's own stepping lands on the table's last hour (a check of the test, not the code).
    assert history_hours[-1] == edge.history_last
    outside = edge.history_first - timedelta(hours=1)
    calls = [costs.call(hour_code(h), h + timedelta(minutes=30)) for h in history_hours]
    calls.append(costs.call(hour_code(outside), outside + timedelta(minutes=59, seconds=59)))
    calls.append(costs.call(5_000_000, edge.anomaly_hour))  # $5 at the hour's first instant
    costs.clock.set(edge.anomaly_hour + timedelta(minutes=5))
    await costs.record(*calls)

    assert await costs.service.check_anomalies() == 1
    [event] = costs.sink.of(costs.tenant, "anomaly")
    anomaly = event.data
    assert (anomaly.period_start, anomaly.period_end) == (
        edge.anomaly_hour,
        edge.anomaly_hour + timedelta(hours=1),
    )
    assert anomaly.spend == D(5)
    assert anomaly.history == [D(hour_code(h)) / 1_000_000 for h in history_hours]
    assert event.time == edge.anomaly_hour + timedelta(minutes=5)  # when it was detected


async def test_the_outbox_cut_off_is_the_clock_minus_the_grace(costs: Costs, edge: Edge) -> None:
    await set_budgets(
        costs,
        Budget(id="d", scope="tenant", window="day", limit=D("0.000123"), thresholds_pct=[100]),
    )
    costs.sink.fail = True  # committed, then not published: the alert stays in the outbox
    with pytest.raises(RuntimeError):
        await costs.record(costs.call(123, edge.at))
    costs.sink.fail = False

    costs.clock.advance(seconds=OUTBOX_GRACE_S)  # exactly the grace: not older than the cut-off
    await costs.service.flush_outbox()
    assert alerts(costs) == []
    costs.clock.advance(microseconds=1)
    await costs.service.flush_outbox()
    assert alerts(costs) == [
        ("d", "budget_threshold_crossed", 100.0, *edge.day, D("0.000123"), edge.at)
    ]
