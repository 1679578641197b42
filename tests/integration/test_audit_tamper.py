"""Tamper tests: edit the stored audit trail behind the service's back and let ``verify`` name it.

Runs on a SQLite file and on a fresh PostgreSQL database. Each test records 50 events through
AuditService + SqlAuditRepository (a signed periodic checkpoint at seq 30), then tampers with the
tables directly, as someone holding the database would: first switching the append-only guards
off (SQLite ``DROP TRIGGER``, PostgreSQL ``ALTER TABLE ... DISABLE TRIGGER USER``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import DBAPIError

from llmops_audit.admission import admit
from llmops_audit.chain import Head
from llmops_audit.checkpoints import Sealer, Signer
from llmops_audit.service import AuditService
from llmops_audit.store import SqlAuditRepository
from llmops_audit.store import records as records_table
from llmops_contracts import new_event_id, wrap
from llmops_contracts.auditchain import record_hash, verify_chain
from llmops_contracts.common import Actor
from llmops_contracts.llm import LlmCallCompleted
from llmops_shared.clock import FixedClock
from tests.conftest import fresh_postgres_database

SIGNER = Signer.from_text("55" * 32)
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
N, BATCH, CHECKPOINT_AT = 50, 10, 30


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, uid: str
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    postgres_url = request.getfixturevalue("postgres_url")
    async with fresh_postgres_database(postgres_url, f"llmops_tamper_{uid}") as url:
        yield url


@dataclass
class Trail:
    """A recorded trail and the means to tamper with it."""

    service: AuditService
    repo: SqlAuditRepository
    tenant: str
    ids: list[str]  # event ids by seq - 1
    clock: FixedClock

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.repo.engine.begin() as conn:
            await conn.execute(text(sql), params)

    async def in_one_transaction(self, *statements: str) -> None:
        async with self.repo.engine.begin() as conn:
            for sql in statements:
                await conn.execute(text(sql))

    async def disable_guards(self) -> None:
        if self.repo.dialect == "postgresql":
            for table in ("audit_records", "audit_checkpoints"):
                await self.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for name in ("records_no_update", "records_no_delete"):
                await self.execute(f"DROP TRIGGER audit_{name}")
            for name in ("checkpoints_no_update", "checkpoints_no_delete"):
                await self.execute(f"DROP TRIGGER audit_{name}")

    async def rows(self) -> list[dict[str, Any]]:
        """Every stored column of the tenant's records, in seq order."""
        query = (
            select(records_table)
            .where(records_table.c.tenant == self.tenant)
            .order_by(records_table.c.seq)
        )
        async with self.repo.engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    async def rewrite_from(self, seq: int, rows: list[dict[str, Any]]) -> None:
        """Replace the records from ``seq`` on with ``rows`` (guards must be off)."""
        table = records_table
        async with self.repo.engine.begin() as conn:
            await conn.execute(
                delete(table).where((table.c.tenant == self.tenant) & (table.c.seq >= seq))
            )
            await conn.execute(
                insert(table), [{k: v for k, v in r.items() if k != "pk"} for r in rows]
            )

    async def verify(self, **options: Any) -> Any:
        return await self.service.verify(self.tenant, **options)


def event(tenant: str, i: int) -> bytes:
    payload = LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o-mini",
        latency_ms=10 + i / 4,
        actor=Actor(user=f"user{i % 3}", app="bot"),
    )
    env = wrap(
        payload,
        tenant=tenant,
        source="app://tamper",
        correlation_id=f"corr-{i}",
        traceparent=f"00-{i:032x}-{'b' * 16}-01",
    )
    return env.to_json()


def signed(repo: SqlAuditRepository, clock: FixedClock) -> AuditService:
    """The audit service over ``repo``, signing with the test key (no published ledger here)."""
    sealer = Sealer(repo, SIGNER, clock=clock)
    return AuditService(sealer.watch(repo), checkpointer=sealer, clock=clock)


@pytest.fixture
async def trail(database_url: str, tenant: str) -> AsyncIterator[Trail]:
    repo = SqlAuditRepository(database_url)
    await repo.open()
    clock = FixedClock(T0)
    service = signed(repo, clock)
    subject = f"llmops.evt.llm.call_completed.{tenant}"
    ids: list[str] = []
    for start in range(0, N, BATCH):
        batch = [admit(subject, event(tenant, i)) for i in range(start, start + BATCH)]
        assert await service.record(batch) == BATCH
        ids += [item.event_id for item in batch]
        if start + BATCH == CHECKPOINT_AT:
            assert await service.checkpoint_heads() == 1
        clock.advance(minutes=1)
    try:
        yield Trail(service, repo, tenant, ids, clock)
    finally:
        await repo.close()


