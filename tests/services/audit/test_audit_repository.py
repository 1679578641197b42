"""One abstract suite for the audit repository port, run against every adapter.

``AuditRepositoryContract`` holds the port's behaviour; ``SqlAuditRepositoryContract`` adds what
only a database can promise (the Alembic schema and the append-only guards). They run against
the in-memory fake (so the service's unit tests rest on a faithful fake), a SQLite file and a
fresh PostgreSQL database per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from llmops_audit import fastjson
from llmops_audit.chain import GENESIS, ChainConflict, Head, NewRecord
from llmops_audit.store import VERSION_TABLE, SqlAuditRepository
from llmops_audit.store import records as records_table
from llmops_contracts.audit import AuditQuery
from llmops_contracts.auditchain import GENESIS_HASH, RECORD_FIELDS, record_hash
from llmops_shared.db import migrate

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TYPE_A = "llmops.llm.call_completed.v1"
TYPE_B = "llmops.guardrails.verdict_recorded.v1"


def event_id(tenant: str, seq: int) -> str:
    """A UUID-shaped event id unique per tenant and seq."""
    return f"01900000-0000-7000-8{abs(hash(tenant)) % 4096:03x}-{seq:012x}"


def new_record(
    tenant: str,
    seq: int,
    prev_hash: str,
    *,
    event_type: str = TYPE_A,
    eid: str | None = None,
    recorded_at: str = "2026-11-27T09:30:00.000000Z",
    source: str = "app://test",
    time: datetime | None = T0,
    trace_id: str | None = None,
    correlation_id: str | None = None,
    user: str | None = None,
    app: str | None = None,
) -> NewRecord:
    """A chained record as the service builds it, with a consistent event and filter columns."""
    eid = eid or event_id(tenant, seq)
    event = {
        "specversion": "1.0",
        "id": eid,
        "type": event_type,
        "source": source,
        "time": time.isoformat() if time else None,
        "tenant": tenant,
        "traceparent": f"00-{trace_id}-{'b' * 16}-01" if trace_id else None,
        "correlation_id": correlation_id,
        "data": {"actor": {"user": user, "app": app}, "n": seq, "latency_ms": 1.5, "text": "é"},
    }
    doc = {
        "tenant": tenant,
        "seq": seq,
        "event_id": eid,
        "event_type": event_type,
        "event_subject": f"llmops.evt.x.y.{tenant}",
        "recorded_at": recorded_at,
        "redaction_policy_version": None,
        "event": event,
        "prev_hash": prev_hash,
    }
    return NewRecord(
        doc=doc,
        hash=record_hash(doc),
        source=source,
        time=time,
        trace_id=trace_id,
        correlation_id=correlation_id,
        user=user,
        app=app,
    )


def chain(tenant: str, n: int, head: Head = GENESIS, **columns: Any) -> list[NewRecord]:
    """``n`` records continuing a tenant's chain from ``head``."""
    out: list[NewRecord] = []
    prev = head
    for seq in range(head.seq + 1, head.seq + n + 1):
        out.append(new_record(tenant, seq, prev.hash, **columns))
        prev = Head(seq, out[-1].hash)
    return out


def stored(records: Sequence[NewRecord]) -> list[dict[str, Any]]:
    """What reading these records back must give."""
    return [{**r.doc, "hash": r.hash} for r in records]


async def read_all(repo: Any, tenant: str, after_seq: int = 0) -> list[dict[str, Any]]:
    return [r async for r in repo.records(tenant, after_seq)]


def migrate_to(connection: Connection, revision: str) -> None:
    """Bring an empty database to one Alembic revision (to test upgrades from it)."""
    migrate(connection, "llmops_audit", VERSION_TABLE, revision)


def purge_checkpoint(tenant: str, head: Head) -> dict[str, Any]:
    """A purge checkpoint of ``head`` as a signer makes it (the signature is not checked here)."""
    return {
        "tenant": tenant,
        "seq": head.seq,
        "hash": head.hash,
        "created_at": "2026-12-01T00:00:00.000000Z",
        "kind": "purge",
        "key_id": "k1",
        "signature": "5" * 64,
    }


