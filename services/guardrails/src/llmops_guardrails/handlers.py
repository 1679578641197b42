"""NATS edge of the guardrails service: checks, streamed checks, policies and tool-call events.

The check and stream endpoints are on the caller's path with a latency budget of about a
millisecond, so by default they subscribe with nats-py directly (:class:`DirectEndpoint`):
FastStream's per-message layers cost about as much as a whole raw request/reply round trip
(measured: docs/guardrails.md). They keep the edge's rules: the body is parsed by its type and
its tenant checked against the subject (``registry.parse``), input the sender got wrong is
answered with an ``invalid`` error reply (header ``Llmops-Error``), any other failure with a
``failed`` one, never a timeout, and the reply is the logic's payload wrapped by ``reply()``.
``LLMOPS_GUARDRAILS_DIRECT_ENDPOINTS=false`` serves them through FastStream like the rest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from faststream.nats import JStream, NatsRouter, PullSub
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from llmops_contracts import headers, subjects
from llmops_contracts.envelope import Envelope, Payload, reply
from llmops_contracts.guardrails import (
    GuardrailCheckRequest,
    GuardrailPolicyRequest,
    GuardrailPolicyResult,
    GuardrailStreamChunk,
    GuardrailStreamVerdict,
    GuardrailVerdict,
)
from llmops_contracts.registry import InvalidMessage, parse
from llmops_contracts.tools import ToolCallRequested
from llmops_guardrails.config import GuardrailsSettings
from llmops_guardrails.service import SOURCE, GuardrailsService
from llmops_shared.broker import consumer_config
from llmops_shared.dlq import reason_of
from llmops_shared.logging import get_logger

_log = get_logger(__name__)

DIRECT_REQUESTS = Counter(
    "llmops_guardrails_requests_total",
    "Requests answered by the direct check and stream endpoints, by endpoint and result.",
    ["endpoint", "result"],  # ok, invalid, failed
)
DIRECT_SECONDS = Histogram(
    "llmops_guardrails_request_seconds",
    "Time from receiving a check or stream request to publishing its reply.",
    ["endpoint"],
    buckets=(0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.1, 1.0),
)


class DirectEndpoint:
    """A request/reply endpoint served by nats-py directly, with the suite's edge rules.

    Args:
        name: the endpoint's name (metrics, logs).
        subject: the subject to serve (a wildcard over tenants).
        queue: the queue group shared by the replicas.
        answer: the logic's answer to a parsed request (the reply's payload).
        clock: dates the reply (the service's clock).
    """

    def __init__(
        self,
        name: str,
        subject: str,
        queue: str,
        answer: Callable[[Envelope[Any]], Awaitable[Payload]],
        clock: Callable[[], Any],
    ) -> None:
        self.name = name
        self.subject = subject
        self.queue = queue
        self._answer = answer
        self._now = clock
        self._sub: Any = None
        self._ok = DIRECT_REQUESTS.labels(name, "ok")
        self._seconds = DIRECT_SECONDS.labels(name)

    async def start(self, nc: Any) -> None:
        """Subscribe on the service's connection (its drain at shutdown drains this too)."""
        self._sub = await nc.subscribe(self.subject, queue=self.queue, cb=self._on_message)
        self._nc = nc

    async def _on_message(self, msg: Any) -> None:
        if not msg.reply:
            return  # a request nobody waits for has nobody to answer
        started = time.perf_counter()
        try:
            request = parse(msg.data, subject=msg.subject)
            payload = await self._answer(request)
            body = reply(payload, request, source=SOURCE, time=self._now()).to_json()
        except Exception as exc:
            await self._refuse(msg, exc)
            return
        await self._nc.publish(msg.reply, body)
        self._ok.inc()
        self._seconds.observe(time.perf_counter() - started)

    async def _refuse(self, msg: Any, exc: Exception) -> None:
        invalid = isinstance(exc, InvalidMessage | ValidationError)
        kind = "invalid" if invalid else "failed"
        DIRECT_REQUESTS.labels(self.name, kind).inc()
        reason = reason_of(exc)
        with structlog.contextvars.bound_contextvars(
            subject=msg.subject, tenant=subjects.tenant_of(msg.subject)
        ):
            if invalid:
                _log.warning("request failed", error=reason, invalid=True)
            else:
                _log.exception("request failed", error=reason, invalid=False)
        body = json.dumps({"error": kind, "reason": reason}).encode()
        try:
            await self._nc.publish(msg.reply, body, headers={headers.ERROR: kind})
        except Exception:  # the connection is gone: the caller times out, nothing else to do
            _log.warning("could not send the error reply", subject=msg.subject)


def direct_endpoints(
    service: GuardrailsService, settings: GuardrailsSettings
) -> list[DirectEndpoint]:
    """The check and stream endpoints served by nats-py directly (see the module docstring)."""
    if not settings.direct_endpoints:
        return []
    return [
        DirectEndpoint(
            "check",
            subjects.any_tenant(subjects.GUARDRAILS_CHECK),
            settings.check_queue,
            service.check,
            service.clock.now,
        ),
        DirectEndpoint(
            "stream",
            subjects.any_tenant(subjects.GUARDRAILS_STREAM),
            settings.check_queue,
            service.stream,
            service.clock.now,
        ),
    ]


def build_router(service: GuardrailsService, settings: GuardrailsSettings) -> NatsRouter:
    """The guardrails router: the policy endpoint, the tool-call consumer, and the check and
    stream endpoints when they are not served directly (:func:`direct_endpoints`)."""
    router = NatsRouter()
    durable = settings.tool_calls_durable
    if not settings.direct_endpoints:
        _faststream_checks(router, service, settings)

    @router.subscriber(
        subjects.any_tenant(subjects.GUARDRAILS_POLICY),
        queue=settings.check_queue,
        title="guardrails.policy",
        description="Push, list, show, roll back or shadow the tenant's guardrail policies.",
    )
    async def policy(
        request: Envelope[GuardrailPolicyRequest],
    ) -> Envelope[GuardrailPolicyResult]:
        """Reply to a policy request (an invalid document is refused with the reason)."""
        result = await service.manage(request)
        return reply(result, request, source=SOURCE, time=service.clock.now())

    @router.subscriber(
        subjects.any_tenant(subjects.TOOL_CALL_REQUESTED),
        stream=JStream(subjects.EVENTS_STREAM, declare=False),
        durable=durable,
        # A verdict only matters while the call is pending: a new consumer starts at new
        # calls rather than re-checking the stream's whole history.
        config=consumer_config(settings, durable, deliver_all=False),
        pull_sub=PullSub(batch_size=settings.batch_size, timeout=settings.batch_timeout_s),
        title="guardrails.tool_calls",
        description="Check every requested tool call against the tenant's tool policy.",
    )
    async def tool_call(event: Envelope[ToolCallRequested]) -> None:
        """Check a requested tool call and record the verdict."""
        await service.check_tool_call(event)

    return router


def _faststream_checks(
    router: NatsRouter, service: GuardrailsService, settings: GuardrailsSettings
) -> None:
    """The check and stream endpoints as FastStream handlers."""

    @router.subscriber(
        subjects.any_tenant(subjects.GUARDRAILS_CHECK),
        queue=settings.check_queue,
        title="guardrails.check",
        description="Answer a guardrail check (text or tool call) with a verdict, and record it.",
    )
    async def check(request: Envelope[GuardrailCheckRequest]) -> Envelope[GuardrailVerdict]:
        """Reply to a check request with the policy's verdict."""
        verdict = await service.check(request)
        return reply(verdict, request, source=SOURCE, time=service.clock.now())

    @router.subscriber(
        subjects.any_tenant(subjects.GUARDRAILS_STREAM),
        queue=settings.check_queue,
        title="guardrails.stream",
        description="Check the next chunk of a streamed output: continue or stop.",
    )
    async def stream(
        request: Envelope[GuardrailStreamChunk],
    ) -> Envelope[GuardrailStreamVerdict]:
        """Reply to a streamed chunk with continue or stop."""
        verdict = await service.stream(request)
        return reply(verdict, request, source=SOURCE, time=service.clock.now())
