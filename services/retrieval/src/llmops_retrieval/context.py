"""Pure rules of a query's answer: diversifying hits (MMR) and packing them into a context."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmops_contracts.retrieval import Citation, Hit
from llmops_retrieval.ports import ScoredChunk

CONTEXT_SEP = "\n\n"


def estimate_tokens(text: str) -> int:
    """A cheap token estimate: whitespace-separated words."""
    return len(text.split())


@dataclass(frozen=True)
class Packed:
    """A packed context, its citations (one per ``[n]`` marker) and its estimated tokens."""

    context: str | None
    citations: list[Citation] = field(default_factory=list)
    tokens: int = 0


def pack_context(hits: Sequence[Hit], max_tokens: int | None) -> Packed:
    """Hit texts, best first, each behind its ``[n]`` marker, within ``max_tokens``.

    A hit that does not fit whole in what is left of the budget (marker included) is skipped
    rather than cut, so the context never carries half a passage; a smaller, lower-ranked hit
    may still fit after it. None for the context when nothing fits (or there are no hits).
    """
    parts: list[str] = []
    citations: list[Citation] = []
    used = 0
    for hit in hits:
        marker = len(citations) + 1
        part = f"[{marker}] {hit.text}"
        cost = estimate_tokens(part)
        if max_tokens is not None and used + cost > max_tokens:
            continue
        used += cost
        parts.append(part)
        title, uri = hit.metadata.get("title"), hit.metadata.get("uri")
        citations.append(
            Citation(
                marker=marker,
                document_id=hit.document_id,
                chunk_id=hit.chunk_id,
                title=title if isinstance(title, str) else None,
                uri=uri if isinstance(uri, str) else None,
            )
        )
    return Packed(CONTEXT_SEP.join(parts) if parts else None, citations, used)


def similarity(a: ScoredChunk, b: ScoredChunk) -> float:
    """How alike two chunks are: cosine of their dense vectors when both have one, else the
    Jaccard overlap of their sparse terms (which needs no model)."""
    if a.dense is not None and b.dense is not None:
        dot = sum(x * y for x, y in zip(a.dense, b.dense, strict=False))
        norms = math.sqrt(sum(x * x for x in a.dense)) * math.sqrt(sum(y * y for y in b.dense))
        return dot / norms if norms else 0.0
    ta, tb = set(a.sparse_indices or ()), set(b.sparse_indices or ())
    if not ta or not tb:
        return 1.0 if a.text == b.text else 0.0
    return len(ta & tb) / len(ta | tb)


def mmr(candidates: Sequence[ScoredChunk], lambda_: float, top_k: int) -> list[ScoredChunk]:
    """Maximal marginal relevance: ``top_k`` candidates, each the best trade-off between its
    relevance (its score scaled to 0..1 among the candidates) and its distance from those
    already chosen; ``lambda_`` 1 is pure relevance, 0 pure diversity. Scores are kept as the
    index gave them, so the order may no longer be by score."""
    if not candidates:
        return []
    scores = [c.score for c in candidates]
    low, high = min(scores), max(scores)
    spread = high - low
    relevance = [(s - low) / spread if spread else 1.0 for s in scores]
    chosen: list[int] = []
    left = list(range(len(candidates)))
    while left and len(chosen) < top_k:

        def value(i: int) -> float:
            nearest = max((similarity(candidates[i], candidates[j]) for j in chosen), default=0.0)
            return lambda_ * relevance[i] - (1 - lambda_) * nearest

        best = max(left, key=lambda i: (value(i), -i))
        chosen.append(best)
        left.remove(best)
    return [candidates[i] for i in chosen]