def first_break(report: Any) -> tuple[int, str | None, str]:
    broken = report.first_break
    assert broken is not None, "verify found nothing"
    return broken.seq, broken.event_id, broken.kind


async def test_an_untouched_trail_verifies(trail: Trail) -> None:
    report = await trail.verify()
    assert report.ok, report.breaks
    assert (report.checked, report.first_seq, report.last_seq) == (N, 1, N)
    assert report.checkpoints_checked == 1
    assert [c["seq"] for c in await trail.repo.checkpoints(trail.tenant)] == [CHECKPOINT_AT]


# --- a changed field ---------------------------------------------------------------------------


def _changed_event(row: dict[str, Any]) -> str:
    event = json.loads(row["event_json"])
    event["data"]["latency_ms"] += 1
    return json.dumps(event)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("event_json", _changed_event),
        ("event_type", "llmops.llm.call_completed.v2"),
        ("event_subject", "llmops.evt.llm.call_completed.elsewhere"),
        ("recorded_at", "2026-11-27T09:01:00.000001Z"),
        ("redaction_policy_version", "none-applied"),
        ("event_id", "01900000-0000-7000-8000-000000000bad"),
        ("prev_hash", "f" * 64),
        ("hash", "e" * 64),
    ],
)
async def test_a_changed_field_is_named_as_modified(trail: Trail, column: str, value: Any) -> None:
    row = (await trail.rows())[16]
    new = value(row) if callable(value) else value
    await trail.disable_guards()
    await trail.execute(
        f"UPDATE audit_records SET {column} = :v WHERE tenant = :t AND seq = 17",
        v=new,
        t=trail.tenant,
    )
    expected_id = new if column == "event_id" else trail.ids[16]
    assert first_break(await trail.verify()) == (17, expected_id, "modified")


