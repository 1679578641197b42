"""NATS edge of the costs service: LLM-call events in, usage accounted."""

from __future__ import annotations

from collections.abc import Callable

from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub

from llmops_contracts import subjects
from llmops_contracts.envelope import Envelope
from llmops_contracts.llm import LlmCallCompleted
from llmops_costs.config import CostsSettings
from llmops_costs.service import CostsService
from llmops_shared.broker import consumer_config


def build_router(
    service: CostsService, settings: CostsSettings
) -> Callable[[NatsBroker], NatsRouter]:
    """The costs router: one durable consumer of LLM-call events."""

    def factory(broker: NatsBroker) -> NatsRouter:
        router = NatsRouter()
        durable = settings.llm_calls_durable

        @router.subscriber(
            subjects.any_tenant(subjects.LLM_CALL_COMPLETED),
            stream=JStream(subjects.EVENTS_STREAM, declare=False),
            durable=durable,
            config=consumer_config(settings, durable),
            pull_sub=PullSub(batch_size=settings.batch_size, timeout=settings.batch_timeout_s),
            title="costs.llm_calls",
            description="Account the token usage of every LLM call once.",
        )
        async def llm_call(event: Envelope[LlmCallCompleted]) -> None:
            """Account one LLM call."""
            await service.record_call(event)

        return router

    return factory
