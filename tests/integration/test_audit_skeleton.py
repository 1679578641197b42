"""The skeleton end to end: the client publishes, the audit service stores, bad input is dead-lettered."""

from __future__ import annotations

import json
from pathlib import Path

import nats
import pytest
from nats.js.api import DeliverPolicy

from llmops import Client
from llmops_audit.app import create_app
from llmops_audit.config import AuditSettings
from llmops_contracts import new_event_id, subjects, wrap
from llmops_contracts.llm import LlmCallCompleted, Usage
from tests.conftest import eventually, running


def _settings(nats_url: str, tmp_path: Path, uid: str) -> AuditSettings:
    return AuditSettings(
        nats_url=nats_url,
        database_url=f"sqlite:///{tmp_path / 'audit.db'}",
        durable_prefix=f"audit-{uid}",
        health_port=0,
        batch_timeout_s=0.05,
        signing_key="11" * 32,
    )


def _call(tokens: int = 120) -> LlmCallCompleted:
    return LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o-mini",
        latency_ms=321.5,
        usage=Usage(input_tokens=tokens, output_tokens=30, cache_read_input_tokens=64),
    )


async def _dead_letters(nats_url: str, tenant: str) -> list[dict]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(
            subjects.DLQ_ALL,
            stream=subjects.DLQ_STREAM,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        found = []
        while True:
            try:
                msg = await sub.next_msg(timeout=0.3)
            except nats.errors.TimeoutError:
                break
            letter = json.loads(msg.data)
            if letter["data"]["original_subject"].endswith(f".{tenant}"):
                found.append(letter)
        await sub.unsubscribe()
        return found
    finally:
        await nc.close()


async def test_an_llm_call_published_with_the_client_is_stored_by_audit(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    app = create_app(_settings(nats_url, tmp_path, uid))
    async with running(app):
        async with await Client.connect(nats_url, source="app://test", tenant=tenant) as client:
            sent = await client.publish(_call(), correlation_id="corr-1")
            await client.publish(sent)  # a publisher retry: same id, dropped or ignored

        repo = app.service.repository
        await eventually(lambda: _count_is(repo, tenant, 1))
        [stored] = [r async for r in repo.records(tenant)]
        assert stored["event_id"] == sent.id
        assert stored["seq"] == 1
        assert stored["event_type"] == "llmops.llm.call_completed.v1"
        assert stored["event_subject"] == f"llmops.evt.llm.call_completed.{tenant}"
        assert stored["event"]["data"]["usage"]["cache_read_input_tokens"] == 64
        assert stored["event"]["correlation_id"] == "corr-1"


async def test_malformed_envelopes_are_dead_lettered_and_the_service_keeps_serving(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    app = create_app(_settings(nats_url, tmp_path, uid))
    subject = subjects.for_tenant(subjects.LLM_CALL_COMPLETED, tenant)
    good = wrap(_call(), tenant=tenant, source="app://test")
    bad_field = json.loads(good.to_json())
    bad_field["id"] = "01900000-0000-7000-8000-000000000001"
    bad_field["data"]["usage"]["input_tokens"] = "lots"  # the payload is the consumers' business
    no_id = json.loads(good.to_json())
    del no_id["id"]
    wrong_tenant = json.loads(wrap(_call(), tenant="someone-else", source="app://x").to_json())

    async with running(app):
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        await js.publish(subject, json.dumps(bad_field).encode())
        await js.publish(subject, b"\xff\xfe not json")
        await js.publish(subject, json.dumps(wrong_tenant).encode())
        await js.publish(subject, json.dumps(no_id).encode())
        await js.publish(subject, good.to_json(), headers={"Nats-Msg-Id": good.id})
        await nc.close()

        # The valid event after the bad ones is stored: bad input did not stop the service.
        await eventually(lambda: _has(app.service.repository, tenant, good.id))
        # A well-formed envelope with a bad payload is recorded as published: the trail is of
        # what applications sent; the consuming service dead-letters it (and that is recorded).
        assert await _has(app.service.repository, tenant, bad_field["id"])
        letters = await eventually(lambda: _letters_when(nats_url, tenant, 3), timeout=10)
        # Dead letters are events too: the audit service records them.
        await eventually(lambda: _count_is(app.service.repository, tenant, 2 + 3))
    reasons = sorted(letter["data"]["error"] for letter in letters)
    assert any(r.startswith("id:") for r in reasons), reasons
    assert any("not valid JSON" in r for r in reasons), reasons
    assert any(r.startswith("tenant:") for r in reasons), reasons
    for letter in letters:
        assert letter["data"]["service"] == "audit"
        assert letter["data"]["failure"] == "invalid"
        assert letter["data"]["original_subject"] == subject
    binary = next(x for x in letters if "not valid JSON" in x["data"]["error"])
    assert binary["data"]["payload_encoding"] == "base64"


async def _letters_when(nats_url: str, tenant: str, n: int) -> list[dict] | None:
    letters = await _dead_letters(nats_url, tenant)
    return letters if len(letters) >= n else None


@pytest.mark.parametrize("count", [3])
async def test_redelivered_and_republished_events_are_stored_once(
    nats_url: str, tmp_path: Path, uid: str, tenant: str, count: int
) -> None:
    app = create_app(_settings(nats_url, tmp_path, uid))
    events = [wrap(_call(100 + i), tenant=tenant, source="app://test") for i in range(count)]
    async with running(app):
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        for event in events + events:
            # A different Nats-Msg-Id defeats JetStream's de-duplication: audit must still dedupe.
            await js.publish(
                event.subject(), event.to_json(), headers={"Nats-Msg-Id": new_event_id()}
            )
        await nc.close()
        repo = app.service.repository
        await eventually(lambda: _count_is(repo, tenant, count))
    restarted = create_app(_settings(nats_url, tmp_path, uid))
    async with running(restarted):
        assert await restarted.service.repository.count(tenant) == count


async def _count_is(repo: object, tenant: str, n: int) -> bool:
    return await repo.count(tenant) == n  # type: ignore[attr-defined]


async def _has(repo: object, tenant: str, event_id: str) -> bool:
    return any([r["event_id"] == event_id async for r in repo.records(tenant)])  # type: ignore[attr-defined]
