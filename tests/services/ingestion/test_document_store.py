"""One abstract suite for the document-store port, run against every adapter.

``DocumentStoreContract`` holds the port's behaviour; ``SqlDocumentStoreContract`` adds what only
the SQL adapter promises (its Alembic schema). They run against the in-memory fake (so the
service's unit tests rest on a faithful fake), a SQLite file and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from llmops_ingestion.ports import StoredDocument
from llmops_ingestion.rules import simhash
from llmops_ingestion.store import VERSION_TABLE, SqlDocumentStore, metadata
from tests.services.ingestion.conftest import FakeDocumentStore

NOW = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
TEXT = " ".join(f"word{i}" for i in range(300))


def document(tenant: str, document_id: str = "d1", **changes: Any) -> StoredDocument:
    stored = StoredDocument(
        tenant=tenant,
        collection="kb",
        document_id=document_id,
        chunk_ids=("c-1", "c-2", "c-3"),
        content_sha256="a" * 64,
        attributes_sha256="b" * 64,
        embedding_model="bm25",
        simhash=simhash(TEXT),
        command_id="cmd-1",
        updated_at=NOW,
        version="v1",
        expires_at=None,
        embedded=3,
        unchanged=0,
        removed=0,
    )
    return replace(stored, **changes)


class DocumentStoreContract:
    """What every implementation of the ``DocumentStore`` port must do."""

    @pytest.fixture
    async def store(self) -> Any:  # overridden per adapter
        raise NotImplementedError

    async def test_a_document_reads_back_as_stored(self, store: Any, tenant: str) -> None:
        assert await store.get(tenant, "kb", "d1") is None
        await store.put(document(tenant))
        assert await store.get(tenant, "kb", "d1") == document(tenant)
        assert await store.get(tenant, "other", "d1") is None
        assert await store.get(f"{tenant}-b", "kb", "d1") is None

    async def test_a_new_version_replaces_the_chunk_ids_in_order(
        self, store: Any, tenant: str
    ) -> None:
        await store.put(document(tenant))
        newer = document(
            tenant, chunk_ids=("c-3", "c-9"), version="v2", command_id="cmd-2", removed=2
        )
        await store.put(newer)
        assert await store.get(tenant, "kb", "d1") == newer
        await store.put(document(tenant, chunk_ids=()))
        assert (await store.get(tenant, "kb", "d1")).chunk_ids == ()

    async def test_times_read_back_exactly_in_utc(self, store: Any, tenant: str) -> None:
        elsewhere = NOW.astimezone(timezone(timedelta(hours=-7, minutes=-30)))
        await store.put(document(tenant, updated_at=elsewhere, expires_at=elsewhere))
        stored = await store.get(tenant, "kb", "d1")
        assert stored.updated_at == NOW
        assert stored.expires_at == NOW
        assert stored.updated_at.utcoffset() == timedelta(0)

    async def test_forget_drops_a_document_once(self, store: Any, tenant: str) -> None:
        await store.put(document(tenant))
        await store.put(document(tenant, "d2"))
        assert await store.forget(tenant, "kb", "d1")
        assert not await store.forget(tenant, "kb", "d1")
        assert await store.get(tenant, "kb", "d1") is None
        assert await store.get(tenant, "kb", "d2") is not None

    async def test_expiring_tenants_are_those_holding_a_document_due(
        self, store: Any, tenant: str
    ) -> None:
        await store.put(document(f"{tenant}-b", "due", expires_at=NOW))
        await store.put(document(f"{tenant}-b", "more", expires_at=NOW - timedelta(days=1)))
        await store.put(document(f"{tenant}-a", "past", collection="x", expires_at=NOW))
        await store.put(document(f"{tenant}-c", "later", expires_at=NOW + timedelta(seconds=1)))
        await store.put(document(f"{tenant}-d", "never"))
        mine = [t for t in await store.expiring_tenants(NOW) if t.startswith(tenant)]
        assert mine == [f"{tenant}-a", f"{tenant}-b"]
        later = [
            t
            for t in await store.expiring_tenants(NOW + timedelta(seconds=1))
            if t.startswith(tenant)
        ]
        assert later == [f"{tenant}-a", f"{tenant}-b", f"{tenant}-c"]

    async def test_expired_lists_documents_due_by_then(self, store: Any, tenant: str) -> None:
        await store.put(document(tenant, "past", expires_at=NOW - timedelta(seconds=1)))
        await store.put(document(tenant, "due", expires_at=NOW))
        await store.put(document(tenant, "later", expires_at=NOW + timedelta(seconds=1)))
        await store.put(document(tenant, "never"))
        await store.put(document(tenant, "elsewhere", collection="x", expires_at=NOW))
        await store.put(document(f"{tenant}-b", "theirs", expires_at=NOW))
        assert await store.expired(tenant, "kb", NOW) == [("kb", "due"), ("kb", "past")]
        assert await store.expired(tenant, None, NOW) == [
            ("kb", "due"),
            ("kb", "past"),
            ("x", "elsewhere"),
        ]

    async def test_similar_finds_near_duplicates_of_the_tenant_closest_first(
        self, store: Any, tenant: str
    ) -> None:
        base = simhash(TEXT)
        await store.put(document(tenant, "same", simhash=base))
        await store.put(document(tenant, "two-bits", simhash=base ^ 0b101 << 20))
        await store.put(document(tenant, "four-bits", simhash=base ^ 0b1111))
        await store.put(document(tenant, "top-bit", simhash=base ^ (1 << 63) - (1 << 64)))
        await store.put(document(f"{tenant}-b", "theirs", simhash=base))
        found = await store.similar(tenant, base, 3)
        assert [(s.document_id, s.distance) for s in found] == [
            ("same", 0),
            ("top-bit", 1),
            ("two-bits", 2),
        ]
        assert [s.document_id for s in await store.similar(tenant, base, 0)] == ["same"]


async def table_names(store: SqlDocumentStore) -> set[str]:
    async with store.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


def schema_drift(connection: Connection) -> list[Any]:
    """What Alembic finds between the migrated database and the tables the queries use."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return list(compare_metadata(context, metadata))


