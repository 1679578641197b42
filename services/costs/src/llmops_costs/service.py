"""Costs logic: price every LLM call once, aggregate spend, keep budgets, flag spikes.

No framework here (no FastStream, NATS or SQLAlchemy): the NATS edge is ``handlers.py``, the
adapters are ``store.py``, and this module talks to them through the ports below.

How a batch of LLM-call events flows (see ``docs/decisions.md`` for the why):

1. each call becomes a :class:`CallEntry`: priced with the current :class:`PriceTable` (the
   tenant's overrides first), estimated with the offline tokenizer when usage is absent, or
   marked ``price_missing`` / ``usage_missing`` -- never a $0 cost;
2. the repository stores the batch in **one transaction**: insert-or-ignore into the ledger
   (``(tenant, event id)`` is the key), and only rows it newly inserted move the hourly rollup
   and the budget counters (atomic ``x = x + delta`` upserts), so replays and several replicas
   count every call exactly once; budget alerts crossed by the update go to an outbox in the
   same transaction;
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
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

from llmops_contracts import headers
from llmops_contracts.common import Actor, PromptRef
from llmops_contracts.costs import (
    AnomalyScope,
    Budget,
    BudgetCheck,
    BudgetDecision,
    BudgetExceeded,
    BudgetStatus,
    BudgetThresholdCrossed,
    CostAnomaly,
    CostRecorded,
    CostReport,
    CostReportQuery,
    CostReportRow,
    EstimateSource,
    PriceMissing,
    PricesLoad,
    PricesLoaded,
    UsageMissing,
)
from llmops_contracts.envelope import Envelope, Payload, stable_id, wrap
from llmops_contracts.headers import wire
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_costs import budgets as rules
from llmops_costs.budgets import exact
from llmops_costs.pricing import (
    MissingPrice,
    PricedCall,
    PriceOverride,
    PriceTable,
    latest_overrides,
    override_key,
)
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.logging import get_logger
from llmops_shared.publish import Publisher

SOURCE = "llmops/costs"

_log = get_logger(__name__)

State = Literal["priced", "price_missing", "usage_missing"]
PRICED: State = "priced"
PRICE_MISSING: State = "price_missing"
USAGE_MISSING: State = "usage_missing"

#: The buckets of :class:`llmops_costs.pricing.CostBreakdown`, as named in CostRecorded.breakdown.
BREAKDOWN = (
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "output",
    "reasoning",
    "per_request",
)
TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_1h_input_tokens",
    "reasoning_tokens",
)
#: Report dimensions and the CallEntry attribute each reads.
DIMENSIONS = {
    "app": "app",
    "user": "user",
    "model": "model",
    "provider": "provider",
    "prompt": "prompt_name",
    "prompt_version": "prompt_version",
}


#: Call times the service accounts for: hours and budget windows are computed around a call's
#: time, and dates near the ends of the calendar (year 1, year 9999) overflow that arithmetic.
EARLIEST_CALL = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_CALL = datetime(9000, 1, 1, tzinfo=UTC)


def unaccountable(event: Envelope[LlmCallCompleted]) -> str | None:
    """Why a call event that passed its contract cannot be accounted for, or None."""
    if not EARLIEST_CALL <= event.time < LATEST_CALL:
        return (
            f"time {event.time.isoformat()} is outside the accounted range "
            f"[{EARLIEST_CALL.date()}, {LATEST_CALL.date()})"
        )
    return None


def hour_of(at: datetime) -> datetime:
    """The UTC hour holding ``at``."""
    utc = at.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, utc.hour, tzinfo=UTC)  # cheaper than replace()


class InvalidRequest(ValueError):
    """A request the service refuses (answered as an ``invalid`` error, never retried)."""


# --- the ledger entry -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallEntry:
    """One LLM call as the ledger keeps it: attribution, usage, and its price or why none."""

    tenant: str
    event_id: str
    #: The call event's ``time`` (it selects the budget window, the hour, and event ids).
    time: datetime
    provider: str
    #: The model that answered when known (what a provider bills), else the one asked for.
    model: str
    request_model: str
    operation: str
    status: str
    app: str | None
    user: str | None
    session: str | None
    prompt_name: str | None
    prompt_version: str | None
    prompt_label: str | None
    service_tier: str | None
    correlation_id: str | None
    #: Reported usage, or the estimate (``estimated``), or None (usage missing, nothing to count).
    usage: Usage | None
    state: State
    cost: Decimal | None = None
    breakdown: Mapping[str, Decimal] = field(default_factory=dict)
    provided_cost: Decimal | None = None
    #: The table or override version consulted (also for a missing price).
    price_table_version: str | None = None
    price_key: str | None = None
    tier: str | None = None
    estimated: bool = False
    tokenizer: str | None = None
    missing_reason: str | None = None
    missing_detail: str | None = None
    #: When the service priced (or failed to price) it: the time of the events it publishes.
    priced_at: datetime | None = None
    repriced: bool = False
    #: The validated call, when the entry was built from its event: its actor and prompt are
    #: reused by the events published about the call (an entry read from the ledger has none).
    call: LlmCallCompleted | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        """The ledger key: event ids are chosen by publishers, so they are scoped per tenant."""
        return (self.tenant, self.event_id)

    @property
    def scope(self) -> rules.CallScope:
        """What decides which budgets the call counts against."""
        models = (
            (self.request_model,)
            if self.model == self.request_model
            else (
                self.request_model,
                self.model,
            )
        )
        return rules.CallScope(app=self.app, user=self.user, models=models)

    @property
    def hour(self) -> datetime:
        """The rollup hour of the call."""
        return hour_of(self.time)

    def dims(self) -> tuple[str, str, str, str, str, str]:
        """The rollup dimensions (app, user, model, provider, prompt, prompt_version)."""
        return (
            self.app or "",
            self.user or "",
            self.model,
            self.provider,
            self.prompt_name or "",
            self.prompt_version or "",
        )

    @classmethod
    def from_event(
        cls,
        event: Envelope[LlmCallCompleted],
        table: PriceTable | None = None,
        at: datetime | None = None,
    ) -> CallEntry:
        """The entry of a call event: unpriced (state filled in by pricing), or priced with
        ``table`` at ``at`` when both are given (then built once, the hot path)."""
        call = event.data
        actor, prompt = call.actor, call.prompt
        usage = call.usage
        model = call.response_model or call.request_model
        values: dict[str, Any] = {
            "tenant": event.tenant,
            "event_id": event.id,
            "time": event.time,
            "provider": call.provider,
            "model": model,
            "request_model": call.request_model,
            "operation": str(call.operation),
            "status": str(call.status),
            "app": actor.app,
            "user": actor.user,
            "session": actor.session,
            "prompt_name": prompt.name if prompt else None,
            "prompt_version": prompt.version if prompt else None,
            "prompt_label": prompt.label if prompt else None,
            "service_tier": call.service_tier,
            "correlation_id": event.correlation_id,
            "usage": usage,
            "state": USAGE_MISSING if usage is None else PRICE_MISSING,
            "provided_cost": call.provided_cost,
            "call": call,
        }
        if table is not None and at is not None:
            if usage is None:
                values["priced_at"] = at
            else:
                values.update(
                    _pricing(
                        table,
                        usage,
                        model,
                        call.provider,
                        call.service_tier,
                        event.time,
                        event.tenant,
                        at,
                    )
                )
        return cls(**values)

    def priced(self, table: PriceTable, at: datetime) -> CallEntry:
        """This entry priced with ``table``: state ``priced`` or ``price_missing``."""
        if self.usage is None:
            return self._replace(priced_at=at)
        return self._replace(
            **_pricing(
                table,
                self.usage,
                self.model,
                self.provider,
                self.service_tier,
                self.time,
                self.tenant,
                at,
            )
        )

    def _replace(self, **changes: Any) -> CallEntry:
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return CallEntry(**values)

    def actor(self) -> Actor:
        """The call's actor (built from values the call event's validation already checked)."""
        if self.call is not None:
            return self.call.actor
        return Actor.model_construct(app=self.app, user=self.user, session=self.session)

    def prompt(self) -> PromptRef | None:
        """The call's prompt reference (validated values, see :meth:`actor`)."""
        if self.call is not None:
            return self.call.prompt
        if self.prompt_name is None:
            return None
        return PromptRef.model_construct(
            name=self.prompt_name, version=self.prompt_version, label=self.prompt_label
        )


