"""Finding 7 of issue 10, reproduced: a cut tail, deleted checkpoints and a re-chain verified ok.

Through a real nats-server, the audit service (``create_app``) records 50 calls a raw nats-py
publisher sends for one tenant and publishes a signed checkpoint of seq 50 on the AUDIT stream.
Then it stops, and someone who holds the database (and switches its guards off, as a DBA can)
tampers with it: cuts the last 10 records, deletes the checkpoint rows, or rewrites the chain
from seq 20 and re-signs its checkpoints with a key of their own (the old HMAC file key that sat
beside ``audit.db``, or an Ed25519 key). The service is started again, and ``llmops audit verify``
must fail naming the seq; the restarted service must not sign the tampered head.

Without touching a trigger, a plain insert into revision 0001's permit table no longer enables
a delete, and a purge checkpoint inserted to get past the guard is reported by verify.

Runs on SQLite and, when ``LLMOPS_TEST_POSTGRES_URL`` is reachable, on a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from llmops_audit.app import create_app
from llmops_audit.chain import Head
from llmops_audit.checkpoints import Signer
from llmops_audit.config import AuditSettings
from llmops_audit.store import SqlAuditRepository
from llmops_contracts import headers, subjects, wrap
from llmops_contracts.auditchain import CHECKPOINT_FIELDS, record_hash
from llmops_contracts.canonical import canonical_json
from llmops_contracts.common import Actor
from llmops_contracts.llm import LlmCallCompleted
from tests.conftest import eventually, fresh_postgres_database, running

pytestmark = pytest.mark.timeout(300)

LLMOPS = str(Path(sys.executable).parent / "llmops")
KEY = "77" * 32  # the service's signing key (a hex seed), kept outside the data directory
N = 50
T_FORGED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, uid: str
) -> AsyncIterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'audit.db'}"
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    async with fresh_postgres_database(postgres_url, f"llmops_trunc_{uid}") as url:
        yield url


@dataclass
class Trail:
    """A recorded, signed and published trail, and the means to tamper with its database."""

    settings: AuditSettings
    nats_url: str
    tenant: str
    published: dict[str, Any]  # the newest checkpoint on the AUDIT stream (seq 50)

    async def sql(self, *statements: str, guards_off: bool = True) -> None:
        """Run statements in one transaction on the trail's database, as its administrator."""
        repo = SqlAuditRepository(self.settings.database_url)
        repo.open_engine()
        try:
            async with repo.engine.begin() as conn:
                if guards_off and repo.dialect == "postgresql":
                    for table in ("audit_records", "audit_checkpoints"):
                        await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
                elif guards_off:
                    for name in ("records_no_update", "records_no_delete"):
                        await conn.execute(text(f"DROP TRIGGER IF EXISTS audit_{name}"))
                    for name in ("checkpoints_no_update", "checkpoints_no_delete"):
                        await conn.execute(text(f"DROP TRIGGER IF EXISTS audit_{name}"))
                for sql in statements:
                    await conn.execute(text(sql))
        finally:
            await repo.close()

    async def rows(self) -> list[dict[str, Any]]:
        repo = SqlAuditRepository(self.settings.database_url)
        repo.open_engine()
        try:
            async with repo.engine.connect() as conn:
                result = await conn.execute(
                    text("SELECT * FROM audit_records WHERE tenant = :t ORDER BY seq"),
                    {"t": self.tenant},
                )
                return [dict(r._mapping) for r in result]
        finally:
            await repo.close()

    async def newest_published(self) -> dict[str, Any] | None:
        return await newest_published(self.nats_url, self.tenant)


async def publish_calls(nats_url: str, tenant: str, n: int, start: int = 0) -> None:
    """Publish ``n`` LLM-call events with a raw nats-py JetStream publisher."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for i in range(start, start + n):
            call = LlmCallCompleted(
                provider="openai",
                request_model="gpt-4o-mini",
                latency_ms=10 + i,
                actor=Actor(user=f"user{i % 3}", app="bot"),
            )
            envelope = wrap(call, tenant=tenant, source="app://raw")
            await js.publish(
                envelope.subject(), envelope.to_json(), headers={headers.MSG_ID: envelope.id}
            )
    finally:
        await nc.close()


async def newest_published(nats_url: str, tenant: str) -> dict[str, Any] | None:
    """The last checkpoint on the tenant's checkpoint subject of the AUDIT stream."""
    nc = await nats.connect(nats_url)
    try:
        msg = await nc.jetstream().get_last_msg(
            subjects.AUDIT_STREAM, subjects.for_tenant(subjects.AUDIT_CHECKPOINTS, tenant)
        )
    except NotFoundError:
        return None
    finally:
        await nc.close()
    data: dict[str, Any] = json.loads(msg.data)["data"]
    return data


