"""Costs logic: price every LLM call once, aggregate spend, keep budgets, flag spikes.

No framework here (no FastStream, NATS or SQLAlchemy): the NATS edge is ``handlers.py``, the
adapters are ``store.py`` and ``metrics.py``, and the logic talks to them through ``ports.py``.

How a batch of LLM-call events flows (see ``docs/decisions.md`` for the why):

1. each call becomes a :class:`~llmops_costs.entries.CallEntry`: priced with the current
   :class:`PriceTable` (the tenant's overrides first), estimated with the offline tokenizer when
   usage is absent, or marked ``price_missing`` / ``usage_missing`` -- never a $0 cost;
2. the batch is stored in **one transaction** (``ledger.store_calls``): insert-or-ignore into the
   ledger, and only rows newly inserted move the rollup and the budget counters, so replays and
   several replicas count every call exactly once; the alerts the counters cross go to an outbox
   in the same transaction;
3. after the commit the service publishes the calls' events (ids derived from the call, so a
   repeat is dropped by JetStream's de-duplication and by consumers) and the outbox, and only
   then does the handler acknowledge the batch. A crash between commit and publish redelivers
   the batch: the ledger already holds the calls, and a *redelivered* call's events are
   rebuilt from its ledger row and published again with the same ids. An event the server
   will never take as built (too large for it, refused by its stream) is logged and left out:
   the call is stored, and no retry or dead letter could publish that event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from llmops_contracts import headers
from llmops_contracts.costs import (
    AnomalyScope,
    Budget,
    BudgetCheck,
    BudgetDecision,
    BudgetsRequest,
    BudgetStatus,
    CostReport,
    CostReportQuery,
    EstimateSource,
    PricesLoad,
    PricesLoaded,
)
from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import Wire, wire
from llmops_contracts.llm import LlmCallCompleted
from llmops_contracts.prices import PriceOverrideSpec
from llmops_costs import budgets as rules
from llmops_costs import ledger
from llmops_costs.entries import PRICE_MISSING, PRICED, CallEntry
from llmops_costs.events import anomaly_event, call_events, prices_loaded_event
from llmops_costs.money import exact
from llmops_costs.ports import (
    CostMetrics,
    CostRepository,
    Outboxed,
    SpikeDetector,
    UsageEstimator,
)
from llmops_costs.pricing import (
    MissingPrice,
    PriceOverride,
    PriceTable,
    latest_overrides,
    override_key,
)
from llmops_costs.reports import cost_report, hourly_spend, report_filters, report_window
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.logging import get_logger
from llmops_shared.publish import Publisher

_log = get_logger(__name__)


#: Outbox events published per round of the sweeper.
OUTBOX_PAGE = 500


class InvalidRequest(ValueError):
    """A request the service refuses (answered as an ``invalid`` error, never retried)."""


@dataclass
class CostsOptions:
    """Tunables of the logic (from settings)."""

    budget_cache_ttl_s: float = 2.0
    #: How long a budget change seen on the wire bypasses the cache.
    budget_settle_s: float = 2.0
    anomaly_interval_s: float = 60.0
    anomaly_threshold: float = 6.0
    anomaly_min_spend: Decimal = Decimal("1")
    anomaly_history_hours: int = 24
    reprice_chunk: int = 1000
    outbox_grace_s: float = 10.0
    #: Tenants whose requests may load a whole price table (it prices every tenant's calls).
    table_tenants: frozenset[str] = frozenset({"ops"})


# --- the service ------------------------------------------------------------------------------


class CostsService:
    """Prices calls, keeps the ledger, rollup and budgets, answers reports and budget checks."""

    def __init__(
        self,
        repository: CostRepository,
        sink: Publisher,
        metrics: CostMetrics,
        *,
        bundled_prices: Callable[[], PriceTable],
        estimator: UsageEstimator | None = None,
        detect_spike: SpikeDetector | None = None,
        options: CostsOptions | None = None,
        clock: Clock = SYSTEM_CLOCK,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repository = repository
        self.sink = sink
        self.metrics = metrics
        self.estimator = estimator
        self.detect_spike = detect_spike
        self.options = options or CostsOptions()
        self.clock = clock
        self.monotonic = monotonic
        self._bundled = bundled_prices
        self._prices: PriceTable | None = None
        self.prices_generation = -1
        self._prices_lock = asyncio.Lock()
        self._budget_cache: dict[str, tuple[float, list[Budget]]] = {}
        #: tenant -> until when its budgets are read from the database on every check.
        self._budgets_unsettled: dict[str, float] = {}
        #: (tenant -> hours) with new spend, not yet checked for spikes.
        self._touched: dict[str, set[datetime]] = {}
        self._checked_at: dict[str, float] = {}
        self._reprice_lock = asyncio.Lock()

    # -- prices

    @property
    def prices(self) -> PriceTable:
        """The price table in use (the bundled snapshot until :meth:`refresh_prices`)."""
        if self._prices is None:
            self._prices = self._bundled()
        return self._prices

    async def refresh_prices(self, *, force: bool = False) -> bool:
        """Load the persisted prices when they changed (or ``force``); True when reloaded."""
        async with self._prices_lock:
            generation = await self.repository.prices_generation()
            if generation == self.prices_generation and not force:
                return False
            generation, table_json, overrides_json = await self.repository.load_prices()
            # What is stored was checked when loaded, but a row that no longer loads (written by
            # an older version, or two replicas loading one model under two spellings at once)
            # must not keep every replica from pricing, or from starting: it is skipped, loudly.
            base = self._bundled()
            if table_json is not None:
                try:
                    base = PriceTable.from_json(table_json)
                except (ValueError, TypeError, KeyError):
                    _log.exception("the stored price table does not load; keeping the bundled one")
            overrides = []
            for stored in overrides_json:
                try:
                    overrides.append(PriceOverride.from_json(stored))
                except (ValueError, TypeError, KeyError):
                    _log.exception(
                        "a stored price override does not load; skipped", override=stored
                    )
            kept, replaced = latest_overrides([*base.overrides, *overrides])
            for o in replaced:
                _log.warning(
                    "a price override was replaced by one loaded later for the same model and "
                    "start",
                    tenant=o.tenant,
                    provider=o.provider,
                    model=o.model,
                    effective_from=o.effective_from.isoformat(),
                )
            self._prices = base.with_overrides(kept)
            self.prices_generation = generation
            return True

    async def load_prices(
        self, tenant: str, request: PricesLoad, *, cause: Envelope[Any] | None = None
    ) -> PricesLoaded:
        """Validate, persist and apply prices; re-price every waiting call they now price, and
        tell every replica (``prices_loaded``, caused by ``cause``, the request)."""
        if request.table is None and not request.overrides:
            raise InvalidRequest("nothing to load: give a table and/or overrides")
        if request.table is not None and tenant not in self.options.table_tenants:
            # A whole table prices every tenant's calls: a tenant allowed its own prices
            # subject (for overrides) must not be able to change what others pay.
            operators = ", ".join(sorted(self.options.table_tenants)) or "none configured"
            raise InvalidRequest(
                f"tenant {tenant!r} may not load a whole price table (it prices every tenant's "
                f"calls): load it as an operator tenant ({operators}: "
                "LLMOPS_COSTS_PRICE_TABLE_TENANTS), or this tenant's own prices as overrides"
            )
        try:
            if request.table is not None and request.table.overrides:
                # Overrides are a tenant's own: a table (for every tenant) cannot carry them.
                raise ValueError("a table carries no overrides: load them as overrides")
            table = None if request.table is None else PriceTable.from_document(request.table)
            specs = [_own(tenant, o) for o in request.overrides]
            overrides = [PriceOverride.from_spec(o) for o in specs]
            # Check the new set as a whole (e.g. two overrides of one model starting together).
            keys = {override_key(o) for o in overrides}
            if len(keys) != len(overrides):
                raise ValueError("two overrides of the same model start at the same instant")
            # One of the same model and start (under any spelling of its name) is replaced.
            kept = [o for o in self.prices.overrides if override_key(o) not in keys]
            (table or self.prices).with_overrides([*kept, *overrides])
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidRequest(f"prices: {exc}") from exc
        await self.repository.save_prices(tenant, request.table, specs, self.clock.now())
        await self.refresh_prices(force=True)
        repriced = await self.reprice(None if table is not None else [tenant])
        loaded = PricesLoaded(
            price_table_version=self.prices.version,
            models=len(self.prices),
            overrides=len(overrides),
            repriced=repriced,
        )
        await self.sink.publish(prices_loaded_event(loaded, tenant, cause, self.clock.now()))
        return loaded

    async def prices_changed(self) -> int:
        """Prices were loaded (maybe by another replica): reload and re-price what now can be."""
        if await self.refresh_prices():
            return await self.reprice(None)
        return 0

    # -- the hot path

    def entry_for(self, event: Envelope[LlmCallCompleted], table: PriceTable) -> CallEntry:
        """A call's ledger entry, priced (or estimated and priced, or marked missing)."""
        if event.data.usage is not None:
            return CallEntry.from_event(event, table, self.clock.now())
        entry = CallEntry.from_event(event)
        if self.estimator is not None:
            estimate = self.estimator.estimate(event.data)
            if estimate is not None:
                usage, tokenizer = estimate
                entry = entry._replace(usage=usage, estimated=True, tokenizer=tokenizer)
        return entry.priced(table, self.clock.now())

    async def record_batch(
        self, events: Sequence[Envelope[LlmCallCompleted]], redelivered: Sequence[bool] = ()
    ) -> int:
        """Price and store a batch in one transaction, then publish its events; returns how many
        calls were new. Raises on any failure: nothing is acknowledged, the batch comes back;
        except an event the server will never take, which is logged and left out (see
        :meth:`_publish_stored`).

        ``redelivered[i]`` says whether ``events[i]`` was delivered before. It is read only for
        calls the ledger already held (the handler's flags parse message metadata on demand).
        """
        table = self.prices
        unique: dict[tuple[str, str], Envelope[LlmCallCompleted]] = {}
        for event in events:
            unique.setdefault((event.tenant, event.id), event)
        entries = [self.entry_for(e, table) for e in unique.values()]
        new, outbox = await ledger.store_calls(self.repository, entries, self.clock.now())
        fresh = [e for e in entries if e.key in new]
        messages = [wire(m) for e in fresh for m in call_events(e)]
        # A redelivered call already in the ledger may have been stored by an attempt that died
        # before publishing: publish its events again (same ids; duplicates are dropped).
        old: list[tuple[str, str]] = []
        if len(new) < len(unique):
            again = (
                key
                for i, event in enumerate(events)
                if (key := (event.tenant, event.id)) not in new
                and i < len(redelivered)
                and redelivered[i]
            )
            old = list(dict.fromkeys(again))
        if old:
            messages += [wire(m) for e in await self.repository.stored(old) for m in call_events(e)]
        messages += [(o.subject, o.body, o.headers) for o in outbox]
        await self._publish_stored(messages)
        if outbox:
            await self.repository.outbox_done([o.event_id for o in outbox])
        self.metrics.recorded(fresh)
        for e in fresh:
            if e.state == PRICED:
                self._touched.setdefault(e.tenant, set()).add(e.hour)
        if table is not self.prices and any(e.state == PRICE_MISSING for e in fresh):
            # Prices changed while this batch was priced with the old table: its waiting calls
            # may have missed the re-pricing pass that followed the load.
            await self.reprice(sorted({e.tenant for e in fresh if e.state == PRICE_MISSING}))
        return len(fresh)

    # -- re-pricing

    async def reprice(self, tenants: Sequence[str] | None) -> int:
        """Price every waiting call the current prices can price; returns how many were priced.

        Safe with several replicas: each chunk claims its rows in the database
        (``state = price_missing`` checked in the update), so a call is priced once.
        """
        async with self._reprice_lock:
            table, total, after = self.prices, 0, 0
            chunk = self.options.reprice_chunk
            while True:
                waiting = await self.repository.waiting(tenants, after, chunk)
                if not waiting:
                    break
                after = waiting[-1][0]
                now = self.clock.now()
                updates = []
                for pk, entry in waiting:
                    priced = entry.priced(table, now)
                    if priced.state == PRICED:
                        updates.append((pk, priced._replace(repriced=True)))
                if updates:
                    done, outbox = await ledger.store_repriced(self.repository, updates, now)
                    await self._publish_outbox(outbox)
                    self.metrics.repriced(done)
                    total += len(done)
                    for e in done:
                        self._touched.setdefault(e.tenant, set()).add(e.hour)
                if len(waiting) < chunk:
                    break
            return total

    async def _publish_outbox(self, outbox: Sequence[Outboxed]) -> None:
        if outbox:
            await self._publish_stored([(o.subject, o.body, o.headers) for o in outbox])
            await self.repository.outbox_done([o.event_id for o in outbox])

    async def _publish_stored(self, messages: list[Wire]) -> None:
        """Publish the events of what is committed; one the server will never take as built
        (too large, refused by its stream) is logged and left out, not retried.

        The call (or alert) is stored and counted: a retry would build the same event again and
        fail the same way, and a dead letter would report a stored call as failed (replaying it
        would change nothing either). The sink counts what it left out.
        """
        for index, reason in await self.sink.publish_storable(messages):
            subject, _, sent = messages[index]
            _log.error(
                "an event of a stored call cannot be published; it is left out",
                subject=subject,
                event_id=sent.get(headers.MSG_ID),
                correlation_id=sent.get(headers.CORRELATION_ID),
                reason=reason,
            )

    async def flush_outbox(self) -> int:
        """Publish outbox events older than the grace period (a replica died before publishing
        them); a live replica publishes its own right after its commit."""
        cutoff = self.clock.now() - timedelta(seconds=self.options.outbox_grace_s)
        total = 0
        while True:
            pending = await self.repository.outbox_pending(cutoff, OUTBOX_PAGE)
            await self._publish_outbox(pending)
            total += len(pending)
            if len(pending) < OUTBOX_PAGE:
                return total

    # -- reports

    async def report(self, tenant: str, query: CostReportQuery) -> CostReport:
        """Spend and tokens over whole UTC hours: ``[hour of since, end of the hour of until)``."""
        since, until = report_window(query, self.clock.now())
        if until <= since:
            raise InvalidRequest("until must follow since")
        lines = await self.repository.report(
            tenant, since, until, list(query.by), query.granularity, report_filters(query)
        )
        return cost_report(query, since, until, lines)

    # -- budgets

    def budgets_changing(self, tenant: str) -> None:
        """Another replica is changing the tenant's budgets: read them from the database on every
        check for a while (until that replica has surely committed), then cache them again."""
        self._budgets_unsettled[tenant] = self.monotonic() + self.options.budget_settle_s
        self._budget_cache.pop(tenant, None)

    async def tenant_budgets(self, tenant: str, *, fresh: bool = False) -> list[Budget]:
        """A tenant's budgets, cached for ``budget_cache_ttl_s`` (the check's hot path)."""
        now = self.monotonic()
        cached = self._budget_cache.get(tenant)
        if cached is not None and not fresh and now - cached[0] < self.options.budget_cache_ttl_s:
            return cached[1]
        unsettled = self._budgets_unsettled.get(tenant)
        if unsettled is not None:
            if now < unsettled:
                return await self.repository.budgets(tenant)  # not cached while unsettled
            del self._budgets_unsettled[tenant]
        found = await self.repository.budgets(tenant)
        self._budget_cache[tenant] = (now, found)
        return found

    async def statuses(
        self, tenant: str, budgets: Sequence[Budget], at: datetime
    ) -> list[BudgetStatus]:
        """Each budget with its spend in the window holding ``at`` (one counter query)."""
        windows = [(b, rules.window(b, at)) for b in budgets]
        live = [(b, w) for b, w in windows if w is not None]
        spent = await self.repository.spent(tenant, [(b.id, w[0]) for b, w in live]) if live else {}
        out = []
        with exact():
            for b, (start, end) in live:
                s = spent.get((b.id, start), Decimal(0))
                out.append(
                    BudgetStatus(
                        budget=b, window_start=start, window_end=end, spent=s, remaining=b.limit - s
                    )
                )
        return out

    async def manage_budgets(self, tenant: str, request: BudgetsRequest) -> list[BudgetStatus]:
        """Set, delete or list budgets; the answer lists every budget with its current spend."""
        now = self.clock.now()
        if request.action == "set":
            if request.budget is None:
                raise InvalidRequest("budget: required to set a budget")
            outbox = await ledger.store_budget(self.repository, tenant, request.budget, now)
            await self._publish_outbox(outbox)
        elif request.action == "delete":
            if not request.budget_id:
                raise InvalidRequest("budget_id: required to delete a budget")
            if not await self.repository.delete_budget(tenant, request.budget_id):
                raise InvalidRequest(f"budget_id: no budget {request.budget_id!r}")
        budgets = await self.tenant_budgets(tenant, fresh=True)
        return await self.statuses(tenant, budgets, now)

    async def check_budget(self, tenant: str, request: BudgetCheck) -> BudgetDecision:
        """Allow or deny a planned call against the hard budgets that apply to it."""
        now = self.clock.now()
        estimated = request.estimated_cost
        source: EstimateSource = "estimated_cost"
        if estimated is None:
            estimated, source = Decimal(0), "nothing"
            if request.usage is not None and request.model is not None:
                priced = self.prices.price_call(
                    request.usage,
                    request.model,
                    request.provider or "",
                    request.service_tier,
                    now,
                    tenant=tenant,
                )
                if isinstance(priced, MissingPrice):
                    source = "price_missing"
                else:
                    estimated, source = priced.cost, "usage"
        scope = rules.CallScope(
            app=request.app, user=request.user, models=(request.model,) if request.model else ()
        )
        budgets = [b for b in await self.tenant_budgets(tenant) if rules.applies(b, scope)]
        statuses = await self.statuses(tenant, budgets, now)
        verdict = rules.decide([(s.budget, s.spent) for s in statuses], estimated)
        return BudgetDecision(
            allow=verdict.allow,
            estimated_cost=estimated,
            estimated_from=source,
            reason=verdict.reason,
            budgets=statuses,
        )

    # -- anomalies

    async def check_anomalies(self) -> int:
        """Check the hours that got new spend for spikes (per tenant and app); returns how many
        anomalies were published. A tenant is checked at most once per ``anomaly_interval_s``."""
        if self.detect_spike is None:
            return 0
        published = 0
        now = self.monotonic()
        for tenant in list(self._touched):
            last = self._checked_at.get(tenant)
            if last is not None and now - last < self.options.anomaly_interval_s:
                continue
            hours = self._touched.pop(tenant)
            self._checked_at[tenant] = now
            try:
                published += await self._check_tenant(tenant, hours)
            except BaseException:
                self._touched.setdefault(tenant, set()).update(hours)  # try again next round
                raise
        return published

    async def _check_tenant(self, tenant: str, hours: Iterable[datetime]) -> int:
        assert self.detect_spike is not None
        span = self.options.anomaly_history_hours
        wanted = sorted(hours)[-span:]  # a replay of old data checks its most recent hours only
        start = wanted[0] - timedelta(hours=span)
        lines = await self.repository.report(
            tenant, start, wanted[-1] + timedelta(hours=1), ["app"], "hour", {}
        )
        per_tenant, per_app = hourly_spend(lines)
        published = 0
        for hour in wanted:
            series: list[tuple[AnomalyScope, str, dict[datetime, Decimal]]] = [
                (AnomalyScope.TENANT, tenant, per_tenant)
            ]
            series += [(AnomalyScope.APP, app, s) for app, s in per_app.items() if hour in s]
            for scope, value, spend in series:
                history = [
                    spend.get(hour - timedelta(hours=k), Decimal(0)) for k in range(span, 0, -1)
                ]
                current = spend.get(hour, Decimal(0))
                spike = self.detect_spike(
                    history,
                    current,
                    threshold=self.options.anomaly_threshold,
                    min_spend=self.options.anomaly_min_spend,
                )
                if spike is None:
                    continue
                now = self.clock.now()
                event = anomaly_event(tenant, scope, value, hour, spike, now)
                outbox = await ledger.store_anomaly(
                    self.repository, tenant, str(scope), value, hour, event, now
                )
                await self._publish_outbox(outbox)
                published += len(outbox)
        return published


def _own(tenant: str, override: PriceOverrideSpec) -> PriceOverrideSpec:
    """A tenant's override as loaded: the tenant comes from the request's envelope."""
    if override.tenant is not None and override.tenant != tenant:
        raise ValueError(f"override of tenant {override.tenant!r} sent by tenant {tenant!r}")
    return override.model_copy(update={"tenant": tenant})
