"""The retrieval bench's synthetic chunk events fit in a NATS message whatever the vector length."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bench.bench_retrieval import EVENT_BYTES, PER_EVENT, chunk_events
from bench.hash_embedder import HashEmbedder
from llmops_contracts.registry import parse

NATS_MAX_PAYLOAD = 1024 * 1024


class Wide:
    """A model-sized embedder: 384 dimensions of full-precision floats."""

    model = "wide"
    dimensions = 384

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[0.123456789012345678 + i * 1e-9 for i in range(384)] for _ in texts]


def _check(dense: HashEmbedder | Wide, texts: list[str]) -> int:
    events = asyncio.run(chunk_events(texts, dense, "t"))
    seen: list[str] = []
    ids: set[str] = set()
    for subject, body, _ in events:
        assert len(body) < NATS_MAX_PAYLOAD
        data = parse(body, subject=subject).data
        assert 1 <= len(data.chunks) <= PER_EVENT
        assert [c.ordinal for c in data.chunks] == list(range(len(data.chunks)))
        seen += [c.text for c in data.chunks]
        ids |= {c.chunk_id for c in data.chunks}
    assert seen == texts  # every text once, in order
    assert len(ids) == len(texts)
    return len(events)


def test_wide_vectors_are_split_under_the_payload_limit() -> None:
    # ~200 distinct words a chunk, like the bench's synthetic chunks: with 384 floats, 100 such
    # chunks make more than 1 MiB of JSON.
    texts = [" ".join(f"term{i}x{j}" for j in range(200)) for i in range(250)]
    assert _check(Wide(), texts) > 250 // PER_EVENT + 1
    assert EVENT_BYTES < NATS_MAX_PAYLOAD


def test_small_vectors_keep_a_hundred_chunks_an_event() -> None:
    texts = [f"text {i} alpha beta gamma" for i in range(250)]
    assert _check(HashEmbedder(), texts) == 3
