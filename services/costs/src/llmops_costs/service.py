"""Costs logic: account the token usage of every LLM call exactly once. No framework here.

Pricing comes later; until then nothing is priced and no CostRecorded is published, because a
cost without a price table would be invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from llmops_contracts.envelope import Envelope
from llmops_contracts.llm import LlmCallCompleted


@dataclass(frozen=True)
class UsageRecord:
    """The usage of one LLM call, as accounted. Token fields are None when usage was not reported."""

    event_id: str
    tenant: str
    time: datetime
    provider: str
    #: The model that answered when known (that is what a provider bills), else the one asked for.
    model: str
    request_model: str
    operation: str
    status: str
    app: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_input_tokens: int | None
    cache_creation_input_tokens: int | None
    reasoning_tokens: int | None

    @property
    def usage_missing(self) -> bool:
        """Whether the call reported no usage."""
        return self.input_tokens is None

    @classmethod
    def from_event(cls, event: Envelope[LlmCallCompleted]) -> UsageRecord:
        """The record of an LlmCallCompleted event."""
        call, usage = event.data, event.data.usage
        return cls(
            event_id=event.id,
            tenant=event.tenant,
            time=event.time,
            provider=call.provider,
            model=call.response_model or call.request_model,
            request_model=call.request_model,
            operation=str(call.operation),
            status=str(call.status),
            app=call.actor.app,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            cache_read_input_tokens=usage.cache_read_input_tokens if usage else None,
            cache_creation_input_tokens=usage.cache_creation_input_tokens if usage else None,
            reasoning_tokens=usage.reasoning_tokens if usage else None,
        )


@dataclass(frozen=True)
class ModelTotals:
    """A tenant's accumulated usage of one provider's model."""

    provider: str
    model: str
    calls: int
    calls_without_usage: int
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    reasoning_tokens: int


class UsageRepository(Protocol):
    """Port: the usage ledger, one row per call, idempotent on the event id."""

    async def add(self, record: UsageRecord) -> bool:
        """Store a record once; False when the tenant's event id was already stored."""
        ...

    async def totals(self, tenant: str) -> list[ModelTotals]:
        """The tenant's totals per provider and model."""
        ...


class UsageMetrics(Protocol):
    """Port: live counters of accounted usage."""

    def observe(self, record: UsageRecord) -> None:
        """Count one newly accounted call."""
        ...


class CostsService:
    """Accounts LLM-call usage in the ledger and the live counters."""

    def __init__(self, repository: UsageRepository, metrics: UsageMetrics) -> None:
        self.repository = repository
        self.metrics = metrics

    async def record_call(self, event: Envelope[LlmCallCompleted]) -> bool:
        """Account one call; a redelivered or republished event is ignored (returns False)."""
        record = UsageRecord.from_event(event)
        added = await self.repository.add(record)
        # Counters move only for rows the ledger newly accepted, so they never double-count.
        if added:
            self.metrics.observe(record)
        return added
