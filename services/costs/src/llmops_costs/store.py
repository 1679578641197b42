"""The SQL cost repository (SQLite WAL by default, PostgreSQL in production).

The tables and the exact ``Money`` type are in ``schema.py``, the unit of work a batch writes
through in ``unit_of_work.py``, SQLite's hot paths in ``sqlite_fast.py``; what each transaction
writes is decided by the service (``ledger.py``).

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

import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    and_,
    delete,
    event,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from llmops_contracts.costs import Budget
from llmops_contracts.prices import PriceDocument, PriceOverrideSpec
from llmops_costs.entries import PRICE_MISSING, CallEntry, CallKey
from llmops_costs.ports import Outboxed, ReportLine
from llmops_costs.schema import (
    COUNT_COLUMNS,
    MONEY_COLUMNS,
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
)
from llmops_costs.sqlite_fast import SqliteFast
from llmops_costs.unit_of_work import SqlDialect, SqlUnitOfWork
from llmops_shared.db import SqlStore

#: Whole price tables kept in the database (older loads keep their row, not their table).
KEPT_TABLES = 5


class SqlCostRepository(SqlStore):
    """The cost ledger, hourly rollup, budgets, prices, anomalies and outbox in SQL."""

    metadata = metadata

    def __init__(self, url: str) -> None:
        super().__init__(url)
        #: The database's own statements (set when opened).
        self.sql = SqlDialect("")

    async def close(self) -> None:
        """Close the counters' read connection and dispose of the pool."""
        if self.sql.sqlite is not None:
            self.sql.sqlite.close()
            self.sql.sqlite = None
        await super().close()

    async def open(self) -> None:
        """Connect (registering SQLite's decimal function) and migrate to the latest revision."""
        engine = self.open_engine()
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine.sync_engine, "connect")
            def _functions(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.create_function("llmops_dec_add", 2, dec_add, deterministic=True)

            self.sql = SqlDialect("sqlite", SqliteFast(engine.dialect, str(engine.url.database)))
        else:
            self.sql = SqlDialect(engine.dialect.name)
        async with engine.begin() as conn:
            await conn.run_sync(migrate)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.writes, self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator[SqlUnitOfWork]:
        """A unit of work: one transaction, committed when the block ends without an error."""
        async with self._transaction() as conn:
            yield SqlUnitOfWork(self.sql, conn)

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
                *(self.sql.money_sum(hourly.c[c]).label(c) for c in MONEY_COLUMNS),
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
                    cost=self.sql.money_value(r.cost),
                    provided_cost=self.sql.money_value(r.provided_cost),
                )
            )
        return out

    # -- budgets

    async def budgets(self, tenant: str) -> list[Budget]:
        """A tenant's budgets, by id."""
        async with self.engine.connect() as conn:
            return (await self.sql.budgets_of(conn, [tenant])).get(tenant, [])

    async def delete_budget(self, tenant: str, budget_id: str) -> bool:
        """Delete a budget, its counters and alerts."""
        async with self._transaction() as conn:
            # Locked first, or a batch that read the budget before the delete could write its
            # counter (and an alert) back after it.
            await self.sql.lock_budgets_exclusive(conn, tenant)
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
        if self.sql.sqlite is not None:
            return self.sql.sqlite.spent(tenant, keys)
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
        table: PriceDocument | None,
        overrides: Sequence[PriceOverrideSpec],
        at: datetime,
    ) -> None:
        """Persist a load: the table (if any) and the tenant's overrides, upserted by key."""
        async with self._transaction() as conn:
            result = await conn.execute(
                self.sql.insert(price_loads).returning(price_loads.c.id),
                {
                    "tenant": tenant,
                    "loaded_at": at,
                    "version": None if table is None else table.version,
                    "table_doc": None if table is None else table.model_dump_json(),
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
                stmt = self.sql.insert(price_overrides)
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
                            "doc": o.model_dump_json(),
                            "load_id": load_id,
                        }
                        for o in overrides
                    ],
                )

    async def prices_generation(self) -> int:
        """The id of the latest load (0: none)."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.max(price_loads.c.id)))).scalar() or 0)

    async def load_prices(self) -> tuple[int, str | None, list[str]]:
        """(generation, latest table document, every override document), as stored."""
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
            return generation, doc or None, [r[0] for r in rows]

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
