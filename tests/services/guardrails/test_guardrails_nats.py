"""The guardrails service against a real nats-server: checks, policies in the key-value bucket
with two replicas agreeing, shadow verdicts, tool calls, streams, hostile input and the outbox."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client as Nats

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.guardrails import (
    GuardrailCheckRequest,
    GuardrailPolicyRequest,
    GuardrailStreamChunk,
)
from llmops_contracts.registry import parse
from llmops_contracts.tools import ToolCallRequested
from llmops_guardrails.app import create_app
from llmops_guardrails.config import GuardrailsSettings
from llmops_guardrails.engine import tool_call_content
from llmops_guardrails.policies import BUILTIN_VERSION
from tests.conftest import eventually, first_envelope, next_envelope, running
from tests.fakes import FakePublisher
from tests.services.guardrails.test_guardrails_service import TOOLS, falcon, policy_yaml

VISA = "4111 1111 1111 1111"


def settings(url: str, uid: str, tmp: Path, name: str = "a", **extra: Any) -> GuardrailsSettings:
    """One replica's settings: its own outbox; the queue group shared by the replicas."""
    return GuardrailsSettings(
        nats_url=url,
        health_port=0,
        tool_calls_durable=f"guardrails-tools-{uid}",
        check_queue=f"guardrails-{uid}",
        outbox_path=tmp / f"outbox-{name}.db",
        batch_timeout_s=0.05,
        **extra,
    )


@pytest.fixture
async def replicas(nats_url: str, uid: str, tmp_path: Path) -> AsyncIterator[tuple[Any, Any]]:
    """Two replicas of the service sharing a queue group and the policy bucket."""
    first = create_app(settings(nats_url, uid, tmp_path, "a", denylist=["project falcon"]))
    second = create_app(settings(nats_url, uid, tmp_path, "b", denylist=["project falcon"]))
    async with running(first), running(second):
        yield first, second


async def ask(nc: Nats, prefix: str, payload: Any, tenant: str) -> Any:
    """Send one request; the parsed reply, or the error body (with its kind) when refused."""
    req = wrap(payload, tenant=tenant, source="app://t")
    reply = await nc.request(subjects.for_tenant(prefix, tenant), req.to_json(), timeout=5)
    if reply.headers and headers.ERROR in reply.headers:
        return {"error": reply.headers[headers.ERROR], **json.loads(reply.data)}
    return parse(reply.data)


async def push(nc: Nats, tenant: str, document: str, **fields: Any) -> Any:
    request = GuardrailPolicyRequest(action="push", document=document, **fields)
    return await ask(nc, subjects.GUARDRAILS_POLICY, request, tenant)


async def check(nc: Nats, tenant: str, content: str, stage: str = "input", **fields: Any) -> Any:
    request = GuardrailCheckRequest(stage=stage, content=content, **fields)
    return await ask(nc, subjects.GUARDRAILS_CHECK, request, tenant)


def enforced(app: Any, tenant: str) -> str | None:
    active = app.service.book.active(tenant, "default")
    return active.enforced.version if active else None


async def test_check_replies_with_a_verdict_and_records_it(
    replicas: tuple[Any, Any], client: Nats, tenant: str
) -> None:
    js = client.jetstream()
    verdicts = await js.subscribe(
        subjects.for_tenant(subjects.GUARDRAILS_VERDICT_RECORDED, tenant), ordered_consumer=True
    )
    content = f"I am jo@example.com, card {VISA}"
    req = wrap(
        GuardrailCheckRequest(stage="input", content=content), tenant=tenant, source="app://t"
    )
    reply = await client.request(
        subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant), req.to_json(), timeout=5
    )
    verdict = parse(reply.data, expect="llmops.guardrails.verdict.v1")
    assert verdict.data.outcome == "redact"
    assert verdict.data.redacted_content == "I am [EMAIL_1], card [CARD_1]"
    assert [(f.detector, f.kind) for f in verdict.data.findings] == [
        ("pii", "email"),
        ("pii", "card_number"),
    ]
    assert (verdict.causation_id, verdict.tenant) == (req.id, tenant)
    blocked = await check(client, tenant, "Project  Falcon ships Monday", "output")
    assert blocked.data.outcome == "block"

    # The two checks may land on different replicas, each with its own outbox: the stream
    # orders their verdicts by which outbox flushed first, not by which check came first.
    recorded = {}
    for _ in range(2):
        envelope = await next_envelope(verdicts)
        recorded[envelope.data.check_id] = envelope
    assert {k: v.data.outcome for k, v in recorded.items()} == {
        req.id: "redact",
        blocked.causation_id: "block",
    }
    first = recorded[req.id]
    assert first.data.content_sha256 == hashlib.sha256(content.encode()).hexdigest()
    assert "jo@example.com" not in json.dumps(first.model_dump(mode="json"))


