"""Composition root of the retrieval service."""

from __future__ import annotations

from faststream import FastStream

from llmops_retrieval.config import RetrievalSettings
from llmops_retrieval.edge import EdgeIndex
from llmops_retrieval.handlers import build_router, query_endpoint
from llmops_retrieval.ports import Index
from llmops_retrieval.qdrant_server import QdrantServerIndex
from llmops_retrieval.service import RetrievalService
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.embedding import DenseEmbedder, load_dense
from llmops_shared.runtime import Wiring, service_app


def build_index(settings: RetrievalSettings, dense_dimensions: int) -> Index:
    """The configured index adapter (not yet open)."""
    if settings.backend == "qdrant":
        key = settings.qdrant_api_key
        return QdrantServerIndex(
            settings.qdrant_collection,
            dense_dimensions,
            url=settings.qdrant_url,
            api_key=key.get_secret_value() if key is not None else None,
            scoped_idf=settings.scoped_idf,
        )
    return EdgeIndex(settings.index_path, dense_dimensions, scoped_idf=settings.scoped_idf)


def create_app(
    settings: RetrievalSettings,
    clock: Clock = SYSTEM_CLOCK,
    dense: DenseEmbedder | None = None,
) -> FastStream:
    """Build the retrieval service: the index, the event consumer, query and rebuild endpoints.

    ``dense`` embeds queries instead of the model ``settings.dense_model`` names (tests and
    benches give a deterministic one; chunks must have been embedded alike).
    """
    wiring = Wiring(settings, clock)
    dense = dense if dense is not None else load_dense(settings.dense_model)
    dimensions = settings.dense_dimensions or (dense.dimensions if dense is not None else 0)
    if dense is not None and not dimensions:
        # A sparse-only index would drop every chunk's dense vector and refuse dense queries.
        raise ValueError(
            f"the dense model {dense.model!r} does not say its vector length before its first "
            "answer: set LLMOPS_RETRIEVAL_DENSE_DIMENSIONS (dense_dimensions)"
        )
    index = build_index(settings, dimensions)
    service = RetrievalService(
        index, wiring.publisher, clock, dense=dense, candidates=settings.candidates
    )
    background = []
    if isinstance(index, EdgeIndex) and settings.optimize_idle_s > 0:
        idle = settings.optimize_idle_s
        background.append(lambda: index.optimize_when_idle(idle))
    app = service_app(
        settings,
        build_router(service, settings),
        wiring=wiring,
        on_start=[index.open],
        on_stop=[service.settle, index.close],
        background=background,
        endpoints=[query_endpoint(service, settings)],  # once the index is open
    )
    app.service = service  # type: ignore[attr-defined]
    return app
