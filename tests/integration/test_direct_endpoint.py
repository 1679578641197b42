"""DirectEndpoint against a real nats-server: requests answered concurrently, at most the cap
at once, every error still a reply, and a draining service answering what it took.

Ordering is proven with events (a slow answer waits on one the test sets), never with timing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import nats
import pytest
from faststream.nats import NatsRouter
from nats.aio.client import Client as Nats
from prometheus_client import REGISTRY

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.guardrails import GuardrailCheckRequest, GuardrailVerdict
from llmops_contracts.registry import parse
from llmops_shared.direct import DirectEndpoint
from llmops_shared.runtime import service_app
from llmops_shared.settings import ServiceSettings
from tests.conftest import eventually, running

NOW = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
ALLOW = GuardrailVerdict(outcome="allow", policy="p", policy_version="1", took_ms=0.1)

Answer = Callable[[Envelope[GuardrailCheckRequest]], Awaitable[GuardrailVerdict]]


class ProbeSettings(ServiceSettings):
    service = "probe"


class Gate:
    """Answers that wait for the test: each records that it started, and the ones whose
    content starts with ``slow`` wait until :attr:`release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started: list[str] = []
        self.active = 0
        self.peak = 0

    async def answer(self, request: Envelope[GuardrailCheckRequest]) -> GuardrailVerdict:
        content = request.data.content
        self.started.append(content)
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            if content.startswith("slow"):
                await self.release.wait()
            if content == "explode":
                raise RuntimeError("the logic broke")
            if content == "huge":  # a reply past the server's max_payload (1 MB)
                return ALLOW.model_copy(update={"redacted_content": "x" * 2_000_000})
            return ALLOW.model_copy(update={"redacted_content": content})
        finally:
            self.active -= 1


def endpoint(uid: str, tenant: str, answer: Answer, concurrency: int = 64) -> DirectEndpoint:
    return DirectEndpoint(
        f"probe-{uid}",
        subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant),
        f"probe-{uid}",
        answer,
        lambda: NOW,
        "llmops/probe",
        concurrency=concurrency,
    )


@pytest.fixture
async def server_nc(nats_url: str) -> AsyncIterator[Nats]:
    """The endpoint's own connection (the service's, in a deployment)."""
    nc = await nats.connect(nats_url)
    yield nc
    if not nc.is_closed:
        await nc.close()


@pytest.fixture
async def client(nats_url: str) -> AsyncIterator[Nats]:
    nc = await nats.connect(nats_url)
    yield nc
    await nc.close()


def ask(client: Nats, tenant: str, content: str) -> asyncio.Task[Any]:
    """Send a check request now; the task holds the raw reply."""
    body = wrap(GuardrailCheckRequest(stage="input", content=content), tenant=tenant, source="a")
    subject = subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant)
    return asyncio.create_task(client.request(subject, body.to_json(), timeout=30))


def answered(raw: Any) -> str:
    """The content an ok reply echoes (fails on an error reply)."""
    assert not (raw.headers and headers.ERROR in raw.headers), raw.data
    envelope = parse(raw.data)
    assert envelope.source == "llmops/probe"
    return envelope.data.redacted_content


def metric(name: str, endpoint: DirectEndpoint, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"endpoint": endpoint.name, **labels}) or 0.0


async def test_a_slow_request_does_not_hold_a_fast_one_behind_it(
    server_nc: Nats, client: Nats, uid: str, tenant: str
) -> None:
    gate = Gate()
    served = endpoint(uid, tenant, gate.answer)
    await served.start(server_nc)
    slow = ask(client, tenant, "slow one")
    await eventually(lambda: gate.started == ["slow one"])
    # The slow answer is waiting on the gate: the fast request behind it is answered anyway.
    assert answered(await ask(client, tenant, "fast one")) == "fast one"
    assert not slow.done()
    gate.release.set()
    assert answered(await slow) == "slow one"
    await eventually(lambda: served.in_flight == 0)


async def test_no_more_than_the_cap_are_answered_at_once(
    server_nc: Nats, client: Nats, uid: str, tenant: str
) -> None:
    gate = Gate()
    served = endpoint(uid, tenant, gate.answer, concurrency=3)
    await served.start(server_nc)
    requests = [ask(client, tenant, f"slow {i}") for i in range(8)]
    # Three answers started, and the subscription's callback holds the fourth request waiting
    # for a slot (it took the message and counted the wait): the cap, not chance, stops it.
    await eventually(
        lambda: metric("llmops_direct_saturated_total", served) == 1 and len(gate.started) == 3
    )
    assert (len(gate.started), gate.active, served.in_flight) == (3, 3, 3)
    gate.release.set()
    replies = await asyncio.gather(*requests)
    assert sorted(answered(r) for r in replies) == [f"slow {i}" for i in range(8)]
    assert gate.peak == 3
    await eventually(lambda: served.in_flight == 0)


async def test_errors_are_still_replies_while_other_requests_are_answered(
    server_nc: Nats, client: Nats, uid: str, tenant: str
) -> None:
    gate = Gate()
    served = endpoint(uid, tenant, gate.answer, concurrency=4)
    await served.start(server_nc)
    slow = ask(client, tenant, "slow")
    await eventually(lambda: gate.started == ["slow"])
    subject = subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant)
    # Another tenant's request on this tenant's subject.
    body = wrap(GuardrailCheckRequest(stage="input"), tenant=f"other-{tenant}", source="a")
    malformed, wrong_tenant, failed, huge, fine = await asyncio.gather(
        client.request(subject, b"{oops", timeout=30),
        client.request(subject, body.to_json(), timeout=30),
        ask(client, tenant, "explode"),
        ask(client, tenant, "huge"),
        ask(client, tenant, "fine"),
    )
    assert malformed.headers[headers.ERROR] == "invalid"
    assert wrong_tenant.headers[headers.ERROR] == "invalid"
    assert failed.headers[headers.ERROR] == "failed"
    assert "the logic broke" in json.loads(failed.data)["reason"]
    assert huge.headers[headers.ERROR] == "failed"  # too large to send: refused, not a timeout
    assert answered(fine) == "fine"
    assert not slow.done()
    gate.release.set()
    assert answered(await slow) == "slow"
    assert metric("llmops_direct_requests_total", served, result="invalid") == 2
    assert metric("llmops_direct_requests_total", served, result="failed") == 2
    assert metric("llmops_direct_requests_total", served, result="ok") == 2


async def test_a_draining_service_answers_the_requests_it_took(
    nats_url: str, client: Nats, uid: str, tenant: str
) -> None:
    gate = Gate()
    served = endpoint(uid, tenant, gate.answer)
    events: list[str] = []

    async def background() -> None:
        """Cancelled by the drain once the endpoints have stopped, just before the broker
        drains and closes the connection."""
        try:
            await asyncio.Event().wait()
        finally:
            events.append("background cancelled")

    async def release_once_unsubscribed() -> None:
        # No responder any more: the drain has begun and the endpoint takes no new request.
        probe = wrap(GuardrailCheckRequest(stage="input"), tenant=tenant, source="a")
        subject = subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant)
        while True:
            try:
                await client.request(subject, probe.to_json(), timeout=1)
            except nats.errors.NoRespondersError:
                break
            await asyncio.sleep(0.02)
        events.append("released")
        gate.release.set()

    settings = ProbeSettings(nats_url=nats_url, health_port=0)
    app = service_app(settings, NatsRouter(), background=[background], endpoints=[served])
    async with running(app):
        requests = [ask(client, tenant, f"slow {i}") for i in range(3)]
        await eventually(lambda: len(gate.started) == 3)
        releasing = asyncio.create_task(release_once_unsubscribed())
    # The app has stopped and closed its connection: the answers went out before that.
    await releasing
    replies = await asyncio.gather(*requests)
    assert sorted(answered(r) for r in replies) == ["slow 0", "slow 1", "slow 2"]
    assert events == ["released", "background cancelled"]
    await eventually(lambda: served.in_flight == 0)


def test_the_cap_is_at_least_one() -> None:
    async def answer(request: Any) -> GuardrailVerdict:
        return ALLOW

    with pytest.raises(ValueError, match="at least 1"):
        DirectEndpoint("x", "x.*", "q", answer, lambda: NOW, "s", concurrency=0)
