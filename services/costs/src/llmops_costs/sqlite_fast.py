"""SQLite's hot paths at the driver level, with the values SQLAlchemy would bind.

The batch's ledger insert and rollup upsert skip SQLAlchemy's per-row parameter processing (the
same SQL, bound as plain tuples; dates and money converted by the columns' own bind processors,
so the stored text is identical: ``test_costs_repository.py`` compares them). Budget checks read
the counters through a plain ``sqlite3`` connection in autocommit on the event loop's thread: a
WAL reader never waits for the writer, and an indexed read of a few rows takes microseconds,
against a dozen thread hops through aiosqlite. The measurements are in ``docs/decisions.md``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Column
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from llmops_costs.entries import CallEntry, CallKey, dumps_breakdown
from llmops_costs.schema import (
    COUNT_COLUMNS,
    DIM_COLUMNS,
    ENTRY_COLUMNS,
    MONEY_COLUMNS,
    USAGE_COLUMNS,
    RollupDelta,
    RollupKey,
    budget_spend,
    calls,
)


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


#: Ledger columns in the order the fast insert binds them.
CALL_COLUMNS = (*ENTRY_COLUMNS, *USAGE_COLUMNS, "breakdown")
#: Rows per multi-row ledger INSERT (SQLite allows 32,766 parameters per statement).
CALL_ROWS = 500
ROLLUP_COLUMNS = ("tenant", "hour", *DIM_COLUMNS, "day", *COUNT_COLUMNS, *MONEY_COLUMNS)


class SqliteFast:
    """The pre-built SQL of the batch path and the counters' read connection of one database."""

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
        placeholders = "(" + ", ".join("?" for _ in CALL_COLUMNS) + ")"
        self._insert_calls = (
            f"INSERT INTO cost_calls ({_quoted(CALL_COLUMNS)}) VALUES {{values}} "
            'ON CONFLICT ("tenant", "event_id") DO NOTHING RETURNING "tenant", "event_id"'
        )
        self._call_values = placeholders
        keys = ("tenant", "hour", *DIM_COLUMNS)
        sums = [f'"{c}" = cost_hourly."{c}" + excluded."{c}"' for c in COUNT_COLUMNS]
        sums += [
            f'"{c}" = llmops_dec_add(cost_hourly."{c}", excluded."{c}")' for c in MONEY_COLUMNS
        ]
        self._upsert_hourly = (
            f"INSERT INTO cost_hourly ({_quoted(ROLLUP_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in ROLLUP_COLUMNS)}) "
            f"ON CONFLICT ({_quoted(keys)}) DO UPDATE SET {', '.join(sums)}"
        )

    def close(self) -> None:
        """Close the counters' read connection."""
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
            e.traceparent,
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
    ) -> set[CallKey]:
        """Insert-or-ignore the ledger rows; the keys of the rows newly inserted."""
        new: set[CallKey] = set()
        for i in range(0, len(ordered), CALL_ROWS):
            chunk = ordered[i : i + CALL_ROWS]
            params = [v for e in chunk for v in self._row(e)]
            sql = self._insert_calls.format(values=", ".join([self._call_values] * len(chunk)))
            result = await conn.exec_driver_sql(sql, tuple(params))
            rows: Sequence[Any] = result.fetchall()
            new.update((r[0], r[1]) for r in rows)
        return new

    async def upsert_rollup(
        self, conn: AsyncConnection, deltas: Mapping[RollupKey, RollupDelta]
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
        """Counters of (budget id, window start), read on the calling thread (see the module)."""
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
                out[key] = cast(Decimal, convert(spent) if convert is not None else spent)
        return out
