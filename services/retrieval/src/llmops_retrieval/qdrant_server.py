"""The index on a Qdrant server, through qdrant-client (production, shared by replicas).

One collection holds the whole suite; ``tenant`` is a keyword index with ``is_tenant`` (Qdrant
then lays each tenant's points out together), and every search filters on the tenant, the
collection, the ACL labels and the expiry exactly as the embedded index does (the same payload,
the same point ids). Replicas share the collection: the server serialises their writes, so
they share one durable consumer of chunk events.

The same adapter runs against qdrant-client's local mode (``location=":memory:"`` or a path) in
tests: that mode searches by brute force and ignores payload indexes, but applies IDF, IDF
scoped to a corpus, and reciprocal-rank fusion.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from qdrant_client import AsyncQdrantClient
from qdrant_client import models as m

from llmops_contracts.retrieval import SearchMode
from llmops_retrieval.ports import (
    DENSE,
    EXPIRES_AT,
    KEYWORD_FIELDS,
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

_RRF_K = 60  # the same fusion constant as the embedded index


class QdrantServerIndex:
    """Index port on one collection of a Qdrant server (or of qdrant-client's local mode)."""

    def __init__(
        self,
        collection: str,
        dense_dimensions: int = 0,
        *,
        url: str | None = None,
        api_key: str | None = None,
        location: str | None = None,
        path: str | None = None,
        scoped_idf: bool = False,
    ) -> None:
        self.collection = collection
        self._dense = dense_dimensions
        self._scoped_idf = scoped_idf
        self._options: dict[str, Any] = {
            "url": url,
            "api_key": api_key,
            "location": location,
            "path": path,
        }
        self._client: AsyncQdrantClient | None = None

    @property
    def dense_dimensions(self) -> int:
        """Length of the dense vectors; 0 when the index is sparse only."""
        return self._dense

    @property
    def client(self) -> AsyncQdrantClient:
        """The open client (fails clearly when used before ``open``)."""
        if self._client is None:
            raise RuntimeError("the Qdrant index is not open")
        return self._client

    async def open(self) -> None:
        """Connect, and create the collection and its payload indexes when absent."""
        options = {k: v for k, v in self._options.items() if v is not None}
        client = AsyncQdrantClient(**options)
        self._client = client
        if not await client.collection_exists(self.collection):
            vectors = (
                {DENSE: m.VectorParams(size=self._dense, distance=m.Distance.COSINE)}
                if self._dense
                else {}
            )
            await client.create_collection(
                self.collection,
                vectors_config=vectors,
                sparse_vectors_config={SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF)},
            )
            if options.get("url"):  # local mode keeps no payload indexes (and warns)
                await client.create_payload_index(
                    self.collection,
                    "tenant",
                    m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True),
                )
                for name in KEYWORD_FIELDS[1:]:
                    await client.create_payload_index(
                        self.collection, name, m.PayloadSchemaType.KEYWORD
                    )
                await client.create_payload_index(
                    self.collection, EXPIRES_AT, m.PayloadSchemaType.FLOAT
                )

    async def close(self) -> None:
        """Close the client."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def upsert(
        self, tenant: str, collection: str, document_id: str, chunks: Sequence[IndexedChunk]
    ) -> None:
        """Write chunks of one document (waits until the server applied them)."""
        if not chunks:
            return
        points = []
        for chunk in chunks:
            vector: dict[str, Any] = {
                SPARSE: m.SparseVector(indices=chunk.sparse_indices, values=chunk.sparse_values)
            }
            if self._dense and chunk.dense is not None:
                vector[DENSE] = chunk.dense
            points.append(
                m.PointStruct(
                    id=point_id(tenant, collection, chunk.chunk_id),
                    vector=vector,
                    payload=payload(tenant, collection, document_id, chunk),
                )
            )
        await self.client.upsert(self.collection, points, wait=True)

    async def delete_missing(
        self, tenant: str, collection: str, document_id: str, keep: Collection[str]
    ) -> None:
        """Drop the document's chunks not in ``keep``."""
        kept: list[m.ExtendedPointId] = list(keep_ids(tenant, collection, keep))
        flt = m.Filter(
            must=_scope(tenant, collection, document_id),
            must_not=[m.HasIdCondition(has_id=kept)] if kept else None,
        )
        await self._delete(flt)

    async def delete_document(self, tenant: str, collection: str, document_id: str) -> None:
        """Drop every chunk of one document."""
        await self._delete(m.Filter(must=_scope(tenant, collection, document_id)))

    async def drop(self, tenant: str, collection: str | None = None) -> None:
        """Drop a tenant's chunks (or one collection's)."""
        await self._delete(m.Filter(must=_scope(tenant, collection)))

    async def _delete(self, flt: m.Filter) -> None:
        await self.client.delete(self.collection, m.FilterSelector(filter=flt), wait=True)

    async def count(
        self, tenant: str, collection: str | None = None, document_id: str | None = None
    ) -> int:
        """Chunks stored for a tenant (a collection, a document)."""
        flt = m.Filter(must=_scope(tenant, collection, document_id))
        result = await self.client.count(self.collection, count_filter=flt, exact=True)
        return result.count

    async def search(self, request: SearchRequest) -> list[ScoredChunk]:
        """The best chunks of the tenant's collection for the request, best first."""
        flt = _filter(request)
        if flt is None:
            return []
        params = None
        if self._scoped_idf:  # IDF over the tenant's collection: no other corpus weighs in
            corpus = m.Filter(must=_scope(request.tenant, request.collection))
            params = m.SearchParams(idf=m.IdfCorpusParams(corpus=corpus))
        sparse = m.SparseVector(indices=request.sparse_indices, values=request.sparse_values)
        with_vectors: bool | list[str] = False
        if request.with_vectors:
            with_vectors = [SPARSE, DENSE] if self._dense else [SPARSE]
        common: dict[str, Any] = {
            "limit": request.limit,
            "with_payload": True,
            "with_vectors": with_vectors,
            "score_threshold": request.score_threshold,
        }
        if request.mode == SearchMode.SPARSE or request.dense is None or not self._dense:
            if not request.sparse_indices:
                return []
            response = await self.client.query_points(
                self.collection,
                query=sparse,
                using=SPARSE,
                query_filter=flt,
                search_params=params,
                **common,
            )
        elif request.mode == SearchMode.DENSE:
            response = await self.client.query_points(
                self.collection, query=request.dense, using=DENSE, query_filter=flt, **common
            )
        else:
            prefetch = [
                m.Prefetch(query=request.dense, using=DENSE, filter=flt, limit=request.candidates)
            ]
            if request.sparse_indices:
                prefetch.insert(
                    0,
                    m.Prefetch(
                        query=sparse,
                        using=SPARSE,
                        filter=flt,
                        params=params,
                        limit=request.candidates,
                    ),
                )
            response = await self.client.query_points(
                self.collection,
                prefetch=prefetch,
                query=m.RrfQuery(rrf=m.Rrf(k=_RRF_K)),
                **common,
            )
        return [scored(p.score, p.payload or {}, p.vector) for p in response.points]


def _scope(tenant: str, collection: str | None = None, document_id: str | None = None) -> Any:
    """Conditions selecting a tenant's (collection's, document's) points."""
    return [_condition(c) for c in scope(tenant, collection, document_id)]


def _filter(request: SearchRequest) -> m.Filter | None:
    """The search filter (:func:`~llmops_retrieval.ports.search_conditions`), None when
    nothing can match."""
    conditions = search_conditions(request)
    if conditions is None:
        return None
    return m.Filter(must=[_condition(c) for c in conditions])


def _condition(c: Condition) -> Any:
    """One neutral condition as qdrant-client's."""
    if isinstance(c, AnyOf):
        return m.Filter(should=[_condition(x) for x in c.conditions])
    if isinstance(c, Missing):
        field = m.PayloadField(key=c.key)
        return m.Filter(
            should=[m.IsNullCondition(is_null=field), m.IsEmptyCondition(is_empty=field)]
        )
    if isinstance(c, After):
        return m.FieldCondition(key=c.key, range=m.Range(gt=c.value))
    return m.FieldCondition(key=c.key, match=m.MatchValue(value=c.value))
