"""NATS edge of the retrieval service: chunk and deletion events into the index, queries and
rebuilds answered."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from llmops_contracts import subjects
from llmops_contracts.envelope import Envelope, reply
from llmops_contracts.registry import InvalidMessage, parse
from llmops_contracts.retrieval import IndexRebuilt, RebuildIndex
from llmops_retrieval.config import RetrievalSettings
from llmops_retrieval.service import SOURCE, RetrievalService
from llmops_shared.broker import consumer_config
from llmops_shared.direct import DirectEndpoint
from llmops_shared.logging import get_logger

#: The events that make up the index, consumed in stream order by one durable consumer: a
#: deletion and a re-submission of the same document must apply in the order they happened.
INDEX_EVENTS = (subjects.INGESTION_CHUNKS_EMBEDDED, subjects.INGESTION_DOCUMENT_DELETED)
REPLAY_BATCH = 256

_log = get_logger(__name__)


async def replay(nc: Client, tenant: str, timeout: float) -> AsyncIterator[Envelope[Any]]:
    """The tenant's chunk and deletion events from the start of EVENTS, in order, up to the
    last one stored when the replay began (an ephemeral consumer the server drops after).

    An event that does not parse is skipped: the live consumer dead-lettered it already.
    """
    js = nc.jetstream()
    last = (await js.stream_info(subjects.EVENTS_STREAM)).state.last_seq
    filters = [subjects.for_tenant(prefix, tenant) for prefix in INDEX_EVENTS]
    config = ConsumerConfig(
        filter_subjects=filters,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=30.0,  # the server removes it if this process dies mid-replay
        mem_storage=True,
    )
    sub = await js.pull_subscribe(filters[0], stream=subjects.EVENTS_STREAM, config=config)
    try:
        while True:
            try:
                batch = await sub.fetch(REPLAY_BATCH, timeout=timeout)
            except NatsTimeoutError:
                return  # nothing (more) stored for the tenant
            for msg in batch:
                meta = msg.metadata
                if meta.sequence.stream > last:
                    return
                with contextlib.suppress(InvalidMessage):
                    yield parse(msg.data, subject=msg.subject)
                if meta.num_pending == 0:
                    return
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


def query_endpoint(service: RetrievalService, settings: RetrievalSettings) -> DirectEndpoint:
    """The query endpoint, served by nats-py directly: it is on the application's path, and
    FastStream's per-message layers cost more than the search itself (docs/retrieval.md)."""
    return DirectEndpoint(
        "query",
        subjects.any_tenant(subjects.RETRIEVAL_QUERY),
        settings.query_queue,
        service.query,
        service.clock.now,
        SOURCE,
        concurrency=settings.query_concurrency,
    )


def build_router(
    service: RetrievalService, settings: RetrievalSettings
) -> Callable[[NatsBroker], NatsRouter]:
    """The retrieval router: the index-event consumer and the rebuild endpoint."""

    def factory(broker: NatsBroker) -> NatsRouter:
        router = NatsRouter()
        durable = settings.chunks_durable
        # One durable consumer shared by the replicas of one index: a Qdrant server takes
        # every replica's writes; an embedded index has a single writer (docs/retrieval.md).
        config = consumer_config(settings, durable)
        config.filter_subjects = [subjects.any_tenant(prefix) for prefix in INDEX_EVENTS]

        @router.subscriber(
            "",
            stream=JStream(subjects.EVENTS_STREAM, declare=False),
            durable=durable,
            config=config,
            pull_sub=PullSub(batch_size=settings.batch_size, timeout=settings.batch_timeout_s),
            title="retrieval.index_events",
            description="Apply chunk and deletion events to the index, in stream order.",
        )
        async def index_events(event: Envelope[Any]) -> None:
            """Apply one chunk or deletion event."""
            await service.apply(event)

        @router.subscriber(
            subjects.any_tenant(subjects.RETRIEVAL_REBUILD),
            queue=settings.query_queue,
            title="retrieval.rebuild",
            description="Drop the tenant's index and rebuild it from the EVENTS stream.",
        )
        async def rebuild(request: Envelope[RebuildIndex]) -> Envelope[IndexRebuilt]:
            """Rebuild the tenant's index by replaying its events."""
            events = replay(broker.connection, request.tenant, settings.replay_timeout_s)
            rebuilt = await service.rebuild(request, events)
            return reply(rebuilt, request, source=SOURCE, time=service.clock.now())

        return router

    return factory
