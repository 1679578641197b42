"""Adapters of the costs service: the SQL usage ledger and Prometheus counters."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    case,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from llmops_costs.service import ModelTotals, UsageRecord
from llmops_shared.db import SqlStore, UtcDateTime

TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
)

metadata = MetaData()

usage = Table(
    "llm_usage",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(64), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("model", String(200), nullable=False),
    Column("request_model", String(200), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("app", String(200)),
    *(Column(name, BigInteger) for name in TOKEN_FIELDS),
    # Event ids are chosen by publishers: scoped per tenant, one tenant cannot shadow another's.
    UniqueConstraint("tenant", "event_id", name="uq_llm_usage_tenant_event"),
)


class SqlUsageRepository(SqlStore):
    """The usage ledger in SQL (SQLite file or PostgreSQL by URL); insert-or-ignore on the id."""

    metadata = metadata

    async def add(self, record: UsageRecord) -> bool:
        """Insert a record; False when the tenant's event id is already stored."""
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(usage).on_conflict_do_nothing(index_elements=["tenant", "event_id"])
        row = {
            "event_id": record.event_id,
            "tenant": record.tenant,
            "time": record.time,
            "recorded_at": datetime.now(UTC),
            "provider": record.provider,
            "model": record.model,
            "request_model": record.request_model,
            "operation": record.operation,
            "status": record.status,
            "app": record.app,
            **{name: getattr(record, name) for name in TOKEN_FIELDS},
        }
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt, row)
        return result.rowcount == 1

    async def totals(self, tenant: str) -> list[ModelTotals]:
        """The tenant's totals per provider and model, sorted by provider then model."""
        sums = [func.coalesce(func.sum(usage.c[name]), 0).label(name) for name in TOKEN_FIELDS]
        missing = func.sum(case((usage.c.input_tokens.is_(None), 1), else_=0))
        query = (
            select(
                usage.c.provider,
                usage.c.model,
                func.count().label("calls"),
                missing.label("calls_without_usage"),
                *sums,
            )
            .where(usage.c.tenant == tenant)
            .group_by(usage.c.provider, usage.c.model)
            .order_by(usage.c.provider, usage.c.model)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            ModelTotals(
                provider=r.provider,
                model=r.model,
                calls=int(r.calls),
                calls_without_usage=int(r.calls_without_usage),
                **{name: int(getattr(r, name)) for name in TOKEN_FIELDS},
            )
            for r in rows
        ]


CALLS = Counter(
    "llmops_costs_llm_calls_total",
    "LLM calls accounted, by tenant, provider, model and status.",
    ["tenant", "provider", "model", "status"],
)
TOKENS = Counter(
    "llmops_costs_tokens_total",
    "Tokens accounted, by tenant, provider, model and kind (OpenTelemetry GenAI buckets; cache and "
    "reasoning kinds are subsets of input and output).",
    ["tenant", "provider", "model", "kind"],
)
USAGE_MISSING = Counter(
    "llmops_costs_usage_missing_total",
    "LLM calls that reported no usage, by tenant, provider and model.",
    ["tenant", "provider", "model"],
)

#: Counter ``kind`` label of each token field.
TOKEN_KINDS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation_input_tokens": "cache_creation",
    "reasoning_tokens": "reasoning",
}


class PrometheusUsageMetrics:
    """Usage counters in the process's Prometheus registry (served on /metrics)."""

    def observe(self, record: UsageRecord) -> None:
        """Count one call and its tokens."""
        CALLS.labels(record.tenant, record.provider, record.model, record.status).inc()
        if record.usage_missing:
            USAGE_MISSING.labels(record.tenant, record.provider, record.model).inc()
            return
        for name, kind in TOKEN_KINDS.items():
            tokens = getattr(record, name)
            if tokens:
                TOKENS.labels(record.tenant, record.provider, record.model, kind).inc(tokens)