def _pricing(
    table: PriceTable,
    usage: Usage,
    model: str,
    provider: str,
    service_tier: str | None,
    time: datetime,
    tenant: str,
    at: datetime,
) -> dict[str, Any]:
    """The entry fields that pricing a call's usage sets: state ``priced`` or ``price_missing``."""
    result = table.price_call(usage, model, provider, service_tier, time, tenant=tenant)
    if isinstance(result, MissingPrice):
        return {
            "state": PRICE_MISSING,
            "cost": None,
            "breakdown": {},
            "price_table_version": result.price_table_version,
            "price_key": result.price_key,
            "tier": None,
            "missing_reason": result.reason,
            "missing_detail": result.detail,
            "priced_at": at,
        }
    return {
        "state": PRICED,
        "cost": result.cost,
        "breakdown": breakdown_of(result),
        "price_table_version": result.price_table_version,
        "price_key": result.price_key,
        "tier": result.tier,
        "missing_reason": None,
        "missing_detail": None,
        "priced_at": at,
    }


def breakdown_of(priced: PricedCall) -> dict[str, Decimal]:
    """CostRecorded.breakdown of a priced call (every bucket, zeros included: they sum to cost)."""
    b = priced.breakdown
    return {name: getattr(b, name) for name in BREAKDOWN}


