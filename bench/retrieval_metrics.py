"""Ranking quality at document level: recall@k, MRR and nDCG@k over labelled queries.

A search returns chunks; a labelled query names the documents that answer it. So the chunks'
document ids are first collapsed to a ranking of documents, each at the rank of its first
(best) chunk, and the metrics are computed on that ranking with binary relevance.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass


def rank_documents(document_ids: Iterable[str]) -> list[str]:
    """Document ids in order of first occurrence (the hits' order, repeats dropped)."""
    return list(dict.fromkeys(document_ids))


def recall_at(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant documents found in the first ``k`` of ``ranking``."""
    if not relevant:
        raise ValueError("a labelled query needs at least one relevant document")
    return len(set(ranking[:k]) & set(relevant)) / len(set(relevant))


def reciprocal_rank(
    ranking: Sequence[str], relevant: Collection[str], k: int | None = None
) -> float:
    """1 / the rank of the first relevant document (within the first ``k``); 0 when none is."""
    for rank, document in enumerate(ranking[:k], start=1):
        if document in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain of the first ``k`` documents, binary gains.

    DCG sums ``1 / log2(rank + 1)`` over the relevant documents among the first ``k``; the
    ideal ranking puts every relevant document first, so a perfect ranking scores 1.
    """
    wanted = set(relevant)
    if not wanted:
        raise ValueError("a labelled query needs at least one relevant document")
    dcg = sum(
        1.0 / math.log2(rank + 1)
        for rank, document in enumerate(ranking[:k], start=1)
        if document in wanted
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


@dataclass(frozen=True)
class Quality:
    """Mean metrics over a set of queries."""

    queries: int
    recall: float
    mrr: float
    ndcg: float


def evaluate(runs: Iterable[tuple[Sequence[str], Collection[str]]], k: int = 10) -> Quality:
    """Mean recall@k, MRR (within k) and nDCG@k over ``(ranking, relevant)`` pairs."""
    pairs = list(runs)
    if not pairs:
        return Quality(0, 0.0, 0.0, 0.0)
    n = len(pairs)
    return Quality(
        queries=n,
        recall=sum(recall_at(r, rel, k) for r, rel in pairs) / n,
        mrr=sum(reciprocal_rank(r, rel, k) for r, rel in pairs) / n,
        ndcg=sum(ndcg_at(r, rel, k) for r, rel in pairs) / n,
    )
