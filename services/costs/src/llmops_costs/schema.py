"""The costs tables as SQLAlchemy sees them, the exact ``Money`` type, and ledger rows.

The schema itself is created by the Alembic migrations (``migrations/``); these definitions must
match them (the repository suite reopens migrated databases on SQLite and PostgreSQL).

**Money is exact on both databases.** PostgreSQL keeps it as ``NUMERIC`` without a scale (exact,
and ``sum`` is exact). SQLite has no decimal type (its NUMERIC affinity turns ``0.1`` into a
binary float), so there money is the decimal's text, added by an ``llmops_dec_add`` SQL function
registered on every connection (so ``x = x + excluded.x`` upserts stay atomic) and summed in
Python from ``group_concat`` of the grouped rows (SQLite's own ``sum`` would use floats). Prices
have up to 24 decimals, which a fixed-scale integer (e.g. nano-dollars) could not hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from llmops_contracts.llm import Usage
from llmops_costs.entries import CallEntry, dumps_breakdown, loads_breakdown
from llmops_costs.money import exact
from llmops_costs.reports import REPORT_COUNTS
from llmops_shared.db import UtcDateTime
from llmops_shared.db import migrate as shared_migrate

#: Alembic's version table of the costs service (the database may be shared with audit's).
VERSION_TABLE = "costs_alembic_version"


def migrate(connection: Connection) -> None:
    """Bring the schema to the latest revision on an open (sync) connection."""
    shared_migrate(connection, "llmops_costs", VERSION_TABLE)


class Money(TypeDecorator[Decimal]):
    """An exact USD amount: NUMERIC on PostgreSQL, the decimal's text on SQLite."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return format(Decimal(value), "f")
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


def dec_add(a: str | None, b: str | None) -> str | None:
    """SQLite ``llmops_dec_add(a, b)``: exact decimal addition of two decimal texts."""
    if a is None:
        return b
    if b is None or b == "0":  # adding nothing (most provided costs): a is already canonical
        return a
    with exact():
        return format(Decimal(a) + Decimal(b), "f")


def sum_money(concatenated: str | None) -> Decimal:
    """The exact sum of a SQLite ``group_concat(money, ' ')``."""
    if not concatenated:
        return Decimal(0)
    with exact():
        return sum((Decimal(v) for v in concatenated.split(" ")), Decimal(0))


metadata = MetaData()

_pk = BigInteger().with_variant(Integer, "sqlite")

