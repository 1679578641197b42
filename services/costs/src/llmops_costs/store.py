"""Adapters of the costs service: the SQL cost store, the JetStream sink and Prometheus metrics.

The schema is created by Alembic migrations (``migrations/``), like the audit service's.

**Money is exact on both databases.** PostgreSQL keeps it as ``NUMERIC`` without a scale (exact,
and ``sum`` is exact). SQLite has no decimal type (its NUMERIC affinity turns ``0.1`` into a
binary float), so there money is the decimal's text, added by an ``llmops_dec_add`` SQL function
registered on every connection (so ``x = x + excluded.x`` upserts stay atomic) and summed in
Python from ``group_concat`` of the grouped rows (SQLite's own ``sum`` would use floats). Prices
have up to 24 decimals, which a fixed-scale integer (e.g. nano-dollars) could not hold.

**Exact counters with several replicas.** Every write of a batch is one transaction: the ledger
insert-or-ignore tells which calls are new (``RETURNING``), and only those move the rollup and
budget counters with atomic ``ON CONFLICT DO UPDATE SET x = x + excluded.x`` upserts. Rows are
upserted in key order, so two replicas' transactions cannot deadlock on each other. A budget set
while batches run is exact too: on PostgreSQL the batch takes a shared advisory lock per tenant
before reading the tenant's budgets and the budget change takes it exclusively before summing
the ledger; on SQLite the single writer lock gives the same order (every write transaction
starts with a write).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from prometheus_client import Counter, Histogram
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
    and_,
    bindparam,
    delete,
    event,
    func,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator, TypeEngine

from llmops_contracts.costs import Budget
from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import wire
from llmops_contracts.llm import Usage
from llmops_costs import budgets as rules
from llmops_costs.budgets import exact
from llmops_costs.pricing import PriceOverride
from llmops_costs.service import (
    PRICE_MISSING,
    PRICED,
    REPORT_COUNTS,
    USAGE_MISSING,
    AlertEvents,
    AlertFired,
    CallEntry,
    Outboxed,
    ReportLine,
    dumps_breakdown,
    loads_breakdown,
)
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.db import SqlStore, UtcDateTime
from llmops_shared.db import migrate as shared_migrate


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


def _dec_add(a: str | None, b: str | None) -> str | None:
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
)

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

#: Whole price tables kept in the database (older loads keep their row, not their table).
KEPT_TABLES = 5

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


VERSION_TABLE = "costs_alembic_version"


def migrate(connection: Connection) -> None:
    """Bring the schema to the latest revision on an open (sync) connection."""
    shared_migrate(connection, "llmops_costs", VERSION_TABLE)


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
class _Delta:
    """What one rollup row gains."""

    day: datetime
    counts: list[int]
    cost: Decimal
    provided_cost: Decimal


def _insert_delta(entry: CallEntry) -> tuple[list[int], Decimal, Decimal]:
    usage = entry.usage
    tokens = (
        [
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_input_tokens,
            usage.cache_creation_input_tokens,
            usage.reasoning_tokens,
        ]
        if usage is not None
        else [0, 0, 0, 0, 0]
    )
    counts = [
        1,
        int(entry.state == PRICED),
        int(entry.estimated),
        int(entry.state == PRICE_MISSING),
        int(entry.state == USAGE_MISSING),
        *tokens,
    ]
    cost = entry.cost if entry.state == PRICED and entry.cost is not None else Decimal(0)
    return counts, cost, entry.provided_cost or Decimal(0)


_REPRICE_COUNTS = [0, 1, 0, -1, 0, 0, 0, 0, 0, 0]


class SqlCostRepository(SqlStore):
    """The cost ledger, hourly rollup, budgets, prices, anomalies and outbox in SQL."""

    metadata = metadata

    def __init__(self, url: str, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(url)
        #: Stamps rows with when they were written (outbox ages, alert and load times).
        self._clock = clock
        self._writes: contextlib.AbstractAsyncContextManager[Any] = contextlib.nullcontext()
        #: SQLite only: the hot path's pre-built SQL and the counters' read connection.
        self._sqlite: _SqliteFast | None = None

    async def close(self) -> None:
        """Close the counters' read connection and dispose of the pool."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        await super().close()

    async def open(self) -> None:
        """Connect (registering SQLite's decimal function) and migrate to the latest revision."""
        engine = self.open_engine()
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine.sync_engine, "connect")
            def _functions(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.create_function("llmops_dec_add", 2, _dec_add, deterministic=True)

            # One writer at a time: taking turns in-process hands the lock over without
            # SQLite's busy-handler sleeps (other processes still meet the busy timeout).
            self._writes = asyncio.Lock()
            self._sqlite = _SqliteFast(engine.dialect, str(engine.url.database))
        async with engine.begin() as conn:
            await conn.run_sync(migrate)

    @property
    def _pg(self) -> bool:
        return self.dialect == "postgresql"

    def _insert(self, table: Table) -> Any:
        return (pg_insert if self._pg else sqlite_insert)(table)

    def _add(self, column: Any, other: Any, money: bool) -> Any:
        if money and not self._pg:
            return func.llmops_dec_add(column, other)
        return column + other

    def _money_sum(self, column: Any) -> Any:
        if self._pg:
            return func.coalesce(func.sum(column), 0)
        return func.group_concat(column, literal_column("' '"))

    def _money_value(self, value: Any) -> Decimal:
        if self._pg:
            return Decimal(value or 0)
        return sum_money(value)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> Any:
        async with self._writes, self.engine.begin() as conn:
            yield conn

    # -- the batch

    async def record(
        self, entries: Sequence[CallEntry], alert_events: AlertEvents
    ) -> tuple[set[tuple[str, str]], list[Outboxed]]:
        """Store a batch in one transaction (see the module docstring)."""
        if not entries:
            return set(), []
        ordered = sorted(entries, key=lambda e: e.key)
        stmt = (
            self._insert(calls)
            .on_conflict_do_nothing(index_elements=["tenant", "event_id"])
            .returning(calls.c.tenant, calls.c.event_id)
        )
        async with self._transaction() as conn:
            if self._sqlite is not None:
                new = await self._sqlite.insert_calls(conn, ordered)
            else:
                result = await conn.execute(stmt, [row_of(e) for e in ordered])
                new = {(r[0], r[1]) for r in result}
            fresh = [e for e in ordered if e.key in new]
            deltas: dict[tuple[Any, ...], _Delta] = {}
            for e in fresh:
                counts, cost, provided = _insert_delta(e)
                self._gain(deltas, e, counts, cost, provided)
            await self._upsert_rollup(conn, deltas)
            out = await self._count_budgets(conn, fresh, alert_events)
        return new, out

    def _gain(
        self,
        deltas: dict[tuple[Any, ...], _Delta],
        entry: CallEntry,
        counts: Sequence[int],
        cost: Decimal,
        provided: Decimal,
    ) -> None:
        hour = entry.hour
        key = (entry.tenant, hour, *entry.dims())
        delta = deltas.get(key)
        if delta is None:
            deltas[key] = _Delta(hour.replace(hour=0), list(counts), cost, provided)
            return
        with exact():
            delta.counts = [a + b for a, b in zip(delta.counts, counts, strict=True)]
            delta.cost += cost
            delta.provided_cost += provided

    async def _upsert_rollup(
        self, conn: AsyncConnection, deltas: Mapping[tuple[Any, ...], _Delta]
    ) -> None:
        if not deltas:
            return
        if self._sqlite is not None:
            await self._sqlite.upsert_rollup(conn, deltas)
            return
        stmt = self._insert(hourly)
        sums = {
            **{c: self._add(hourly.c[c], stmt.excluded[c], False) for c in COUNT_COLUMNS},
            **{c: self._add(hourly.c[c], stmt.excluded[c], True) for c in MONEY_COLUMNS},
        }
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant", "hour", *DIM_COLUMNS], set_=sums
        )
        rows = []
        for key in sorted(deltas):  # key order: concurrent transactions lock rows in one order
            d = deltas[key]
            rows.append(
                {
                    "tenant": key[0],
                    "hour": key[1],
                    **dict(zip(DIM_COLUMNS, key[2:], strict=True)),
                    "day": d.day,
                    **dict(zip(COUNT_COLUMNS, d.counts, strict=True)),
                    "cost": d.cost,
                    "provided_cost": d.provided_cost,
                }
            )
        await conn.execute(stmt, rows)

    async def _count_budgets(
        self, conn: AsyncConnection, entries: Sequence[CallEntry], alert_events: AlertEvents
    ) -> list[Outboxed]:
        """Add priced entries to the counters of the budgets they fall under; fire alerts."""
        priced: dict[str, list[CallEntry]] = {}
        for e in entries:
            if e.state == PRICED and e.cost is not None:
                priced.setdefault(e.tenant, []).append(e)
        if not priced:
            return []
        tenants = sorted(priced)
        if self._pg:
            # Shared: batches do not wait for each other; a budget change (exclusive) waits for
            # the batches in flight, and batches after it see the new budget.
            await conn.execute(
                text(
                    "SELECT pg_advisory_xact_lock_shared(hashtext('llmops_costs:' || t)) "
                    "FROM unnest(CAST(:tenants AS text[])) AS t"
                ),
                {"tenants": tenants},
            )
        defined = await self._budgets_of(conn, tenants)
        if not defined:
            return []
        spend_rows: list[dict[str, Any]] = []
        for tenant in tenants:
            budgets = defined.get(tenant, [])
            deltas = rules.counter_deltas(
                budgets, ((e.scope, e.time, e.cost) for e in priced[tenant] if e.cost is not None)
            )
            for (budget_id, start), amount in sorted(deltas.items()):
                spend_rows.append(
                    {
                        "tenant": tenant,
                        "budget_id": budget_id,
                        "window_start": start,
                        "spent": amount,
                    }
                )
        if not spend_rows:
            return []
        stmt = self._insert(budget_spend)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant", "budget_id", "window_start"],
            set_={"spent": self._add(budget_spend.c.spent, stmt.excluded.spent, True)},
        ).returning(
            budget_spend.c.tenant,
            budget_spend.c.budget_id,
            budget_spend.c.window_start,
            budget_spend.c.spent,
        )
        after = {
            (r.tenant, r.budget_id, r.window_start): r.spent
            for r in await conn.execute(stmt, spend_rows)
        }
        fired: list[AlertFired] = []
        by_id = {(t, b.id): b for t, bs in defined.items() for b in bs}
        with exact():
            for row in spend_rows:
                key = (row["tenant"], row["budget_id"], row["window_start"])
                now_spent = after[key]
                before = now_spent - row["spent"]
                budget = by_id[(row["tenant"], row["budget_id"])]
                for alert in rules.alerts_between(budget, before, now_spent):
                    fired.append(
                        AlertFired(
                            row["tenant"],
                            budget,
                            row["window_start"],
                            rules.window_end(budget, row["window_start"]),
                            now_spent,
                            alert,
                        )
                    )
        return await self._fire(conn, fired, alert_events)

    async def _fire(
        self, conn: AsyncConnection, fired: Sequence[AlertFired], alert_events: AlertEvents
    ) -> list[Outboxed]:
        """Insert-or-ignore the alerts; the newly inserted ones go to the outbox."""
        if not fired:
            return []
        now = self._clock.now()
        stmt = (
            self._insert(budget_alerts)
            .on_conflict_do_nothing()
            .returning(
                budget_alerts.c.tenant,
                budget_alerts.c.budget_id,
                budget_alerts.c.window_start,
                budget_alerts.c.alert,
            )
        )
        rows = [
            {
                "tenant": a.tenant,
                "budget_id": a.budget.id,
                "window_start": a.window_start,
                "alert": a.key,
                "fired_at": now,
            }
            for a in fired
        ]
        inserted = {tuple(r) for r in await conn.execute(stmt, rows)}
        new = [a for a in fired if (a.tenant, a.budget.id, a.window_start, a.key) in inserted]
        return await self._to_outbox(conn, alert_events(new))

    async def _to_outbox(
        self, conn: AsyncConnection, events: Sequence[Envelope[Any]]
    ) -> list[Outboxed]:
        if not events:
            return []
        now = self._clock.now()
        items = []
        for message in events:
            subject, body, hdrs = wire(message)
            items.append(Outboxed(message.id, subject, body, hdrs))
        stmt = self._insert(outbox).on_conflict_do_nothing()
        await conn.execute(
            stmt,
            [
                {
                    "event_id": o.event_id,
                    "subject": o.subject,
                    "body": o.body.decode(),
                    "headers": json.dumps(o.headers),
                    "created_at": now,
                }
                for o in sorted(items, key=lambda o: o.event_id)
            ],
        )
        return items

    async def _budgets_of(
        self, conn: AsyncConnection, tenants: Sequence[str]
    ) -> dict[str, list[Budget]]:
        query = (
            select(budget_defs.c.tenant, budget_defs.c.definition)
            .where(budget_defs.c.tenant.in_(tenants))
            .order_by(budget_defs.c.tenant, budget_defs.c.budget_id)
        )
        found: dict[str, list[Budget]] = {}
        for r in await conn.execute(query):
            found.setdefault(r.tenant, []).append(Budget.model_validate_json(r.definition))
        return found

    async def stored(self, keys: Sequence[tuple[str, str]]) -> list[CallEntry]:
        """The ledger entries of these keys."""
        if not keys:
            return []
        query = select(calls).where(tuple_(calls.c.tenant, calls.c.event_id).in_(list(keys)))
        async with self.engine.connect() as conn:
            return [entry_of(r) for r in await conn.execute(query)]

    # -- re-pricing

    async def waiting(
        self, tenants: Sequence[str] | None, after: int, limit: int
    ) -> list[tuple[int, CallEntry]]:
        """Calls waiting for a price, by ledger position."""
        where = [calls.c.state == PRICE_MISSING, calls.c.pk > after]
        if tenants is not None:
            where.append(calls.c.tenant.in_(list(tenants)))
        query = select(calls).where(and_(*where)).order_by(calls.c.pk).limit(limit)
        async with self.engine.connect() as conn:
            return [(int(r.pk), entry_of(r)) for r in await conn.execute(query)]

    async def reprice(
        self,
        updates: Sequence[tuple[int, CallEntry]],
        alert_events: AlertEvents,
        call_events: Callable[[CallEntry], Sequence[Envelope[Any]]],
    ) -> tuple[list[CallEntry], list[Outboxed]]:
        """Claim and price waiting calls in one transaction."""
        if not updates:
            return [], []
        by_pk = dict(updates)
        async with self._transaction() as conn:
            # The claim: only rows still waiting are taken; another replica's claim (committed
            # first) makes this one skip them, and PostgreSQL's row locks order the two.
            claimed = await conn.execute(
                update(calls)
                .where(and_(calls.c.pk.in_(sorted(by_pk)), calls.c.state == PRICE_MISSING))
                .values(state=PRICED)
                .returning(calls.c.pk)
            )
            done = sorted(int(r[0]) for r in claimed)
            if not done:
                return [], []
            entries = [by_pk[pk] for pk in done]
            await conn.execute(
                update(calls)
                .where(calls.c.pk == bindparam("b_pk"))
                .values({name: bindparam(f"b_{name}") for name in REPRICE_COLUMNS}),
                [
                    {
                        "b_pk": pk,
                        **{f"b_{name}": row_of(by_pk[pk])[name] for name in REPRICE_COLUMNS},
                    }
                    for pk in done
                ],
            )
            deltas: dict[tuple[Any, ...], _Delta] = {}
            for e in entries:
                assert e.cost is not None
                self._gain(deltas, e, _REPRICE_COUNTS, e.cost, Decimal(0))
            await self._upsert_rollup(conn, deltas)
            out = await self._count_budgets(conn, entries, alert_events)
            out += await self._to_outbox(conn, [m for e in entries for m in call_events(e)])
        return entries, out

    # -- reports

    async def report(
        self,
        tenant: str,
        since: datetime,
        until: datetime,
        by: Sequence[str],
        granularity: str,
        filters: Mapping[str, str],
    ) -> list[ReportLine]:
        """The grouped rollup, oldest period first."""
        period = {"hour": hourly.c.hour, "day": hourly.c.day}.get(granularity)
        dims = [hourly.c[name] for name in by]
        keys = ([period] if period is not None else []) + dims
        query = (
            select(
                *keys,
                *(func.sum(hourly.c[c]).label(c) for c in COUNT_COLUMNS),
                *(self._money_sum(hourly.c[c]).label(c) for c in MONEY_COLUMNS),
            )
            .where(
                and_(
                    hourly.c.tenant == tenant,
                    hourly.c.hour >= since,
                    hourly.c.hour < until,
                    *(hourly.c[name] == value for name, value in filters.items()),
                )
            )
            .order_by(*keys)
        )
        if keys:
            query = query.group_by(*keys)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        out = []
        for r in rows:
            if r.calls is None:  # no row at all in an ungrouped total
                continue
            offset = 1 if period is not None else 0
            out.append(
                ReportLine(
                    period_start=r[0] if period is not None else None,
                    group={name: (r[offset + i] or None) for i, name in enumerate(by)},
                    **{c: int(getattr(r, c)) for c in COUNT_COLUMNS},
                    cost=self._money_value(r.cost),
                    provided_cost=self._money_value(r.provided_cost),
                )
            )
        return out

    # -- budgets

    async def budgets(self, tenant: str) -> list[Budget]:
        """A tenant's budgets, by id."""
        async with self.engine.connect() as conn:
            return (await self._budgets_of(conn, [tenant])).get(tenant, [])

    async def set_budget(
        self, tenant: str, budget: Budget, now: datetime, alert_events: AlertEvents
    ) -> list[Outboxed]:
        """Create or replace a budget and recompute its current window from the ledger."""
        definition = budget.model_dump_json()
        fingerprint = rules.fingerprint(budget)
        stmt = self._insert(budget_defs)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant", "budget_id"],
            set_={
                "definition": stmt.excluded.definition,
                "fingerprint": stmt.excluded.fingerprint,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        async with self._transaction() as conn:
            # The write first: on SQLite it takes the writer lock, so no batch commits between
            # the ledger sum below and this commit.
            previous = (
                await conn.execute(
                    select(budget_defs.c.fingerprint).where(
                        and_(budget_defs.c.tenant == tenant, budget_defs.c.budget_id == budget.id)
                    )
                )
            ).scalar()
            await conn.execute(
                stmt,
                {
                    "tenant": tenant,
                    "budget_id": budget.id,
                    "definition": definition,
                    "fingerprint": fingerprint,
                    "updated_at": now,
                },
            )
            await self._lock_budgets(conn, tenant)
            mine = and_(budget_spend.c.tenant == tenant, budget_spend.c.budget_id == budget.id)
            await conn.execute(delete(budget_spend).where(mine))
            if previous != fingerprint:  # a changed budget starts its alerts afresh
                await conn.execute(
                    delete(budget_alerts).where(
                        and_(
                            budget_alerts.c.tenant == tenant,
                            budget_alerts.c.budget_id == budget.id,
                        )
                    )
                )
            bounds = rules.window(budget, now)
            if bounds is None:
                return []
            spent = await self._ledger_spend(conn, tenant, budget, *bounds)
            if spent == 0:
                return []
            await conn.execute(
                self._insert(budget_spend),
                {
                    "tenant": tenant,
                    "budget_id": budget.id,
                    "window_start": bounds[0],
                    "spent": spent,
                },
            )
            fired = [
                AlertFired(tenant, budget, bounds[0], bounds[1], spent, key)
                for key in rules.alerts_between(budget, Decimal(0), spent)
            ]
            return await self._fire(conn, fired, alert_events)

    async def _ledger_spend(
        self, conn: AsyncConnection, tenant: str, budget: Budget, start: datetime, end: datetime
    ) -> Decimal:
        where = [
            calls.c.tenant == tenant,
            calls.c.state == PRICED,
            calls.c.time >= start,
            calls.c.time < end,
        ]
        value = budget.scope_value
        if budget.scope == "app":
            where.append(calls.c.app == value)
        elif budget.scope == "user":
            where.append(calls.c.user == value)
        elif budget.scope == "model":
            where.append((calls.c.model == value) | (calls.c.request_model == value))
        total = await conn.execute(select(self._money_sum(calls.c.cost)).where(and_(*where)))
        return self._money_value(total.scalar())

    async def _lock_budgets(self, conn: AsyncConnection, tenant: str) -> None:
        # PostgreSQL: wait for the tenant's running batches (they hold the lock shared from
        # before reading its budgets until commit), and keep new ones from reading the budgets
        # until this change commits. SQLite's single writer lock already orders them.
        if self._pg:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('llmops_costs:' || :tenant))"),
                {"tenant": tenant},
            )

    async def delete_budget(self, tenant: str, budget_id: str) -> bool:
        """Delete a budget, its counters and alerts."""
        async with self._transaction() as conn:
            # Locked first, or a batch that read the budget before the delete could write its
            # counter (and an alert) back after it.
            await self._lock_budgets(conn, tenant)
            gone = await conn.execute(
                delete(budget_defs).where(
                    and_(budget_defs.c.tenant == tenant, budget_defs.c.budget_id == budget_id)
                )
            )
            for table in (budget_spend, budget_alerts):
                await conn.execute(
                    delete(table).where(
                        and_(table.c.tenant == tenant, table.c.budget_id == budget_id)
                    )
                )
            return bool(gone.rowcount)

    async def spent(
        self, tenant: str, keys: Sequence[tuple[str, datetime]]
    ) -> dict[tuple[str, datetime], Decimal]:
        """Counters of (budget id, window start): one indexed query."""
        if not keys:
            return {}
        if self._sqlite is not None:
            return self._sqlite.spent(tenant, keys)
        query = select(
            budget_spend.c.budget_id, budget_spend.c.window_start, budget_spend.c.spent
        ).where(
            and_(
                budget_spend.c.tenant == tenant,
                budget_spend.c.budget_id.in_(sorted({k[0] for k in keys})),
                budget_spend.c.window_start.in_(sorted({k[1] for k in keys})),
            )
        )
        async with self.engine.connect() as conn:
            return {(r[0], r[1]): r[2] for r in await conn.execute(query)}

    # -- prices

    async def save_prices(
        self, tenant: str, table: Mapping[str, Any] | None, overrides: Sequence[PriceOverride]
    ) -> None:
        """Persist a load: the table (if any) and the tenant's overrides, upserted by key."""
        async with self._transaction() as conn:
            result = await conn.execute(
                self._insert(price_loads).returning(price_loads.c.id),
                {
                    "tenant": tenant,
                    "loaded_at": self._clock.now(),
                    "version": None if table is None else str(table.get("version")),
                    "table_doc": None if table is None else json.dumps(table),
                    "overrides": len(overrides),
                },
            )
            load_id = int(result.scalar_one())
            if table is not None:
                # Each table is ~1 MB: keep the newest few whole (to see what changed), and of
                # older loads only the row (who loaded which version, and when).
                oldest_kept = (
                    select(price_loads.c.id)
                    .where(price_loads.c.table_doc.is_not(None))
                    .order_by(price_loads.c.id.desc())
                    .offset(KEPT_TABLES - 1)
                    .limit(1)
                    .scalar_subquery()
                )
                await conn.execute(
                    update(price_loads).where(price_loads.c.id < oldest_kept).values(table_doc=None)
                )
            if overrides:
                stmt = self._insert(price_overrides)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["tenant", "provider", "model", "effective_from"],
                    set_={"doc": stmt.excluded.doc, "load_id": stmt.excluded.load_id},
                )
                await conn.execute(
                    stmt,
                    [
                        {
                            "tenant": o.tenant,
                            "provider": o.provider,
                            "model": o.model,
                            "effective_from": o.effective_from.astimezone(UTC).isoformat(),
                            "doc": json.dumps(o.to_dict()),
                            "load_id": load_id,
                        }
                        for o in overrides
                    ],
                )

    async def prices_generation(self) -> int:
        """The id of the latest load (0: none)."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.max(price_loads.c.id)))).scalar() or 0)

    async def load_prices(self) -> tuple[int, dict[str, Any] | None, list[dict[str, Any]]]:
        """(generation, latest table document, every override document)."""
        async with self.engine.connect() as conn:
            generation = int((await conn.execute(select(func.max(price_loads.c.id)))).scalar() or 0)
            doc = (
                await conn.execute(
                    select(price_loads.c.table_doc)
                    .where(price_loads.c.table_doc.is_not(None))
                    .order_by(price_loads.c.id.desc())
                    .limit(1)
                )
            ).scalar()
            rows = await conn.execute(
                # In load order: of two overrides of one model and start, the later load wins.
                select(price_overrides.c.doc).order_by(
                    price_overrides.c.load_id,
                    price_overrides.c.tenant,
                    price_overrides.c.provider,
                    price_overrides.c.model,
                    price_overrides.c.effective_from,
                )
            )
            return generation, json.loads(doc) if doc else None, [json.loads(r[0]) for r in rows]

    # -- anomalies and the outbox

    async def claim_anomaly(
        self, tenant: str, scope: str, value: str, period: datetime, event: Envelope[Any]
    ) -> list[Outboxed]:
        """Insert-or-ignore the anomaly and, when new, put its event in the outbox."""
        stmt = self._insert(anomalies).on_conflict_do_nothing().returning(anomalies.c.tenant)
        async with self._transaction() as conn:
            inserted = (
                await conn.execute(
                    stmt,
                    {
                        "tenant": tenant,
                        "scope": scope,
                        "scope_value": value,
                        "period_start": period,
                        "fired_at": self._clock.now(),
                    },
                )
            ).first()
            if inserted is None:
                return []
            return await self._to_outbox(conn, [event])

    async def outbox_pending(self, older_than: datetime, limit: int) -> list[Outboxed]:
        """Outbox events created before ``older_than``."""
        query = (
            select(outbox)
            .where(outbox.c.created_at < older_than)
            .order_by(outbox.c.created_at, outbox.c.event_id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [
                Outboxed(r.event_id, r.subject, r.body.encode(), json.loads(r.headers))
                for r in await conn.execute(query)
            ]

    async def outbox_done(self, event_ids: Sequence[str]) -> None:
        """Forget published outbox events."""
        if not event_ids:
            return
        async with self._transaction() as conn:
            await conn.execute(delete(outbox).where(outbox.c.event_id.in_(list(event_ids))))


# --- SQLite fast paths ------------------------------------------------------------------------


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


#: Ledger columns in the order the fast insert binds them.
_CALL_COLUMNS = (*ENTRY_COLUMNS, *USAGE_COLUMNS, "breakdown")
#: Rows per multi-row ledger INSERT (SQLite allows 32,766 parameters per statement).
_CALL_ROWS = 500
_ROLLUP_COLUMNS = ("tenant", "hour", *DIM_COLUMNS, "day", *COUNT_COLUMNS, *MONEY_COLUMNS)


class _SqliteFast:
    """SQLite's hot paths at the driver level, with the values SQLAlchemy would bind.

    The batch's ledger insert and rollup upsert skip SQLAlchemy's per-row parameter processing
    (the same SQL, bound as plain tuples; dates and money converted by the columns' own bind
    processors, so the stored text is identical). Budget checks read the counters through a
    plain ``sqlite3`` connection in autocommit on the event loop's thread: a WAL reader never
    waits for the writer, and an indexed read of a few rows takes microseconds, against a
    dozen thread hops through aiosqlite.
    """

    def __init__(self, dialect: Dialect, path: str) -> None:
        self._path = path
        self._read: sqlite3.Connection | None = None

        def bind(column: Column[Any]) -> Callable[[Any], Any]:
            # The dialect's implementation (e.g. Money as TEXT on SQLite), as execution uses.
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            return processor if processor is not None else (lambda v: v)

        self._time = bind(calls.c.time)
        self._money = bind(calls.c.cost)
        self._bool = bind(calls.c.estimated)
        self._window = bind(budget_spend.c.window_start)
        self._result_money = budget_spend.c.spent.type.dialect_impl(dialect).result_processor(
            dialect, None
        )
        placeholders = "(" + ", ".join("?" for _ in _CALL_COLUMNS) + ")"
        self._insert_calls = (
            f"INSERT INTO cost_calls ({_quoted(_CALL_COLUMNS)}) VALUES {{values}} "
            'ON CONFLICT ("tenant", "event_id") DO NOTHING RETURNING "tenant", "event_id"'
        )
        self._call_values = placeholders
        keys = ("tenant", "hour", *DIM_COLUMNS)
        sums = [f'"{c}" = cost_hourly."{c}" + excluded."{c}"' for c in COUNT_COLUMNS]
        sums += [
            f'"{c}" = llmops_dec_add(cost_hourly."{c}", excluded."{c}")' for c in MONEY_COLUMNS
        ]
        self._upsert_hourly = (
            f"INSERT INTO cost_hourly ({_quoted(_ROLLUP_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _ROLLUP_COLUMNS)}) "
            f"ON CONFLICT ({_quoted(keys)}) DO UPDATE SET {', '.join(sums)}"
        )

    def close(self) -> None:
        if self._read is not None:
            self._read.close()
            self._read = None

    def _row(self, e: CallEntry) -> tuple[Any, ...]:
        usage = e.usage
        money, time = self._money, self._time
        return (
            e.tenant,
            e.event_id,
            time(e.time),
            None if e.priced_at is None else time(e.priced_at),
            e.provider,
            e.model,
            e.request_model,
            e.operation,
            e.status,
            e.app,
            e.user,
            e.session,
            e.prompt_name,
            e.prompt_version,
            e.prompt_label,
            e.service_tier,
            e.correlation_id,
            e.state,
            None if e.cost is None else money(e.cost),
            None if e.provided_cost is None else money(e.provided_cost),
            e.price_table_version,
            e.price_key,
            e.tier,
            self._bool(e.estimated),
            e.tokenizer,
            e.missing_reason,
            e.missing_detail,
            self._bool(e.repriced),
            *(
                (
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.cache_read_input_tokens,
                    usage.cache_creation_input_tokens,
                    usage.cache_creation_1h_input_tokens,
                    usage.reasoning_tokens,
                )
                if usage is not None
                else (None,) * len(USAGE_COLUMNS)
            ),
            dumps_breakdown(e.breakdown) if e.breakdown else None,
        )

    async def insert_calls(
        self, conn: AsyncConnection, ordered: Sequence[CallEntry]
    ) -> set[tuple[str, str]]:
        """Insert-or-ignore the ledger rows; the keys of the rows newly inserted."""
        new: set[tuple[str, str]] = set()
        for i in range(0, len(ordered), _CALL_ROWS):
            chunk = ordered[i : i + _CALL_ROWS]
            params = [v for e in chunk for v in self._row(e)]
            sql = self._insert_calls.format(values=", ".join([self._call_values] * len(chunk)))
            result = await conn.exec_driver_sql(sql, tuple(params))
            new.update((r[0], r[1]) for r in result.fetchall())
        return new

    async def upsert_rollup(
        self, conn: AsyncConnection, deltas: Mapping[tuple[Any, ...], _Delta]
    ) -> None:
        """The rollup upserts, in key order, as one executemany."""
        times: dict[datetime, Any] = {}

        def time(at: datetime) -> Any:
            bound = times.get(at)
            if bound is None:
                bound = times[at] = self._time(at)
            return bound

        money = self._money
        rows = []
        for key in sorted(deltas):  # key order: concurrent transactions lock rows in one order
            d = deltas[key]
            rows.append(
                (
                    key[0],
                    time(key[1]),
                    *key[2:],
                    time(d.day),
                    *d.counts,
                    money(d.cost),
                    money(d.provided_cost),
                )
            )
        await conn.exec_driver_sql(self._upsert_hourly, rows)

    def spent(
        self, tenant: str, keys: Sequence[tuple[str, datetime]]
    ) -> dict[tuple[str, datetime], Decimal]:
        """Counters of (budget id, window start), read on the calling thread (see the class)."""
        if self._read is None:
            self._read = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._read.execute("PRAGMA busy_timeout=5000")
            self._read.execute("PRAGMA query_only=1")
        wanted = {(b, self._window(start)): (b, start) for b, start in keys}
        ids = sorted({k[0] for k in keys})
        starts = sorted({k[1] for k in wanted})
        sql = (
            "SELECT budget_id, window_start, spent FROM cost_budget_spend WHERE tenant = ? "
            f"AND budget_id IN ({', '.join('?' for _ in ids)}) "
            f"AND window_start IN ({', '.join('?' for _ in starts)})"
        )
        out: dict[tuple[str, datetime], Decimal] = {}
        convert = self._result_money
        for budget_id, start, spent in self._read.execute(sql, (tenant, *ids, *starts)):
            key = wanted.get((budget_id, start))
            if key is not None:
                out[key] = convert(spent) if convert is not None else spent
        return out


# --- publishing -------------------------------------------------------------------------------


# --- metrics ----------------------------------------------------------------------------------

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
USAGE_MISSING_TOTAL = Counter(
    "llmops_costs_usage_missing_total",
    "LLM calls that reported no usage, by tenant, provider, model and whether it was estimated.",
    ["tenant", "provider", "model", "estimated"],
)
PRICE_MISSING_TOTAL = Counter(
    "llmops_costs_price_missing_total",
    "LLM calls stored without a price (waiting to be re-priced), by provider and model.",
    ["provider", "model"],
)
COST = Counter(
    "llmops_costs_cost_usd_total",
    "Computed cost in USD (a float view of the exact ledger), by tenant, provider and model.",
    ["tenant", "provider", "model"],
)
REPRICED = Counter(
    "llmops_costs_repriced_total", "Waiting calls priced after their price was loaded."
)
PROVIDED_DIFFERENCE = Histogram(
    "llmops_costs_provided_cost_relative_difference",
    "(computed - provided) / provided, for calls that reported a cost.",
    buckets=(-1, -0.5, -0.1, -0.01, -0.001, 0, 0.001, 0.01, 0.1, 0.5, 1, float("inf")),
)

TOKEN_KINDS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation_input_tokens": "cache_creation",
    "reasoning_tokens": "reasoning",
}


class PrometheusCostMetrics:
    """Cost counters in the process's Prometheus registry (served on /metrics).

    Sums are gathered per label set first, so a batch costs one increment per label set rather
    than several per call.
    """

    def recorded(self, entries: Sequence[CallEntry]) -> None:
        """Count newly stored calls."""
        counts: dict[tuple[Any, ...], float] = {}

        def add(key: tuple[Any, ...], value: float) -> None:
            counts[key] = counts.get(key, 0) + value

        for e in entries:
            add(("calls", e.tenant, e.provider, e.model, e.status), 1)
            if e.usage is None or e.estimated:
                add(("usage_missing", e.tenant, e.provider, e.model, str(e.estimated).lower()), 1)
            if e.state == PRICE_MISSING:
                add(("price_missing", e.provider, e.model), 1)
            if e.usage is not None and not e.estimated:
                for name, kind in TOKEN_KINDS.items():
                    tokens = getattr(e.usage, name)
                    if tokens:
                        add(("tokens", e.tenant, e.provider, e.model, kind), tokens)
            if e.state == PRICED and e.cost is not None:
                add(("cost", e.tenant, e.provider, e.model), float(e.cost))
                if e.provided_cost:
                    PROVIDED_DIFFERENCE.observe(float((e.cost - e.provided_cost) / e.provided_cost))
        metric = {
            "calls": CALLS,
            "usage_missing": USAGE_MISSING_TOTAL,
            "price_missing": PRICE_MISSING_TOTAL,
            "tokens": TOKENS,
            "cost": COST,
        }
        for (name, *labels), value in counts.items():
            metric[name].labels(*labels).inc(value)

    def repriced(self, entries: Sequence[CallEntry]) -> None:
        """Count re-priced calls and their cost."""
        REPRICED.inc(len(entries))
        for e in entries:
            if e.cost is not None:
                COST.labels(e.tenant, e.provider, e.model).inc(float(e.cost))