async def test_policy_push_reload_and_rollback_with_two_replicas_agreeing(
    replicas: tuple[Any, Any], client: Nats, tenant: str
) -> None:
    first, second = replicas
    assert enforced(first, tenant) == enforced(second, tenant) == BUILTIN_VERSION

    pushed = await push(client, tenant, policy_yaml(version="1", output=[falcon("flag")]))
    assert (pushed.data.version, pushed.data.changed) == ("1", True)
    await eventually(lambda: enforced(first, tenant) == enforced(second, tenant) == "1")
    await push(client, tenant, policy_yaml(version="2", output=[falcon("block")]))
    await eventually(lambda: enforced(first, tenant) == enforced(second, tenant) == "2")
    # The queue group spreads checks over both replicas: every answer applies version 2.
    answers = [await check(client, tenant, "project falcon", "output") for _ in range(20)]
    assert {(a.data.policy_version, a.data.outcome) for a in answers} == {("2", "block")}

    rolled = await ask(
        client,
        subjects.GUARDRAILS_POLICY,
        GuardrailPolicyRequest(action="rollback", policy="default", version="1"),
        tenant,
    )
    assert rolled.data.policies[0].enforced == "1"
    await eventually(lambda: enforced(first, tenant) == enforced(second, tenant) == "1")
    answers = [await check(client, tenant, "project falcon", "output") for _ in range(10)]
    assert {(a.data.policy_version, a.data.outcome) for a in answers} == {("1", "allow")}

    listed = await ask(
        client, subjects.GUARDRAILS_POLICY, GuardrailPolicyRequest(action="list"), tenant
    )
    [state] = listed.data.policies
    assert (state.enforced, state.versions) == ("1", ["1", "2"])


async def test_a_new_replica_loads_the_policies_in_force(
    nats_url: str, uid: str, tmp_path: Path, client: Nats, tenant: str
) -> None:
    async with running(create_app(settings(nats_url, uid, tmp_path, "a"))):
        await push(client, tenant, policy_yaml(version="7", input=[falcon("block")]))
    late = create_app(settings(nats_url, uid, tmp_path, "b"))
    async with running(late):
        assert enforced(late, tenant) == "7"  # before its first check, not eventually
        assert (await check(client, tenant, "project falcon")).data.outcome == "block"


async def test_an_invalid_policy_is_refused_with_the_reason_and_the_previous_stays(
    replicas: tuple[Any, Any], client: Nats, tenant: str
) -> None:
    first, second = replicas
    await push(client, tenant, policy_yaml(version="1", output=[falcon("block")]))
    await eventually(lambda: enforced(first, tenant) == enforced(second, tenant) == "1")

    refused = await push(client, tenant, policy_yaml(version="2", output=[falcon("obliterate")]))
    assert refused["error"] == "invalid"
    assert "output[0].action" in refused["reason"]
    not_yaml = await push(client, tenant, "id: [")
    assert not_yaml["error"] == "invalid"
    assert "not valid YAML" in not_yaml["reason"]

    for app in (first, second):
        assert enforced(app, tenant) == "1"
    assert (await check(client, tenant, "project falcon", "output")).data.outcome == "block"


async def test_shadow_verdicts_are_recorded_beside_the_enforced_ones(
    replicas: tuple[Any, Any], client: Nats, tenant: str
) -> None:
    js = client.jetstream()
    shadows = await js.subscribe(
        subjects.for_tenant(subjects.GUARDRAILS_SHADOW_VERDICT, tenant), ordered_consumer=True
    )
    first, second = replicas
    await push(client, tenant, policy_yaml(version="1", output=[falcon("flag")]))
    await push(client, tenant, policy_yaml(version="2", output=[falcon("block")]), shadow=True)

    def shadowing(app: Any) -> bool:
        active = app.service.book.active(tenant, "default")
        return active.shadow is not None and active.shadow.version == "2"

    await eventually(lambda: shadowing(first) and shadowing(second))
    verdict = await check(client, tenant, "project falcon", "output")
    assert (verdict.data.outcome, verdict.data.policy_version) == ("allow", "1")
    recorded = await next_envelope(shadows)
    assert recorded.data.check_id == verdict.causation_id
    assert (recorded.data.shadow_outcome, recorded.data.agreed) == ("block", False)


