"""The SQL unit of work of the cost repository: one transaction, and the SQL each write runs.

``store.SqlCostRepository.batch()`` opens one; the service (``ledger.py``) decides what it
writes. Everything here runs inside that transaction; rows are written in key order, so two
replicas' transactions cannot deadlock on each other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from llmops_contracts.costs import Budget
from llmops_costs.entries import PRICE_MISSING, PRICED, CallEntry, CallKey
from llmops_costs.money import exact
from llmops_costs.ports import AlertKey, CounterKey, Outboxed, Spend
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
    hourly,
    outbox,
    row_of,
    sum_money,
)
from llmops_costs.sqlite_fast import SqliteFast

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


class SqlDialect:
    """The statements that differ between SQLite and PostgreSQL, for one open database."""

    def __init__(self, name: str, sqlite: SqliteFast | None = None) -> None:
        self.pg = name == "postgresql"
        #: SQLite only: the hot path at the driver level (None: SQLAlchemy Core, as on PostgreSQL).
        self.sqlite = sqlite

    def insert(self, table: Table) -> Any:
        """An INSERT that takes ON CONFLICT clauses."""
        return (pg_insert if self.pg else sqlite_insert)(table)

    def add(self, column: Any, other: Any, money: bool) -> Any:
        """``column + other``, exact for money on SQLite too."""
        if money and not self.pg:
            return func.llmops_dec_add(column, other)
        return column + other

    def money_sum(self, column: Any) -> Any:
        """An exact sum of money (SQLite: the texts, summed by :meth:`money_value`)."""
        if self.pg:
            return func.coalesce(func.sum(column), 0)
        return func.group_concat(column, literal_column("' '"))

    def money_value(self, value: Any) -> Decimal:
        """The Decimal of a :meth:`money_sum`."""
        if self.pg:
            return Decimal(value or 0)
        return sum_money(value)

    async def upsert_rollup(
        self, conn: AsyncConnection, deltas: Mapping[RollupKey, RollupDelta]
    ) -> None:
        """Add to the rollup rows in key order (concurrent transactions lock them in one order)."""
        if not deltas:
            return
        if self.sqlite is not None:
            await self.sqlite.upsert_rollup(conn, deltas)
            return
        stmt = self.insert(hourly)
        sums = {
            **{c: self.add(hourly.c[c], stmt.excluded[c], False) for c in COUNT_COLUMNS},
            **{c: self.add(hourly.c[c], stmt.excluded[c], True) for c in MONEY_COLUMNS},
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

    async def budgets_of(
        self, conn: AsyncConnection, tenants: Sequence[str]
    ) -> dict[str, list[Budget]]:
        """The tenants' budgets, by tenant and id."""
        query = (
            select(budget_defs.c.tenant, budget_defs.c.definition)
            .where(budget_defs.c.tenant.in_(tenants))
            .order_by(budget_defs.c.tenant, budget_defs.c.budget_id)
        )
        found: dict[str, list[Budget]] = {}
        for r in await conn.execute(query):
            found.setdefault(r.tenant, []).append(Budget.model_validate_json(r.definition))
        return found

    async def lock_budgets_exclusive(self, conn: AsyncConnection, tenant: str) -> None:
        """Wait for the tenant's running batches and hold off new ones until commit."""
        # PostgreSQL: wait for the tenant's running batches (they hold the lock shared from
        # before reading its budgets until commit), and keep new ones from reading the budgets
        # until this change commits. SQLite's single writer lock already orders them.
        if self.pg:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('llmops_costs:' || :tenant))"),
                {"tenant": tenant},
            )


class SqlUnitOfWork:
    """One transaction of the SQL cost repository (see ``ports.CostUnitOfWork``)."""

    def __init__(self, sql: SqlDialect, conn: AsyncConnection) -> None:
        self._sql = sql
        self._conn = conn

    async def insert_calls(self, entries: Sequence[CallEntry]) -> set[CallKey]:
        """Insert-or-ignore the ledger rows in key order; new rows move the rollup."""
        if not entries:
            return set()
        sql, conn = self._sql, self._conn
        ordered = sorted(entries, key=lambda e: e.key)
        if sql.sqlite is not None:
            new = await sql.sqlite.insert_calls(conn, ordered)
        else:
            stmt = (
                sql.insert(calls)
                .on_conflict_do_nothing(index_elements=["tenant", "event_id"])
                .returning(calls.c.tenant, calls.c.event_id)
            )
            result = await conn.execute(stmt, [row_of(e) for e in ordered])
            new = {(r[0], r[1]) for r in result}
        deltas: dict[RollupKey, RollupDelta] = {}
        for e in ordered:
            if e.key in new:
                _gain(deltas, e, *_insert_counts(e))
        await sql.upsert_rollup(conn, deltas)
        return new

    async def reprice_calls(self, updates: Sequence[tuple[int, CallEntry]]) -> list[CallEntry]:
        """Claim the calls still waiting, store their prices and move their rollup rows."""
        if not updates:
            return []
        sql, conn = self._sql, self._conn
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
        await sql.upsert_rollup(conn, deltas)
        return entries

    async def lock_budgets(self, tenants: Sequence[str]) -> dict[str, list[Budget]]:
        """The tenants' budgets, under their shared advisory locks on PostgreSQL."""
        if self._sql.pg:
            # Shared: batches do not wait for each other; a budget change (exclusive) waits for
            # the batches in flight, and batches after it see the new budget.
            await self._conn.execute(
                text(
                    "SELECT pg_advisory_xact_lock_shared(hashtext('llmops_costs:' || t)) "
                    "FROM unnest(CAST(:tenants AS text[])) AS t"
                ),
                {"tenants": sorted(tenants)},
            )
        return await self._sql.budgets_of(self._conn, tenants)

    async def add_spend(self, spend: Sequence[Spend]) -> dict[CounterKey, tuple[Decimal, Decimal]]:
        """Atomic ``spent = spent + delta`` upserts in key order; (before, after) per counter."""
        if not spend:
            return {}
        sql = self._sql
        stmt = sql.insert(budget_spend)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant", "budget_id", "window_start"],
            set_={"spent": sql.add(budget_spend.c.spent, stmt.excluded.spent, True)},
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
            self._sql.insert(budget_alerts)
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
        stmt = self._sql.insert(budget_defs)
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
        await self._sql.lock_budgets_exclusive(conn, tenant)
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
        sql = self._sql
        total = await self._conn.execute(select(sql.money_sum(calls.c.cost)).where(and_(*where)))
        return sql.money_value(total.scalar())

    async def claim_anomaly(
        self, tenant: str, scope: str, value: str, period: datetime, at: datetime
    ) -> bool:
        """Insert-or-ignore the anomaly row."""
        stmt = self._sql.insert(anomalies).on_conflict_do_nothing().returning(anomalies.c.tenant)
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
        stmt = self._sql.insert(outbox).on_conflict_do_nothing()
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
