"""examples/audit_consumer.py, an external consumer with no llmops imports, against a live service."""

from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.errors import NotFoundError

from llmops import Client
from llmops_audit.app import create_app
from llmops_audit.chain import Head
from llmops_audit.checkpoints import Signer
from llmops_audit.config import AuditSettings
from llmops_contracts import subjects, wrap
from llmops_contracts.auditchain import CHECKPOINT_FIELDS, RECORD_FIELDS
from llmops_contracts.llm import LlmCallCompleted, Usage
from tests.conftest import eventually, running

CONSUMER = Path(__file__).parents[2] / "examples" / "audit_consumer.py"
T_FORGED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def audit_settings(nats_url: str, tmp_path: Path, uid: str, **extra: Any) -> AuditSettings:
    """An audit service with its own SQLite file and durables."""
    return AuditSettings(
        nats_url=nats_url,
        database_url=f"sqlite:///{tmp_path / 'audit.db'}",
        durable_prefix=f"audit-{uid}",
        health_port=0,
        signing_key="11" * 32,
        batch_timeout_s=0.05,
        **extra,
    )


@pytest.fixture
async def audit(nats_url: str, tmp_path: Path, uid: str) -> AsyncIterator[Any]:
    """An audit service running in this loop."""
    async with running(create_app(audit_settings(nats_url, tmp_path, uid))) as app:
        yield app


async def consume(
    nats_url: str, tenant: str, durable: str, state: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the example consumer as its own process (in a thread: this loop serves audit)."""
    args = [sys.executable, str(CONSUMER), "--nats-url", nats_url, "--tenant", tenant]
    args += ["--durable", durable, "--state-file", str(state), *extra]
    import time

    t = time.monotonic()
    r = await asyncio.to_thread(
        subprocess.run, args, capture_output=True, text=True, timeout=60, check=False
    )
    print("TIMING", extra, time.monotonic() - t, r.returncode, r.stdout, r.stderr[-3000:])
    return r


async def publish(nats_url: str, tenant: str, n: int) -> None:
    async with await Client.connect(nats_url, source="app://consumer-test", tenant=tenant) as c:
        for i in range(n):
            call = LlmCallCompleted(
                provider="anthropic",
                request_model="claude",
                latency_ms=0.25 + i,
                usage=Usage(input_tokens=i, output_tokens=1),
            )
            await c.publish(call)


async def last_record(nats_url: str, tenant: str) -> dict[str, Any] | None:
    """The last record of the tenant on the AUDIT stream (the envelope), if any."""
    nc = await nats.connect(nats_url)
    try:
        msg = await nc.jetstream().get_last_msg(
            subjects.AUDIT_STREAM, subjects.for_tenant(subjects.AUDIT_RECORDS, tenant)
        )
    except NotFoundError:
        return None
    finally:
        await nc.close()
    envelope: dict[str, Any] = json.loads(msg.data)
    return envelope


async def on_stream(nats_url: str, tenant: str, seq: int) -> dict[str, Any]:
    """Wait until the AUDIT stream holds the tenant's record ``seq``; returns that envelope."""

    async def reached() -> dict[str, Any] | None:
        last = await last_record(nats_url, tenant)
        return last if last is not None and last["data"]["seq"] >= seq else None

    return await eventually(reached, timeout=20)


def test_the_example_imports_only_nats_and_the_standard_library() -> None:
    tree = ast.parse(CONSUMER.read_text())
    modules = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
        if not (isinstance(node, ast.ImportFrom) and node.level)
    }
    assert modules - {"__future__"} - set(sys.stdlib_module_names) == {"nats", "cryptography"}


def test_the_example_hashes_and_signs_the_fields_the_contracts_define() -> None:
    """It cannot import ``RECORD_FIELDS`` (no llmops imports), so its copies are held to them."""
    copies = {
        target.id: ast.literal_eval(node.value)
        for node in ast.parse(CONSUMER.read_text()).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in ("FIELDS", "CHECKPOINT_FIELDS")
    }
    assert copies == {"FIELDS": RECORD_FIELDS, "CHECKPOINT_FIELDS": CHECKPOINT_FIELDS}