async def test_tool_calls_to_unlisted_tools_or_with_bad_arguments_are_denied(
    replicas: tuple[Any, Any], client: Nats, tenant: str
) -> None:
    first, second = replicas
    await push(client, tenant, policy_yaml(version="1", tools=TOOLS))
    await eventually(lambda: enforced(first, tenant) == enforced(second, tenant) == "1")

    def call(name: str, arguments: dict[str, Any]) -> GuardrailCheckRequest:
        return GuardrailCheckRequest(
            stage="tool_call", tool={"name": name, "arguments": arguments}, actor={"app": "bot"}
        )

    ok = await ask(client, subjects.GUARDRAILS_CHECK, call("search", {"q": "news"}), tenant)
    unlisted = await ask(client, subjects.GUARDRAILS_CHECK, call("wire_money", {}), tenant)
    bad = await ask(client, subjects.GUARDRAILS_CHECK, call("search", {"q": 42}), tenant)
    assert ok.data.outcome == "allow"
    assert (unlisted.data.outcome, unlisted.data.findings[0].kind) == ("block", "unlisted_tool")
    assert (bad.data.outcome, bad.data.findings[0].kind) == ("block", "args_schema")
    assert bad.data.findings[0].message.startswith("tool 'search': args_schema:type@$.q")


async def test_tool_call_events_are_checked_and_bad_events_dead_lettered(
    nats_url: str, uid: str, tmp_path: Path, client: Nats, tenant: str
) -> None:
    app = create_app(settings(nats_url, uid, tmp_path, tool_allowlist=["search"]))
    js = client.jetstream()
    async with running(app):
        verdicts = await js.subscribe(
            subjects.for_tenant(subjects.GUARDRAILS_VERDICT_RECORDED, tenant),
            ordered_consumer=True,
        )
        subject = subjects.for_tenant(subjects.TOOL_CALL_REQUESTED, tenant)
        invalid = {"type": ToolCallRequested.SPEC.type, "tenant": tenant, "data": {"tool_name": ""}}
        bad_ack = await js.publish(subject, json.dumps(invalid).encode())
        calls = [
            wrap(
                ToolCallRequested(call_id=f"c{i}", tool_name=name, arguments={"q": i}),
                tenant=tenant,
                source="app://agent",
            )
            for i, name in enumerate(["search", "shell"])
        ]
        for event in calls:
            await js.publish(subject, event.to_json(), headers={headers.MSG_ID: event.id})

        allowed, blocked = await next_envelope(verdicts), await next_envelope(verdicts)
        assert (allowed.data.check_id, allowed.data.outcome) == (calls[0].id, "allow")
        assert (blocked.data.check_id, blocked.data.outcome) == (calls[1].id, "block")
        expected = hashlib.sha256(tool_call_content("shell", {"q": 1}).encode()).hexdigest()
        assert blocked.data.content_sha256 == expected

        dlq = await js.subscribe(subjects.dlq_filter("guardrails")[0], ordered_consumer=True)
        letter = await first_envelope(dlq, lambda e: e.data.stream_sequence == bad_ack.seq)
        assert letter.data.failure == "invalid"
        assert "data.call_id" in letter.data.error


async def test_a_stream_stops_on_a_violation_split_across_two_chunks(
    replicas: tuple[Any, Any], client: Nats, tenant: str
) -> None:
    first_text, second_text = "Sure! Our codename is Project Fal", "con and it ships soon."

    def chunk(seq: int, text: str, offset: int, carry: str) -> GuardrailStreamChunk:
        return GuardrailStreamChunk(
            session_id="answer-1", seq=seq, chunk=text, offset=offset, carry=carry
        )

    one = await ask(client, subjects.GUARDRAILS_STREAM, chunk(0, first_text, 0, ""), tenant)
    assert (one.data.decision, one.data.findings) == ("continue", [])
    # The next chunk may land on the other replica: the carry is all the state there is.
    two = await ask(
        client,
        subjects.GUARDRAILS_STREAM,
        chunk(1, second_text, len(first_text), one.data.carry),
        tenant,
    )
    assert (two.data.decision, two.data.outcome) == ("stop", "block")
    [finding] = two.data.findings
    assert (first_text + second_text)[finding.start : finding.end] == "Project Falcon"


