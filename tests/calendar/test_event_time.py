"""Events keep their own time: a call of 23:59:59 on 31 December processed after midnight.

The rule (``docs/costs.md``, "Event time and processing time"): what a call *counts in* is decided
by its event ``time`` (budget windows, the rollup hour, the prices and overrides in effect); what
the service *does* is stamped with its clock (``priced_at``, the time of the events it publishes,
alert and outbox times), and a budget check asks about the clock's windows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from llmops_contracts.costs import Budget, BudgetCheck, BudgetsRequest, CostReportQuery
from llmops_costs.pricing import PriceOverride
from llmops_shared.clock import FixedClock
from tests.calendar.conftest import MODEL, PRICES, PROVIDER, Costs, open_costs
from tests.calendar.edges import utc

D = Decimal
CALLED = utc(2026, 12, 31, 23, 59, 59)
PROCESSED = utc(2027, 1, 1, 0, 0, 5)


@pytest.fixture
async def costs(costs_url: str, tenant: str) -> AsyncIterator[Costs]:
    """A costs service whose clock reads 2027-01-01T00:00:05Z, and whose tenant's price doubles
    from 2027-01-01T00:00:00Z (an override)."""
    january = PriceOverride.from_dict(
        {
            "tenant": tenant,
            "provider": PROVIDER,
            "model": MODEL,
            "effective_from": "2027-01-01T00:00:00+00:00",
            "version": "january-rates",
            "prices": {"tiers": {"standard": [{"input": "0.000002", "output": "0.002"}]}},
        }
    )
    prices = PRICES.with_overrides([january])
    async for opened in open_costs(costs_url, tenant, FixedClock(PROCESSED), prices):
        yield opened


async def test_a_call_counts_at_its_event_time_and_is_stamped_with_the_clock(
    costs: Costs,
) -> None:
    tenant, service = costs.tenant, costs.service
    for budget in (
        Budget(
            id="monthly", scope="tenant", window="month", limit=D("0.000246"), thresholds_pct=[50]
        ),
        Budget(id="daily", scope="tenant", window="day", limit=D("1")),
    ):
        await service.manage_budgets(tenant, BudgetsRequest(action="set", budget=budget))
    late = costs.call(123, CALLED)
    await costs.record(late)

    # Priced with December's rate (January's override starts after the call), stamped now.
    [recorded] = costs.sink.of(tenant, "cost_recorded")
    assert (recorded.data.computed_cost, recorded.data.price_table_version) == (
        D("0.000123"),
        "calendar-1",
    )
    assert recorded.time == PROCESSED
    [stored] = await costs.repository.stored([(tenant, late.id)])
    assert (stored.time, stored.priced_at) == (CALLED, PROCESSED)

    # It counts in December's month and day windows ...
    assert await costs.repository.spent(
        tenant, [("monthly", utc(2026, 12, 1)), ("daily", utc(2026, 12, 31))]
    ) == {("monthly", utc(2026, 12, 1)): D("0.000123"), ("daily", utc(2026, 12, 31)): D("0.000123")}
    # ... whose 50% alert names December and is stamped when it fired.
    [alert] = costs.sink.of(tenant, "budget_threshold_crossed")
    assert (alert.data.window_start, alert.data.window_end, alert.time) == (
        utc(2026, 12, 1),
        utc(2027, 1, 1),
        PROCESSED,
    )
    # ... and in the 23:00 hour of 31 December.
    report = await service.report(
        tenant, CostReportQuery(since=utc(2026, 12, 31), until=utc(2027, 1, 2), granularity="hour")
    )
    assert [(r.period_start, r.cost) for r in report.rows] == [
        (utc(2026, 12, 31, 23), D("0.000123"))
    ]

    # A budget check at 00:00:05 asks about January's windows: nothing spent there yet.
    decision = await service.check_budget(tenant, BudgetCheck(estimated_cost=D("0")))
    assert {s.budget.id: (s.window_start, s.window_end, s.spent) for s in decision.budgets} == {
        "daily": (utc(2027, 1, 1), utc(2027, 1, 2), D(0)),
        "monthly": (utc(2027, 1, 1), utc(2027, 2, 1), D(0)),
    }

    # A call of midnight itself is January's: January's window, January's price.
    await costs.record(costs.call(123, utc(2027, 1, 1)))
    priced = [
        (e.data.computed_cost, e.data.price_table_version)
        for e in costs.sink.of(tenant, "cost_recorded")
    ]
    assert priced[1] == (D("0.000246"), "january-rates")
    decision = await service.check_budget(tenant, BudgetCheck(estimated_cost=D("0")))
    assert {s.budget.id: s.spent for s in decision.budgets} == {
        "daily": D("0.000246"),
        "monthly": D("0.000246"),
    }
