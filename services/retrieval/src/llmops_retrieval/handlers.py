"""NATS edge of the retrieval service: chunk events into the index, queries answered."""

from __future__ import annotations

import dataclasses
import uuid

from faststream.nats import JStream, NatsRouter, PullSub

from llmops_contracts import subjects
from llmops_contracts.envelope import Envelope, reply
from llmops_contracts.ingestion import ChunksEmbedded
from llmops_contracts.retrieval import RetrievalQuery, RetrievalResult
from llmops_retrieval.config import RetrievalSettings
from llmops_retrieval.service import SOURCE, RetrievalService
from llmops_shared.broker import consumer_config


def build_router(service: RetrievalService, settings: RetrievalSettings) -> NatsRouter:
    """The retrieval router: a chunk-event consumer and the query endpoint."""
    router = NatsRouter()
    # The index lives in this process's memory: every replica needs every chunk, and a
    # restarted process must rebuild its index. So each process gets a consumer of its own
    # that starts at the beginning of EVENTS, and the server drops it once the process is
    # gone. A persistent index (Qdrant edge) will share one durable instead.
    durable = f"{settings.chunks_durable}-{uuid.uuid4().hex[:12]}"
    config = dataclasses.replace(
        consumer_config(settings, durable, deliver_all=True),
        inactive_threshold=settings.chunks_consumer_idle_s,
    )

    @router.subscriber(
        subjects.any_tenant(subjects.INGESTION_CHUNKS_EMBEDDED),
        stream=JStream(subjects.EVENTS_STREAM, declare=False),
        durable=durable,
        config=config,
        pull_sub=PullSub(batch_size=settings.batch_size, timeout=settings.batch_timeout_s),
        title="retrieval.index_chunks",
        description="Add a document's embedded chunks to the index.",
    )
    async def index_chunks(event: Envelope[ChunksEmbedded]) -> None:
        """Index the chunks of one document."""
        await service.add_chunks(event)

    @router.subscriber(
        subjects.any_tenant(subjects.RETRIEVAL_QUERY),
        queue=settings.query_queue,
        title="retrieval.query",
        description="Search the tenant's collection; reply with hits and packed context.",
    )
    async def query(request: Envelope[RetrievalQuery]) -> Envelope[RetrievalResult]:
        """Answer one retrieval query."""
        result = await service.query(request)
        return reply(result, request, source=SOURCE, time=service.clock.now())

    return router
