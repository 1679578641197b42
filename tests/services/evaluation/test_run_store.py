"""One abstract suite for the run-store port, run against every adapter.

``RunStoreContract`` holds the port's behaviour; ``SqlRunStoreContract`` adds what only the SQL
adapter promises (its Alembic schema). They run against the in-memory fake (so the service's unit
tests rest on a faithful fake), a SQLite file and PostgreSQL.
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
from sqlalchemy import Connection, insert, inspect, text

from llmops_evaluation.service import CompletedRun
from llmops_evaluation.store import VERSION_TABLE, SqlRunStore, metadata, runs
from llmops_shared.db import create_engine
from tests.services.evaluation.conftest import FakeRunStore

#: The last microsecond of a year: stored and read back exactly.
NEW_YEAR = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def completed(tenant: str, run_id: str = "r1", **changes: Any) -> CompletedRun:
    """A completed run as the service stores it."""
    run = CompletedRun(tenant, run_id, "c1", "qa", 3, 2, "passed", NEW_YEAR)
    return replace(run, **changes)


class RunStoreContract:
    """What every implementation of the ``RunStore`` port must do."""

    @pytest.fixture
    async def store(self) -> Any:  # overridden per adapter
        raise NotImplementedError

    async def test_an_empty_store_has_no_runs(self, store: Any, tenant: str) -> None:
        assert not await store.is_completed(tenant, "r1")
        assert await store.get(tenant, "r1") is None

    async def test_a_run_is_kept_once_and_a_second_mark_is_ignored(
        self, store: Any, tenant: str
    ) -> None:
        run = completed(tenant)
        await store.mark_completed(run)
        await store.mark_completed(replace(run, command_id="c2", gate="failed"))
        assert await store.is_completed(tenant, "r1")
        assert not await store.is_completed(tenant, "r2")
        assert await store.get(tenant, "r1") == run

    async def test_run_ids_are_per_tenant(self, store: Any, tenant: str) -> None:
        other = f"{tenant}-b"
        mine = completed(tenant)
        await store.mark_completed(mine)
        assert not await store.is_completed(other, "r1")
        theirs = completed(other, cases=0, passed=0, gate="failed", reason="no golden set")
        await store.mark_completed(theirs)
        assert await store.get(other, "r1") == theirs
        assert await store.get(tenant, "r1") == mine

    async def test_completed_at_reads_back_exactly_in_utc(self, store: Any, tenant: str) -> None:
        elsewhere = NEW_YEAR.astimezone(timezone(timedelta(hours=-7, minutes=-30)))
        await store.mark_completed(completed(tenant, completed_at=elsewhere))
        stored = await store.get(tenant, "r1")
        assert stored.completed_at == NEW_YEAR
        assert stored.completed_at.utcoffset() == timedelta(0)


async def table_names(store: SqlRunStore) -> set[str]:
    async with store.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def revision(store: SqlRunStore) -> list[Any]:
    async with store.engine.connect() as conn:
        result = await conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return [tuple(row) for row in result]


def schema_drift(connection: Connection) -> list[Any]:
    """What Alembic finds between the migrated database and the tables the queries use."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return list(compare_metadata(context, metadata))


class SqlRunStoreContract(RunStoreContract):
    """The SQL adapter: its schema comes from the Alembic revisions."""

    @pytest.fixture
    def database_url(self) -> str:  # overridden per database
        raise NotImplementedError

    @pytest.fixture
    async def store(self, database_url: str) -> AsyncIterator[SqlRunStore]:
        store = SqlRunStore(database_url)
        await store.open()
        try:
            yield store
        finally:
            await store.close()

    async def test_migrating_an_empty_database_creates_the_tables_and_reopening_is_idempotent(
        self, database_url: str, tenant: str
    ) -> None:
        store = SqlRunStore(database_url)
        await store.open()
        try:
            assert await table_names(store) == {"eval_runs", VERSION_TABLE}
            assert await revision(store) == [("0001",)]
            await store.mark_completed(completed(tenant))
        finally:
            await store.close()
        again = SqlRunStore(database_url)
        await again.open()  # runs the migrations again: nothing to do, nothing lost
        try:
            assert await revision(again) == [("0001",)]
            assert await again.get(tenant, "r1") == completed(tenant)
        finally:
            await again.close()

    async def test_the_migrated_schema_is_the_one_the_queries_use(self, store: SqlRunStore) -> None:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(schema_drift) == []

    async def test_a_database_made_before_the_migrations_is_adopted(
        self, database_url: str, tenant: str
    ) -> None:
        """The store used to create its table with ``create_all``: such a database keeps its runs."""
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
                await conn.execute(insert(runs), [vars(completed(tenant))])
        finally:
            await engine.dispose()
        store = SqlRunStore(database_url)
        await store.open()
        try:
            assert await revision(store) == [("0001",)]
            assert await store.get(tenant, "r1") == completed(tenant)
        finally:
            await store.close()


class TestInMemoryFake(RunStoreContract):
    """The fake the service unit tests use keeps the port's promises."""

    @pytest.fixture
    async def store(self, fake_run_store: FakeRunStore) -> FakeRunStore:
        return fake_run_store


class TestSqliteRunStore(SqlRunStoreContract):
    """The embedded default: a SQLite file of the test's own."""

    @pytest.fixture
    def database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'evaluation.db'}"


@pytest.mark.postgres
class TestPostgresRunStore(SqlRunStoreContract):
    """Production: PostgreSQL, a fresh database per test (the migrations run from scratch)."""

    @pytest.fixture
    def database_url(self, postgres_database: str) -> str:
        return postgres_database
