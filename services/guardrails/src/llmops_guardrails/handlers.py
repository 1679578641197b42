"""NATS edge of the guardrails service: checks, streamed checks, policies and tool-call events."""

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


def build_router(service: GuardrailsService, settings: GuardrailsSettings) -> NatsRouter:
    """The guardrails router: check, stream and policy endpoints, and the tool-call consumer."""
    router = NatsRouter()
    durable = settings.tool_calls_durable

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