def signer(calls: list[Head], tenant: str) -> Callable[[Head], Awaitable[dict[str, Any]]]:
    """A purge-checkpoint signer that remembers the heads it signed."""

    async def sign(head: Head) -> dict[str, Any]:
        calls.append(head)
        return purge_checkpoint(tenant, head)

    return sign


class AuditRepositoryContract:
    """What every implementation of the ``AuditRepository`` port must do."""

    @pytest.fixture
    async def repo(self) -> Any:  # overridden per adapter
        raise NotImplementedError

    async def test_an_empty_repository_has_no_heads_records_or_tenants(
        self, repo: Any, tenant: str
    ) -> None:
        assert await repo.heads([tenant]) == {}
        assert await repo.heads([]) == {}
        assert await repo.known_ids(tenant, [event_id(tenant, 1)]) == set()
        assert await read_all(repo, tenant) == []
        assert tenant not in await repo.tenants()
        assert await repo.checkpoints(tenant) == []

    async def test_appended_records_read_back_exactly_with_heads_and_known_ids(
        self, repo: Any, tenant: str
    ) -> None:
        other = f"{tenant}-b"
        mine, theirs = chain(tenant, 5), chain(other, 2)
        await repo.append(mine[:3])
        await repo.append([*mine[3:], *theirs])
        assert await read_all(repo, tenant) == stored(mine)
        assert await read_all(repo, other) == stored(theirs)
        for record in await read_all(repo, tenant):
            assert set(record) == {*RECORD_FIELDS, "hash"}
            assert record_hash(record) == record["hash"]
        heads = await repo.heads([tenant, other, f"{tenant}-none"])
        assert heads == {tenant: Head(5, mine[-1].hash), other: Head(2, theirs[-1].hash)}
        ids = [event_id(tenant, 2), event_id(tenant, 5), event_id(tenant, 9)]
        assert await repo.known_ids(tenant, ids) == {event_id(tenant, 2), event_id(tenant, 5)}
        assert await repo.known_ids(other, ids) == set()  # ids are known per tenant
        assert {tenant, other} <= set(await repo.tenants())

    async def test_records_after_a_seq(self, repo: Any, tenant: str) -> None:
        records = chain(tenant, 6)
        await repo.append(records)
        assert await read_all(repo, tenant, 4) == stored(records[4:])
        assert await read_all(repo, tenant, 6) == []

    async def test_records_page_beyond_a_thousand_in_seq_order(
        self, repo: Any, tenant: str
    ) -> None:
        records = chain(tenant, 2345)
        for start in range(0, len(records), 500):
            await repo.append(records[start : start + 500])
        got = await read_all(repo, tenant)
        assert [r["seq"] for r in got] == list(range(1, 2346))
        assert got[1000] == stored(records)[1000]
        tail = await read_all(repo, tenant, after_seq=999)
        assert [r["seq"] for r in tail] == list(range(1000, 2346))

    async def test_an_existing_tenant_and_seq_is_a_chain_conflict(
        self, repo: Any, tenant: str
    ) -> None:
        first = chain(tenant, 1)
        await repo.append(first)
        rival = new_record(tenant, 1, GENESIS_HASH, eid=event_id(tenant, 99))
        with pytest.raises(ChainConflict):
            await repo.append([rival])
        assert await read_all(repo, tenant) == stored(first)

    async def test_a_conflicting_batch_stores_nothing(self, repo: Any, tenant: str) -> None:
        first = chain(tenant, 1)
        await repo.append(first)
        fresh = new_record(tenant, 2, first[0].hash)
        rival = new_record(tenant, 1, GENESIS_HASH, eid=event_id(tenant, 77))
        with pytest.raises(ChainConflict):
            await repo.append([fresh, rival])
        assert await repo.known_ids(tenant, [fresh.doc["event_id"]]) == set()
        assert await repo.heads([tenant]) == {tenant: Head(1, first[0].hash)}

    async def test_an_event_id_is_stored_once_per_tenant(self, repo: Any, tenant: str) -> None:
        first = chain(tenant, 1)
        await repo.append(first)
        again = new_record(tenant, 2, first[0].hash, eid=first[0].doc["event_id"])
        with pytest.raises(ChainConflict):
            await repo.append([again])
        # The same seq and event id in another tenant's chain is no conflict.
        other = f"{tenant}-b"
        await repo.append([new_record(other, 1, GENESIS_HASH, eid=first[0].doc["event_id"])])
        assert (await repo.heads([other]))[other].seq == 1

    @pytest.fixture
    async def varied(self, repo: Any, tenant: str) -> list[NewRecord]:
        """Five records that differ in every filter column, and a decoy tenant matching them all."""
        hour = timedelta(hours=1)
        specs: list[dict[str, Any]] = [
            dict(
                event_type=TYPE_A,
                time=T0,
                trace_id="a" * 32,
                correlation_id="c1",
                user="alice",
                app="app1",
                source="s1",
            ),
            dict(
                event_type=TYPE_B,
                time=T0 + hour,
                trace_id="b" * 32,
                correlation_id="c1",
                user="bob",
                app="app1",
                source="s2",
            ),
            dict(
                event_type=TYPE_A,
                time=T0 + 2 * hour,
                trace_id=None,
                correlation_id=None,
                user=None,
                app="app2",
                source="s1",
            ),
            dict(
                event_type=TYPE_B,
                time=T0 + 3 * hour,
                trace_id="a" * 32,
                correlation_id="c2",
                user="alice",
                app="app2",
                source="s1",
            ),
            dict(
                event_type=TYPE_A,
                time=None,
                trace_id=None,
                correlation_id="c2",
                user="carol",
                app=None,
                source="s3",
            ),
        ]
        records: list[NewRecord] = []
        for seq, spec in enumerate(specs, 1):
            records.append(
                new_record(tenant, seq, records[-1].hash if records else GENESIS_HASH, **spec)
            )
        await repo.append(records)
        decoy = f"{tenant}-decoy"
        decoys: list[NewRecord] = []
        for seq, spec in enumerate(specs, 1):
            decoys.append(
                new_record(decoy, seq, decoys[-1].hash if decoys else GENESIS_HASH, **spec)
            )
        await repo.append(decoys)
        return records

    @pytest.mark.parametrize(
        ("filters", "seqs"),
        [
            ({}, [1, 2, 3, 4, 5]),
            ({"types": [TYPE_A]}, [1, 3, 5]),
            ({"types": [TYPE_A, TYPE_B]}, [1, 2, 3, 4, 5]),
            ({"types": ["llmops.other.thing.v1"]}, []),
            ({"since": T0 + timedelta(hours=1)}, [2, 3, 4]),  # inclusive
            ({"until": T0 + timedelta(hours=2)}, [1, 2]),  # exclusive
            ({"since": T0 + timedelta(hours=1), "until": T0 + timedelta(hours=3)}, [2, 3]),
            # The same instant written in another zone.
            (
                {"since": datetime(2026, 11, 27, 13, 0, tzinfo=timezone(timedelta(hours=2)))},
                [3, 4],
            ),
            ({"trace_id": "a" * 32}, [1, 4]),
            ({"correlation_id": "c1"}, [1, 2]),
            ({"user": "alice"}, [1, 4]),
            ({"user": "nobody"}, []),
            ({"app": "app2"}, [3, 4]),
            ({"source": "s2"}, [2]),
            ({"types": [TYPE_A], "user": "alice"}, [1]),
            ({"types": [TYPE_B], "app": "app2", "source": "s1", "trace_id": "a" * 32}, [4]),
            ({"after_seq": 2}, [3, 4, 5]),
            ({"limit": 2}, [1, 2]),
            ({"after_seq": 2, "limit": 2}, [3, 4]),
            ({"after_seq": 1, "types": [TYPE_A], "limit": 1}, [3]),
            ({"after_seq": 5}, []),
        ],
    )
    async def test_query_filters(
        self,
        repo: Any,
        tenant: str,
        varied: list[NewRecord],
        filters: dict[str, Any],
        seqs: list[int],
    ) -> None:
        rows = await repo.query(tenant, AuditQuery(**filters))
        assert [r["seq"] for r in rows] == seqs
        assert rows == [stored(varied)[s - 1] for s in seqs]  # full records, this tenant only

    async def test_checkpoints_are_listed_oldest_first_per_tenant(
        self, repo: Any, tenant: str
    ) -> None:
        made = []
        for i, who in enumerate([tenant, f"{tenant}-b", tenant, tenant]):
            cp = {
                "tenant": who,
                "seq": i + 1,
                "hash": f"{i:x}" * 64,
                "created_at": f"2026-11-27T09:30:0{i}.000000Z",
                "kind": "periodic",
                "key_id": "k1",
                "signature": f"{i + 5:x}" * 64,
            }
            await repo.add_checkpoint(cp)
            made.append(cp)
        assert await repo.checkpoints(tenant) == [made[0], made[2], made[3]]
        assert await repo.checkpoints(f"{tenant}-b") == [made[1]]

    async def test_purge_removes_only_older_records_behind_a_purge_checkpoint(
        self, repo: Any, tenant: str
    ) -> None:
        old = chain(tenant, 3, recorded_at="2026-01-01T00:00:00.000000Z")
        new = chain(tenant, 3, Head(3, old[-1].hash), recorded_at="2026-02-01T00:00:00.000000Z")
        other = chain(f"{tenant}-b", 2, recorded_at="2026-01-01T00:00:00.000000Z")
        await repo.append([*old, *new, *other])
        calls: list[Head] = []
        purged, checkpoint = await repo.purge(
            tenant, "2026-01-15T00:00:00.000000Z", signer(calls, tenant)
        )
        assert purged == 3
        assert calls == [Head(3, old[-1].hash)]
        assert checkpoint is not None
        assert (checkpoint["seq"], checkpoint["hash"], checkpoint["kind"]) == (
            3,
            old[-1].hash,
            "purge",
        )
        assert await repo.checkpoints(tenant) == [checkpoint]
        assert await read_all(repo, tenant) == stored(new)
        assert await repo.heads([tenant]) == {tenant: Head(6, new[-1].hash)}
        assert await repo.known_ids(tenant, [old[0].doc["event_id"]]) == set()
        assert await read_all(repo, f"{tenant}-b") == stored(other)  # other tenants untouched
        # Nothing older is left: no second checkpoint, nothing removed.
        assert await repo.purge(tenant, "2026-01-15T00:00:00.000000Z", signer(calls, tenant)) == (
            0,
            None,
        )
        assert len(calls) == 1
        assert len(await repo.checkpoints(tenant)) == 1

    async def test_purge_boundary_is_exclusive(self, repo: Any, tenant: str) -> None:
        records = chain(tenant, 2, recorded_at="2026-01-01T00:00:00.000000Z")
        await repo.append(records)
        calls: list[Head] = []
        assert await repo.purge(tenant, "2026-01-01T00:00:00.000000Z", signer(calls, tenant)) == (
            0,
            None,
        )
        purged, _ = await repo.purge(tenant, "2026-01-01T00:00:00.000001Z", signer(calls, tenant))
        assert purged == 2
        assert await read_all(repo, tenant) == []
        assert tenant not in await repo.tenants()


