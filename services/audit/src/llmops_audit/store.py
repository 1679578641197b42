"""SQL storage of audit records (SQLAlchemy Core; SQLite or PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from llmops_audit.service import Entry, StoredEvent
from llmops_shared.db import SqlStore, UtcDateTime

metadata = MetaData()

events = Table(
    "audit_events",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("type", String(128), nullable=False, index=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("subject", String(256), nullable=False),
    Column("source", String(256), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("correlation_id", String(128), index=True),
    Column("envelope", JSON, nullable=False),
)


class SqlAuditRepository(SqlStore):
    """Append-only audit storage; idempotent on the event id through a unique constraint."""

    metadata = metadata

    async def append(self, entries: Sequence[Entry]) -> int:
        """Insert a batch in one transaction; rows whose id exists are skipped."""
        now = datetime.now(UTC)
        rows = [_row(e, now) for e in entries]
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        # RETURNING counts the rows really inserted; executemany's rowcount is -1 on asyncpg.
        stmt = (
            insert(events)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(events.c.event_id)
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt, rows)
        return len(result.all())

    async def count(self, tenant: str | None = None) -> int:
        """Number of records, for one tenant or all."""
        query = select(func.count()).select_from(events)
        if tenant is not None:
            query = query.where(events.c.tenant == tenant)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def get(self, event_id: str) -> StoredEvent | None:
        """One record by event id."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(events).where(events.c.event_id == event_id))).first()
        if row is None:
            return None
        return StoredEvent(
            event_id=row.event_id,
            type=row.type,
            tenant=row.tenant,
            subject=row.subject,
            source=row.source,
            time=row.time,
            envelope=row.envelope,
        )


def _row(entry: Entry, now: datetime) -> dict[str, Any]:
    m = entry.message
    return {
        "event_id": m.id,
        "type": m.type,
        "tenant": m.tenant,
        "subject": entry.subject,
        "source": m.source,
        "time": m.time,
        "recorded_at": now,
        "correlation_id": m.correlation_id,
        "envelope": m.model_dump(mode="json"),
    }
