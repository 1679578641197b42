"""SQLAlchemy async engines: SQLite (WAL) as the embedded default, PostgreSQL in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


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
