"""The SQL cost repository (SQLite WAL by default, PostgreSQL in production) and its unit of work.

The tables and the exact ``Money`` type are in ``schema.py``, SQLite's hot paths in
``sqlite_fast.py``; what each transaction writes is decided by the service (``ledger.py``).

**Exact counters with several replicas.** A unit of work is one transaction: the ledger
insert-or-ignore tells which calls are new (``RETURNING``), and only those move the rollup and
budget counters with atomic ``ON CONFLICT DO UPDATE SET x = x + excluded.x`` upserts. Rows are
upserted in key order, so two replicas' transactions cannot deadlock on each other. A budget set
while batches run is exact too: on PostgreSQL a batch takes a shared advisory lock per tenant
before reading the tenant's budgets and a budget change takes it exclusively before summing the
ledger; on SQLite the single writer lock gives the same order (every write transaction starts
with a write).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Table,
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
from sqlalchemy.ext.asyncio import AsyncConnection

from llmops_contracts.costs import Budget
from llmops_costs.entries import PRICE_MISSING, PRICED, CallEntry, CallKey
from llmops_costs.money import exact
from llmops_costs.ports import AlertKey, CounterKey, Outboxed, ReportLine, Spend
from llmops_costs.pricing import PriceOverride
from llmops_costs.reports import call_counts
from llmops_costs.schema import (
    COUNT_COLUMNS,
    DIM_COLUMNS,
    MONEY_COLUMNS,
    REPRICE_COLUMNS,
    RollupDelta,
    RollupKey,
    anomalies,
    budget_alerts,
    budget_defs,
    budget_spend,
    calls,
    dec_add,
    entry_of,
    hourly,
    metadata,
    migrate,
    outbox,
    price_loads,
    price_overrides,
    row_of,
    sum_money,
)
from llmops_costs.sqlite_fast import SqliteFast
from llmops_shared.db import SqlStore

#: Whole price tables kept in the database (older loads keep their row, not their table).
KEPT_TABLES = 5

#: What a re-priced call changes in its rollup row: one more priced call, one less waiting.
_REPRICE_COUNTS = [0, 1, 0, -1, 0, 0, 0, 0, 0, 0]


def _insert_counts(entry: CallEntry) -> tuple[list[int], Decimal, Decimal]:
    """What a newly stored call adds to its rollup row: counts, cost, provided cost."""
    cost = entry.cost if entry.state == PRICED and entry.cost is not None else Decimal(0)
    return call_counts(entry), cost, entry.provided_cost or Decimal(0)


def _gain(
    deltas: dict[RollupKey, RollupDelta],
    entry: CallEntry,
    counts: Sequence[int],
    cost: Decimal,
    provided: Decimal,
) -> None:
    """Add one call's counts and money to the delta of its rollup row."""
    hour = entry.hour
    key = (entry.tenant, hour, *entry.dims())
    delta = deltas.get(key)
    if delta is None:
        deltas[key] = RollupDelta(hour.replace(hour=0), list(counts), cost, provided)
        return
    with exact():
        delta.counts = [a + b for a, b in zip(delta.counts, counts, strict=True)]
        delta.cost += cost
        delta.provided_cost += provided


