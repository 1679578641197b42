"""The write transactions of the costs service: what each stores, and which alerts it fires.

Each function is one unit of work on the repository (``async with repository.batch()``): the
ledger rows and every counter they move commit together with the events they cause, which go to
the outbox in the same transaction. The rules are the pure ones of ``budgets.py``; the repository
only stores (see ``docs/decisions.md``, "one transaction per batch" and "alerts in an outbox").

- **calls**: insert-or-ignore into the ledger keyed ``(tenant, event id)``; only the rows newly
  inserted move the rollup and the budget counters, so replays, redeliveries and several replicas
  count every call exactly once;
- **counters**: each priced call adds its cost to every budget that applies, in the window of the
  call's time; an alert fires when the addition moves spend across its threshold, and once per
  budget and window (its row is insert-or-ignore);
- **budgets**: setting one recomputes its current window from the ledger, and a changed budget
  fires its thresholds afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from llmops_contracts.costs import Budget
from llmops_contracts.envelope import Envelope
from llmops_costs import budgets as rules
from llmops_costs.entries import PRICED, CallEntry, CallKey
from llmops_costs.events import AlertFired, alert_event, call_events
from llmops_costs.ports import CostRepository, CostUnitOfWork, Outboxed, Spend


async def store_calls(
    repository: CostRepository, entries: Sequence[CallEntry], at: datetime
) -> tuple[set[CallKey], list[Outboxed]]:
    """Store a batch in one transaction; returns the keys it newly inserted and the alerts that
    fired (in the outbox)."""
    if not entries:
        return set(), []
    async with repository.batch() as uow:
        new = await uow.insert_calls(entries)
        outbox = await _count(uow, [e for e in entries if e.key in new], at)
        if outbox:
            await uow.add_outbox(outbox, at)
    return new, outbox


async def store_repriced(
    repository: CostRepository, updates: Sequence[tuple[int, CallEntry]], at: datetime
) -> tuple[list[CallEntry], list[Outboxed]]:
    """Claim and store waiting calls priced now (ledger position, entry) in one transaction;
    returns those claimed and the outbox: alerts, then the calls' events (nothing redelivers a
    re-pricing, so they are not published straight from memory)."""
    if not updates:
        return [], []
    async with repository.batch() as uow:
        done = await uow.reprice_calls(updates)
        if not done:
            return [], []
        outbox = await _count(uow, done, at)
        outbox += [Outboxed.of(m) for e in done for m in call_events(e)]
        await uow.add_outbox(outbox, at)
    return done, outbox


async def store_budget(
    repository: CostRepository, tenant: str, budget: Budget, at: datetime
) -> list[Outboxed]:
    """Create or replace a budget and recompute the window holding ``at`` from the ledger;
    returns the alerts its spend already reached (in the outbox)."""
    fingerprint = rules.fingerprint(budget)
    async with repository.batch() as uow:
        previous = await uow.replace_budget(tenant, budget, fingerprint, at)
        if previous != fingerprint:  # a changed budget starts its alerts afresh
            await uow.forget_alerts(tenant, budget.id)
        bounds = rules.window(budget, at)
        if bounds is None:
            return []
        spent = await uow.ledger_spend(tenant, budget, *bounds)
        if spent == 0:
            return []
        await uow.add_spend([Spend(tenant, budget.id, bounds[0], spent)])
        fired = [
            AlertFired(tenant, budget, bounds[0], bounds[1], spent, key)
            for key in rules.alerts_between(budget, Decimal(0), spent)
        ]
        outbox = await _fire(uow, fired, at)
        if outbox:
            await uow.add_outbox(outbox, at)
    return outbox


async def store_anomaly(
    repository: CostRepository,
    tenant: str,
    scope: str,
    value: str,
    hour: datetime,
    event: Envelope[Any],
    at: datetime,
) -> list[Outboxed]:
    """Record an anomaly once per (scope, value, hour); when new, its event is in the outbox."""
    async with repository.batch() as uow:
        if not await uow.claim_anomaly(tenant, scope, value, hour, at):
            return []
        outbox = [Outboxed.of(event)]
        await uow.add_outbox(outbox, at)
    return outbox


async def _count(uow: CostUnitOfWork, entries: Sequence[CallEntry], at: datetime) -> list[Outboxed]:
    """Add new priced calls to the counters of the budgets they fall under; fire alerts."""
    priced: dict[str, list[CallEntry]] = {}
    for e in entries:
        if e.state == PRICED and e.cost is not None:
            priced.setdefault(e.tenant, []).append(e)
    if not priced:
        return []
    tenants = sorted(priced)
    defined = await uow.lock_budgets(tenants)
    if not defined:
        return []
    spend: list[Spend] = []
    for tenant in tenants:
        deltas = rules.counter_deltas(
            defined.get(tenant, []),
            ((e.scope, e.time, e.cost) for e in priced[tenant] if e.cost is not None),
        )
        spend += [Spend(tenant, b, start, amount) for (b, start), amount in sorted(deltas.items())]
    if not spend:
        return []
    moved = await uow.add_spend(spend)
    by_id = {(t, b.id): b for t, budgets in defined.items() for b in budgets}
    fired: list[AlertFired] = []
    for s in spend:
        before, after = moved[s.key]
        budget = by_id[(s.tenant, s.budget_id)]
        end = rules.window_end(budget, s.window_start)
        fired += [
            AlertFired(s.tenant, budget, s.window_start, end, after, key)
            for key in rules.alerts_between(budget, before, after)
        ]
    return await _fire(uow, fired, at)


async def _fire(uow: CostUnitOfWork, fired: Sequence[AlertFired], at: datetime) -> list[Outboxed]:
    """The events of the alerts that fire now: those no earlier transaction fired."""
    if not fired:
        return []
    claimed = await uow.claim_alerts(
        [(a.tenant, a.budget.id, a.window_start, a.key) for a in fired], at
    )
    return [
        Outboxed.of(alert_event(a, at))
        for a in fired
        if (a.tenant, a.budget.id, a.window_start, a.key) in claimed
    ]
