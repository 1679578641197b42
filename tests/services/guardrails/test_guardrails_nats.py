"""The guardrails service against a real nats-server: check endpoint, tool calls, dead letters."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.guardrails import GuardrailCheckRequest
from llmops_contracts.registry import parse
from llmops_contracts.tools import ToolCallRequested
from llmops_guardrails.app import create_app
from llmops_guardrails.config import GuardrailsSettings
from llmops_guardrails.service import tool_call_content
from tests.conftest import first_envelope, next_envelope, running

VISA = "4111 1111 1111 1111"


@pytest.fixture
async def guardrails(
    nats_url: str, uid: str
) -> AsyncIterator[tuple[Any, Client, JetStreamContext]]:
    """The guardrails app started against the session's server, and a plain client."""
    settings = GuardrailsSettings(
        nats_url=nats_url,
        health_port=0,
        tool_calls_durable=f"guardrails-tools-{uid}",
        batch_timeout_s=0.05,
        denylist=["project falcon"],
        tool_allowlist=["search"],
    )
    app = create_app(settings)
    async with running(app):
        nc = await nats.connect(nats_url)
        try:
            yield app, nc, nc.jetstream()
        finally:
            await nc.drain()


async def test_check_replies_with_a_verdict_and_records_it(
    guardrails: tuple[Any, Client, JetStreamContext], tenant: str
) -> None:
    _, nc, js = guardrails
    verdicts = await js.subscribe(
        subjects.for_tenant(subjects.GUARDRAILS_VERDICT_RECORDED, tenant), ordered_consumer=True
    )
    subject = subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant)

    content = f"I am jo@example.com, card {VISA}"
    req = wrap(
        GuardrailCheckRequest(stage="input", content=content), tenant=tenant, source="app://t"
    )
    reply = await nc.request(subject, req.to_json(), timeout=5)
    verdict = parse(reply.data, expect="llmops.guardrails.verdict.v1")
    assert verdict.data.outcome == "redact"
    assert verdict.data.redacted_content == "I am [EMAIL], card [CARD]"
    assert [f.detector for f in verdict.data.findings] == ["email", "card_number"]
    assert (verdict.causation_id, verdict.tenant) == (req.id, tenant)

    blocked = wrap(
        GuardrailCheckRequest(stage="output", content="Project  Falcon ships Monday"),
        tenant=tenant,
        source="app://t",
    )
    reply = await nc.request(subject, blocked.to_json(), timeout=5)
    assert parse(reply.data).data.outcome == "block"

    first, second = await next_envelope(verdicts), await next_envelope(verdicts)
    assert (first.data.check_id, first.data.outcome) == (req.id, "redact")
    assert first.data.content_sha256 == hashlib.sha256(content.encode()).hexdigest()
    assert (second.data.check_id, second.data.outcome) == (blocked.id, "block")
    assert "jo@example.com" not in json.dumps(first.model_dump(mode="json"))


async def test_invalid_requests_get_an_error_reply_and_the_service_keeps_serving(
    guardrails: tuple[Any, Client, JetStreamContext], tenant: str
) -> None:
    _, nc, _ = guardrails
    subject = subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant)
    good = wrap(GuardrailCheckRequest(stage="input", content="hi"), tenant=tenant, source="app://t")
    bad = good.model_dump(mode="json")
    bad["data"]["stage"] = "everywhere"

    reply = await nc.request(subject, json.dumps(bad).encode(), timeout=5)
    assert reply.headers[headers.ERROR] == "invalid"
    assert json.loads(reply.data)["reason"].startswith("data.stage")

    unknown = wrap(
        GuardrailCheckRequest(stage="input", content="hi", policy="strict"),
        tenant=tenant,
        source="app://t",
    )
    reply = await nc.request(subject, unknown.to_json(), timeout=5)
    assert reply.headers[headers.ERROR] == "invalid"
    assert "unknown policy 'strict'" in json.loads(reply.data)["reason"]

    reply = await nc.request(subject, good.to_json(), timeout=5)
    assert parse(reply.data).data.outcome == "allow"


async def test_tool_calls_are_checked_and_bad_events_dead_lettered(
    guardrails: tuple[Any, Client, JetStreamContext], tenant: str
) -> None:
    _, _, js = guardrails
    verdicts = await js.subscribe(
        subjects.for_tenant(subjects.GUARDRAILS_VERDICT_RECORDED, tenant), ordered_consumer=True
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
    assert blocked.data.stage == "tool_call"
    expected = hashlib.sha256(tool_call_content("shell", {"q": 1}).encode()).hexdigest()
    assert blocked.data.content_sha256 == expected

    dlq = await js.subscribe(subjects.dlq_filter("guardrails")[0], ordered_consumer=True)

    letter = await first_envelope(dlq, lambda e: e.data.stream_sequence == bad_ack.seq)
    assert letter.data.failure == "invalid"
    assert letter.data.original_subject == subject
    assert "data.call_id" in letter.data.error