class SqlDocumentStoreContract(DocumentStoreContract):
    """The SQL adapter: its schema comes from the Alembic revisions."""

    @pytest.fixture
    def database_url(self) -> str:  # overridden per database
        raise NotImplementedError

    @pytest.fixture
    async def store(self, database_url: str) -> AsyncIterator[SqlDocumentStore]:
        store = SqlDocumentStore(database_url)
        await store.open()
        try:
            yield store
        finally:
            await store.close()

    async def test_migrating_creates_the_tables_and_reopening_is_idempotent(
        self, database_url: str, tenant: str
    ) -> None:
        store = SqlDocumentStore(database_url)
        await store.open()
        try:
            assert await table_names(store) == {"ingestion_documents", VERSION_TABLE}
            await store.put(document(tenant))
        finally:
            await store.close()
        again = SqlDocumentStore(database_url)
        await again.open()
        try:
            async with again.engine.connect() as conn:
                rows = (await conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).all()
            assert [tuple(r) for r in rows] == [("0001",)]
            assert await again.get(tenant, "kb", "d1") == document(tenant)
        finally:
            await again.close()

    async def test_the_migrated_schema_is_the_one_the_queries_use(
        self, store: SqlDocumentStore
    ) -> None:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(schema_drift) == []


class TestInMemoryFake(DocumentStoreContract):
    """The fake the service unit tests use keeps the port's promises."""

    @pytest.fixture
    async def store(self, fake_store: FakeDocumentStore) -> FakeDocumentStore:
        return fake_store


class TestSqliteDocumentStore(SqlDocumentStoreContract):
    """The embedded default: a SQLite file of the test's own."""

    @pytest.fixture
    def database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'ingestion.db'}"


@pytest.mark.postgres
class TestPostgresDocumentStore(SqlDocumentStoreContract):
    """Production: PostgreSQL, a fresh database per test (the migrations run from scratch)."""

    @pytest.fixture
    def database_url(self, postgres_database: str) -> str:
        return postgres_database
