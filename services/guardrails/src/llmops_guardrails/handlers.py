"""NATS edge of the guardrails service: checks, streamed checks, policies and tool-call events.

The check and stream endpoints are on the caller's path with a latency budget of about a
millisecond, so by default they subscribe with nats-py directly
(:class:`llmops_shared.direct.DirectEndpoint`, with the same edge rules; measured:
docs/guardrails.md). ``LLMOPS_GUARDRAILS_DIRECT_ENDPOINTS=false`` serves them through
FastStream like the rest.
"""

from __future__ import annotations

from faststream.nats import JStream, NatsRouter, PullSub

from llmops_contracts import subjects
from llmops_contracts.envelope import Envelope, reply
from llmops_contracts.guardrails import (
    GuardrailCheckRequest,
    GuardrailPolicyRequest,
    GuardrailPolicyResult,
    GuardrailStreamChunk,
    GuardrailStreamVerdict,
    GuardrailVerdict,
)
from llmops_contracts.tools import ToolCallRequested
from llmops_guardrails.config import GuardrailsSettings
from llmops_guardrails.service import SOURCE, GuardrailsService
from llmops_shared.broker import consumer_config
from llmops_shared.direct import DirectEndpoint
from llmops_shared.logging import get_logger

_log = get_logger(__name__)


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
            SOURCE,
            concurrency=settings.check_concurrency,
        ),
        DirectEndpoint(
            "stream",
            subjects.any_tenant(subjects.GUARDRAILS_STREAM),
            settings.check_queue,
            service.stream,
            service.clock.now,
            SOURCE,
            concurrency=settings.check_concurrency,
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
