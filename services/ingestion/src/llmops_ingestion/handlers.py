"""NATS edge of the ingestion service: submit-document commands in, the service publishes."""

from __future__ import annotations

from faststream.nats import JStream, NatsRouter, PullSub

from llmops_contracts import subjects
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import SubmitDocument
from llmops_ingestion.config import IngestionSettings
from llmops_ingestion.service import IngestionService
from llmops_shared.broker import consumer_config


def build_router(service: IngestionService, settings: IngestionSettings) -> NatsRouter:
    """The ingestion router: one durable pull consumer of submit-document commands."""
    router = NatsRouter()
    durable = settings.submit_durable

    @router.subscriber(
        subjects.any_tenant(subjects.INGESTION_SUBMIT_DOCUMENT),
        stream=JStream(subjects.COMMANDS_STREAM, declare=False),
        durable=durable,
        config=consumer_config(settings, durable),
        pull_sub=PullSub(batch_size=settings.batch_size, timeout=settings.batch_timeout_s),
        title="ingestion.submit_document",
        description="Check, chunk and embed a document; publish chunks and the outcome.",
    )
    async def submit_document(command: Envelope[SubmitDocument]) -> None:
        """Ingest one submitted document."""
        await service.submit(command)

    return router
