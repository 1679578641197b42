"""Adapters of the ingestion ports: document state in SQL, files in the object store, and the
guardrails screen over NATS request/reply."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import nats.errors
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.common import ObjectRef
from llmops_contracts.guardrails import GuardrailCheckRequest, GuardrailVerdict, Stage
from llmops_contracts.registry import parse
from llmops_ingestion.ports import (
    FileUnavailable,
    Screening,
    ScreenUnavailable,
    Similar,
    StoredDocument,
)
from llmops_ingestion.rules import bands, distance
from llmops_ingestion.service import SOURCE
from llmops_shared.db import SqlStore, UtcDateTime

#: Alembic's revision table of this service: the services may share one PostgreSQL database.
VERSION_TABLE = "ingestion_alembic_version"

#: The tables as the queries see them; ``migrations/`` creates them (a test holds the two equal).
metadata = MetaData()

_BIGINT = BigInteger().with_variant(Integer, "sqlite")

documents = Table(
    "ingestion_documents",
    metadata,
    Column("pk", _BIGINT, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("collection", String(128), nullable=False),
    Column("document_id", String(256), nullable=False),
    Column("version", String(128)),
    Column("content_sha256", String(64), nullable=False),
    Column("attributes_sha256", String(64), nullable=False),
    Column("embedding_model", String(256), nullable=False),
    Column("command_id", String(64), nullable=False),
    Column("chunk_count", Integer, nullable=False),
    # Every chunk id of the version in document order, comma-separated: read and written whole
    # with the row (one statement each way), never queried one by one.
    Column("chunk_ids", Text, nullable=False),
    Column("embedded", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("expires_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("simhash", BigInteger, nullable=False),
    # The SimHash's four 16-bit bands: two hashes within 3 bits share one, so near-duplicate
    # candidates are an index lookup, not a scan of the tenant's documents.
    Column("band0", Integer, nullable=False),
    Column("band1", Integer, nullable=False),
    Column("band2", Integer, nullable=False),
    Column("band3", Integer, nullable=False),
    UniqueConstraint("tenant", "collection", "document_id", name="uq_ingestion_documents_key"),
    Index("ix_ingestion_documents_band0", "tenant", "band0"),
    Index("ix_ingestion_documents_band1", "tenant", "band1"),
    Index("ix_ingestion_documents_band2", "tenant", "band2"),
    Index("ix_ingestion_documents_band3", "tenant", "band3"),
    Index("ix_ingestion_documents_expiry", "tenant", "expires_at"),
)

_KEY = frozenset({"tenant", "collection", "document_id"})
_BAND_COLUMNS = (documents.c.band0, documents.c.band1, documents.c.band2, documents.c.band3)

# The two reads of every submission, built once (building a statement costs more than running
# it on SQLite); parameters by name.
_GET = select(documents).where(
    documents.c.tenant == bindparam("tenant"),
    documents.c.collection == bindparam("collection"),
    documents.c.document_id == bindparam("document_id"),
)
_SIMILAR = select(documents.c.collection, documents.c.document_id, documents.c.simhash).where(
    documents.c.tenant == bindparam("tenant"),
    or_(*(column == bindparam(f"b{i}") for i, column in enumerate(_BAND_COLUMNS))),
)


class SqlDocumentStore(SqlStore):
    """The document state in SQL (SQLite file or PostgreSQL by URL).

    :meth:`open` migrates the schema (``migrations/``) to the latest revision.
    """

    metadata = metadata
    migrations = "llmops_ingestion"
    version_table = VERSION_TABLE

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._upsert_stmt: Any = None

    async def get(self, tenant: str, collection: str, document_id: str) -> StoredDocument | None:
        """One document's stored version, with its chunk ids in order."""
        key = {"tenant": tenant, "collection": collection, "document_id": document_id}
        async with self.engine.connect() as conn:
            row = (await conn.execute(_GET, key)).first()
        return None if row is None else _document(row)

    async def put(self, document: StoredDocument) -> None:
        """Insert or replace the document's row, in one statement."""
        async with self.writes, self.engine.begin() as conn:
            await conn.execute(self._upsert(), _row(document))

    def _upsert(self) -> Any:
        """The upsert statement, built once: building it costs more than running it."""
        if self._upsert_stmt is None:
            insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
            stmt = insert(documents)
            columns = [c.name for c in documents.columns if c.name != "pk"]
            self._upsert_stmt = stmt.on_conflict_do_update(
                index_elements=sorted(_KEY),
                set_={name: stmt.excluded[name] for name in columns if name not in _KEY},
            )
        return self._upsert_stmt

    async def forget(self, tenant: str, collection: str, document_id: str) -> bool:
        """Drop the document."""
        stmt = delete(documents).where(
            documents.c.tenant == tenant,
            documents.c.collection == collection,
            documents.c.document_id == document_id,
        )
        async with self.writes, self.engine.begin() as conn:
            return bool((await conn.execute(stmt)).rowcount)

    async def expired(
        self, tenant: str, collection: str | None, now: datetime
    ) -> list[tuple[str, str]]:
        """The tenant's documents whose ``expires_at`` is at or before ``now``."""
        query = select(documents.c.collection, documents.c.document_id).where(
            documents.c.tenant == tenant,
            documents.c.expires_at.is_not(None),
            documents.c.expires_at <= now,
        )
        if collection is not None:
            query = query.where(documents.c.collection == collection)
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                query.order_by(documents.c.collection, documents.c.document_id)
            )
            return [(r.collection, r.document_id) for r in rows]

    async def expiring_tenants(self, now: datetime) -> list[str]:
        """The tenants holding at least one document expired at ``now``, sorted."""
        query = (
            select(documents.c.tenant)
            .where(documents.c.expires_at.is_not(None), documents.c.expires_at <= now)
            .distinct()
            .order_by(documents.c.tenant)
        )
        async with self.engine.connect() as conn:
            return [r.tenant for r in await conn.execute(query)]

    async def similar(self, tenant: str, signature: int, max_distance: int) -> list[Similar]:
        """Candidates sharing a band, kept when within ``max_distance`` bits, closest first."""
        params = {"tenant": tenant, **{f"b{i}": b for i, b in enumerate(bands(signature))}}
        async with self.engine.connect() as conn:
            rows = (await conn.execute(_SIMILAR, params)).all()
        found = [Similar(r.collection, r.document_id, distance(signature, r.simhash)) for r in rows]
        return sorted(
            (s for s in found if s.distance <= max_distance),
            key=lambda s: (s.distance, s.collection, s.document_id),
        )


