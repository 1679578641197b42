"""SQLAlchemy async engines: SQLite (WAL) as the embedded default, PostgreSQL in production."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, DateTime, MetaData, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL keeps the zone (``timestamptz``); SQLite has no zone type and hands back naive
    values, so they are stored as UTC and read back tagged as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: llmops stores only timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """Pick the async driver for a plain URL (``sqlite:`` → aiosqlite, ``postgresql:`` → asyncpg)."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}.get(
        parsed.drivername
    )
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine for ``url``; SQLite files get WAL, a busy timeout and their directory.

    ``sqlite://`` in-memory databases are refused: concurrent async tasks on one lose rows.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("in-memory SQLite loses rows under concurrent async use; give a file")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **options)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, **options)


class SqlStore:
    """Base of a service's SQL adapter: one engine, opened with the app and closed after drain.

    The schema is the service's Alembic revisions, applied by :meth:`open` (see :func:`migrate`);
    subclasses name them with ``migrations`` and ``version_table``, and declare the tables their
    queries use on ``metadata``.
    """

    metadata: ClassVar[MetaData]
    #: The package whose ``migrations/`` build the schema, e.g. ``llmops_evaluation``.
    migrations: ClassVar[str]
    #: The table Alembic keeps the revision in, one per service (``<service>_alembic_version``).
    version_table: ClassVar[str]

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None
        #: Held around every write transaction: ``async with self.writes, engine.begin()``.
        self.writes: contextlib.AbstractAsyncContextManager[Any] = contextlib.nullcontext()

    @property
    def engine(self) -> AsyncEngine:
        """The engine (after :meth:`open`)."""
        if self._engine is None:
            raise RuntimeError(f"{type(self).__name__} is not open")
        return self._engine

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def open_engine(self) -> AsyncEngine:
        """Create the engine (no connection is made until it is used)."""
        self._engine = create_engine(self.url)
        if self._engine.dialect.name == "sqlite":
            # SQLite has one writer at a time. Concurrent writes of this process come from
            # different pooled connections, and a writer that finds the lock taken sleeps in
            # SQLite's busy handler (1, 2, 5, 10 ... ms) before it tries again, which stalled
            # audit's capture for milliseconds per batch. Taking turns here hands the lock over
            # without sleeping (other processes still meet the busy timeout).
            self.writes = asyncio.Lock()
        return self._engine

    async def open(self) -> None:
        """Connect and migrate the schema to the latest revision."""
        async with self.open_engine().begin() as conn:
            await conn.run_sync(migrate, self.migrations, self.version_table)

    async def close(self) -> None:
        """Dispose of the connection pool."""
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


def migrate(
    connection: Connection, package: str, version_table: str, revision: str = "head"
) -> None:
    """Bring ``package``'s schema to ``revision`` (the latest) on an open (sync) connection.

    Every service keeps its Alembic revisions in ``<package>/migrations`` (its ``env.py`` is
    :func:`run_migrations`) and its revision in a table of its own (``<service>_alembic_version``):
    the services may share one PostgreSQL database (docker compose does). Async stores call this
    through ``await connection.run_sync(lambda c: migrate(c, ...))``.
    """
    config = Config()
    config.set_main_option("script_location", str(files(package) / "migrations"))
    config.attributes["connection"] = connection
    config.attributes["version_table"] = version_table
    command.upgrade(config, revision)


def run_migrations() -> None:
    """The whole of a service's ``migrations/env.py``: run on the connection :func:`migrate`
    handed over, one transaction per revision (a failed one leaves the earlier ones applied)."""
    from alembic import context  # only importable while Alembic runs an env.py

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through llmops_shared.db.migrate()")
    context.configure(
        connection=connection,
        target_metadata=None,
        transaction_per_migration=True,
        version_table=context.config.attributes["version_table"],
    )
    with context.begin_transaction():
        context.run_migrations()