async def test_consumer_verifies_the_chain_and_continues_it_after_a_restart(
    audit: Any, nats_url: str, tenant: str, uid: str, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    await publish(nats_url, tenant, 5)
    head = await on_stream(nats_url, tenant, 5)

    first = await consume(nats_url, tenant, f"c-{uid}", state, "--count", "5")
    assert first.returncode == 0, first.stdout + first.stderr
    summary = f"verified 5 records of tenant {tenant}, chain head seq 5 hash {head['data']['hash']}"
    assert summary in first.stdout
    assert json.loads(state.read_text()) == {
        "tenant": tenant,
        "seq": 5,
        "hash": head["data"]["hash"],
    }

    await publish(nats_url, tenant, 3)
    head = await on_stream(nats_url, tenant, 8)
    second = await consume(nats_url, tenant, f"c-{uid}", state, "--count", "3")
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"verified 3 records of tenant {tenant}, chain head seq 8" in second.stdout
    assert head["data"]["hash"] in second.stdout
    assert "skipped" not in second.stdout  # the durable remembered what was acked

    # A new durable delivers everything again: what the state file holds is skipped, not re-fed.
    await publish(nats_url, tenant, 2)
    head = await on_stream(nats_url, tenant, 10)
    fresh = await consume(nats_url, tenant, f"c2-{uid}", state, "--count", "2")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert f"verified 2 records of tenant {tenant}, chain head seq 10" in fresh.stdout
    assert "(skipped 8 already verified)" in fresh.stdout

    # Replay from a chain position, with a new state: trusts seq 6's prev_hash and says so.
    replay = await consume(
        nats_url, tenant, f"c2-{uid}", tmp_path / "replay.json", "--from-seq", "6", "--count", "5"
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "starts at seq 6, not anchored" in replay.stdout
    assert f"verified 5 records of tenant {tenant}, chain head seq 10" in replay.stdout
    assert head["data"]["hash"] in replay.stdout


async def test_consumer_stops_at_a_forged_record_naming_its_seq_and_event(
    audit: Any, nats_url: str, tenant: str, uid: str, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    await publish(nats_url, tenant, 3)
    last = await on_stream(nats_url, tenant, 3)

    forged_id = str(uuid.uuid4())
    record = last["data"]
    forged = {
        **last,
        "data": {**record, "seq": 4, "event_id": forged_id, "prev_hash": record["hash"]},
    }
    forged["data"]["event"] = {**record["event"], "source": "app://forger"}  # hash left as is
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(
            subjects.for_tenant(subjects.AUDIT_RECORDS, tenant),
            json.dumps(forged).encode(),
            headers={"Nats-Msg-Id": f"forged-{uid}"},
        )
    finally:
        await nc.close()

    # A generous idle timeout costs nothing: the run stops at the forged record.
    broken = await consume(nats_url, tenant, f"c-{uid}", state, "--idle-timeout", "5")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"BROKEN: tenant {tenant}: seq 4 (event {forged_id}): modified" in broken.stdout
    assert json.loads(state.read_text())["seq"] == 3  # what verified before the break is kept

    # The forged record was not acked: the next run meets it again.
    again = await consume(nats_url, tenant, f"c-{uid}", state, "--idle-timeout", "5")
    assert again.returncode == 1
    assert f"seq 4 (event {forged_id})" in again.stdout


async def test_a_record_too_large_for_one_message_is_published_by_reference_and_verified(
    audit: Any, nats_url: str, tenant: str, uid: str, tmp_path: Path
) -> None:
    """A ~1 MB event: stored, its AUDIT message carries event_ref, the consumer fetches it."""
    await publish(nats_url, tenant, 1)
    nc = await nats.connect(nats_url)
    try:
        limit = nc.max_payload
        call = LlmCallCompleted(provider="anthropic", request_model="claude", latency_ms=1.0)
        envelope = json.loads(wrap(call, tenant=tenant, source="app://big").to_json())
        envelope["data"]["padding"] = ""
        overhead = len(json.dumps(envelope).encode()) + 200  # + the headers below
        envelope["data"]["padding"] = "é" * ((limit - overhead) // 2)  # two bytes each
        body = json.dumps(envelope, ensure_ascii=False).encode()
        assert limit - 1_000 < len(body) <= limit - 200  # fits NATS, the record would not
        await nc.jetstream().publish(
            subjects.for_tenant(subjects.LLM_CALL_COMPLETED, tenant),
            body,
            headers={"Nats-Msg-Id": envelope["id"]},
        )
    finally:
        await nc.close()
    await publish(nats_url, tenant, 1)
    head = await on_stream(nats_url, tenant, 3)

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        subject = subjects.for_tenant(subjects.AUDIT_RECORDS, tenant)
        info = await js.stream_info(subjects.AUDIT_STREAM)
        first = await js.get_msg(
            subjects.AUDIT_STREAM, seq=info.state.first_seq, subject=subject, next=True
        )
        big = await js.get_msg(subjects.AUDIT_STREAM, seq=first.seq + 1, subject=subject, next=True)
        record = json.loads(big.data)["data"]
        assert record["seq"] == 2
        assert "event" not in record
        ref = record["event_ref"]
        assert ref["bucket"] == subjects.BLOBS_BUCKET
        assert ref["size"] > limit - 1_000
        stored = (await (await js.object_store(ref["bucket"])).get(ref["name"])).data
        assert json.loads(stored)["data"]["padding"] == envelope["data"]["padding"]
    finally:
        await nc.close()

    run = await consume(nats_url, tenant, f"c-{uid}", tmp_path / "state.json", "--count", "3")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (
        f"verified 3 records of tenant {tenant}, chain head seq 3 hash {head['data']['hash']}"
        in run.stdout
    )
    verified = await audit.service.verify(tenant)
    assert verified.ok
    assert verified.checked == 3


async def test_a_by_reference_record_whose_object_does_not_match_is_a_break(
    audit: Any, nats_url: str, tenant: str, uid: str, tmp_path: Path
) -> None:
    await publish(nats_url, tenant, 1)
    last = await on_stream(nats_url, tenant, 1)
    record = {k: v for k, v in last["data"].items() if k != "event"}
    blob = json.dumps(last["data"]["event"]).encode()
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        store = await js.object_store(subjects.BLOBS_BUCKET)
        name = f"test/{uid}"
        await store.put(name, blob.replace(b"claude", b"forged"))  # same size, other content
        digest = hashlib.sha256(blob).hexdigest()
        record["event_ref"] = {
            "bucket": subjects.BLOBS_BUCKET,
            "name": name,
            "size": len(blob),
            "sha256": digest,
        }
        record.update(seq=2, prev_hash=record["hash"], event_id=str(uuid.uuid4()))
        await js.publish(
            subjects.for_tenant(subjects.AUDIT_RECORDS, tenant),
            json.dumps({**last, "data": record}).encode(),
            headers={"Nats-Msg-Id": f"forged-{uid}"},
        )
    finally:
        await nc.close()
    broken = await consume(nats_url, tenant, f"c-{uid}", tmp_path / "s.json", "--idle-timeout", "5")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "seq 2" in broken.stdout
    assert "does not match event_ref" in broken.stdout


@pytest.fixture
async def sealing_audit(nats_url: str, tmp_path: Path, uid: str) -> AsyncIterator[Any]:
    """An audit service that signs and publishes checkpoints every 0.2 s."""
    app = create_app(audit_settings(nats_url, tmp_path, uid, checkpoint_interval_s=0.2))
    async with running(app):
        yield app


async def published_checkpoint(nats_url: str, tenant: str, seq: int) -> dict[str, Any]:
    """Wait until a checkpoint of the tenant's chain at ``seq`` is on the AUDIT stream."""
    subject = subjects.for_tenant(subjects.AUDIT_CHECKPOINTS, tenant)

    async def reached() -> dict[str, Any] | None:
        nc = await nats.connect(nats_url)
        try:
            msg = await nc.jetstream().get_last_msg(subjects.AUDIT_STREAM, subject)
        except NotFoundError:
            return None
        finally:
            await nc.close()
        data: dict[str, Any] = json.loads(msg.data)["data"]
        return data if data["seq"] >= seq else None

    return await eventually(reached, timeout=20)


async def test_consumer_checks_signed_checkpoints_with_the_published_public_key(
    sealing_audit: Any, nats_url: str, tenant: str, uid: str, tmp_path: Path
) -> None:
    await publish(nats_url, tenant, 5)
    signed = await published_checkpoint(nats_url, tenant, 5)
    assert signed["key_id"] == Signer.from_text("11" * 32).key_id

    run = await consume(nats_url, tenant, f"c-{uid}", tmp_path / "s.json", "--idle-timeout", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"verified 5 records of tenant {tenant}, chain head seq 5" in run.stdout
    assert re.search(r"signed checkpoints: [1-9]\d* matched, 0 signature only", run.stdout)

    # Pinned to another key, the service's own checkpoints do not verify.
    stranger = Signer.generate().public_key.hex()
    pinned = await consume(
        nats_url,
        tenant,
        f"p-{uid}",
        tmp_path / "p.json",
        "--idle-timeout",
        "1",
        "--public-key",
        stranger,
    )
    assert pinned.returncode == 1, pinned.stdout + pinned.stderr
    assert f"BROKEN: tenant {tenant}: seq " in pinned.stdout
    assert "(event checkpoint): checkpoint signed by an unknown key" in pinned.stdout


async def test_consumer_stops_at_a_checkpoint_it_cannot_trust(
    sealing_audit: Any, nats_url: str, tenant: str, uid: str, tmp_path: Path
) -> None:
    await publish(nats_url, tenant, 3)
    signed = await published_checkpoint(nats_url, tenant, 3)
    state = tmp_path / "state.json"
    first = await consume(nats_url, tenant, f"c-{uid}", state, "--idle-timeout", "1")
    assert first.returncode == 0, first.stdout + first.stderr

    # Someone who can publish on the AUDIT stream, but holds no private key, signs a head.
    forged = Signer.generate().sign(tenant, Head(3, signed["hash"]), "periodic", T_FORGED)
    # ...and someone who replays the service's signature over another hash.
    moved = {**signed, "hash": "ab" * 32}
    for i, checkpoint in enumerate([forged, moved]):
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().publish(
                subjects.for_tenant(subjects.AUDIT_CHECKPOINTS, tenant),
                json.dumps({"type": "llmops.audit.checkpoint.v1", "data": checkpoint}).encode(),
                headers={"Nats-Msg-Id": f"forged-{uid}-{i}"},
            )
        finally:
            await nc.close()
        broken = await consume(nats_url, tenant, f"c-{uid}", state, "--idle-timeout", "1")
        assert broken.returncode == 1, broken.stdout + broken.stderr
        why = "signed by an unknown key" if checkpoint is forged else "signature is invalid"
        assert f"BROKEN: tenant {tenant}: seq 3 (event checkpoint): checkpoint " in broken.stdout
        assert why in broken.stdout
        # Left unacked, it stops the next run too: skip it by hand to go on to the next one.
        nc = await nats.connect(nats_url)
        try:
            sub = await nc.jetstream().pull_subscribe_bind(durable=f"c-{uid}", stream="AUDIT")
            for msg in await sub.fetch(10, timeout=2):
                await msg.ack()
            await nc.flush()
        finally:
            await nc.close()
