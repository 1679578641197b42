"""Hostile input, published raw (nats-py, not the project's client), against real services.

Reproduces the parse-side findings of issue 10 with exact counts, through a real nats-server:

- JSON nested 600 deep (1.6 KB, valid by the old contract: costs priced it, audit could never
  hash it) or 5,000 deep (RecursionError out of parsing), invalid UTF-8, NaN / Infinity /
  ``1e400``, lone surrogates (escaped or encoded) and an envelope without ``id``, mixed into
  300 valid calls: costs prices exactly the 300, audit records exactly the 300 in publish
  order, and each hostile message is dead-lettered by each service with its reason;
- 2,000 id-less events: 0 ledger rows and exactly 2,000 dead letters (the envelope model's
  default id made each delivery a new event), also when NATS restarts in the middle (that
  variant waits for the shared batch consumer: a failed dead-letter publish still loses a batch);
- a dead letter naming another tenant, from a publisher confined to its own tenant's subjects:
  absent from the other tenant's chain, which still verifies.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext

from llmops import Client
from llmops.dev import start_nats_server
from llmops_audit.app import create_app as create_audit
from llmops_contracts import new_event_id, subjects, wrap
from llmops_contracts.audit import AuditQuery, AuditVerify
from llmops_contracts.dlq import DeadLetter
from llmops_contracts.headers import MSG_ID
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_contracts.registry import parse
from llmops_costs.app import create_app as create_costs
from tests.conftest import NatsServer, eventually, free_port, running
from tests.integration.test_audit_rpc import settings as audit_settings
from tests.services.costs.support import settings as costs_settings


def call_body(tenant: str, **data: Any) -> dict[str, Any]:
    """A valid call_completed envelope as JSON (a fresh id), with ``data`` fields changed."""
    call = LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o-mini",
        latency_ms=12.5,
        usage=Usage(input_tokens=100, output_tokens=20),
    )
    body = json.loads(wrap(call, tenant=tenant, source="app://hostile").to_json())
    body["data"].update(data)
    return body


def compact(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def nested_usage(tenant: str, depth: int) -> bytes:
    body = compact(call_body(tenant, raw_usage={"x": 0}))
    return body.replace(b'{"x":0}', b'{"x":' + b"[" * depth + b"]" * depth + b"}")


def hostile(tenant: str) -> dict[str, tuple[bytes, str]]:
    """Each hostile body, with the start of the reason both services must give."""
    latency = compact(call_body(tenant))
    assert b'"latency_ms":12.5' in latency
    no_id = call_body(tenant)
    del no_id["id"]
    return {
        "600 deep": (nested_usage(tenant, 600), "(message): nested deeper than 64"),
        "5000 deep": (nested_usage(tenant, 5_000), "(message): nested deeper than 64"),
        "invalid utf-8": (
            compact(call_body(tenant)).replace(b"gpt-4o-mini", b"gpt-\xff\xfe" + b"\x80" * 2000),
            "(message): not valid JSON",
        ),
        "1e400": (latency.replace(b"12.5", b"1e400"), "(message): not valid JSON"),
        "Infinity": (latency.replace(b"12.5", b"Infinity"), "(message): not valid JSON"),
        "NaN": (latency.replace(b"12.5", b"NaN"), "(message): not valid JSON"),
        "lone surrogate": (
            compact(call_body(tenant, raw_usage={"k": "PLACEHOLDER"})).replace(
                b"PLACEHOLDER", b"\\ud800"
            ),
            "",  # costs: data.raw_usage ...; audit: (message): ... surrogate
        ),
        "encoded surrogate": (
            compact(call_body(tenant)).replace(b"gpt-4o-mini", b"gpt-\xed\xa0\x80"),
            "",  # costs: data.request_model ...; audit: (message): ... surrogate
        ),
        "no id": (compact(no_id), "id:"),
    }


async def publish_raw(js: JetStreamContext, subject: str, bodies: list[bytes]) -> int:
    """Publish with raw nats-py, pipelined, each under a fresh Nats-Msg-Id; the last sequence."""
    futures = [
        await js.publish_async(subject, body, headers={MSG_ID: uuid.uuid4().hex}) for body in bodies
    ]
    return max(ack.seq for ack in await asyncio.gather(*futures))


async def letters(js: JetStreamContext, subject: str) -> list[DeadLetter]:
    """Every dead letter stored on ``subject`` (a filter), oldest first."""
    found: list[DeadLetter] = []
    try:
        info = await js.stream_info(subjects.DLQ_STREAM, subjects_filter=subject)
        total = sum((info.state.subjects or {}).values())
        if total == 0:
            return found
        sub = await js.subscribe(subject, stream=subjects.DLQ_STREAM, ordered_consumer=True)
        try:
            while len(found) < total:
                msg = await sub.next_msg(timeout=5)
                found.append(parse(msg.data).data)
        finally:
            await sub.unsubscribe()
    except nats.errors.Error:
        return []  # a restarted server still recovering its streams: the caller polls again
    return found


def ledger(db: Path, tenant: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select event_id from cost_calls where tenant = ? order by pk", (tenant,)
        ).fetchall()
    return [r[0] for r in rows]


def chain(db: Path, tenant: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select event_type, event_id from audit_records where tenant = ? order by seq",
            (tenant,),
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


@pytest.fixture
async def raw_js(own_nats: str) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(own_nats)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


async def test_hostile_messages_among_300_valid_calls_are_dead_lettered_and_the_300_kept(
    own_nats: str, raw_js: JetStreamContext, tmp_path: Path, uid: str, tenant: str
) -> None:
    subject = subjects.for_tenant(subjects.LLM_CALL_COMPLETED, tenant)
    cases = hostile(tenant)
    valid = [call_body(tenant) for _ in range(300)]
    bodies: list[bytes] = []
    poison_at = {i * 300 // len(cases) + 7: name for i, name in enumerate(cases)}
    for i, body in enumerate(valid):
        if i in poison_at:
            bodies.append(cases[poison_at[i]][0])
        bodies.append(compact(body))
    # Everything is stored before the services start, so hostile and valid share batches.
    await publish_raw(raw_js, subject, bodies)
    costs_db, audit_db = tmp_path / "costs.db", tmp_path / "audit.db"
    costs = create_costs(costs_settings(own_nats, f"sqlite:///{costs_db}", uid, batch_size=64))
    audit = create_audit(audit_settings(own_nats, tmp_path, uid))
    async with running(costs), running(audit):
        await eventually(lambda: len(ledger(costs_db, tenant)) >= 300, timeout=60)
        # the 300 calls, and both services' dead letters (recorded in the tenant's chain, which
        # holds costs' cost_recorded events too: its length alone says nothing)
        await eventually(lambda: _kinds_at_least(audit_db, tenant, 300, 2 * len(cases)), timeout=60)
        costs_letters = await eventually(
            lambda: _exactly(letters(raw_js, subjects.dlq_for("costs", tenant)), len(cases))
        )
        audit_letters = await eventually(
            lambda: _exactly(letters(raw_js, subjects.dlq_for("audit", tenant)), len(cases))
        )
        calls = [e for e in chain(audit_db, tenant) if e[0] == LlmCallCompleted.SPEC.type]
    ids = [b["id"] for b in valid]
    assert sorted(ledger(costs_db, tenant)) == sorted(ids)  # exactly the 300, once each
    assert [event_id for _, event_id in calls] == ids  # audit: the 300 in publish order
    hostile_bodies = {body: name for name, (body, _) in cases.items()}
    for found in (costs_letters, audit_letters):
        assert all(letter.failure == "invalid" for letter in found)
        named = {hostile_bodies[_original(letter)]: letter.error for letter in found}
        assert set(named) == set(cases)
        for name, error in named.items():
            assert error.startswith(cases[name][1]), (name, error)
    # Each service's letters are recorded by audit too, in the tenant's chain (from the subject).
    kinds = [t for t, _ in chain(audit_db, tenant)]
    assert kinds.count(DeadLetter.SPEC.type) == 2 * len(cases)


def _original(letter: DeadLetter) -> bytes:
    if letter.payload_encoding == "base64":
        return base64.b64decode(letter.payload)
    return letter.payload.encode()


def _kinds_at_least(db: Path, tenant: str, calls: int, letters: int) -> bool:
    kinds = [t for t, _ in chain(db, tenant)]
    return (
        kinds.count(LlmCallCompleted.SPEC.type) >= calls
        and kinds.count(DeadLetter.SPEC.type) >= letters
    )


async def _exactly(found: Any, n: int) -> Any:
    items = await found
    assert len(items) <= n, f"{len(items)} > {n}: a message was dead-lettered twice"
    return items if len(items) == n else None


async def _id_less(js: JetStreamContext, tenant: str, n: int) -> int:
    bodies = []
    for _ in range(n):
        body = call_body(tenant)
        del body["id"]
        bodies.append(compact(body))
    return await publish_raw(js, subjects.for_tenant(subjects.LLM_CALL_COMPLETED, tenant), bodies)


async def test_2000_id_less_events_are_2000_dead_letters_and_no_ledger_row(
    own_nats: str, raw_js: JetStreamContext, tmp_path: Path, uid: str, tenant: str
) -> None:
    costs_db = tmp_path / "costs.db"
    costs = create_costs(costs_settings(own_nats, f"sqlite:///{costs_db}", uid))
    async with running(costs):
        await _id_less(raw_js, tenant, 2_000)
        found = await eventually(
            lambda: _exactly(letters(raw_js, subjects.dlq_for("costs", tenant)), 2_000),
            timeout=60,
        )
    assert ledger(costs_db, tenant) == []
    assert {letter.error for letter in found} == {"id: Field required"}


@pytest.mark.slow
async def test_2000_id_less_events_across_a_nats_restart(
    tmp_path: Path, uid: str, tenant: str
) -> None:
    port, store = free_port(), tmp_path / "nats"
    server = NatsServer(port=port, store_dir=store, process=start_nats_server(port, store))
    costs_db = tmp_path / "costs.db"
    try:
        cfg = costs_settings(server.url, f"sqlite:///{costs_db}", uid, manage_streams=True)
        nc = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
        js = nc.jetstream()
        async with running(create_costs(cfg)):
            await _id_less(js, tenant, 2_000)
            await eventually(
                lambda: _count(js, subjects.dlq_for("costs", tenant), at_least=200), timeout=60
            )
            server.stop()  # mid-stream: some letters stored, the rest not yet
            server.start()
            found = await eventually(
                lambda: _exactly(letters(js, subjects.dlq_for("costs", tenant)), 2_000),
                timeout=60,
            )
        await nc.close()
    finally:
        server.stop()
    assert ledger(costs_db, tenant) == []
    assert len(found) == 2_000


async def _count(js: JetStreamContext, subject: str, *, at_least: int) -> bool:
    info = await js.stream_info(subjects.DLQ_STREAM, subjects_filter=subject)
    return sum((info.state.subjects or {}).values()) >= at_least


async def test_a_forged_dead_letter_never_enters_another_tenants_chain(
    own_nats: str, raw_js: JetStreamContext, tmp_path: Path, uid: str
) -> None:
    acme, globex = f"acme{uid}", f"globex{uid}"
    globex_calls = [call_body(globex) for _ in range(50)]
    await publish_raw(
        raw_js,
        subjects.for_tenant(subjects.LLM_CALL_COMPLETED, globex),
        list(map(compact, globex_calls)),
    )
    forged = compact(call_body(globex))  # a call naming globex, sent by acme
    # subjects a publisher allowed only `llmops.*.*.*.<acme>` (plus the new per-tenant DLQ form)
    for subject in (
        f"llmops.dlq.evil.x.{acme}",
        f"llmops.dlq.evil.{acme}",
        f"llmops.dlq.costs.{acme}",
    ):
        await publish_raw(raw_js, subject, [forged])
    # and an old tenant-less letter subject, which only services could ever use
    await publish_raw(raw_js, "llmops.dlq.costs", [forged])
    audit = create_audit(audit_settings(own_nats, tmp_path, uid))
    audit_db = tmp_path / "audit.db"
    async with running(audit):
        await eventually(lambda: len(chain(audit_db, globex)) >= 50, timeout=30)
        # the refusals are dead-lettered into acme's chain (3) and the old letter into unknown's
        await eventually(lambda: len(chain(audit_db, acme)) >= 3, timeout=30)
        await eventually(lambda: len(chain(audit_db, subjects.UNKNOWN_TENANT)) >= 1, timeout=30)
        async with await Client.connect(own_nats, source="app://t", tenant=globex) as client:
            page = (await client.request(AuditQuery(limit=1000), timeout=10)).data
            verified = (await client.request(AuditVerify(), timeout=10)).data
    assert [r.event_id for r in page.records] == [b["id"] for b in globex_calls]
    assert verified.ok
    assert verified.checked == 50
    assert [t for t, _ in chain(audit_db, acme)] == [DeadLetter.SPEC.type] * 3
    assert not any(event_id == json.loads(forged)["id"] for _, event_id in chain(audit_db, globex))


def test_hostile_bodies_are_what_they_claim() -> None:
    # guard against a test that passes because its hostile inputs were accidentally valid
    cases = hostile("acme")
    assert 1_500 < len(cases["600 deep"][0]) < 2_000
    assert len(cases["5000 deep"][0]) > 10_000
    with pytest.raises(UnicodeDecodeError):
        cases["invalid utf-8"][0].decode()
    assert b'"id"' not in cases["no id"][0]
    assert new_event_id() != new_event_id()
