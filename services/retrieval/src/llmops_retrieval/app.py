"""Composition root of the retrieval service."""

from __future__ import annotations

from faststream import FastStream

from llmops_retrieval.config import RetrievalSettings
from llmops_retrieval.handlers import build_router
from llmops_retrieval.service import RetrievalService
from llmops_retrieval.store import Bm25Index
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.runtime import Wiring, service_app


def create_app(settings: RetrievalSettings, clock: Clock = SYSTEM_CLOCK) -> FastStream:
    """Build the retrieval service: in-process BM25 index, query endpoint, health."""
    wiring = Wiring(settings, clock)
    service = RetrievalService(
        Bm25Index(k1=settings.bm25_k1, b=settings.bm25_b), wiring.publisher, clock
    )
    app = service_app(settings, build_router(service, settings), wiring=wiring)
    app.service = service  # type: ignore[attr-defined]
    return app
