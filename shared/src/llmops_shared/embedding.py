"""Dense embedders: one port, chosen by a spec string, shared by ingestion (chunks) and retrieval
(queries), which must embed with the same model.

Specs (``LLMOPS_INGESTION_DENSE_MODEL`` / ``LLMOPS_RETRIEVAL_DENSE_MODEL``):

- empty: no dense vectors (the default; sparse BM25 vectors only, see :mod:`llmops_shared.sparse`);
- ``sentence-transformers:<path or installed model package>``: a local model, never downloaded;
- ``openai:<base url>#<model>``: any OpenAI-compatible ``/v1/embeddings`` endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class DenseEmbedder(Protocol):
    """Port: texts to dense vectors of ``dimensions`` floats, in batches."""

    @property
    def model(self) -> str:
        """Name of the model, recorded on every chunk event."""
        ...

    @property
    def dimensions(self) -> int:
        """Vector length."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...


def load_dense(spec: str) -> DenseEmbedder | None:
    """The embedder a spec names, or None for an empty spec; ValueError for an unknown one."""
    if not spec.strip():
        return None
    raise ValueError(f"unknown dense embedder spec {spec!r}")