class SqlCostRepository(SqlStore):
    """The cost ledger, hourly rollup, budgets, prices, anomalies and outbox in SQL."""

    metadata = metadata

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._writes: contextlib.AbstractAsyncContextManager[Any] = contextlib.nullcontext()
        #: SQLite only: the hot path's pre-built SQL and the counters' read connection.
        self._sqlite: SqliteFast | None = None

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
                dbapi_conn.create_function("llmops_dec_add", 2, dec_add, deterministic=True)

            # One writer at a time: taking turns in-process hands the lock over without
            # SQLite's busy-handler sleeps (other processes still meet the busy timeout).
            self._writes = asyncio.Lock()
            self._sqlite = SqliteFast(engine.dialect, str(engine.url.database))
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
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._writes, self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator[SqlUnitOfWork]:
        """A unit of work: one transaction, committed when the block ends without an error."""
        async with self._transaction() as conn:
            yield SqlUnitOfWork(self, conn)

    async def _upsert_rollup(
        self, conn: AsyncConnection, deltas: Mapping[RollupKey, RollupDelta]
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

    async def _lock_budgets_exclusive(self, conn: AsyncConnection, tenant: str) -> None:
        # PostgreSQL: wait for the tenant's running batches (they hold the lock shared from
        # before reading its budgets until commit), and keep new ones from reading the budgets
        # until this change commits. SQLite's single writer lock already orders them.
        if self._pg:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('llmops_costs:' || :tenant))"),
                {"tenant": tenant},
            )

    # -- reads

    async def stored(self, keys: Sequence[CallKey]) -> list[CallEntry]:
        """The ledger entries of these keys."""
        if not keys:
            return []
        query = select(calls).where(tuple_(calls.c.tenant, calls.c.event_id).in_(list(keys)))
        async with self.engine.connect() as conn:
            return [entry_of(r) for r in await conn.execute(query)]

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

    async def delete_budget(self, tenant: str, budget_id: str) -> bool:
        """Delete a budget, its counters and alerts."""
        async with self._transaction() as conn:
            # Locked first, or a batch that read the budget before the delete could write its
            # counter (and an alert) back after it.
            await self._lock_budgets_exclusive(conn, tenant)
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
        self,
        tenant: str,
        table: Mapping[str, Any] | None,
        overrides: Sequence[PriceOverride],
        at: datetime,
    ) -> None:
        """Persist a load: the table (if any) and the tenant's overrides, upserted by key."""
        async with self._transaction() as conn:
            result = await conn.execute(
                self._insert(price_loads).returning(price_loads.c.id),
                {
                    "tenant": tenant,
                    "loaded_at": at,
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

    # -- the outbox

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


class SqlUnitOfWork:
    """One transaction of :class:`SqlCostRepository` (see ``ports.CostUnitOfWork``)."""

    def __init__(self, repository: SqlCostRepository, conn: AsyncConnection) -> None:
        self._repo = repository
        self._conn = conn

    async def insert_calls(self, entries: Sequence[CallEntry]) -> set[CallKey]:
        """Insert-or-ignore the ledger rows in key order; new rows move the rollup."""
        if not entries:
            return set()
        repo, conn = self._repo, self._conn
        ordered = sorted(entries, key=lambda e: e.key)
        if repo._sqlite is not None:
            new = await repo._sqlite.insert_calls(conn, ordered)
        else:
            stmt = (
                repo._insert(calls)
                .on_conflict_do_nothing(index_elements=["tenant", "event_id"])
                .returning(calls.c.tenant, calls.c.event_id)
            )
            result = await conn.execute(stmt, [row_of(e) for e in ordered])
            new = {(r[0], r[1]) for r in result}
        deltas: dict[RollupKey, RollupDelta] = {}
        for e in ordered:
            if e.key in new:
                _gain(deltas, e, *_insert_counts(e))
        await repo._upsert_rollup(conn, deltas)
        return new

    async def reprice_calls(self, updates: Sequence[tuple[int, CallEntry]]) -> list[CallEntry]:
        """Claim the calls still waiting, store their prices and move their rollup rows."""
        if not updates:
            return []
        repo, conn = self._repo, self._conn
        by_pk = dict(updates)
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
            return []
        await conn.execute(
            update(calls)
            .where(calls.c.pk == bindparam("b_pk"))
            .values({name: bindparam(f"b_{name}") for name in REPRICE_COLUMNS}),
            [
                {"b_pk": pk, **{f"b_{name}": row_of(by_pk[pk])[name] for name in REPRICE_COLUMNS}}
                for pk in done
            ],
        )
        entries = [by_pk[pk] for pk in done]
        deltas: dict[RollupKey, RollupDelta] = {}
        for e in entries:
            assert e.cost is not None
            _gain(deltas, e, _REPRICE_COUNTS, e.cost, Decimal(0))
        await repo._upsert_rollup(conn, deltas)
        return entries

    async def lock_budgets(self, tenants: Sequence[str]) -> dict[str, list[Budget]]:
        """The tenants' budgets, under their shared advisory locks on PostgreSQL."""
        if self._repo._pg:
            # Shared: batches do not wait for each other; a budget change (exclusive) waits for
            # the batches in flight, and batches after it see the new budget.
            await self._conn.execute(
                text(
                    "SELECT pg_advisory_xact_lock_shared(hashtext('llmops_costs:' || t)) "
                    "FROM unnest(CAST(:tenants AS text[])) AS t"
                ),
                {"tenants": sorted(tenants)},
            )
        return await self._repo._budgets_of(self._conn, tenants)

    async def add_spend(self, spend: Sequence[Spend]) -> dict[CounterKey, tuple[Decimal, Decimal]]:
        """Atomic ``spent = spent + delta`` upserts in key order; (before, after) per counter."""
        if not spend:
            return {}
        repo = self._repo
        stmt = repo._insert(budget_spend)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant", "budget_id", "window_start"],
            set_={"spent": repo._add(budget_spend.c.spent, stmt.excluded.spent, True)},
        ).returning(
            budget_spend.c.tenant,
            budget_spend.c.budget_id,
            budget_spend.c.window_start,
            budget_spend.c.spent,
        )
        rows = [
            {
                "tenant": s.tenant,
                "budget_id": s.budget_id,
                "window_start": s.window_start,
                "spent": s.amount,
            }
            for s in sorted(spend, key=lambda s: s.key)
        ]
        after: dict[CounterKey, Decimal] = {
            (r.tenant, r.budget_id, r.window_start): r.spent
            for r in await self._conn.execute(stmt, rows)
        }
        with exact():
            return {s.key: (after[s.key] - s.amount, after[s.key]) for s in spend}

    async def claim_alerts(self, alerts: Sequence[AlertKey], at: datetime) -> set[AlertKey]:
        """Insert-or-ignore the alert rows; the ones newly inserted."""
        if not alerts:
            return set()
        stmt = (
            self._repo._insert(budget_alerts)
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
                "tenant": tenant,
                "budget_id": budget_id,
                "window_start": start,
                "alert": alert,
                "fired_at": at,
            }
            for tenant, budget_id, start, alert in alerts
        ]
        return {(r[0], r[1], r[2], r[3]) for r in await self._conn.execute(stmt, rows)}

    async def replace_budget(
        self, tenant: str, budget: Budget, fingerprint: str, at: datetime
    ) -> str | None:
        """Upsert the definition, wait for the tenant's batches, and clear its counters."""
        conn = self._conn
        stmt = self._repo._insert(budget_defs)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant", "budget_id"],
            set_={
                "definition": stmt.excluded.definition,
                "fingerprint": stmt.excluded.fingerprint,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        # The write first: on SQLite it takes the writer lock, so no batch commits between
        # the ledger sum that follows and this commit.
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
                "definition": budget.model_dump_json(),
                "fingerprint": fingerprint,
                "updated_at": at,
            },
        )
        await self._repo._lock_budgets_exclusive(conn, tenant)
        await conn.execute(
            delete(budget_spend).where(
                and_(budget_spend.c.tenant == tenant, budget_spend.c.budget_id == budget.id)
            )
        )
        return None if previous is None else str(previous)

    async def forget_alerts(self, tenant: str, budget_id: str) -> None:
        """Delete a budget's alert rows."""
        await self._conn.execute(
            delete(budget_alerts).where(
                and_(budget_alerts.c.tenant == tenant, budget_alerts.c.budget_id == budget_id)
            )
        )

    async def ledger_spend(
        self, tenant: str, budget: Budget, start: datetime, end: datetime
    ) -> Decimal:
        """The ledger's priced spend in ``[start, end)`` that the budget applies to."""
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
        repo = self._repo
        total = await self._conn.execute(select(repo._money_sum(calls.c.cost)).where(and_(*where)))
        return repo._money_value(total.scalar())

    async def claim_anomaly(
        self, tenant: str, scope: str, value: str, period: datetime, at: datetime
    ) -> bool:
        """Insert-or-ignore the anomaly row."""
        stmt = self._repo._insert(anomalies).on_conflict_do_nothing().returning(anomalies.c.tenant)
        row = {
            "tenant": tenant,
            "scope": scope,
            "scope_value": value,
            "period_start": period,
            "fired_at": at,
        }
        return (await self._conn.execute(stmt, row)).first() is not None

    async def add_outbox(self, items: Sequence[Outboxed], at: datetime) -> None:
        """Insert-or-ignore the events, in id order."""
        if not items:
            return
        stmt = self._repo._insert(outbox).on_conflict_do_nothing()
        await self._conn.execute(
            stmt,
            [
                {
                    "event_id": o.event_id,
                    "subject": o.subject,
                    "body": o.body.decode(),
                    "headers": json.dumps(o.headers),
                    "created_at": at,
                }
                for o in sorted(items, key=lambda o: o.event_id)
            ],
        )