class SqlAuditRepositoryContract(AuditRepositoryContract):
    """The SQL adapter: its Alembic schema and the database's append-only guards."""

    @pytest.fixture
    def database_url(self) -> str:  # overridden per database
        raise NotImplementedError

    @pytest.fixture
    def empty_database_url(self) -> str:  # overridden per database: one nobody migrated yet
        raise NotImplementedError

    @pytest.fixture
    async def repo(self, database_url: str) -> AsyncIterator[SqlAuditRepository]:
        repository = SqlAuditRepository(database_url)
        await repository.open()
        try:
            yield repository
        finally:
            await repository.close()

    async def raw(self, repo: SqlAuditRepository, sql: str) -> Any:
        async with repo.engine.begin() as conn:
            result = await conn.execute(text(sql))
            return result.all() if result.returns_rows else None

    async def test_the_batch_insert_stores_what_sqlalchemy_core_would_store(
        self, repo: SqlAuditRepository, tenant: str
    ) -> None:
        """The driver-level executemany binds the same values as ``insert(records)``."""
        other = f"{tenant}-core"
        zones = [T0, T0.astimezone(timezone(timedelta(hours=-7, minutes=-30))), None]
        mine = [
            new_record(tenant, i + 1, GENESIS_HASH, time=zones[i % 3], user="u", trace_id="a" * 32)
            for i in range(6)
        ]
        await repo.append(mine)
        rows = [
            {
                **{k: r.doc[k] for k in RECORD_FIELDS if k != "event"},
                "tenant": other,
                "hash": r.hash,
                "source": r.source,
                "time": r.time,
                "trace_id": r.trace_id,
                "correlation_id": r.correlation_id,
                "actor_user": r.user,
                "actor_app": r.app,
                "event_json": r.event_json or fastjson.dumps(r.doc["event"]).decode(),
            }
            for r in mine
        ]
        async with repo.engine.begin() as conn:
            await conn.execute(insert(records_table), rows)
        columns = [c.name for c in records_table.columns if c.name not in ("pk", "tenant")]
        select_sql = (
            f"SELECT {', '.join(columns)} FROM audit_records WHERE tenant = '{{}}' ORDER BY seq"
        )
        driver = await self.raw(repo, select_sql.format(tenant))
        core = await self.raw(repo, select_sql.format(other))
        assert len(driver) == 6
        assert [tuple(r) for r in driver] == [tuple(r) for r in core]

    async def test_the_migration_builds_the_schema_and_reopening_is_idempotent(
        self, empty_database_url: str, tenant: str
    ) -> None:
        repo = SqlAuditRepository(empty_database_url)
        await repo.open()
        try:
            assert await self.raw(repo, "SELECT version_num FROM alembic_version") == [("0003",)]
            assert await self.raw(repo, "SELECT id, last_pk FROM audit_outbox") == [(1, 0)]
            records = chain(tenant, 2)
            await repo.append(records)
        finally:
            await repo.close()
        again = SqlAuditRepository(empty_database_url)
        await again.open()  # runs the migrations again: nothing to do, nothing lost
        try:
            assert await self.raw(again, "SELECT version_num FROM alembic_version") == [("0003",)]
            assert await self.raw(again, "SELECT id, last_pk FROM audit_outbox") == [(1, 0)]
            assert await read_all(again, tenant) == stored(records)
            with pytest.raises(ChainConflict):  # the unique constraints came back with it
                await again.append(records[1:])
            await self.assert_refused(again, "DELETE FROM audit_records")  # and the guards
        finally:
            await again.close()

    async def assert_refused(self, repo: SqlAuditRepository, sql: str) -> None:
        with pytest.raises(DBAPIError, match="append-only"):
            await self.raw(repo, sql)

    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE audit_records SET event_type = 'llmops.x.y.v1' WHERE seq = 1",
            "UPDATE audit_records SET hash = prev_hash",
            "UPDATE audit_records SET seq = seq + 100",
            "DELETE FROM audit_records WHERE seq = 2",
            "DELETE FROM audit_records",
        ],
    )
    async def test_the_database_refuses_to_change_records(
        self, repo: SqlAuditRepository, tenant: str, sql: str
    ) -> None:
        records = chain(tenant, 3)
        await repo.append(records)
        await self.assert_refused(
            repo, f"{sql}{' AND' if 'WHERE' in sql else ' WHERE'} tenant = '{tenant}'"
        )
        await self.assert_refused(repo, sql)  # not even across tenants
        assert await read_all(repo, tenant) == stored(records)

    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE audit_checkpoints SET signature = 'x'",
            "UPDATE audit_checkpoints SET seq = 2 WHERE seq = 1",
            "DELETE FROM audit_checkpoints WHERE seq = 1",
            "DELETE FROM audit_checkpoints",
        ],
    )
    async def test_the_database_refuses_to_change_checkpoints(
        self, repo: SqlAuditRepository, tenant: str, sql: str
    ) -> None:
        cp = {
            "tenant": tenant,
            "seq": 1,
            "hash": "a" * 64,
            "created_at": "2026-11-27T09:30:00.000000Z",
            "kind": "periodic",
            "key_id": "k1",
            "signature": "b" * 64,
        }
        await repo.add_checkpoint(cp)
        await self.assert_refused(repo, sql)
        assert await repo.checkpoints(tenant) == [cp]

    async def test_a_purge_leaves_nothing_that_unlocks_later_deletes(
        self, repo: SqlAuditRepository, tenant: str
    ) -> None:
        records = chain(tenant, 4, recorded_at="2026-01-01T00:00:00.000000Z")
        await repo.append(records)
        purged, _ = await repo.purge(tenant, "2026-01-01T00:00:00.000001Z", signer([], tenant))
        assert purged == 4
        await repo.append(chain(tenant, 2, Head(4, records[-1].hash)))
        await self.assert_refused(repo, f"DELETE FROM audit_records WHERE tenant = '{tenant}'")
        assert [r["seq"] for r in await read_all(repo, tenant)] == [5, 6]

    async def test_a_record_can_be_deleted_only_under_a_purge_checkpoint_naming_a_stored_one(
        self, repo: SqlAuditRepository, tenant: str
    ) -> None:
        """Nothing a plain statement sets (a permit row, a session setting) unlocks a delete:
        only a purge checkpoint of the tenant that names a stored record (its seq and its hash)
        does, up to that record, and it stays behind, append-only, for verify to judge."""
        other = f"{tenant}-b"
        mine, theirs = chain(tenant, 4), chain(other, 4)
        await repo.append([*mine, *theirs])
        delete = f"DELETE FROM audit_records WHERE tenant = '{tenant}'"
        for unlocks_nothing in (
            {**purge_checkpoint(tenant, Head(4, mine[3].hash)), "kind": "periodic"},
            purge_checkpoint(other, Head(4, theirs[3].hash)),  # another tenant's
            purge_checkpoint(tenant, Head(9 * 10**18, "f" * 64)),  # blind: past any record
            purge_checkpoint(tenant, Head(4, "c" * 64)),  # a stored seq, not its hash
        ):
            await repo.add_checkpoint(unlocks_nothing)
            await self.assert_refused(repo, delete)
            await self.assert_refused(repo, f"{delete} AND seq = 1")
        await repo.add_checkpoint(purge_checkpoint(tenant, Head(2, mine[1].hash)))
        await self.assert_refused(repo, f"{delete} AND seq = 3")
        await self.raw(repo, f"{delete} AND seq < 2")
        await self.raw(repo, f"{delete} AND seq = 2")  # the named record goes last
        assert [r["seq"] for r in await read_all(repo, tenant)] == [3, 4]
        assert len(await read_all(repo, other)) == 4

    async def test_the_migration_from_hmac_checkpoints_moves_them_aside(
        self, empty_database_url: str, tenant: str
    ) -> None:
        """A trail created at revision 0001 keeps its records; its HMAC checkpoints move to
        ``audit_checkpoints_hmac`` (still append-only) and the old permit is gone."""
        legacy = {
            "tenant": tenant,
            "seq": 2,
            "hash": "a" * 64,
            "created_at": "2026-11-27T09:30:00.000000Z",
            "kind": "purge",
            "key_id": "k1",
            "signature": "b" * 64,
        }
        repo = SqlAuditRepository(empty_database_url)
        repo.open_engine()
        try:
            async with repo.engine.begin() as conn:
                await conn.run_sync(migrate_to, "0001")
            await self.raw(
                repo,
                "INSERT INTO audit_checkpoints (tenant, seq, hash, created_at, kind, key_id, "
                f"signature) VALUES ('{tenant}', 2, '{'a' * 64}', '{legacy['created_at']}', "
                f"'purge', 'k1', '{'b' * 64}')",
            )
            await repo.close()
            await repo.open()  # migrates to the head
            await repo.append(chain(tenant, 3))
            assert await repo.checkpoints(tenant) == []
            moved = await self.raw(
                repo,
                "SELECT tenant, seq, hash, created_at, kind, key_id, signature "
                "FROM audit_checkpoints_hmac",
            )
            assert [tuple(r) for r in moved] == [tuple(legacy.values())]
            # The legacy purge checkpoint unlocks nothing, and cannot be removed either.
            await self.assert_refused(repo, f"DELETE FROM audit_records WHERE tenant = '{tenant}'")
            await self.assert_refused(repo, "DELETE FROM audit_checkpoints_hmac")
            await self.assert_refused(repo, "UPDATE audit_checkpoints_hmac SET seq = 9")
            cp = purge_checkpoint(tenant, Head(3, "d" * 64))
            await repo.add_checkpoint({**cp, "signature": "e" * 128})  # Ed25519 fits
            assert (await repo.checkpoints(tenant))[0]["signature"] == "e" * 128
        finally:
            await repo.close()