async def test_hostile_requests_get_error_replies_and_the_service_keeps_serving(
    replicas: tuple[Any, Any], client: Nats, tenant: str
) -> None:
    subject = subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant)
    good = wrap(GuardrailCheckRequest(stage="input", content="hi"), tenant=tenant, source="a")
    wrong_stage = good.model_dump(mode="json")
    wrong_stage["data"]["stage"] = "everywhere"
    other_tenant = good.model_dump(mode="json")
    other_tenant["tenant"] = "someone-else"
    hostile = {
        "not json": b"{this is not json",
        "invalid utf-8": b'{"type": "\xff\xfe"}',
        "a json array": b"[1, 2, 3]",
        "nested 5000 deep": b"[" * 5000 + b"]" * 5000,
        "empty": b"",
        "wrong stage": json.dumps(wrong_stage).encode(),
        "another tenant": json.dumps(other_tenant).encode(),
    }
    for name, body in hostile.items():
        reply = await client.request(subject, body, timeout=5)
        assert reply.headers is not None, name
        assert reply.headers[headers.ERROR] == "invalid", name
        assert json.loads(reply.data)["reason"], name
    for prefix in (subjects.GUARDRAILS_STREAM, subjects.GUARDRAILS_POLICY):
        for body in (b"{this is not json", b"[" * 5000 + b"]" * 5000):
            reply = await client.request(subjects.for_tenant(prefix, tenant), body, timeout=5)
            assert reply.headers[headers.ERROR] == "invalid", prefix
    deep_yaml = "id: a\nversion: '1'\ninput: " + "[" * 20_000 + "]" * 20_000
    refused = await push(client, tenant, deep_yaml)
    assert (refused["error"], refused["reason"]) == ("invalid", "data.document: nested too deeply")
    unknown = await check(client, tenant, "hi", policy="strict")
    assert "unknown policy 'strict'" in unknown["reason"]
    ok = await client.request(subject, good.to_json(), timeout=5)
    assert parse(ok.data).data.outcome == "allow"


async def test_a_verdict_survives_jetstream_being_away_and_a_restart(
    nats_url: str, uid: str, tmp_path: Path, client: Nats, tenant: str
) -> None:
    js = client.jetstream()
    verdicts = await js.subscribe(
        subjects.for_tenant(subjects.GUARDRAILS_VERDICT_RECORDED, tenant), ordered_consumer=True
    )
    cfg = settings(nats_url, uid, tmp_path)
    app = create_app(cfg)
    async with running(app):
        away = FakePublisher()
        away.fail = True  # JetStream refuses every publish from here on
        app.recorder.publisher = away
        answer = await check(client, tenant, "hello there")
        assert answer.data.outcome == "allow"  # the caller did not wait for JetStream
        # Committed to the file before the reply: another process can read it.
        with sqlite3.connect(cfg.outbox_path) as db:
            stored = db.execute("SELECT subject FROM guardrails_outbox").fetchall()
        assert stored == [(subjects.for_tenant(subjects.GUARDRAILS_VERDICT_RECORDED, tenant),)]
        with pytest.raises(nats.errors.TimeoutError):
            await verdicts.next_msg(timeout=0.5)
        cfg.nats_url = "nats://127.0.0.1:1"  # and its final flush finds no NATS either

    again = create_app(settings(nats_url, uid, tmp_path))  # the same outbox file
    async with running(again):
        recorded = await next_envelope(verdicts)
        assert recorded.data.check_id == answer.causation_id
        await eventually(lambda: again.recorder.outbox.count() == 0)