async def verify(nats_url: str, tenant: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``llmops audit verify --tenant T``, as an operator runs it (a thread: this loop serves)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "NATS_URL": nats_url}
    env.pop("LLMOPS_AUDIT_PUBLIC_KEY", None)
    return await asyncio.to_thread(
        subprocess.run,
        [LLMOPS, "audit", "verify", "--tenant", tenant, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def audit_settings(nats_url: str, database_url: str, uid: str) -> AuditSettings:
    return AuditSettings(
        nats_url=nats_url,
        database_url=database_url,
        durable_prefix=f"audit-{uid}",
        query_queue=f"audit-{uid}",
        health_port=0,
        batch_timeout_s=0.05,
        signing_key=KEY,
        checkpoint_interval_s=0.2,
    )


@pytest.fixture
async def trail(nats_url: str, database_url: str, uid: str, tenant: str) -> Trail:
    """50 calls recorded, the head signed and published, the service stopped."""
    settings = audit_settings(nats_url, database_url, uid)
    async with running(create_app(settings)) as app:
        await publish_calls(nats_url, tenant, N)

        async def signed_head() -> dict[str, Any] | None:
            published = await newest_published(nats_url, tenant)
            return published if published is not None and published["seq"] == N else None

        published = await eventually(signed_head, timeout=30)
        assert (await app.service.verify(tenant)).ok
    ok = await verify(nats_url, tenant)
    assert ok.returncode == 1  # nobody answers while the service is down
    return Trail(settings, nats_url, tenant, published)


def broken_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("BROKEN: tenant "), result.stdout
    return lines[1].strip()


def broken_gauge(tenant: str) -> float | None:
    return REGISTRY.get_sample_value("llmops_audit_chain_broken", {"tenant": tenant})


async def test_a_cut_tail_fails_verify_and_the_restarted_service_does_not_sign_it(
    trail: Trail, uid: str
) -> None:
    tenant = trail.tenant
    await trail.sql(
        f"DELETE FROM audit_records WHERE tenant = '{tenant}' AND seq > 40",
        f"DELETE FROM audit_checkpoints WHERE tenant = '{tenant}'",
    )
    other = f"{tenant}-other"
    async with running(create_app(trail.settings)) as app:
        await eventually(lambda: tenant in app.sealer.broken, timeout=20)
        assert broken_gauge(tenant) == 1.0  # reported, as a metric too
        first = broken_line(await verify(trail.nats_url, tenant))
        assert first.startswith("missing at seq 41 (event -): records 41..50 are gone"), first

        # Capture goes on (for this tenant too), and other tenants are still signed...
        await publish_calls(trail.nats_url, tenant, 3, start=N)
        await publish_calls(trail.nats_url, other, 2)

        async def other_signed() -> bool:
            published = await newest_published(trail.nats_url, other)
            return published is not None and published["seq"] == 2

        await eventually(other_signed, timeout=20)

        async def recorded() -> bool:
            return len(await trail.rows()) == 43

        await eventually(recorded, timeout=20)
        # ...but the cut chain never is: its newest published checkpoint is still seq 50.
        assert await trail.newest_published() == trail.published
        stored = await app.service.repository.checkpoints(tenant)
        assert stored == []
        assert [r["seq"] for r in await trail.rows()][-1] == 43  # 41..43 chained on the cut
        again = await verify(trail.nats_url, tenant, "--all-breaks")
        assert again.returncode == 1
        assert "at seq 50" in again.stdout  # seq 50 is not what was signed, for good


async def test_deleted_checkpoint_rows_fail_verify_at_the_published_seq(trail: Trail) -> None:
    await trail.sql(f"DELETE FROM audit_checkpoints WHERE tenant = '{trail.tenant}'")
    async with running(create_app(trail.settings)):
        first = broken_line(await verify(trail.nats_url, trail.tenant))
        assert first.startswith("checkpoint at seq 50 (event -): the highest published checkpoint")
        assert "not in the database" in first


def hmac_checkpoint(tenant: str, head: Head, key: bytes) -> dict[str, Any]:
    """A checkpoint as revision 0001 signed it: HMAC-SHA256 with the key file beside audit.db."""
    cp: dict[str, Any] = {
        "tenant": tenant,
        "seq": head.seq,
        "hash": head.hash,
        "created_at": "2026-11-27T12:00:00.000000Z",
        "kind": "periodic",
        "key_id": "k1",
    }
    doc = {name: cp[name] for name in CHECKPOINT_FIELDS}
    cp["signature"] = hmac.new(key, canonical_json(doc).encode(), hashlib.sha256).hexdigest()
    return cp


@pytest.mark.parametrize("resigned_with", ["old HMAC file key", "a forger's Ed25519 key"])
async def test_a_rechained_and_resigned_trail_fails_verify(
    trail: Trail, resigned_with: str
) -> None:
    tenant = trail.tenant
    rows = await trail.rows()
    rewritten: list[dict[str, Any]] = []
    prev = rows[18]["hash"]
    for row in rows[19:]:  # from seq 20 on: one changed event, every later hash recomputed
        event = json.loads(row["event_json"])
        if row["seq"] == 20:
            event["data"]["request_model"] = "forged-model"
        moved = {**row, "event_json": json.dumps(event), "prev_hash": prev}
        moved["hash"] = record_hash({**moved, "event": event})
        rewritten.append(moved)
        prev = moved["hash"]
    head = Head(N, prev)
    if resigned_with == "old HMAC file key":
        forged = hmac_checkpoint(tenant, head, b"0123456789abcdef" * 4)
    else:
        forged = Signer.generate().sign(tenant, head, "periodic", T_FORGED)
    updates = [
        f"UPDATE audit_records SET event_json = '{r['event_json'].replace(chr(39), chr(39) * 2)}', "
        f"prev_hash = '{r['prev_hash']}', hash = '{r['hash']}' "
        f"WHERE tenant = '{tenant}' AND seq = {r['seq']}"
        for r in rewritten
    ]
    values = ", ".join(
        f"'{forged[k]}'" if isinstance(forged[k], str) else str(forged[k])
        for k in (*CHECKPOINT_FIELDS, "signature")
    )
    await trail.sql(
        *updates,
        f"DELETE FROM audit_checkpoints WHERE tenant = '{tenant}'",
        "INSERT INTO audit_checkpoints (tenant, seq, hash, created_at, kind, key_id, signature) "
        f"VALUES ({values})",
    )
    async with running(create_app(trail.settings)) as app:
        await eventually(lambda: tenant in app.sealer.broken, timeout=20)
        assert app.sealer.broken[tenant].seq == N  # the re-chained head: not signed
        result = await verify(trail.nats_url, tenant, "--all-breaks")
        first = broken_line(result)
        assert first.startswith("checkpoint at seq 50 (event -): signed by an unknown key"), first
        assert "differs from the signed checkpoint" in result.stdout  # the published one
        assert await trail.newest_published() == trail.published


async def test_a_plain_insert_into_the_old_permit_does_not_hide_deletions(trail: Trail) -> None:
    tenant = trail.tenant
    dialect = "postgresql" if trail.settings.database_url.startswith("postgresql") else "sqlite"
    permit = (
        "SET LOCAL llmops.audit_purge = 'on'"
        if dialect == "postgresql"
        else "INSERT INTO audit_purge_permit (one) VALUES (1)"
    )
    cut = f"DELETE FROM audit_records WHERE tenant = '{tenant}' AND seq > 40"
    with pytest.raises(DBAPIError, match=r"append-only|no such table"):
        await trail.sql(permit, cut, guards_off=False)
    assert len(await trail.rows()) == N
    # The only way past the guard is a purge checkpoint, which nobody but the service can sign:
    forged = Signer.generate().sign(tenant, Head(N, trail.published["hash"]), "purge", T_FORGED)
    values = ", ".join(
        f"'{forged[k]}'" if isinstance(forged[k], str) else str(forged[k])
        for k in (*CHECKPOINT_FIELDS, "signature")
    )
    await trail.sql(
        "INSERT INTO audit_checkpoints (tenant, seq, hash, created_at, kind, key_id, signature) "
        f"VALUES ({values})",
        cut,
        guards_off=False,
    )
    assert len(await trail.rows()) == 40
    async with running(create_app(trail.settings)) as app:
        first = broken_line(await verify(trail.nats_url, tenant))
        assert first.startswith("checkpoint at seq 50 (event -): signed by an unknown key"), first
        await eventually(lambda: tenant in app.sealer.broken, timeout=20)
