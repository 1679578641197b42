"""A stand-in dense embedding for benches run without a model installed."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

_WORD = re.compile(r"\S+")
#: Dimensions of the stand-in embedding: all-MiniLM-L6-v2's (the model extra), so the engine
#: searches vectors of the length a real deployment has.
HASH_DIMS = 384


class HashEmbedder:
    """A cheap deterministic dense embedding: hashed word counts, L2-normalised.

    Only a stand-in so hybrid search has vectors to search when no model is configured: its
    cost is negligible, so the latency measured is the index's and the transport's.
    """

    model = "bench-hash"

    def __init__(self, dimensions: int = HASH_DIMS) -> None:
        self.dimensions = dimensions

    def vector(self, text: str) -> list[float]:
        """The vector of one text."""
        v = [0.0] * self.dimensions
        for word in _WORD.findall(text.lower()):
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
            v[h % self.dimensions] += 1.0 if (h >> 32) & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text."""
        return [self.vector(t) for t in texts]
