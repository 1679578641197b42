"""The embedded index: Qdrant's own engine (``qdrant-edge-py``) in this process, on disk.

One shard in one directory holds every tenant; the tenant, collection, document, ACL labels and
expiry are indexed payload fields and every search filters on them. Sparse vectors carry BM25
term weights and the shard applies IDF (``Modifier.Idf``), over the whole index or, with
``scoped_idf``, over the searched tenant's collection only (then no other tenant's documents
weigh in a score, at the cost of a scan per query term). Hybrid search fuses a sparse and a
dense prefetch by reciprocal rank inside the engine.

**One writer.** The shard's write-ahead log is locked by the process that opened it: a second
process on the same directory fails at start. Replicas of an embedded index therefore each need
a directory of their own (and then each consumes every chunk event) or a Qdrant server.

The engine's calls run on the event loop: they hold the GIL whatever thread runs them, and a
query takes about a millisecond at most, so a thread hop would only add latency.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as q

from llmops_contracts.retrieval import SearchMode
from llmops_retrieval.ports import (
    DENSE,
    EXPIRES_AT,
    KEYWORD_FIELDS,
    METADATA,
    SPARSE,
    After,
    AnyOf,
    Condition,
    IndexedChunk,
    Missing,
    ScoredChunk,
    SearchRequest,
    keep_ids,
    payload,
    point_id,
    scope,
    scored,
    search_conditions,
)

#: Edge-only payload field: ``key=true`` / ``key=false`` for each boolean metadata value.
#: qdrant-edge-py turns a boolean match value into an integer (``False`` becomes ``0``), which
#: never matches a stored boolean; boolean filters match these keywords instead.
FLAGS = "flags"
_CONFIG_FILE = "edge_config.json"  # written by the engine beside its segments
_RRF_K = 60  # the constant of reciprocal-rank fusion, as in Qdrant's server


class IndexConfigMismatch(RuntimeError):
    """The shard on disk holds dense vectors of another length than configured."""


class EdgeIndex:
    """Index port on a Qdrant edge shard under ``path``."""

    def __init__(self, path: Path, dense_dimensions: int = 0, *, scoped_idf: bool = False) -> None:
        self.path = path
        self._dense = dense_dimensions
        self._scoped_idf = scoped_idf
        self._shard: q.EdgeShard | None = None
        self._written_at: float | None = None  # monotonic time of the last unoptimized write
        # Held while the optimizer runs in its thread, so closing waits for it to finish.
        self._optimizing = threading.Lock()

    @property
    def dense_dimensions(self) -> int:
        """Length of the dense vectors; 0 when the index is sparse only."""
        return self._dense

    @property
    def shard(self) -> q.EdgeShard:
        """The open shard (fails clearly when used before ``open``)."""
        if self._shard is None:
            raise RuntimeError("the edge index is not open")
        return self._shard

    async def open(self) -> None:
        """Load the shard, or create it with its vectors and payload indexes."""
        sparse = {SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)}
        # Payloads in memory: every hit reads its chunk's text, and read from the on-disk
        # default each hit costs a page fault once the segment is optimized.
        payloads = q.Memory.Cached
        if (self.path / _CONFIG_FILE).exists():
            # Dense vectors are inherited from the shard (None); _check_dense adds or refuses.
            config = q.EdgeConfig(sparse_vectors=sparse, payload_memory=payloads)
            shard = q.EdgeShard.load(str(self.path), config)
            self._shard = shard
            self._check_dense(shard)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            vectors = (
                {DENSE: q.EdgeVectorParams(size=self._dense, distance=q.Distance.Cosine)}
                if self._dense
                else None
            )
            config = q.EdgeConfig(vectors=vectors, sparse_vectors=sparse, payload_memory=payloads)
            shard = q.EdgeShard.create(str(self.path), config)
            self._shard = shard
        indexed = shard.info().payload_schema
        for name in (*KEYWORD_FIELDS, FLAGS):
            if name not in indexed:
                shard.update(
                    q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Keyword)
                )
        if EXPIRES_AT not in indexed:
            shard.update(
                q.UpdateOperation.create_field_index(EXPIRES_AT, q.PayloadSchemaType.Float)
            )

    def _check_dense(self, shard: q.EdgeShard) -> None:
        """Add the dense vector to an older sparse-only shard; refuse another length."""
        if not self._dense:
            return
        stored = _stored_dense_size(self.path)
        if stored is None:
            shard.update(
                q.UpdateOperation.create_dense_vector(DENSE, self._dense, q.Distance.Cosine)
            )
        elif stored != self._dense:
            raise IndexConfigMismatch(
                f"the index at {self.path} holds dense vectors of {stored} dimensions, not "
                f"{self._dense}: rebuild it into an empty directory"
            )

    async def close(self) -> None:
        """Flush and close the shard (it stays on disk)."""
        with self._optimizing:
            if self._shard is not None:
                self._shard.flush()
                self._shard.close()
                self._shard = None

    def optimize(self) -> bool:
        """Build the engine's search indexes over what was written (blocks while it runs)."""
        with self._optimizing:
            self._written_at = None
            return self.shard.optimize()

    async def optimize_when_idle(self, idle_s: float) -> None:
        """Optimize whenever writes have paused for ``idle_s`` seconds, until cancelled.

        Written points are searchable at once; until the engine indexes them, dense search
        among them is exhaustive and sparse IDF is computed by scanning, which is slower at
        scale. The optimizer holds the GIL for as long as it runs (qdrant-edge-py 0.9), so it
        runs only once ingestion pauses: bulk loads are indexed once, not after every batch.
        """
        while True:
            await asyncio.sleep(idle_s / 4)
            written = self._written_at
            if written is None or time.monotonic() - written < idle_s or self._shard is None:
                continue
            # A thread, so that a binding which releases the GIL lets the loop run meanwhile.
            await asyncio.to_thread(self.optimize)

    def _written(self) -> None:
        self._written_at = time.monotonic()

    async def upsert(
        self, tenant: str, collection: str, document_id: str, chunks: Sequence[IndexedChunk]
    ) -> None:
        """Write chunks of one document."""
        if not chunks:
            return
        points = []
        for chunk in chunks:
            vector: dict[str, Any] = {
                SPARSE: q.SparseVector(chunk.sparse_indices, chunk.sparse_values)
            }
            if self._dense and chunk.dense is not None:
                vector[DENSE] = chunk.dense
            stored = payload(tenant, collection, document_id, chunk)
            stored[FLAGS] = [_flag(k, v) for k, v in chunk.metadata.items() if isinstance(v, bool)]
            points.append(q.Point(point_id(tenant, collection, chunk.chunk_id), vector, stored))
        self.shard.update(q.UpdateOperation.upsert_points(points))
        self._written()

    async def delete_missing(
        self, tenant: str, collection: str, document_id: str, keep: Collection[str]
    ) -> None:
        """Drop the document's chunks not in ``keep``."""
        scope = _scope(tenant, collection, document_id)
        kept = keep_ids(tenant, collection, keep)
        flt = q.Filter(must=scope, must_not=[q.HasIdCondition(set(kept))] if kept else None)
        self.shard.update(q.UpdateOperation.delete_points_by_filter(flt))
        self._written()

    async def delete_document(self, tenant: str, collection: str, document_id: str) -> None:
        """Drop every chunk of one document."""
        flt = q.Filter(must=_scope(tenant, collection, document_id))
        self.shard.update(q.UpdateOperation.delete_points_by_filter(flt))
        self._written()

    async def drop(self, tenant: str, collection: str | None = None) -> None:
        """Drop a tenant's chunks (or one collection's)."""
        flt = q.Filter(must=_scope(tenant, collection))
        self.shard.update(q.UpdateOperation.delete_points_by_filter(flt))
        self._written()

    async def count(
        self, tenant: str, collection: str | None = None, document_id: str | None = None
    ) -> int:
        """Chunks stored for a tenant (a collection, a document)."""
        flt = q.Filter(must=_scope(tenant, collection, document_id))
        return self.shard.count(q.CountRequest(exact=True, filter=flt))

    async def search(self, request: SearchRequest) -> list[ScoredChunk]:
        """The best chunks of the tenant's collection for the request, best first."""
        flt = _filter(request)
        if flt is None:
            return []
        params = None
        if self._scoped_idf:  # IDF over the tenant's collection: no other corpus weighs in
            corpus = q.Filter(must=_scope(request.tenant, request.collection))
            params = q.SearchParams(idf=q.IdfParams(corpus=corpus))
        sparse = q.Query.Nearest(
            q.SparseVector(request.sparse_indices, request.sparse_values), using=SPARSE
        )
        with_vector: bool | list[str] = [SPARSE, DENSE] if self._dense else [SPARSE]
        common: dict[str, Any] = {
            "limit": request.limit,
            "with_payload": True,
            "with_vector": with_vector if request.with_vectors else False,
            "score_threshold": request.score_threshold,
        }
        if request.mode == SearchMode.SPARSE or request.dense is None or not self._dense:
            if not request.sparse_indices:
                return []
            query = q.QueryRequest(query=sparse, filter=flt, params=params, **common)
        elif request.mode == SearchMode.DENSE:
            dense = q.Query.Nearest(request.dense, using=DENSE)
            query = q.QueryRequest(query=dense, filter=flt, **common)
        else:
            prefetches = [
                q.Prefetch(
                    limit=request.candidates,
                    query=q.Query.Nearest(request.dense, using=DENSE),
                    filter=flt,
                )
            ]
            if request.sparse_indices:
                prefetches.insert(
                    0,
                    q.Prefetch(limit=request.candidates, query=sparse, filter=flt, params=params),
                )
            # The stubs type the nested ``Fusion.Rrf`` apart from ``Fusion``; the engine takes it.
            fusion: Any = q.Fusion.Rrf(k=_RRF_K)
            query = q.QueryRequest(query=fusion, prefetches=prefetches, **common)
        points = self.shard.query(query)
        return [scored(p.score, p.payload or {}, p.vector) for p in points]


