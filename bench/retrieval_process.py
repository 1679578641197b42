"""``python -m bench.retrieval_process``: the retrieval service as its own process, for timing.

The service exactly as ``python -m llmops_retrieval`` runs it (settings from the environment,
``create_app``), except that with no dense model configured it embeds queries with the bench's
stand-in :class:`bench.hash_embedder.HashEmbedder`, so hybrid search can be timed without a
model installed. Run in its own process so the client's event loop and the service's do not
share one core's time, as in production.
"""

from __future__ import annotations

from faststream import FastStream

from bench.hash_embedder import HashEmbedder
from llmops_retrieval.app import create_app
from llmops_retrieval.config import RetrievalSettings
from llmops_shared.runtime import run


def _app(settings: RetrievalSettings) -> FastStream:
    if settings.dense_model:
        return create_app(settings)
    stand_in = HashEmbedder(settings.dense_dimensions or HashEmbedder().dimensions)
    return create_app(settings, dense=stand_in)


def main() -> None:
    """Entry point."""
    run(RetrievalSettings(), _app)


if __name__ == "__main__":
    main()