class TestInMemoryFake(AuditRepositoryContract):
    """The fake the service unit tests use keeps the port's promises."""

    @pytest.fixture
    async def repo(self, fake_repository: Any) -> Any:
        return fake_repository


class TestSqliteAuditRepository(SqlAuditRepositoryContract):
    """The embedded default: a SQLite file in WAL mode."""

    @pytest.fixture
    def database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'audit.db'}"

    @pytest.fixture
    def empty_database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'fresh' / 'audit.db'}"

    async def test_the_guards_are_triggers(self, repo: SqlAuditRepository) -> None:
        names = await self.raw(repo, "SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert {n for (n,) in names} == {
            "audit_records_no_update",
            "audit_records_no_delete",
            "audit_checkpoints_no_update",
            "audit_checkpoints_no_delete",
            "audit_checkpoints_hmac_no_update",
            "audit_checkpoints_hmac_no_delete",
        }
        tables = await self.raw(repo, "SELECT name FROM sqlite_master WHERE type = 'table'")
        assert "audit_purge_permit" not in {n for (n,) in tables}  # revision 0001's permit


@pytest.mark.postgres
class TestPostgresAuditRepository(SqlAuditRepositoryContract):
    """Production: PostgreSQL, in a database this session created (the migration ran from scratch).

    Tests keep to their own tenants; the migration test gets a database of its own.
    """

    @pytest.fixture
    def database_url(self, shared_postgres_database: str) -> str:
        return shared_postgres_database

    @pytest.fixture
    def empty_database_url(self, postgres_database: str) -> str:
        return postgres_database

    @pytest.mark.parametrize("table", ["audit_records", "audit_checkpoints"])
    async def test_truncate_is_refused(
        self, repo: SqlAuditRepository, tenant: str, table: str
    ) -> None:
        await repo.append(chain(tenant, 2))
        await self.assert_refused(repo, f"TRUNCATE {table}")
        assert len(await read_all(repo, tenant)) == 2

    async def test_the_old_purge_setting_unlocks_nothing(
        self, repo: SqlAuditRepository, tenant: str
    ) -> None:
        await repo.append(chain(tenant, 2))
        async with repo.engine.begin() as conn:
            await conn.execute(text("SET LOCAL llmops.audit_purge = 'on'"))  # revision 0001's
            with pytest.raises(DBAPIError, match="append-only"):
                async with conn.begin_nested():
                    await conn.execute(text(f"DELETE FROM audit_records WHERE tenant = '{tenant}'"))
            with pytest.raises(DBAPIError, match="append-only"):
                async with conn.begin_nested():
                    await conn.execute(text("UPDATE audit_records SET source = 'x'"))
            with pytest.raises(DBAPIError, match="append-only"):
                async with conn.begin_nested():
                    await conn.execute(text("TRUNCATE audit_records"))
        assert [r["seq"] for r in await read_all(repo, tenant)] == [1, 2]
