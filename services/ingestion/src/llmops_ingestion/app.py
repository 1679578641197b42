"""Composition root of the ingestion service."""

from __future__ import annotations

from faststream import FastStream

from llmops_ingestion.config import IngestionSettings
from llmops_ingestion.handlers import build_router
from llmops_ingestion.service import ChunkingPolicy, IngestionService, QualityRules
from llmops_ingestion.store import NoEmbedder
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.runtime import Wiring, service_app


def create_app(settings: IngestionSettings, clock: Clock = SYSTEM_CLOCK) -> FastStream:
    """Build the ingestion service: quality rules, chunker, no embedder yet, health."""
    wiring = Wiring(settings, clock)
    service = IngestionService(
        wiring.publisher,
        NoEmbedder(),
        QualityRules(
            min_chars=settings.min_chars,
            max_chars=settings.max_chars,
            media_types=frozenset(settings.media_types),
        ),
        ChunkingPolicy(
            max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars
        ),
        clock,
    )
    app = service_app(settings, build_router(service, settings), wiring=wiring)
    app.service = service  # type: ignore[attr-defined]
    return app