def _row(document: StoredDocument) -> dict[str, Any]:
    band = bands(document.simhash)
    return {
        "tenant": document.tenant,
        "collection": document.collection,
        "document_id": document.document_id,
        "version": document.version,
        "content_sha256": document.content_sha256,
        "attributes_sha256": document.attributes_sha256,
        "embedding_model": document.embedding_model,
        "command_id": document.command_id,
        "chunk_count": len(document.chunk_ids),
        "chunk_ids": ",".join(document.chunk_ids),
        "embedded": document.embedded,
        "unchanged": document.unchanged,
        "removed": document.removed,
        "expires_at": document.expires_at,
        "updated_at": document.updated_at,
        "simhash": document.simhash,
        **{f"band{i}": b for i, b in enumerate(band)},
    }


def _document(row: Any) -> StoredDocument:
    return StoredDocument(
        tenant=row.tenant,
        collection=row.collection,
        document_id=row.document_id,
        chunk_ids=tuple(row.chunk_ids.split(",")) if row.chunk_ids else (),
        content_sha256=row.content_sha256,
        attributes_sha256=row.attributes_sha256,
        embedding_model=row.embedding_model,
        simhash=row.simhash,
        command_id=row.command_id,
        updated_at=row.updated_at,
        version=row.version,
        expires_at=row.expires_at,
        embedded=row.embedded,
        unchanged=row.unchanged,
        removed=row.removed,
    )


# --- files in the object store ----------------------------------------------------------------