# --- events -----------------------------------------------------------------------------------


def event_id_for(entry: CallEntry, type_id: str) -> str:
    """The id of an event about a call: ``derived_id(call event, type id)``, from the ledger too."""
    return stable_id(entry.time, entry.tenant, entry.event_id, type_id)


#: The envelope class of each event about a call (``Envelope[T]`` looks its class up per use).
_ENVELOPES: dict[type[Payload], Any] = {
    t: Envelope[t]  # type: ignore[valid-type]
    for t in (UsageMissing, CostRecorded, PriceMissing)
}


def _about_call(entry: CallEntry, payload: Payload) -> Envelope[Any]:
    # The hot path: one or two events per call. Every value comes from the validated call event
    # or from the service itself, so the envelope and payload are built without validating them
    # again (``model_construct``); the wire bytes are the same as ``wrap``'s (tested).
    type_id = payload.SPEC.type
    envelope: Envelope[Any] = _ENVELOPES[type(payload)].model_construct(
        specversion="1.0",
        id=event_id_for(entry, type_id),
        type=type_id,
        source=SOURCE,
        time=entry.priced_at or entry.time,
        tenant=entry.tenant,
        datacontenttype="application/json",
        traceparent=None,
        correlation_id=entry.correlation_id or entry.event_id,
        causation_id=entry.event_id,
        data=payload,
    )
    return envelope


