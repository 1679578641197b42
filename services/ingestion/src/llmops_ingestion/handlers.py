"""NATS edge of the ingestion service: submit, delete and expire commands in; the service
publishes the events."""

from __future__ import annotations

from collections.abc import Callable

from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsRouter, PullSub

from llmops_contracts import subjects
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import DeleteDocument, ExpireDocuments, SubmitDocument
from llmops_ingestion.config import IngestionSettings
from llmops_ingestion.service import IngestionService
from llmops_shared.broker import consumer_config


def build_router(
    service: IngestionService, settings: IngestionSettings
) -> Callable[[NatsBroker], NatsRouter]:
    """The ingestion router: one durable pull consumer per command."""

    def build(broker: NatsBroker) -> NatsRouter:
        router = NatsRouter()
        commands = JStream(subjects.COMMANDS_STREAM, declare=False)

        def config(durable: str) -> ConsumerConfig:
            return consumer_config(settings, durable)

        pull = PullSub(batch_size=settings.batch_size, timeout=settings.batch_timeout_s)

        @router.subscriber(
            subjects.any_tenant(subjects.INGESTION_SUBMIT_DOCUMENT),
            title="ingestion.submit_document",
            description="Check, chunk and embed a document; publish chunks and the outcome.",
            stream=commands,
            durable=settings.submit_durable,
            config=config(settings.submit_durable),
            pull_sub=PullSub(
                batch_size=settings.concurrent_documents, timeout=settings.batch_timeout_s
            ),
        )
        async def submit_document(command: Envelope[SubmitDocument]) -> None:
            """Ingest one submitted document."""
            # A long document embeds for longer than the ack wait: tell the server it is alive.
            raw = broker.context.get_local("message").raw_message
            await service.submit(command, touch=raw.in_progress)

        @router.subscriber(
            subjects.any_tenant(subjects.INGESTION_DELETE_DOCUMENT),
            title="ingestion.delete_document",
            description="Remove a document from the index.",
            stream=commands,
            durable=settings.delete_durable,
            config=config(settings.delete_durable),
            pull_sub=pull,
        )
        async def delete_document(command: Envelope[DeleteDocument]) -> None:
            """Delete one document."""
            await service.delete(command)

        @router.subscriber(
            subjects.any_tenant(subjects.INGESTION_EXPIRE_DOCUMENTS),
            title="ingestion.expire_documents",
            description="Remove the tenant's expired documents from the index.",
            stream=commands,
            durable=settings.expire_durable,
            config=config(settings.expire_durable),
            pull_sub=pull,
        )
        async def expire_documents(command: Envelope[ExpireDocuments]) -> None:
            """Expire the tenant's documents."""
            await service.expire(command)

        return router

    return build