calls = Table(
    "cost_calls",
    metadata,
    Column("pk", _pk, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("priced_at", UtcDateTime()),
    Column("provider", String(64), nullable=False),
    Column("model", String(200), nullable=False),
    Column("request_model", String(200), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("app", String(200)),
    Column("user", String(200)),
    Column("session", String(200)),
    Column("prompt_name", String(200)),
    Column("prompt_version", String(64)),
    Column("prompt_label", String(64)),
    Column("service_tier", String(64)),
    Column("correlation_id", String(128)),
    Column("input_tokens", BigInteger),
    Column("output_tokens", BigInteger),
    Column("cache_read_input_tokens", BigInteger),
    Column("cache_creation_input_tokens", BigInteger),
    Column("cache_creation_1h_input_tokens", BigInteger),
    Column("reasoning_tokens", BigInteger),
    Column("state", String(16), nullable=False),
    Column("cost", Money()),
    Column("provided_cost", Money()),
    Column("breakdown", Text),
    Column("price_table_version", String(200)),
    Column("price_key", String(300)),
    Column("tier", String(100)),
    Column("estimated", Boolean, nullable=False),
    Column("tokenizer", String(64)),
    Column("missing_reason", String(32)),
    Column("missing_detail", Text),
    Column("repriced", Boolean, nullable=False),
    Column("traceparent", String(55)),
)

#: The rollup's dimensions (its key after tenant and hour), counts and money columns.
DIM_COLUMNS = ("app", "user", "model", "provider", "prompt", "prompt_version")
COUNT_COLUMNS = REPORT_COUNTS
MONEY_COLUMNS = ("cost", "provided_cost")

hourly = Table(
    "cost_hourly",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("hour", UtcDateTime(), primary_key=True),
    # Empty strings, not NULL, for absent dimensions: NULLs never conflict in a unique key, so
    # an upsert could not find the row to add to.
    *(Column(name, String(200), primary_key=True) for name in DIM_COLUMNS),
    Column("day", UtcDateTime(), nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in COUNT_COLUMNS),
    *(Column(name, Money(), nullable=False) for name in MONEY_COLUMNS),
)

budget_defs = Table(
    "cost_budgets",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("budget_id", String(64), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

budget_spend = Table(
    "cost_budget_spend",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("budget_id", String(64), primary_key=True),
    Column("window_start", UtcDateTime(), primary_key=True),
    Column("spent", Money(), nullable=False),
)

budget_alerts = Table(
    "cost_budget_alerts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("budget_id", String(64), primary_key=True),
    Column("window_start", UtcDateTime(), primary_key=True),
    Column("alert", String(64), primary_key=True),
    Column("fired_at", UtcDateTime(), nullable=False),
)

anomalies = Table(
    "cost_anomalies",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("scope", String(16), primary_key=True),
    Column("scope_value", String(200), primary_key=True),
    Column("period_start", UtcDateTime(), primary_key=True),
    Column("fired_at", UtcDateTime(), nullable=False),
)

outbox = Table(
    "cost_outbox",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("headers", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

price_loads = Table(
    "cost_price_loads",
    metadata,
    Column("id", _pk, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("loaded_at", UtcDateTime(), nullable=False),
    Column("version", String(200)),
    Column("table_doc", Text),
    Column("overrides", Integer, nullable=False),
)

price_overrides = Table(
    "cost_price_overrides",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("provider", String(64), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("effective_from", String(40), primary_key=True),
    Column("doc", Text, nullable=False),
    Column("load_id", BigInteger, nullable=False),
)

USAGE_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_1h_input_tokens",
    "reasoning_tokens",
)
#: The ledger columns a CallEntry is stored in, in order.
ENTRY_COLUMNS = (
    "tenant",
    "event_id",
    "time",
    "priced_at",
    "provider",
    "model",
    "request_model",
    "operation",
    "status",
    "app",
    "user",
    "session",
    "prompt_name",
    "prompt_version",
    "prompt_label",
    "service_tier",
    "correlation_id",
    "state",
    "cost",
    "provided_cost",
    "price_table_version",
    "price_key",
    "tier",
    "estimated",
    "tokenizer",
    "missing_reason",
    "missing_detail",
    "repriced",
    "traceparent",
)
#: What a re-pricing changes on a ledger row.
REPRICE_COLUMNS = (
    "state",
    "cost",
    "breakdown",
    "price_table_version",
    "price_key",
    "tier",
    "priced_at",
    "missing_reason",
    "missing_detail",
    "repriced",
)


def row_of(entry: CallEntry) -> dict[str, Any]:
    """The ledger row of an entry."""
    row = {name: getattr(entry, name) for name in ENTRY_COLUMNS}
    usage = entry.usage
    for name in USAGE_COLUMNS:
        row[name] = getattr(usage, name) if usage is not None else None
    row["breakdown"] = dumps_breakdown(entry.breakdown) if entry.breakdown else None
    return row


def entry_of(row: Any) -> CallEntry:
    """The entry of a ledger row."""
    values = {name: getattr(row, name) for name in ENTRY_COLUMNS}
    usage = None
    if row.input_tokens is not None:
        usage = Usage(**{name: int(getattr(row, name) or 0) for name in USAGE_COLUMNS})
    return CallEntry(**values, usage=usage, breakdown=loads_breakdown(row.breakdown))


@dataclass
class RollupDelta:
    """What one hourly rollup row gains: its counts (:data:`COUNT_COLUMNS`) and money."""

    day: datetime
    counts: list[int]
    cost: Decimal
    provided_cost: Decimal


#: A rollup row's key: (tenant, hour, *DIM_COLUMNS).
RollupKey = tuple[Any, ...]