def call_events(entry: CallEntry) -> list[Envelope[Any]]:
    """The events published for a newly stored (or re-priced) call."""
    out: list[Envelope[Any]] = []
    actor = entry.actor()
    # Re-pricing an estimated call does not repeat its usage_missing: that was published when
    # the call was first stored (outside JetStream's de-duplication window by now, likely).
    if (entry.usage is None or entry.estimated) and not entry.repriced:
        out.append(
            _about_call(
                entry,
                UsageMissing.model_construct(
                    call_id=entry.event_id,
                    provider=entry.provider,
                    model=entry.model,
                    estimated=entry.estimated,
                    tokenizer=entry.tokenizer,
                    actor=actor,
                ),
            )
        )
    if entry.state == PRICED:
        assert entry.usage is not None
        assert entry.cost is not None
        out.append(
            _about_call(
                entry,
                CostRecorded.model_construct(
                    call_id=entry.event_id,
                    provider=entry.provider,
                    model=entry.model,
                    usage=entry.usage,
                    computed_cost=entry.cost,
                    provided_cost=entry.provided_cost,
                    price_table_version=entry.price_table_version or "",
                    tier=entry.tier or "standard",
                    estimated=entry.estimated,
                    prompt=entry.prompt(),
                    actor=actor,
                    price_key=entry.price_key,
                    breakdown=dict(entry.breakdown),
                    repriced=entry.repriced,
                ),
            )
        )
    elif entry.state == PRICE_MISSING and not entry.repriced:
        assert entry.usage is not None
        out.append(
            _about_call(
                entry,
                PriceMissing.model_construct(
                    call_id=entry.event_id,
                    provider=entry.provider,
                    model=entry.model,
                    reason=entry.missing_reason or "unknown_model",
                    detail=entry.missing_detail or "no price",
                    price_table_version=entry.price_table_version or "",
                    usage=entry.usage,
                    estimated=entry.estimated,
                    actor=actor,
                ),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class AlertFired:
    """A budget alert whose insert-or-ignore row was newly inserted (so it is published once)."""

    tenant: str
    budget: Budget
    window_start: datetime
    window_end: datetime
    spent: Decimal
    key: str


def alert_event(alert: AlertFired, now: datetime) -> Envelope[Any]:
    """The BudgetThresholdCrossed or BudgetExceeded event of an alert."""
    budget = alert.budget
    common: dict[str, Any] = {
        "budget_id": budget.id,
        "scope": budget.scope,
        "scope_value": budget.scope_value or alert.tenant,
        "window_start": alert.window_start,
        "window_end": alert.window_end,
        "limit": budget.limit,
        "spent": alert.spent,
    }
    pct = rules.threshold_of(alert.key)
    payload: Payload = (
        BudgetExceeded(**common)
        if pct is None
        else BudgetThresholdCrossed(**common, threshold_pct=pct)
    )
    # One id per (budget definition, window, alert): a crash-and-retry republishes the same id.
    ident = stable_id(
        alert.window_start, alert.tenant, budget.id, rules.fingerprint(budget), alert.key
    )
    return wrap(payload, tenant=alert.tenant, source=SOURCE, id=ident, time=now)


# --- ports ------------------------------------------------------------------------------------

AlertEvents = Callable[[Sequence[AlertFired]], Sequence[Envelope[Any]]]


@dataclass(frozen=True)
class Outboxed:
    """An event stored in the outbox in the transaction that produced it."""

    event_id: str
    subject: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class ReportLine:
    """One aggregated group of the hourly rollup (dimension values are None when empty)."""

    period_start: datetime | None
    group: dict[str, str | None]
    calls: int
    priced_calls: int
    estimated_calls: int
    price_missing_calls: int
    usage_missing_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    reasoning_tokens: int
    cost: Decimal
    provided_cost: Decimal


class CostRepository(Protocol):
    """Port: the cost ledger, rollup, budgets, prices, anomalies and outbox (one database)."""

    async def record(
        self, entries: Sequence[CallEntry], alert_events: AlertEvents
    ) -> tuple[set[tuple[str, str]], list[Outboxed]]:
        """Store a batch in one transaction: ledger rows once, and for new rows only the rollup,
        budget counters and crossed alerts (to the outbox). Returns the new keys and outbox."""
        ...

    async def stored(self, keys: Sequence[tuple[str, str]]) -> list[CallEntry]:
        """The ledger entries of these (tenant, event id) keys."""
        ...

    async def waiting(
        self, tenants: Sequence[str] | None, after: int, limit: int
    ) -> list[tuple[int, CallEntry]]:
        """Calls waiting for a price (state price_missing), by ledger position after ``after``."""
        ...

    async def reprice(
        self,
        updates: Sequence[tuple[int, CallEntry]],
        alert_events: AlertEvents,
        call_events: Callable[[CallEntry], Sequence[Envelope[Any]]],
    ) -> tuple[list[CallEntry], list[Outboxed]]:
        """Claim and price waiting calls in one transaction (a call claimed by another replica
        is skipped); rollup, counters, alerts and the calls' events (outbox) move with it."""
        ...

    async def report(
        self,
        tenant: str,
        since: datetime,
        until: datetime,
        by: Sequence[str],
        granularity: str,
        filters: Mapping[str, str],
    ) -> list[ReportLine]:
        """The rollup of a tenant's hours in ``[since, until)``, grouped, oldest period first."""
        ...

    async def budgets(self, tenant: str) -> list[Budget]:
        """A tenant's budgets, by id."""
        ...

    async def set_budget(
        self, tenant: str, budget: Budget, now: datetime, alert_events: AlertEvents
    ) -> list[Outboxed]:
        """Create or replace a budget; its current window's counter is recomputed from the
        ledger (exactly, against concurrent batches) and thresholds already reached fire."""
        ...

    async def delete_budget(self, tenant: str, budget_id: str) -> bool:
        """Delete a budget with its counters and alerts; False when there was none."""
        ...

    async def spent(
        self, tenant: str, keys: Sequence[tuple[str, datetime]]
    ) -> dict[tuple[str, datetime], Decimal]:
        """Counters of (budget id, window start); absent keys have spent nothing."""
        ...

    async def save_prices(
        self, tenant: str, table: Mapping[str, Any] | None, overrides: Sequence[PriceOverride]
    ) -> None:
        """Persist a loaded default table and/or a tenant's overrides (upserted by key)."""
        ...

    async def load_prices(self) -> tuple[int, dict[str, Any] | None, list[dict[str, Any]]]:
        """(generation, latest loaded table document or None, every override document)."""
        ...

    async def prices_generation(self) -> int:
        """A number that grows with every load (0: nothing loaded, the bundled table)."""
        ...

    async def claim_anomaly(
        self, tenant: str, scope: str, value: str, period: datetime, event: Envelope[Any]
    ) -> list[Outboxed]:
        """Insert-or-ignore the anomaly; when new, its event is in the outbox (returned)."""
        ...

    async def outbox_pending(self, older_than: datetime, limit: int) -> list[Outboxed]:
        """Outbox events created before ``older_than`` (left behind by a crash)."""
        ...

    async def outbox_done(self, event_ids: Sequence[str]) -> None:
        """Forget published outbox events."""
        ...


class UsageEstimator(Protocol):
    """Port: offline token estimates for calls without usage (``llmops_costs.tokens``)."""

    def estimate(self, call: LlmCallCompleted) -> tuple[Usage, str] | None:
        """(estimated usage, encoding name), or None when the call carries no content."""
        ...


class SpikeDetector(Protocol):
    """Port: the spend spike rule (``llmops_costs.anomalies.detect_spike``)."""

    def __call__(
        self,
        history: Sequence[Decimal],
        current: Decimal,
        *,
        threshold: float = ...,
        min_history: int = ...,
        min_spend: Decimal = ...,
    ) -> Any:
        """A Spike (spend, baseline, spread, score, threshold, method, history) or None."""
        ...


class CostMetrics(Protocol):
    """Port: live counters of what the service accounted."""

    def recorded(self, entries: Sequence[CallEntry]) -> None:
        """Count newly stored calls (tokens, cost, missing prices and usage)."""
        ...

    def repriced(self, entries: Sequence[CallEntry]) -> None:
        """Count calls priced after their price arrived."""
        ...


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
        self._reprice_again = False

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
            generation, doc, override_docs = await self.repository.load_prices()
            # What is stored was checked when loaded, but a row that no longer loads (written by
            # an older version, or two replicas loading one model under two spellings at once)
            # must not keep every replica from pricing, or from starting: it is skipped, loudly.
            base = self._bundled()
            if doc is not None:
                try:
                    base = PriceTable.from_dict(doc)
                except (ValueError, TypeError, KeyError):
                    _log.exception("the stored price table does not load; keeping the bundled one")
            overrides = []
            for o in override_docs:
                try:
                    overrides.append(PriceOverride.from_dict(o))
                except (ValueError, TypeError, KeyError):
                    _log.exception("a stored price override does not load; skipped", override=o)
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

    async def load_prices(self, tenant: str, request: PricesLoad) -> PricesLoaded:
        """Validate, persist and apply prices; re-price every waiting call they now price."""
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
            if request.table is not None and request.table.get("overrides"):
                # Overrides are a tenant's own: a table (for every tenant) cannot carry them.
                raise ValueError("a table carries no overrides: load them as overrides")
            table = PriceTable.from_dict(request.table) if request.table is not None else None
            overrides = [_override(tenant, o) for o in request.overrides]
            # Check the new set as a whole (e.g. two overrides of one model starting together).
            keys = {override_key(o) for o in overrides}
            if len(keys) != len(overrides):
                raise ValueError("two overrides of the same model start at the same instant")
            # One of the same model and start (under any spelling of its name) is replaced.
            kept = [o for o in self.prices.overrides if override_key(o) not in keys]
            (table or self.prices).with_overrides([*kept, *overrides])
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidRequest(f"prices: {exc}") from exc
        await self.repository.save_prices(tenant, request.table, overrides)
        await self.refresh_prices(force=True)
        repriced = await self.reprice(None if table is not None else [tenant])
        return PricesLoaded(
            price_table_version=self.prices.version,
            models=len(self.prices),
            overrides=len(overrides),
            repriced=repriced,
        )

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
        new, outbox = await self.repository.record(entries, self._alert_events)
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

    def _alert_events(self, alerts: Sequence[AlertFired]) -> list[Envelope[Any]]:
        now = self.clock.now()
        return [alert_event(a, now) for a in alerts]

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
                    done, outbox = await self.repository.reprice(
                        updates, self._alert_events, call_events
                    )
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

    async def _publish_stored(self, messages: list[tuple[str, bytes, dict[str, str]]]) -> None:
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
            pending = await self.repository.outbox_pending(cutoff, 500)
            await self._publish_outbox(pending)
            total += len(pending)
            if len(pending) < 500:
                return total

    # -- reports

    async def report(self, tenant: str, query: CostReportQuery) -> CostReport:
        """Spend and tokens over whole UTC hours: ``[hour of since, end of the hour of until)``."""
        since = hour_of(query.since)
        until_at = query.until or self.clock.now()
        until = hour_of(until_at)
        if until < until_at:
            until += timedelta(hours=1)
        if until <= since:
            raise InvalidRequest("until must follow since")
        filters = {
            name: value
            for name, value in (
                ("app", query.app),
                ("user", query.user),
                ("model", query.model),
                ("provider", query.provider),
            )
            if value is not None
        }
        lines = await self.repository.report(
            tenant, since, until, list(query.by), query.granularity, filters
        )
        rows = [CostReportRow(**vars(line)) for line in lines]
        # A reply is one NATS message (1 MiB by default): rows beyond a byte budget are left
        # out, newest last, and counted, so a wide report says so instead of failing to send.
        size, kept = 0, len(rows)
        for i, row in enumerate(rows):
            size += len(row.model_dump_json())
            if size > REPORT_BYTES:
                kept = i
                break
        return CostReport(
            since=since,
            until=until,
            by=list(query.by),
            granularity=query.granularity,
            rows=rows[:kept],
            total=total_row(lines),
            rows_left_out=len(rows) - kept,
        )

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

    async def manage_budgets(self, tenant: str, request: Any) -> list[BudgetStatus]:
        """Set, delete or list budgets; the answer lists every budget with its current spend."""
        now = self.clock.now()
        if request.action == "set":
            if request.budget is None:
                raise InvalidRequest("budget: required to set a budget")
            outbox = await self.repository.set_budget(
                tenant, request.budget, now, self._alert_events
            )
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
        per_tenant: dict[datetime, Decimal] = {}
        per_app: dict[str, dict[datetime, Decimal]] = {}
        with exact():
            for line in lines:
                assert line.period_start is not None
                at = line.period_start
                per_tenant[at] = per_tenant.get(at, Decimal(0)) + line.cost
                app = line.group.get("app")
                if app:
                    spend = per_app.setdefault(app, {})
                    spend[at] = spend.get(at, Decimal(0)) + line.cost
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
                event = wrap(
                    CostAnomaly(
                        scope=scope,
                        scope_value=value,
                        period_start=hour,
                        period_end=hour + timedelta(hours=1),
                        spend=spike.spend,
                        baseline=spike.baseline,
                        spread=spike.spread,
                        score=spike.score,
                        threshold=spike.threshold,
                        method=spike.method,
                        history=list(spike.history),
                    ),
                    tenant=tenant,
                    source=SOURCE,
                    id=stable_id(hour, tenant, "anomaly", str(scope), value),
                    time=self.clock.now(),
                )
                outbox = await self.repository.claim_anomaly(tenant, str(scope), value, hour, event)
                await self._publish_outbox(outbox)
                published += len(outbox)
        return published


def _override(tenant: str, doc: Mapping[str, Any]) -> PriceOverride:
    """A tenant's override from its request object (the tenant comes from the envelope)."""
    if not isinstance(doc, Mapping):
        raise ValueError("an override is an object")
    given = doc.get("tenant")
    if given is not None and given != tenant:
        raise ValueError(f"override of tenant {given!r} sent by tenant {tenant!r}")
    return PriceOverride.from_dict({**doc, "tenant": tenant})


#: Byte budget of a report reply's rows, well under NATS's default 1 MiB message limit.
REPORT_BYTES = 512 * 1024

#: The counts of a report line (and of the hourly rollup's columns), summed as integers.
REPORT_COUNTS = (
    "calls",
    "priced_calls",
    "estimated_calls",
    "price_missing_calls",
    "usage_missing_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
)


def total_row(lines: Sequence[ReportLine]) -> CostReportRow:
    """Every line summed (exact money)."""
    with exact():
        return CostReportRow(
            period_start=None,
            group={},
            **{name: sum(getattr(line, name) for line in lines) for name in REPORT_COUNTS},
            cost=sum((line.cost for line in lines), Decimal(0)),
            provided_cost=sum((line.provided_cost for line in lines), Decimal(0)),
        )


def dumps_breakdown(breakdown: Mapping[str, Decimal]) -> str:
    """The breakdown as stored (JSON object of decimal strings)."""
    # Keys are fixed identifiers and values decimal strings: nothing needs escaping, and this is
    # several times cheaper than json.dumps on the hot path (one call per priced call).
    # (``!s``: str() is what a decimal's empty format spec gives, without parsing the spec.)
    return "{" + ",".join([f'"{k}":"{v!s}"' for k, v in breakdown.items()]) + "}"


def loads_breakdown(text: str | None) -> dict[str, Decimal]:
    """A stored breakdown."""
    return {k: Decimal(v) for k, v in json.loads(text).items()} if text else {}
