"""Every event the costs service publishes, built in one place.

Events about a call (``usage_missing``, ``cost_recorded``, ``price_missing``) get ids derived from
the call (``derived_id(call, type)``), so a republished call publishes the same ids and JetStream's
de-duplication and every consumer drop the repeats. Alerts and anomalies get ids derived from
what fired them, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from llmops_contracts.costs import (
    AnomalyScope,
    Budget,
    BudgetExceeded,
    BudgetThresholdCrossed,
    CostAnomaly,
    CostRecorded,
    PriceMissing,
    PricesLoaded,
    UsageMissing,
)
from llmops_contracts.envelope import Envelope, Payload, stable_id, wrap
from llmops_costs import budgets as rules
from llmops_costs.anomalies import Spike
from llmops_costs.entries import PRICE_MISSING, PRICED, CallEntry

#: The ``source`` of every message the costs service publishes.
SOURCE = "llmops/costs"


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
        traceparent=entry.traceparent,
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
    """A budget alert that fires now (its row was newly inserted, so it is published once)."""

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


def anomaly_event(
    tenant: str, scope: AnomalyScope, value: str, hour: datetime, spike: Spike, now: datetime
) -> Envelope[CostAnomaly]:
    """The CostAnomaly event of a spend spike in one hour; one id per scope and hour."""
    return wrap(
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
        time=now,
    )


def prices_loaded_event(
    loaded: PricesLoaded, tenant: str, cause: Envelope[Any] | None, now: datetime
) -> Envelope[PricesLoaded]:
    """The event that tells every replica to reload prices, caused by the load request."""
    return wrap(loaded, tenant=tenant, source=SOURCE, causation=cause, time=now)
