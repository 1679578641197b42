"""Composition root of the ingestion service."""

from __future__ import annotations

from faststream import FastStream

from llmops_ingestion.chunking import ChunkSizes
from llmops_ingestion.config import IngestionSettings
from llmops_ingestion.handlers import build_router
from llmops_ingestion.service import Embedders, IngestionService, Pipeline
from llmops_ingestion.store import (
    NatsScreen,
    ObjectStoreFiles,
    SqlDocumentStore,
    ensure_files_bucket,
    files_config,
)
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.embedding import load_dense
from llmops_shared.runtime import Loop, Wiring, every, service_app
from llmops_shared.sparse import SparseEncoder


def create_app(settings: IngestionSettings, clock: Clock = SYSTEM_CLOCK) -> FastStream:
    """Build the ingestion service: document state, parsers, rules, chunker, embedders."""
    wiring = Wiring(settings, clock)
    broker = wiring.broker

    def connection() -> object:
        return broker.connection

    store = SqlDocumentStore(settings.database_url)
    dense = load_dense(settings.dense_model, batch_size=settings.embed_batch)
    service = IngestionService(
        wiring.publisher,
        store,
        Embedders(SparseEncoder(), dense),
        settings.rules(),
        Pipeline(
            sizes=ChunkSizes(settings.chunk_words, settings.chunk_overlap_words),
            chunking_by_source=dict(settings.chunking_by_source),
            embed_batch=settings.embed_batch,
            progress_every=settings.progress_every,
            max_event_bytes=settings.max_event_bytes,
            max_file_bytes=settings.max_file_bytes,
            when_screen_down=settings.screen_unavailable,
        ),
        files=ObjectStoreFiles(connection),
        screen=NatsScreen(
            connection,
            policy=settings.screen_policy,
            timeout=settings.screen_timeout_s,
            now=clock.now,
        ),
        clock=clock,
    )

    async def files_bucket() -> None:
        config = files_config(settings.files_max_age_s, settings.stream_replicas)
        await ensure_files_bucket(broker.connection.jetstream(), config)

    closers = [store.close]
    if dense is not None and hasattr(dense, "close"):  # an HTTP client's connection pool
        closers.append(dense.close)
    background: list[Loop] = []
    if settings.expire_every_s > 0:
        every_s = settings.expire_every_s
        background.append(every(every_s, lambda: service.sweep_expired(every_s), "expiry sweep"))
    app = service_app(
        settings,
        build_router(service, settings),
        wiring=wiring,
        on_start=[store.open],
        on_connected=[files_bucket],
        on_stop=closers,
        background=background,
    )
    app.service = service  # type: ignore[attr-defined]
    return app
