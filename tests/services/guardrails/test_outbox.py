"""One abstract suite for the outbox port, run against the in-memory fake and the SQLite file;
the SQLite adapter adds its schema (Alembic revisions equal to the tables it writes)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from llmops_guardrails.store import SqliteOutbox, metadata
from tests.services.guardrails.conftest import MemoryOutbox


def message(i: int) -> tuple[str, bytes, dict[str, str]]:
    return (
        f"llmops.evt.guardrails.verdict_recorded.t{i}",
        b'{"n": %d}' % i,
        {"Nats-Msg-Id": str(i)},
    )


class OutboxContract:
    @pytest.fixture
    def outbox(self) -> Any:  # overridden per adapter
        raise NotImplementedError

    def test_messages_come_back_oldest_first_until_removed(self, outbox: Any) -> None:
        outbox.add([message(1), message(2)])
        outbox.add([message(3)])
        assert outbox.count() == 3
        rows = outbox.pending(2)
        assert [m for _, m in rows] == [message(1), message(2)]
        outbox.remove(rows[-1][0])
        assert [m for _, m in outbox.pending(10)] == [message(3)]
        outbox.remove(outbox.pending(10)[-1][0])
        assert outbox.pending(10) == []
        assert outbox.count() == 0

    def test_positions_grow_and_are_never_reused(self, outbox: Any) -> None:
        outbox.add([message(1)])
        first = outbox.pending(1)[0][0]
        outbox.remove(first)
        outbox.add([message(2)])
        assert outbox.pending(1)[0][0] > first


class TestInMemoryFake(OutboxContract):
    @pytest.fixture
    def outbox(self) -> MemoryOutbox:
        return MemoryOutbox()


class TestSqlite(OutboxContract):
    @pytest.fixture
    def path(self, tmp_path: Path) -> Path:
        return tmp_path / "data" / "outbox.db"

    @pytest.fixture
    def outbox(self, path: Path) -> Iterator[SqliteOutbox]:
        outbox = SqliteOutbox(path)
        outbox.open()
        try:
            yield outbox
        finally:
            outbox.close()

    def test_what_is_added_is_on_disk_for_another_process_at_once(
        self, outbox: SqliteOutbox, path: Path
    ) -> None:
        outbox.add([message(1)])
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT count(*) FROM guardrails_outbox").fetchone() == (1,)
        assert outbox.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    def test_reopening_keeps_the_messages_and_migrates_nothing(
        self, outbox: SqliteOutbox, path: Path
    ) -> None:
        outbox.add([message(1)])
        outbox.close()
        again = SqliteOutbox(path)
        again.open()
        try:
            assert [m for _, m in again.pending(5)] == [message(1)]
        finally:
            again.close()

    def test_the_revisions_build_exactly_the_tables_it_writes(
        self, outbox: SqliteOutbox, path: Path
    ) -> None:
        engine = create_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(
                    conn, opts={"version_table": SqliteOutbox.version_table}
                )
                assert list(compare_metadata(context, metadata)) == []
                version = conn.exec_driver_sql(
                    f"SELECT version_num FROM {SqliteOutbox.version_table}"
                ).fetchall()
                assert version == [("0001",)]
        finally:
            engine.dispose()