async def test_a_different_spelling_of_the_same_json_is_not_a_change(trail: Trail) -> None:
    row = (await trail.rows())[16]
    event = json.loads(row["event_json"])
    respelled = json.dumps(dict(reversed(list(event.items()))), indent=2, ensure_ascii=True)
    await trail.disable_guards()
    await trail.execute(
        "UPDATE audit_records SET event_json = :v WHERE tenant = :t AND seq = 17",
        v=respelled,
        t=trail.tenant,
    )
    assert (await trail.verify()).ok  # the hash is over the canonical form, not stored bytes


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_user", "mallory"),
        ("actor_app", "other-app"),
        ("source", "app://elsewhere"),
        ("correlation_id", "corr-other"),
        ("trace_id", "f" * 32),
        ("time", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
async def test_a_changed_filter_column_is_named_as_modified(
    trail: Trail, column: str, value: Any
) -> None:
    await trail.disable_guards()
    await trail.execute(
        f"UPDATE audit_records SET {column} = :v WHERE tenant = :t AND seq = 17",
        v=value,
        t=trail.tenant,
    )
    assert first_break(await trail.verify()) == (17, trail.ids[16], "modified")


# --- a deleted row -----------------------------------------------------------------------------


@pytest.mark.parametrize("seq", [1, 17, CHECKPOINT_AT, N - 1])
async def test_a_deleted_row_is_reported_missing_at_the_next_seq(trail: Trail, seq: int) -> None:
    await trail.disable_guards()
    await trail.execute(
        "DELETE FROM audit_records WHERE tenant = :t AND seq = :s", t=trail.tenant, s=seq
    )
    broken_seq, event_id, kind = first_break(await trail.verify())
    assert (broken_seq, kind) == (seq + 1, "missing")
    assert event_id == trail.ids[seq]  # the record after the gap


async def test_a_deleted_head_is_reported_once_the_head_was_signed(trail: Trail) -> None:
    assert await trail.service.checkpoint_heads() == 1  # signs seq 50
    await trail.disable_guards()
    await trail.execute(
        "DELETE FROM audit_records WHERE tenant = :t AND seq >= :s", t=trail.tenant, s=N - 2
    )
    report = await trail.verify()
    assert first_break(report) == (N - 2, None, "missing")  # named where the cut starts
    assert "records 48..50 are gone" in report.first_break.detail


#: What once permitted a delete: revision 0001's SQLite permit row, and its PostgreSQL setting.
OLD_PERMITS = {
    "sqlite": "INSERT INTO audit_purge_permit (one) VALUES (1)",
    "postgresql": "SET LOCAL llmops.audit_purge = 'on'",
}


async def test_what_once_permitted_a_delete_permits_nothing(trail: Trail) -> None:
    """No trigger switched off, a plain statement: no row may go without a purge checkpoint."""
    permit = OLD_PERMITS[trail.repo.dialect]
    delete_tail = f"DELETE FROM audit_records WHERE tenant = '{trail.tenant}' AND seq >= 41"
    with pytest.raises(DBAPIError, match=r"append-only|no such table"):
        await trail.in_one_transaction(permit, delete_tail)
    assert len(await trail.rows()) == N
    assert (await trail.verify()).ok


# --- reordered rows ----------------------------------------------------------------------------


async def test_two_swapped_rows_are_detected_at_the_first_of_them(trail: Trail) -> None:
    await trail.disable_guards()
    async with trail.repo.engine.begin() as conn:
        for old, new in ((20, -1), (25, 20), (-1, 25)):
            await conn.execute(
                text("UPDATE audit_records SET seq = :new WHERE tenant = :t AND seq = :old"),
                {"new": new, "old": old, "t": trail.tenant},
            )
    assert first_break(await trail.verify()) == (20, trail.ids[24], "modified")
    every = await trail.verify(all_breaks=True)
    assert (25, trail.ids[19], "modified") in [(b.seq, b.event_id, b.kind) for b in every.breaks]


async def test_swapped_and_rehashed_rows_are_still_detected(trail: Trail) -> None:
    # A forger who swaps two rows' content and recomputes their own hashes (keeping the links).
    rows = await trail.rows()
    a, b = rows[19], rows[20]
    swapped = []
    for row, seq in ((b, 20), (a, 21)):
        moved = {**row, "seq": seq}
        record = {**moved, "event": json.loads(moved["event_json"])}
        moved["hash"] = record_hash(record)
        swapped.append(moved)
    await trail.disable_guards()
    await trail.rewrite_from(20, [*swapped, *rows[21:]])
    broken_seq, event_id, kind = first_break(await trail.verify())
    assert (broken_seq, event_id) == (20, trail.ids[20])
    assert kind in ("inserted", "reordered")


# --- an inserted row ---------------------------------------------------------------------------


def _forged_row(template: dict[str, Any], seq: int, prev_hash: str) -> dict[str, Any]:
    event = json.loads(template["event_json"])
    event["id"] = new_event_id()
    event["data"]["request_model"] = "forged-model"
    row = {
        **template,
        "seq": seq,
        "event_id": event["id"],
        "event_json": json.dumps(event),
        "prev_hash": prev_hash,
    }
    row["hash"] = record_hash({**row, "event": event})
    return row


async def test_a_forged_row_with_a_wrong_link_is_reported_inserted(trail: Trail) -> None:
    rows = await trail.rows()
    forged = _forged_row(rows[9], 10, "a" * 64)  # its own hash is right; its link is not
    later = [{**r, "seq": r["seq"] + 1} for r in rows[9:]]  # renumbered, not rehashed
    await trail.disable_guards()
    await trail.rewrite_from(10, [forged, *later])
    assert first_break(await trail.verify()) == (10, forged["event_id"], "inserted")


async def test_a_forged_row_in_a_rehashed_chain_is_caught_by_the_signed_checkpoint(
    trail: Trail,
) -> None:
    rows = await trail.rows()
    rebuilt = [_forged_row(rows[9], 10, rows[8]["hash"])]
    for row in rows[9:]:  # renumber and recompute every later hash: a consistent chain
        moved = {**row, "seq": row["seq"] + 1, "prev_hash": rebuilt[-1]["hash"]}
        moved["hash"] = record_hash({**moved, "event": json.loads(moved["event_json"])})
        rebuilt.append(moved)
    await trail.disable_guards()
    await trail.rewrite_from(10, rebuilt)
    stored = [r async for r in trail.repo.records(trail.tenant)]
    assert len(stored) == N + 1
    assert verify_chain(stored).ok  # every hash and link is consistent...
    broken = first_break(await trail.verify())  # ...but seq 30 is not what was signed
    assert (broken[0], broken[2]) == (CHECKPOINT_AT, "checkpoint")
    assert broken[1] == trail.ids[CHECKPOINT_AT - 2]  # the record that now sits at seq 30


# --- checkpoints ---------------------------------------------------------------------------------


async def test_a_checkpoint_with_a_changed_signature_is_detected(trail: Trail) -> None:
    await trail.disable_guards()
    await trail.execute(
        "UPDATE audit_checkpoints SET signature = :s WHERE tenant = :t", s="0" * 64, t=trail.tenant
    )
    report = await trail.verify()
    assert first_break(report)[::2] == (CHECKPOINT_AT, "checkpoint")
    assert "signature" in report.first_break.detail


async def test_a_checkpoint_moved_to_a_forged_chain_without_the_key_is_detected(
    trail: Trail,
) -> None:
    rows = await trail.rows()
    rebuilt = [_forged_row(rows[9], 10, rows[8]["hash"])]
    for row in rows[9:]:
        moved = {**row, "seq": row["seq"] + 1, "prev_hash": rebuilt[-1]["hash"]}
        moved["hash"] = record_hash({**moved, "event": json.loads(moved["event_json"])})
        rebuilt.append(moved)
    await trail.disable_guards()
    await trail.rewrite_from(10, rebuilt)
    await trail.execute(
        "UPDATE audit_checkpoints SET hash = :h WHERE tenant = :t",
        h=rebuilt[CHECKPOINT_AT - 10]["hash"],
        t=trail.tenant,
    )
    report = await trail.verify()
    assert first_break(report)[::2] == (CHECKPOINT_AT, "checkpoint")
    assert "signature" in report.first_break.detail


async def test_an_inserted_checkpoint_with_a_bad_signature_is_detected(trail: Trail) -> None:
    # Checkpoints are append-only too, but an INSERT is allowed: no guard needs to be off.
    rows = await trail.rows()
    forged = Signer.generate().sign(
        trail.tenant, Head(40, rows[39]["hash"]), "periodic", trail.clock.now()
    )
    await trail.repo.add_checkpoint(forged)
    assert first_break(await trail.verify())[::2] == (40, "checkpoint")


# --- purge ---------------------------------------------------------------------------------------


async def test_a_purged_trail_still_verifies_from_its_purge_checkpoint(trail: Trail) -> None:
    purged, checkpoint = await trail.service.purge(trail.tenant, T0 + timedelta(minutes=2.5))
    assert purged == 30
    assert checkpoint is not None
    assert (checkpoint["seq"], checkpoint["kind"]) == (30, "purge")
    report = await trail.verify()
    assert report.ok, report.breaks
    assert (report.first_seq, report.last_seq, report.checked) == (31, N, N - 30)
    # The chain goes on after the purge, also for a restarted service.
    restarted = signed(trail.repo, trail.clock)
    subject = f"llmops.evt.llm.call_completed.{trail.tenant}"
    assert await restarted.record([admit(subject, event(trail.tenant, 99))]) == 1
    report = await restarted.verify(trail.tenant)
    assert report.ok, report.breaks
    assert report.last_seq == N + 1


async def test_tampering_after_a_purge_is_still_detected(trail: Trail) -> None:
    await trail.service.purge(trail.tenant, T0 + timedelta(minutes=2.5))
    await trail.disable_guards()
    await trail.execute("DELETE FROM audit_records WHERE tenant = :t AND seq = 31", t=trail.tenant)
    assert first_break(await trail.verify()) == (32, trail.ids[31], "missing")


async def test_a_fully_purged_trail_continues_after_a_restart(trail: Trail) -> None:
    purged, _ = await trail.service.purge(trail.tenant, T0 + timedelta(days=1))
    assert purged == N
    restarted = signed(trail.repo, trail.clock)
    subject = f"llmops.evt.llm.call_completed.{trail.tenant}"
    await restarted.record([admit(subject, event(trail.tenant, 99))])
    assert [r["seq"] async for r in trail.repo.records(trail.tenant)] == [N + 1]
    assert (await restarted.verify(trail.tenant)).ok


@pytest.mark.parametrize("cut", ["head", "tail"])
async def test_a_forged_purge_checkpoint_does_not_hide_deleted_records(
    trail: Trail, cut: str
) -> None:
    """The one way past the guard without switching it off: a purge checkpoint naming a stored
    record. Anyone who can read that record may insert one, nobody but the service can sign
    one, and it can never be removed again."""
    rows = await trail.rows()
    seq = 20 if cut == "head" else N  # the oldest 20, or the whole chain (a cut tail)
    forged = Signer.generate().sign(
        trail.tenant, Head(seq, rows[seq - 1]["hash"]), "purge", trail.clock.now()
    )
    await trail.repo.add_checkpoint(forged)
    lower = 41 if cut == "tail" else 1
    # The record the checkpoint names last (while it is stored, the checkpoint unlocks deletes).
    await trail.in_one_transaction(
        f"DELETE FROM audit_records WHERE tenant = '{trail.tenant}' AND seq BETWEEN {lower} AND {seq - 1}",
        f"DELETE FROM audit_records WHERE tenant = '{trail.tenant}' AND seq = {seq}",
    )
    report = await trail.verify()
    assert first_break(report)[::2] == (seq, "checkpoint")
    assert "unknown key" in report.first_break.detail
    assert (await trail.repo.checkpoints(trail.tenant))[-1] == forged  # there for good
    with pytest.raises(DBAPIError, match="append-only"):
        await trail.execute("DELETE FROM audit_checkpoints WHERE tenant = :t", t=trail.tenant)