async def test_a_verdict_survives_kill_9_of_the_service_process(
    own_nats: str, tmp_path: Path, tenant: str
) -> None:
    """The service as deployed (its own process), killed with SIGKILL after answering while
    JetStream could not take the verdict: the next process publishes it."""
    import asyncio
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import _ensure_streams

    env = {
        **os.environ,
        "NATS_URL": own_nats,
        "LLMOPS_GUARDRAILS_HEALTH_PORT": "0",
        "LLMOPS_GUARDRAILS_OUTBOX_PATH": str(tmp_path / "outbox.db"),
        "LLMOPS_LOG_FORMAT": "json",
    }

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "llmops_guardrails"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    nc = await nats.connect(own_nats)
    js = nc.jetstream(timeout=30)  # a loaded machine: deleting a stream can take a while
    subject = subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant)
    req = wrap(GuardrailCheckRequest(stage="input", content="hello"), tenant=tenant, source="a")

    async def answered() -> Any:
        try:
            return await nc.request(subject, req.to_json(), timeout=2)
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            return None

    first = start()
    try:
        await eventually(answered, timeout=60)  # up (the answer's verdict goes out normally)
        await js.delete_stream(subjects.EVENTS_STREAM)  # JetStream can take no verdict now
        req = wrap(GuardrailCheckRequest(stage="input", content="hi"), tenant=tenant, source="a")
        reply = await nc.request(subject, req.to_json(), timeout=5)
        assert parse(reply.data).data.outcome == "allow"  # answered all the same
        await asyncio.sleep(0.3)  # its publisher tries, and fails
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    await _ensure_streams(own_nats)
    verdicts = await js.subscribe(
        subjects.for_tenant(subjects.GUARDRAILS_VERDICT_RECORDED, tenant), ordered_consumer=True
    )
    second = start()
    try:
        # The process takes seconds to start. (The first check's verdict may come too: the
        # stream went before it was acknowledged.)
        recorded = await next_envelope(verdicts, timeout=60)
        if recorded.data.check_id != req.id:
            recorded = await next_envelope(verdicts, timeout=10)
        assert (recorded.data.check_id, recorded.data.outcome) == (req.id, "allow")
    finally:
        second.terminate()
        second.wait(timeout=30)
        await nc.drain()


@pytest.mark.parametrize("direct", [True, False])
async def test_both_edges_answer_alike(
    nats_url: str, uid: str, tmp_path: Path, client: Nats, tenant: str, direct: bool
) -> None:
    """The direct nats-py endpoints and the FastStream ones: same replies, same refusals."""
    app = create_app(settings(nats_url, uid, tmp_path, direct_endpoints=direct))
    async with running(app):
        verdict = await check(client, tenant, "write to jo@example.com", "output")
        assert (verdict.data.outcome, verdict.source) == ("redact", "llmops/guardrails")
        assert verdict.type == "llmops.guardrails.verdict.v1"
        chunk = GuardrailStreamChunk(session_id="s", seq=0, chunk="hello", offset=0)
        streamed = await ask(client, subjects.GUARDRAILS_STREAM, chunk, tenant)
        assert streamed.data.decision == "continue"
        subject = subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant)
        refused = await client.request(subject, b"{oops", timeout=5)
        assert refused.headers[headers.ERROR] == "invalid"

        def explode(events: Any) -> None:
            raise RuntimeError("the logic broke")

        # An unexpected failure inside the logic: a 'failed' reply, not a timeout.
        app.service.recorder.record = explode
        failed = await client.request(
            subject,
            wrap(GuardrailCheckRequest(stage="input"), tenant=tenant, source="a").to_json(),
            timeout=5,
        )
        assert failed.headers[headers.ERROR] == "failed"
        assert "the logic broke" in json.loads(failed.data)["reason"]


async def test_a_vault_sealed_by_one_replica_opens_on_the_other(
    nats_url: str, uid: str, tmp_path: Path, client: Nats, tenant: str
) -> None:
    import base64
    import os

    key = base64.b64encode(os.urandom(32)).decode()
    first = create_app(settings(nats_url, uid, tmp_path, "a", vault_key=key))
    second = create_app(settings(nats_url, uid, tmp_path, "b", vault_key=key))
    async with running(first), running(second):
        sealed = await check(client, tenant, f"I am jo@example.com, card {VISA}", reversible=True)
        assert sealed.data.redacted_content == "I am [EMAIL_1], card [CARD_1]"
        token = sealed.data.vault
        # The queue group spreads the restores over both replicas: each opens the token.
        for _ in range(12):
            back = await check(client, tenant, "Hi [EMAIL_1], [CARD_1] ok", "output", vault=token)
            assert back.data.restored_content == f"Hi jo@example.com, {VISA} ok"
        served = {app.service.vault_key for app in (first, second)}
        assert len(served) == 1
        forged = await check(client, "other-" + tenant, "[EMAIL_1]", "output", vault=token)
        assert forged["error"] == "invalid"
        assert "does not open" in forged["reason"]
