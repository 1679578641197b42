"""The ledger entry of one LLM call, and the glue between a call event and its price.

Pure: no I/O, no clock, no framework. A :class:`CallEntry` is what the ledger keeps of a call
(attribution, usage, its price or why it has none); the service builds it from the call event
and the price table, the repository stores it, and events about the call are built from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from llmops_contracts.common import Actor, PromptRef
from llmops_contracts.envelope import Envelope
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_costs import budgets as rules
from llmops_costs.pricing import MissingPrice, PricedCall, PriceTable

State = Literal["priced", "price_missing", "usage_missing"]
PRICED: State = "priced"
PRICE_MISSING: State = "price_missing"
USAGE_MISSING: State = "usage_missing"

#: The ledger key of a call: (tenant, event id).
CallKey = tuple[str, str]

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
    #: The caller's W3C trace context (the call event's ``traceparent``), kept by its events.
    traceparent: str | None = None
    #: The validated call, when the entry was built from its event: its actor and prompt are
    #: reused by the events published about the call (an entry read from the ledger has none).
    call: LlmCallCompleted | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> CallKey:
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
            "traceparent": event.traceparent,
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


def dumps_breakdown(breakdown: Mapping[str, Decimal]) -> str:
    """The breakdown as stored (JSON object of decimal strings)."""
    # Keys are fixed identifiers and values decimal strings: nothing needs escaping, and this is
    # several times cheaper than json.dumps on the hot path (one call per priced call).
    # (``!s``: str() is what a decimal's empty format spec gives, without parsing the spec.)
    return "{" + ",".join([f'"{k}":"{v!s}"' for k, v in breakdown.items()]) + "}"


def loads_breakdown(text: str | None) -> dict[str, Decimal]:
    """A stored breakdown."""
    return {k: Decimal(v) for k, v in json.loads(text).items()} if text else {}
