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


def rows_on_disk(path: Path) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT count(*) FROM guardrails_outbox").fetchone()[0])


def test_beyond_the_memory_limit_messages_are_read_back_from_the_file(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "o.db", recent_limit=3)
    outbox.open()
    try:
        outbox.add([message(i) for i in range(1, 6)])  # one transaction of five
        assert outbox.count() == 5
        first = outbox.pending(2)
        assert [m for _, m in first] == [message(1), message(2)]
        outbox.remove(first[-1][0])
        rest = outbox.pending(10)  # fewer than asked: caught up, back to memory
        assert [m for _, m in rest] == [message(3), message(4), message(5)]
        outbox.remove(rest[-1][0])
        outbox.add([message(6)])
        assert [m for _, m in outbox.pending(10)] == [message(6)]
    finally:
        outbox.close()


def test_published_rows_are_deleted_in_batches_and_a_crash_republishes_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "o.db"
    outbox = SqliteOutbox(path, delete_every=2, delete_after_s=3600, timer=lambda: 0.0)
    outbox.open()
    outbox.add([message(1)])
    outbox.add([message(2)])
    outbox.add([message(3)])
    outbox.remove(outbox.pending(1)[0][0])
    assert (outbox.count(), rows_on_disk(path)) == (2, 3)  # published, not deleted yet
    outbox.remove(outbox.pending(1)[0][0])
    assert (outbox.count(), rows_on_disk(path)) == (1, 1)  # two published: deleted together
    outbox.remove(outbox.pending(1)[0][0])
    assert rows_on_disk(path) == 1

    # A crash now (no close): the next process publishes message 3 again (same Nats-Msg-Id:
    # JetStream and the audit trail drop the copy).
    again = SqliteOutbox(path)
    again.open()
    try:
        assert [m for _, m in again.pending(10)] == [message(3)]
    finally:
        again.close()
    outbox.close()
    assert rows_on_disk(path) == 0


def file_size(path: str) -> int:
    return Path(path).stat().st_size


async def test_a_checkpoint_in_a_thread_runs_beside_the_inserts(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "o.db"
    outbox = SqliteOutbox(path)
    outbox.open()
    try:
        wal = f"{path}-wal"
        for i in range(200):
            outbox.add([message(i)])
        assert file_size(wal) > 0  # no checkpoint on the inserts' commits
        checkpoint = asyncio.create_task(asyncio.to_thread(outbox.checkpoint))
        for i in range(200, 400):
            outbox.add([message(i)])
            await asyncio.sleep(0)
        await checkpoint
        assert outbox.count() == 400
        with sqlite3.connect(path) as other:
            busy, frames, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0
        assert copied == frames
    finally:
        outbox.close()