def _scope(tenant: str, collection: str | None = None, document_id: str | None = None) -> list[Any]:
    """Conditions selecting a tenant's (collection's, document's) points."""
    return [_condition(c) for c in scope(tenant, collection, document_id)]


def _filter(request: SearchRequest) -> q.Filter | None:
    """The search filter (:func:`~llmops_retrieval.ports.search_conditions`), None when
    nothing can match."""
    conditions = search_conditions(request)
    if conditions is None:
        return None
    return q.Filter(must=[_condition(c) for c in conditions])


def _condition(c: Condition) -> Any:
    """One neutral condition as the engine's."""
    if isinstance(c, AnyOf):
        return q.Filter(should=[_condition(x) for x in c.conditions])
    if isinstance(c, Missing):
        return q.Filter(should=[q.IsNullCondition(c.key), q.IsEmptyCondition(c.key)])
    if isinstance(c, After):
        return q.FieldCondition(c.key, range=q.RangeFloat(gt=c.value))
    if isinstance(c.value, bool) and c.key.startswith(f"{METADATA}."):
        flag = _flag(c.key.removeprefix(f"{METADATA}."), c.value)
        return q.FieldCondition(FLAGS, match=q.MatchValue(flag))
    return q.FieldCondition(c.key, match=q.MatchValue(c.value))


def _flag(key: str, value: bool) -> str:
    return f"{key}={'true' if value else 'false'}"


def _stored_dense_size(path: Path) -> int | None:
    """The dense vector length recorded in a shard's config file, None when it has none."""
    config_file = path / _CONFIG_FILE
    if not config_file.exists():
        return None
    vectors = json.loads(config_file.read_text()).get("vectors") or {}
    params = vectors.get(DENSE)
    return int(params["size"]) if isinstance(params, dict) and "size" in params else None
