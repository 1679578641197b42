"""NATS edge of the evaluation service: RunEval commands in, scores and gate decisions out."""

from __future__ import annotations

from faststream.nats import JStream, NatsRouter, PullSub

from llmops_contracts import subjects
from llmops_contracts.envelope import Envelope
from llmops_contracts.evaluation import RunEval
from llmops_evaluation.config import EvaluationSettings
from llmops_evaluation.service import EvaluationService
from llmops_shared.broker import consumer_config


def build_router(service: EvaluationService, settings: EvaluationSettings) -> NatsRouter:
    """The evaluation router: one durable consumer of RunEval commands."""
    router = NatsRouter()
    durable = settings.run_eval_durable

    @router.subscriber(
        subjects.any_tenant(subjects.EVALUATION_RUN_EVAL),
        stream=JStream(subjects.COMMANDS_STREAM, declare=False),
        durable=durable,
        config=consumer_config(settings, durable),
        pull_sub=PullSub(batch_size=settings.batch_size, timeout=settings.batch_timeout_s),
        title="evaluation.run_eval",
        description="Score a golden set, publish each case's scores and the gate decision.",
    )
    async def run_eval(command: Envelope[RunEval]) -> None:
        """Run one eval command."""
        await service.run(command)

    return router
