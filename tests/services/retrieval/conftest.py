"""Fakes of the retrieval service's own ports: an in-memory index and a deterministic embedder."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from llmops_contracts.retrieval import SearchMode
from llmops_retrieval.ports import IndexedChunk, ScoredChunk, SearchRequest, point_id
from llmops_shared.sparse import terms

RRF_K = 60


@dataclass
class _Stored:
    tenant: str
    collection: str
    document_id: str
    chunk: IndexedChunk


class FakeIndex:
    """The ``Index`` port in memory, by brute force: BM25 with IDF over the searched tenant's
    collection, cosine for dense vectors, reciprocal-rank fusion for hybrid.

    It keeps the port's promises (the abstract suite in test_index_suite.py runs against it), so
    the service's unit tests can rest on it.
    """

    def __init__(self, dense_dimensions: int = 0) -> None:
        self._dense = dense_dimensions
        self.points: dict[str, _Stored] = {}
        self.is_open = False

    @property
    def dense_dimensions(self) -> int:
        return self._dense

    async def open(self) -> None:
        self.is_open = True

    async def close(self) -> None:
        self.is_open = False

    async def upsert(
        self, tenant: str, collection: str, document_id: str, chunks: Sequence[IndexedChunk]
    ) -> None:
        for chunk in chunks:
            key = point_id(tenant, collection, chunk.chunk_id)
            self.points[key] = _Stored(tenant, collection, document_id, chunk)

    def _select(
        self, tenant: str, collection: str | None = None, document_id: str | None = None
    ) -> list[str]:
        return [
            key
            for key, p in self.points.items()
            if p.tenant == tenant
            and (collection is None or p.collection == collection)
            and (document_id is None or p.document_id == document_id)
        ]

    async def delete_missing(
        self, tenant: str, collection: str, document_id: str, keep: Collection[str]
    ) -> None:
        for key in self._select(tenant, collection, document_id):
            if self.points[key].chunk.chunk_id not in keep:
                del self.points[key]

    async def delete_document(self, tenant: str, collection: str, document_id: str) -> None:
        for key in self._select(tenant, collection, document_id):
            del self.points[key]

    async def drop(self, tenant: str, collection: str | None = None) -> None:
        for key in self._select(tenant, collection):
            del self.points[key]

    async def count(
        self, tenant: str, collection: str | None = None, document_id: str | None = None
    ) -> int:
        return len(self._select(tenant, collection, document_id))

    def _visible(self, p: _Stored, r: SearchRequest) -> bool:
        c = p.chunk
        if c.acl and not set(c.acl) & set(r.acl):
            return False
        if c.expires_at is not None and c.expires_at <= r.now:
            return False
        for key, value in r.filters.items():
            values = value if isinstance(value, list) else [value]
            if key not in c.metadata or not any(
                c.metadata[key] == v and type(c.metadata[key]) is type(v) for v in values
            ):
                return False
        return True

    async def search(self, request: SearchRequest) -> list[ScoredChunk]:
        corpus = [self.points[k] for k in self._select(request.tenant, request.collection)]
        candidates = [p for p in corpus if self._visible(p, request)]
        sparse = self._sparse(corpus, candidates, request)
        dense = self._dense_ranking(candidates, request)
        if request.mode == SearchMode.SPARSE or request.dense is None or not self._dense:
            ranked = sparse
        elif request.mode == SearchMode.DENSE:
            ranked = dense
        else:
            fused: dict[str, tuple[float, _Stored]] = {}
            for ranking in (sparse[: request.candidates], dense[: request.candidates]):
                for rank, (_, p) in enumerate(ranking):
                    old = fused.get(p.chunk.chunk_id, (0.0, p))[0]
                    fused[p.chunk.chunk_id] = (old + 1 / (RRF_K + rank + 1), p)
            ranked = sorted(fused.values(), key=lambda sp: -sp[0])
        if request.score_threshold is not None:
            ranked = [(s, p) for s, p in ranked if s >= request.score_threshold]
        return [self._result(s, p, request.with_vectors) for s, p in ranked[: request.limit]]

    def _sparse(
        self, corpus: list[_Stored], candidates: list[_Stored], r: SearchRequest
    ) -> list[tuple[float, _Stored]]:
        n = len(corpus)
        query = dict(zip(r.sparse_indices, r.sparse_values, strict=True))
        out = []
        for p in candidates:
            weights = dict(zip(p.chunk.sparse_indices, p.chunk.sparse_values, strict=True))
            score = 0.0
            for term, q in query.items():
                if term in weights:
                    df = sum(term in o.chunk.sparse_indices for o in corpus)
                    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                    score += q * weights[term] * idf
            if score > 0:
                out.append((score, p))
        out.sort(key=lambda sp: -sp[0])
        return out

    def _dense_ranking(
        self, candidates: list[_Stored], r: SearchRequest
    ) -> list[tuple[float, _Stored]]:
        if r.dense is None:
            return []
        out = [(cosine(r.dense, p.chunk.dense), p) for p in candidates if p.chunk.dense]
        out.sort(key=lambda sp: -sp[0])
        return out

    @staticmethod
    def _result(score: float, p: _Stored, with_vectors: bool) -> ScoredChunk:
        c = p.chunk
        return ScoredChunk(
            chunk_id=c.chunk_id,
            document_id=p.document_id,
            ordinal=c.ordinal,
            text=c.text,
            score=score,
            metadata=dict(c.metadata),
            sparse_indices=list(c.sparse_indices) if with_vectors else None,
            dense=list(c.dense) if with_vectors and c.dense else None,
        )


def cosine(a: Sequence[float], b: Sequence[float] | None) -> float:
    if not b:
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


class HashEmbedder:
    """A deterministic dense embedder for tests: each stemmed term adds a hashed unit direction,
    so texts sharing words are close and texts sharing none are orthogonal-ish."""

    model = "test-hash"

    def __init__(self, dimensions: int = 16) -> None:
        self.dimensions = dimensions

    def vector(self, text: str) -> list[float]:
        v = [0.0] * self.dimensions
        for term in terms(text):
            digest = hashlib.sha256(term.encode()).digest()
            v[digest[0] % self.dimensions] += 1.0 if digest[1] % 2 else -1.0
        if not any(v):
            v[0] = 1e-6
        return v

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector(t) for t in texts]


def as_dict(chunk: ScoredChunk) -> dict[str, Any]:
    return {"chunk_id": chunk.chunk_id, "document_id": chunk.document_id, "text": chunk.text}