def files_config(max_age_s: float, replicas: int) -> ObjectStoreConfig:
    """The bucket of submitted files: an object the service never got to (its command lost or
    dead-lettered) still goes away after ``max_age_s``."""
    return ObjectStoreConfig(
        bucket=subjects.INGESTION_FILES_BUCKET,
        description="Files submitted for ingestion, deleted once indexed or rejected.",
        storage=StorageType.FILE,
        replicas=replicas,
        ttl=max_age_s,
    )


async def ensure_files_bucket(js: Any, config: ObjectStoreConfig) -> None:
    """Create the files bucket if it is missing; a concurrent creator winning is fine."""
    try:
        await js.object_store(subjects.INGESTION_FILES_BUCKET)
    except BucketNotFoundError:
        try:
            await js.create_object_store(subjects.INGESTION_FILES_BUCKET, config)
        except BadRequestError:
            await js.object_store(subjects.INGESTION_FILES_BUCKET)


class ObjectStoreFiles:
    """Files referenced by :class:`ObjectRef`, in the JetStream object store.

    Args:
        connection: returns the connected nats-py client (read at each call, so the adapter can
            be built before the broker connects).
    """

    def __init__(self, connection: Callable[[], Any]) -> None:
        self._connection = connection

    async def get(self, ref: ObjectRef) -> bytes:
        """The object's bytes, checked against the ref's size and SHA-256."""
        where = f"file {ref.bucket}/{ref.name}"
        try:
            store = await self._connection().jetstream().object_store(ref.bucket)
            data = bytes((await store.get(ref.name)).data or b"")
        except NotFoundError:  # the bucket, the object, or a deleted object
            raise FileUnavailable(f"{where} is not in the object store") from None
        if not ref.matches(data):
            raise FileUnavailable(f"{where} does not match its reference (size and SHA-256)")
        return data

    async def delete(self, ref: ObjectRef) -> None:
        """Remove the object; already gone is fine."""
        try:
            store = await self._connection().jetstream().object_store(ref.bucket)
            await store.delete(ref.name)
        except NotFoundError:
            pass


# --- the guardrails screen --------------------------------------------------------------------


class NatsScreen:
    """The guardrails check RPC at the ``retrieved_context`` stage, on the tenant's subject.

    Args:
        connection: returns the connected nats-py client.
        policy: the guardrails policy to apply.
        timeout: seconds to wait for each verdict.
        clock: dates the requests.
    """

    def __init__(
        self,
        connection: Callable[[], Any],
        *,
        policy: str = "default",
        timeout: float = 2.0,
        now: Callable[[], datetime],
    ) -> None:
        self._connection = connection
        self.policy = policy
        self.timeout = timeout
        self._now = now

    async def check(self, tenant: str, text: str) -> Screening:
        """The verdict on ``text``; :class:`ScreenUnavailable` when there is none."""
        request = wrap(
            GuardrailCheckRequest(stage=Stage.RETRIEVED_CONTEXT, content=text, policy=self.policy),
            tenant=tenant,
            source=SOURCE,
            time=self._now(),
        )
        subject, body, hdrs = headers.wire(request)
        try:
            reply = await self._connection().request(
                subject, body, timeout=self.timeout, headers=hdrs
            )
        except nats.errors.NoRespondersError:
            raise ScreenUnavailable("no guardrails service answers") from None
        except (TimeoutError, nats.errors.TimeoutError):
            raise ScreenUnavailable(
                f"the guardrails service did not answer within {self.timeout:g} s"
            ) from None
        if reply.headers and headers.ERROR in reply.headers:
            raise ScreenUnavailable(
                f"the guardrails service refused the check ({reply.headers[headers.ERROR]}): "
                f"{reply.data.decode(errors='replace')[:300]}"
            )
        verdict: GuardrailVerdict = parse(reply.data, expect=GuardrailVerdict.SPEC.type).data
        findings = [f"{f.detector}:{f.kind or f.severity}" for f in verdict.findings]
        return Screening(str(verdict.outcome), findings, verdict.policy)
