"""Fakes of the costs ports (the repository and its unit of work, metrics, the estimator), and
the costs service the unit tests run on them (:func:`on_fakes`).

The repository fake keeps the SQL adapter's promises (it runs the same abstract suite,
``test_costs_repository.py``), so the service's unit tests exercise real behaviour, not mocks:
a unit of work commits all or nothing, the ledger stores a call once, reports aggregate the
ledger like the hourly rollup, and counters, alerts, anomalies and the outbox behave as in SQL.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from llmops_contracts.costs import Budget
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_contracts.prices import PriceDocument, PriceOverrideSpec
from llmops_costs import budgets as rules
from llmops_costs.anomalies import detect_spike
from llmops_costs.app import bundled_prices
from llmops_costs.entries import PRICE_MISSING, PRICED, CallEntry, CallKey
from llmops_costs.money import exact
from llmops_costs.ports import AlertKey, CounterKey, Outboxed, ReportLine, Spend
from llmops_costs.reports import REPORT_COUNTS, call_counts
from llmops_costs.service import CostsOptions, CostsService
from llmops_shared.clock import FixedClock
from tests.fakes import FakePublisher

#: Report dimensions and the entry attribute each reads.
DIMENSIONS = {
    "app": "app",
    "user": "user",
    "model": "model",
    "provider": "provider",
    "prompt": "prompt_name",
    "prompt_version": "prompt_version",
}


@dataclass
class FakeState:
    """Everything the fake repository holds (copied at a unit of work's start, to roll back)."""

    #: The ledger, in insertion order; a call's position is its ``pk``.
    ledger: dict[CallKey, CallEntry] = field(default_factory=dict)
    pks: dict[CallKey, int] = field(default_factory=dict)
    #: tenant -> its budgets (a test may replace them to mimic another replica's change).
    defined: dict[str, list[Budget]] = field(default_factory=dict)
    fingerprints: dict[tuple[str, str], str] = field(default_factory=dict)
    counters: dict[CounterKey, Decimal] = field(default_factory=dict)
    fired: dict[AlertKey, datetime] = field(default_factory=dict)
    anomalies: dict[tuple[str, str, str, datetime], datetime] = field(default_factory=dict)
    #: event id -> (item, created at)
    outbox: dict[str, tuple[Outboxed, datetime]] = field(default_factory=dict)
    #: Loads, oldest first: (table document as stored, or None).
    loads: list[str | None] = field(default_factory=list)
    #: (tenant, provider, model, effective_from) -> (override document as stored, load id)
    overrides: dict[tuple[str, str, str, str], tuple[str, int]] = field(default_factory=dict)

    def copy(self) -> FakeState:
        """A copy to roll back to (the values are immutable or replaced, never changed)."""
        return FakeState(**{name: copy.copy(value) for name, value in vars(self).items()})


class FakeCostRepository:
    """The cost repository port in memory (a fake, not a mock)."""

    def __init__(self) -> None:
        self.state = FakeState()
        self._writes = asyncio.Lock()
        self.budget_reads = 0
        self.spent_reads = 0

    # The state's parts, for tests that look inside.

    @property
    def ledger(self) -> dict[CallKey, CallEntry]:
        return self.state.ledger

    @property
    def defined(self) -> dict[str, list[Budget]]:
        return self.state.defined

    @property
    def anomalies(self) -> dict[tuple[str, str, str, datetime], datetime]:
        return self.state.anomalies

    @property
    def outbox(self) -> dict[str, tuple[Outboxed, datetime]]:
        return self.state.outbox

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[FakeUnitOfWork]:
        async with self._writes:  # one writer at a time, like SQLite
            before = self.state.copy()
            try:
                yield FakeUnitOfWork(self.state)
            except BaseException:
                self.state = before  # all or nothing, like one transaction
                raise

    async def stored(self, keys: Sequence[CallKey]) -> list[CallEntry]:
        return [self.state.ledger[k] for k in keys if k in self.state.ledger]

    async def waiting(
        self, tenants: Sequence[str] | None, after: int, limit: int
    ) -> list[tuple[int, CallEntry]]:
        rows = [
            (self.state.pks[key], e)
            for key, e in self.state.ledger.items()
            if e.state == PRICE_MISSING
            and self.state.pks[key] > after
            and (tenants is None or e.tenant in tenants)
        ]
        return rows[:limit]

    async def report(
        self,
        tenant: str,
        since: datetime,
        until: datetime,
        by: Sequence[str],
        granularity: str,
        filters: Mapping[str, str],
    ) -> list[ReportLine]:
        groups: dict[tuple[Any, ...], list[CallEntry]] = {}
        for e in self.state.ledger.values():
            hour = e.hour
            dims = dict(zip(DIMENSIONS, e.dims(), strict=True))
            if e.tenant != tenant or not since <= hour < until:
                continue
            if any(dims[name] != value for name, value in filters.items()):
                continue
            period = {"hour": hour, "day": hour.replace(hour=0)}.get(granularity)
            key = ((period,) if period is not None else ()) + tuple(dims[n] for n in by)
            groups.setdefault(key, []).append(e)
        lines = []
        for key in sorted(groups):
            period = key[0] if granularity in ("hour", "day") else None
            values = key[1:] if period is not None else key
            counts = [call_counts(e) for e in groups[key]]
            with exact():
                lines.append(
                    ReportLine(
                        period_start=period,
                        group={name: (v or None) for name, v in zip(by, values, strict=True)},
                        **{name: sum(c[i] for c in counts) for i, name in enumerate(REPORT_COUNTS)},
                        cost=sum((_cost(e) for e in groups[key]), Decimal(0)),
                        provided_cost=sum(
                            (e.provided_cost or Decimal(0) for e in groups[key]), Decimal(0)
                        ),
                    )
                )
        return lines

    async def budgets(self, tenant: str) -> list[Budget]:
        self.budget_reads += 1
        return sorted(self.state.defined.get(tenant, []), key=lambda b: b.id)

    async def delete_budget(self, tenant: str, budget_id: str) -> bool:
        async with self.batch():
            state = self.state
            before = state.defined.get(tenant, [])
            state.defined[tenant] = [b for b in before if b.id != budget_id]
            state.fingerprints.pop((tenant, budget_id), None)
            for key in [k for k in state.counters if k[:2] == (tenant, budget_id)]:
                del state.counters[key]
            for alert in [k for k in state.fired if k[:2] == (tenant, budget_id)]:
                del state.fired[alert]
            return len(before) != len(state.defined[tenant])

    async def spent(
        self, tenant: str, keys: Sequence[tuple[str, datetime]]
    ) -> dict[tuple[str, datetime], Decimal]:
        self.spent_reads += 1
        counters = self.state.counters
        return {k: counters[(tenant, *k)] for k in keys if (tenant, *k) in counters}

    async def save_prices(
        self,
        tenant: str,
        table: PriceDocument | None,
        overrides: Sequence[PriceOverrideSpec],
        at: datetime,
    ) -> None:
        async with self.batch():
            state = self.state
            state.loads.append(None if table is None else table.model_dump_json())
            load_id = len(state.loads)
            for o in overrides:
                assert o.tenant is not None, "the service names the tenant of what it saves"
                start = o.effective_from.astimezone(UTC).isoformat()
                key = (o.tenant, o.provider, o.model, start)
                state.overrides[key] = (o.model_dump_json(), load_id)

    async def load_prices(self) -> tuple[int, str | None, list[str]]:
        state = self.state
        tables = [t for t in state.loads if t is not None]
        in_load_order = sorted(state.overrides.items(), key=lambda kv: (kv[1][1], kv[0]))
        return (
            len(state.loads),
            tables[-1] if tables else None,
            [doc for _, (doc, _) in in_load_order],
        )

    async def prices_generation(self) -> int:
        return len(self.state.loads)

    async def outbox_pending(self, older_than: datetime, limit: int) -> list[Outboxed]:
        pending = sorted(
            (created, event_id, item)
            for event_id, (item, created) in self.state.outbox.items()
            if created < older_than
        )
        return [item for _, _, item in pending[:limit]]

    async def outbox_done(self, event_ids: Sequence[str]) -> None:
        async with self.batch():
            for event_id in event_ids:
                self.state.outbox.pop(event_id, None)


def _cost(e: CallEntry) -> Decimal:
    return e.cost if e.state == PRICED and e.cost is not None else Decimal(0)


class FakeUnitOfWork:
    """One unit of work of :class:`FakeCostRepository` (its rollback is the repository's)."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    async def insert_calls(self, entries: Sequence[CallEntry]) -> set[CallKey]:
        state, new = self.state, set()
        for e in sorted(entries, key=lambda e: e.key):
            if e.key not in state.ledger:
                state.ledger[e.key] = replace(e, call=None)  # stored, not the event's object
                state.pks[e.key] = len(state.pks) + 1
                new.add(e.key)
        return new

    async def reprice_calls(self, updates: Sequence[tuple[int, CallEntry]]) -> list[CallEntry]:
        state, done = self.state, []
        keys = {pk: key for key, pk in state.pks.items()}
        for pk, e in sorted(updates, key=lambda u: u[0]):
            key = keys[pk]
            if state.ledger[key].state == PRICE_MISSING:  # the claim, as SQL's UPDATE ... WHERE
                state.ledger[key] = replace(e, call=None)
                done.append(e)
        return done

    async def lock_budgets(self, tenants: Sequence[str]) -> dict[str, list[Budget]]:
        defined = self.state.defined
        return {t: sorted(defined[t], key=lambda b: b.id) for t in tenants if defined.get(t)}

    async def add_spend(self, spend: Sequence[Spend]) -> dict[CounterKey, tuple[Decimal, Decimal]]:
        counters, out = self.state.counters, {}
        with exact():
            for s in spend:
                before = counters.get(s.key, Decimal(0))
                counters[s.key] = before + s.amount
                out[s.key] = (before, counters[s.key])
        return out

    async def claim_alerts(self, alerts: Sequence[AlertKey], at: datetime) -> set[AlertKey]:
        new = {a for a in alerts if a not in self.state.fired}
        self.state.fired.update((a, at) for a in new)
        return new

    async def replace_budget(
        self, tenant: str, budget: Budget, fingerprint: str, at: datetime
    ) -> str | None:
        state = self.state
        kept = [b for b in state.defined.get(tenant, []) if b.id != budget.id]
        state.defined[tenant] = [*kept, budget]
        previous = state.fingerprints.get((tenant, budget.id))
        state.fingerprints[(tenant, budget.id)] = fingerprint
        for key in [k for k in state.counters if k[:2] == (tenant, budget.id)]:
            del state.counters[key]
        return previous

    async def forget_alerts(self, tenant: str, budget_id: str) -> None:
        for alert in [k for k in self.state.fired if k[:2] == (tenant, budget_id)]:
            del self.state.fired[alert]

    async def ledger_spend(
        self, tenant: str, budget: Budget, start: datetime, end: datetime
    ) -> Decimal:
        with exact():
            return sum(
                (
                    e.cost
                    for e in self.state.ledger.values()
                    if e.tenant == tenant
                    and e.state == PRICED
                    and e.cost is not None
                    and start <= e.time < end
                    and rules.applies(budget, e.scope)
                ),
                Decimal(0),
            )

    async def claim_anomaly(
        self, tenant: str, scope: str, value: str, period: datetime, at: datetime
    ) -> bool:
        key = (tenant, scope, value, period)
        if key in self.state.anomalies:
            return False
        self.state.anomalies[key] = at
        return True

    async def add_outbox(self, items: Sequence[Outboxed], at: datetime) -> None:
        for item in items:
            self.state.outbox.setdefault(item.event_id, (item, at))


class FakeMetrics:
    """The metrics port, counting what it was told."""

    def __init__(self) -> None:
        self.recorded_calls = 0
        self.repriced_calls = 0

    def recorded(self, entries: Sequence[CallEntry]) -> None:
        self.recorded_calls += len(entries)

    def repriced(self, entries: Sequence[CallEntry]) -> None:
        self.repriced_calls += len(entries)


class FakeEstimator:
    """The usage estimator port: 40 input and 2 output tokens for any call with content."""

    def estimate(self, call: LlmCallCompleted) -> tuple[Usage, str] | None:
        if call.content is None:
            return None
        return Usage(input_tokens=40, output_tokens=2), "o200k_base"


class Clock(FixedClock):
    """Business time standing still, and a monotonic timer the test moves by hand (``mono``)."""

    def __init__(self, now: datetime) -> None:
        super().__init__(now)
        self.mono = 0.0


@dataclass
class OnFakes:
    """A costs service on fakes, with the fakes it runs on."""

    service: CostsService
    repository: FakeCostRepository
    publisher: FakePublisher
    clock: Clock


def on_fakes(now: datetime) -> OnFakes:
    """The costs service of the unit tests: bundled prices, the real spike rule, budgets cached
    for 5 s and spikes checked every 60 s on a monotonic timer the test moves (``clock.mono``)."""
    repository, publisher, clock = FakeCostRepository(), FakePublisher(), Clock(now)
    service = CostsService(
        repository,
        publisher,
        FakeMetrics(),
        bundled_prices=bundled_prices,
        estimator=FakeEstimator(),
        detect_spike=detect_spike,
        options=CostsOptions(budget_cache_ttl_s=5, anomaly_interval_s=60),
        clock=clock,
        monotonic=lambda: clock.mono,
    )
    return OnFakes(service, repository, publisher, clock)
