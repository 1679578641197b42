"""SQL storage of the audit trail (SQLite WAL by default, PostgreSQL in production).

The schema is created by Alembic migrations (``migrations/``), which also install the database
guards: UPDATE, DELETE and TRUNCATE are refused on records and checkpoints, except the DELETE of
records a purge checkpoint covers (one with ``kind = 'purge'`` and a ``seq`` at or above theirs)
while the record it names (its ``seq`` and ``hash``) is stored. The guard cannot check that
checkpoint's signature, ``verify`` does: a forged one stays in the append-only table for good, a
detected break.
"""

from __future__ import annotations

import operator
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from llmops_audit import fastjson
from llmops_audit.chain import ChainConflict, Head, NewRecord
from llmops_audit.republisher import StoredRecord
from llmops_contracts.audit import AuditQuery
from llmops_contracts.auditchain import CHECKPOINT_FIELDS, RECORD_FIELDS
from llmops_shared.db import SqlStore, UtcDateTime
from llmops_shared.db import migrate as shared_migrate

metadata = MetaData()

records = Table(
    "audit_records",
    metadata,
    Column("pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("event_subject", String(256), nullable=False),
    Column("source", String(256), nullable=False),
    Column("time", UtcDateTime()),
    Column("recorded_at", String(27), nullable=False),
    Column("trace_id", String(32)),
    Column("correlation_id", String(128)),
    Column("actor_user", String(200)),
    Column("actor_app", String(200)),
    Column("redaction_policy_version", String(64)),
    Column("event_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("created_at", String(27), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
)

outbox = Table(
    "audit_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_pk", BigInteger, nullable=False),
)

#: The hashed document's columns: its fields but ``event``, which is stored as ``event_json``.
DOCUMENT_COLUMNS = tuple(name for name in RECORD_FIELDS if name != "event")
#: A stored record's columns as read back (the document's and its ``hash``; then its event).
RECORD_COLUMNS = (*DOCUMENT_COLUMNS, "hash")
#: The indexed columns that queries filter on (``NewRecord``'s fields from ``source`` on).
FILTER_COLUMNS = ("source", "time", "trace_id", "correlation_id", "actor_user", "actor_app")
#: A stored checkpoint's columns: the signed fields and the signature.
CHECKPOINT_COLUMNS = (*CHECKPOINT_FIELDS, "signature")
#: What :func:`record_of` reads (performance: not the filter columns, whose timestamp is parsed
#: per row on SQLite).
RECORD_SELECT = (records.c.pk, *(records.c[name] for name in RECORD_COLUMNS), records.c.event_json)
_EVENT_JSON = len(RECORD_SELECT) - 1
#: Most records kept in memory for the republisher (a stalled one reads the rest back).
RECENT_LIMIT = 5000
#: Columns of the batch insert, in the order :meth:`SqlAuditRepository.append` binds them.
INSERT_COLUMNS = (*RECORD_COLUMNS, *FILTER_COLUMNS, "event_json")
#: A document's values in ``DOCUMENT_COLUMNS`` order (performance: one C call per record).
_document_values = operator.itemgetter(*DOCUMENT_COLUMNS)


# Alembic's default name: audit was the first service with a schema, and databases exist.
VERSION_TABLE = "alembic_version"


def migrate(connection: Connection) -> None:
    """Bring the schema to the latest revision on an open (sync) connection."""
    shared_migrate(connection, "llmops_audit", VERSION_TABLE)


def _same(value: Any) -> Any:
    return value


def record_of(row: Any) -> dict[str, Any]:
    """A stored row as an audit record (the hashed document plus ``hash``)."""
    record = {name: getattr(row, name) for name in RECORD_COLUMNS}
    record["seq"] = int(record["seq"])
    record["event"] = fastjson.loads(row.event_json.encode())
    return record


def _record_of_selected(row: Any) -> dict[str, Any]:
    """:func:`record_of` for a row of ``RECORD_SELECT``, read by position (performance: a Row's
    attribute lookup by name costs more than the rest of the conversion but the JSON parse)."""
    record = dict(zip(RECORD_COLUMNS, row[1:_EVENT_JSON], strict=True))
    record["seq"] = int(record["seq"])
    record["event"] = fastjson.loads(row[_EVENT_JSON].encode())
    return record


class SqlAuditRepository(SqlStore):
    """The append-only audit trail in SQL."""

    metadata = metadata

    def __init__(self, url: str) -> None:
        super().__init__(url)
        #: Records appended by this process and not yet handed to the republisher.
        self._recent: dict[tuple[str, int], StoredRecord] = {}
        self._insert_sql = ""
        self._bind_time: Callable[[Any], Any] = _same

    async def open(self) -> None:
        """Connect and migrate the schema to the latest revision."""
        engine = self.open_engine()
        # The batch insert at the driver level (performance: SQLAlchemy's per-row parameter
        # processing cost more than SQLite's own insert): the same statement, bound as plain
        # tuples, with the time converted by the column's own bind processor, so the stored
        # values are exactly what ``insert(records)`` stores.
        dialect = engine.dialect
        marks = (
            [f"${i}" for i in range(1, len(INSERT_COLUMNS) + 1)]
            if dialect.paramstyle == "numeric_dollar"
            else ["?"] * len(INSERT_COLUMNS)
            if dialect.paramstyle == "qmark"
            else None
        )
        if marks is None:
            raise RuntimeError(f"unsupported driver parameter style {dialect.paramstyle!r}")
        quoted = ", ".join(f'"{c}"' for c in INSERT_COLUMNS)
        self._insert_sql = f"INSERT INTO audit_records ({quoted}) VALUES ({', '.join(marks)})"
        processor = records.c.time.type.dialect_impl(dialect).bind_processor(dialect)
        self._bind_time = processor if processor is not None else _same
        async with self.engine.begin() as conn:
            await conn.run_sync(migrate)

    async def heads(self, tenants: Sequence[str]) -> dict[str, Head]:
        """The last (seq, hash) of each tenant's chain."""
        if not tenants:
            return {}
        inner = records.alias("inner")
        last_seq = (
            select(func.max(inner.c.seq))
            .where(inner.c.tenant == records.c.tenant)
            .scalar_subquery()
        )
        query = select(records.c.tenant, records.c.seq, records.c.hash).where(
            and_(records.c.tenant.in_(tenants), records.c.seq == last_seq)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {r.tenant: Head(int(r.seq), r.hash) for r in rows}

    async def known_ids(self, tenant: str, event_ids: Sequence[str]) -> set[str]:
        """Event ids of the tenant already recorded."""
        query = select(records.c.event_id).where(
            and_(records.c.tenant == tenant, records.c.event_id.in_(event_ids))
        )
        async with self.engine.connect() as conn:
            return {r.event_id for r in await conn.execute(query)}

    async def append(self, new: Sequence[NewRecord]) -> None:
        """Insert a batch in one transaction (one driver-level executemany)."""
        if not new:
            return
        bind_time = self._bind_time
        rows: list[tuple[Any, ...]] = []
        stored: list[StoredRecord] = []
        for r in new:
            doc = r.doc
            event_json = (
                r.event_json if r.event_json is not None else fastjson.dumps(doc["event"]).decode()
            )
            values = _document_values(doc)
            rows.append(
                (
                    *values,
                    r.hash,
                    r.source,
                    None if r.time is None else bind_time(r.time),
                    r.trace_id,
                    r.correlation_id,
                    r.user,
                    r.app,
                    event_json,
                )
            )
            record = StoredRecord(zip(DOCUMENT_COLUMNS, values, strict=True))
            record["hash"] = r.hash
            record["event"] = doc["event"]
            record.event_json = event_json
            stored.append(record)
        try:
            async with self.writes, self.engine.begin() as conn:
                await conn.exec_driver_sql(self._insert_sql, rows)
        except IntegrityError as exc:
            raise ChainConflict(str(exc.orig)) from exc
        recent = self._recent
        for record in stored:
            recent[(record["tenant"], record["seq"])] = record
        while len(recent) > RECENT_LIMIT:  # the republisher is behind: it reads those back
            del recent[next(iter(recent))]

    async def query(self, tenant: str, q: AuditQuery) -> list[dict[str, Any]]:
        """A page of matching records, oldest first."""
        where = [records.c.tenant == tenant, records.c.seq > q.after_seq]
        if q.types:
            where.append(records.c.event_type.in_(q.types))
        if q.since is not None:
            where.append(records.c.time >= q.since)
        if q.until is not None:
            where.append(records.c.time < q.until)
        for column, value in (
            (records.c.trace_id, q.trace_id),
            (records.c.correlation_id, q.correlation_id),
            (records.c.actor_user, q.user),
            (records.c.actor_app, q.app),
            (records.c.source, q.source),
        ):
            if value is not None:
                where.append(column == value)
        query = select(*RECORD_SELECT).where(and_(*where)).order_by(records.c.seq).limit(q.limit)
        async with self.engine.connect() as conn:
            return [_record_of_selected(r) for r in await conn.execute(query)]

    async def records(
        self, tenant: str, after_seq: int = 0, *, columns: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a tenant after ``after_seq``, in seq order, a page at a time."""
        selected = (
            (*RECORD_SELECT, *(records.c[c] for c in FILTER_COLUMNS)) if columns else RECORD_SELECT
        )
        while True:
            query = (
                select(*selected)
                .where(and_(records.c.tenant == tenant, records.c.seq > after_seq))
                .order_by(records.c.seq)
                .limit(1000)
            )
            async with self.engine.connect() as conn:
                page = (await conn.execute(query)).all()
            for row in page:
                record = record_of(row)
                if columns:
                    record["columns"] = {c: getattr(row, c) for c in FILTER_COLUMNS}
                yield record
            if len(page) < 1000:
                return
            after_seq = int(page[-1].seq)

    async def count(self, tenant: str) -> int:
        """How many records a tenant's chain holds."""
        query = select(func.count()).select_from(records).where(records.c.tenant == tenant)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def tenants(self) -> list[str]:
        """Tenants with records."""
        async with self.engine.connect() as conn:
            return [r.tenant for r in await conn.execute(select(records.c.tenant).distinct())]

    async def checkpoints(self, tenant: str) -> list[dict[str, Any]]:
        """A tenant's checkpoints, oldest first."""
        query = select(checkpoints).where(checkpoints.c.tenant == tenant).order_by(checkpoints.c.pk)
        async with self.engine.connect() as conn:
            return [
                {name: getattr(r, name) for name in CHECKPOINT_COLUMNS}
                for r in await conn.execute(query)
            ]

    async def add_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store a signed checkpoint."""
        async with self.writes, self.engine.begin() as conn:
            await conn.execute(insert(checkpoints), [checkpoint])

    async def purge(
        self, tenant: str, before: str, sign: Callable[[Head], Awaitable[dict[str, Any]]]
    ) -> tuple[int, dict[str, Any] | None]:
        """Delete a tenant's records recorded before ``before`` behind a purge checkpoint."""
        self._recent.clear()  # they may include purged records: read the rest back instead
        async with self.writes, self.engine.begin() as conn:
            last = (
                await conn.execute(
                    select(records.c.seq, records.c.hash)
                    .where(and_(records.c.tenant == tenant, records.c.recorded_at < before))
                    .order_by(records.c.seq.desc())
                    .limit(1)
                )
            ).first()
            if last is None:
                return 0, None
            checkpoint = await sign(Head(int(last.seq), last.hash))
            # The purge checkpoint is what lets the guard accept the deletes below, while the
            # record it names is stored: so that record goes last, in a statement of its own.
            await conn.execute(insert(checkpoints), [checkpoint])
            purged = 0
            for below in (records.c.seq < int(last.seq), records.c.seq == int(last.seq)):
                result = await conn.execute(
                    records.delete().where(and_(records.c.tenant == tenant, below))
                )
                purged += int(result.rowcount or 0)
            return purged, checkpoint

    async def unpublished(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Records not yet republished to the AUDIT stream, in storage order.

        Records this process appended come from memory when every one of the page is there
        (performance: reading them back means parsing their JSON again; see docs/decisions.md,
        "The AUDIT stream is fed from an outbox"); the positions always come from the database.
        """
        last = select(outbox.c.last_pk).where(outbox.c.id == 1).scalar_subquery()
        newer = records.c.pk > last
        async with self.engine.connect() as conn:
            if self._recent:
                keys = select(records.c.pk, records.c.tenant, records.c.seq).where(newer)
                page = await conn.execute(keys.order_by(records.c.pk).limit(limit))
                found = [
                    (int(pk), self._recent.pop((tenant, int(seq)), None))
                    for pk, tenant, seq in page
                ]
                hits: list[tuple[int, dict[str, Any]]] = [
                    (pk, record) for pk, record in found if record is not None
                ]
                if len(hits) == len(found):
                    return hits
            query = select(*RECORD_SELECT).where(newer).order_by(records.c.pk).limit(limit)
            return [(int(r[0]), _record_of_selected(r)) for r in await conn.execute(query)]

    async def mark_published(self, pk: int) -> None:
        """Move the republish cursor past ``pk``."""
        async with self.writes, self.engine.begin() as conn:
            await conn.execute(update(outbox).where(outbox.c.id == 1).values(last_pk=pk))
