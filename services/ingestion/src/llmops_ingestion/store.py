"""Adapters of the ingestion ports: the (absent) embedder."""

from __future__ import annotations

from collections.abc import Sequence


class NoEmbedder:
    """Embedder port that computes no dense vectors: retrieval ranks the chunk text itself.

    A real model (e.g. all-MiniLM-L6-v2) replaces it in the embedding issue.
    """

    model = "none"
    dimensions = 0

    async def embed(self, texts: Sequence[str]) -> list[list[float]] | None:
        """No vectors."""
        return None
