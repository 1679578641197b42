"""The ports of the costs logic: the repository and its unit of work, the estimator, the spike
detector and the metrics.

Adapters implement them (``store.py``, ``tokens.py``, ``anomalies.py``, ``metrics.py``); unit
tests use fakes (``tests/services/costs/fakes.py``), checked against the same suite as the SQL
repository (``tests/services/costs/test_costs_repository.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from llmops_contracts.costs import Budget
from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import wire
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_contracts.prices import PriceDocument, PriceOverrideSpec
from llmops_costs.anomalies import Spike
from llmops_costs.entries import CallEntry, CallKey

#: A budget counter: (tenant, budget id, window start).
CounterKey = tuple[str, str, datetime]
#: A fired alert: (tenant, budget id, window start, alert key such as ``threshold:80.0``).
AlertKey = tuple[str, str, datetime, str]


@dataclass(frozen=True)
class Outboxed:
    """An event stored in the outbox in the transaction that produced it."""

    event_id: str
    subject: str
    body: bytes
    headers: dict[str, str]

    @classmethod
    def of(cls, message: Envelope[Any]) -> Outboxed:
        """The outbox item of an event (serialised once, published as stored)."""
        subject, body, headers = wire(message)
        return cls(message.id, subject, body, headers)


@dataclass(frozen=True, slots=True)
class Spend:
    """Spend to add to one budget counter."""

    tenant: str
    budget_id: str
    window_start: datetime
    amount: Decimal

    @property
    def key(self) -> CounterKey:
        """The counter it adds to."""
        return (self.tenant, self.budget_id, self.window_start)


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


class CostUnitOfWork(Protocol):
    """Port: one transaction of the repository; all it writes commits together, or nothing.

    Opened with ``async with repository.batch() as uow``. The service decides what to write (which
    counters move, which alerts fire, which events go to the outbox); the unit of work stores it.
    """

    async def insert_calls(self, entries: Sequence[CallEntry]) -> set[CallKey]:
        """Insert-or-ignore ledger rows; only the rows newly inserted move the hourly rollup.
        Returns their keys (a replayed or redelivered call is not new)."""
        ...

    async def reprice_calls(self, updates: Sequence[tuple[int, CallEntry]]) -> list[CallEntry]:
        """Claim waiting calls (ledger position, priced entry) still in state price_missing and
        store their prices, moving the rollup; a call another replica claimed first is skipped.
        Returns the claimed entries, by ledger position."""
        ...

    async def lock_budgets(self, tenants: Sequence[str]) -> dict[str, list[Budget]]:
        """The tenants' budgets (by id), read so that no budget change of theirs commits before
        this transaction does (batches do not wait for each other)."""
        ...

    async def add_spend(self, spend: Sequence[Spend]) -> dict[CounterKey, tuple[Decimal, Decimal]]:
        """Add to budget counters atomically (``x = x + delta``); each counter's spend
        (before, after) this addition."""
        ...

    async def claim_alerts(self, alerts: Sequence[AlertKey], at: datetime) -> set[AlertKey]:
        """Insert-or-ignore fired alerts (stamped ``at``); those newly inserted fire now."""
        ...

    async def replace_budget(
        self, tenant: str, budget: Budget, fingerprint: str, at: datetime
    ) -> str | None:
        """Create or replace a budget and clear its counters, after the tenant's running
        batches commit; returns the fingerprint of the definition it replaced (None: new)."""
        ...

    async def forget_alerts(self, tenant: str, budget_id: str) -> None:
        """Forget a budget's fired alerts (a changed budget fires afresh)."""
        ...

    async def ledger_spend(
        self, tenant: str, budget: Budget, start: datetime, end: datetime
    ) -> Decimal:
        """The priced spend in the ledger that ``budget`` counts in ``[start, end)``."""
        ...

    async def claim_anomaly(
        self, tenant: str, scope: str, value: str, period: datetime, at: datetime
    ) -> bool:
        """Insert-or-ignore an anomaly (stamped ``at``); True when it is new."""
        ...

    async def add_outbox(self, items: Sequence[Outboxed], at: datetime) -> None:
        """Put events in the outbox, created ``at`` (an event id already there is kept)."""
        ...


class CostRepository(Protocol):
    """Port: the cost ledger, rollup, budgets, prices, anomalies and outbox (one database)."""

    def batch(self) -> AbstractAsyncContextManager[CostUnitOfWork]:
        """A unit of work: one transaction, committed when the block ends without an error."""
        ...

    async def stored(self, keys: Sequence[CallKey]) -> list[CallEntry]:
        """The ledger entries of these (tenant, event id) keys."""
        ...

    async def waiting(
        self, tenants: Sequence[str] | None, after: int, limit: int
    ) -> list[tuple[int, CallEntry]]:
        """Calls waiting for a price (state price_missing), by ledger position after ``after``."""
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

    async def delete_budget(self, tenant: str, budget_id: str) -> bool:
        """Delete a budget with its counters and alerts, after the tenant's running batches
        commit; False when there was none."""
        ...

    async def spent(
        self, tenant: str, keys: Sequence[tuple[str, datetime]]
    ) -> dict[tuple[str, datetime], Decimal]:
        """Counters of (budget id, window start); absent keys have spent nothing."""
        ...

    async def save_prices(
        self,
        tenant: str,
        table: PriceDocument | None,
        overrides: Sequence[PriceOverrideSpec],
        at: datetime,
    ) -> None:
        """Persist a load (stamped ``at``): a default table and/or a tenant's overrides (each
        naming its tenant; upserted by tenant, provider, model and start)."""
        ...

    async def load_prices(self) -> tuple[int, str | None, list[str]]:
        """(generation, the JSON of the latest loaded table or None, the JSON of every override
        in load order). Read back as stored: the service decides what still loads."""
        ...

    async def prices_generation(self) -> int:
        """A number that grows with every load (0: nothing loaded, the bundled table)."""
        ...

    async def outbox_pending(self, older_than: datetime, limit: int) -> list[Outboxed]:
        """Outbox events created before ``older_than`` (left behind by a crash), oldest first."""
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
    ) -> Spike | None:
        """The spike with its evidence, or None."""
        ...


class CostMetrics(Protocol):
    """Port: live counters of what the service accounted."""

    def recorded(self, entries: Sequence[CallEntry]) -> None:
        """Count newly stored calls (tokens, cost, missing prices and usage)."""
        ...

    def repriced(self, entries: Sequence[CallEntry]) -> None:
        """Count calls priced after their price arrived."""
        ...
