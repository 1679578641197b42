"""Retrieval logic: apply chunk and deletion events to the index, answer queries, pack context,
report every query, rebuild a tenant's index from replayed events.

No framework imports here: the index is the :class:`~llmops_retrieval.ports.Index` port, the
publisher and the clock are injected, and the rebuild gets its replayed events as an iterable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, Callable
from typing import Any

from llmops_contracts import wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import ChunksEmbedded, DocumentDeleted
from llmops_contracts.registry import InvalidMessage
from llmops_contracts.retrieval import (
    Hit,
    IndexRebuilt,
    RebuildIndex,
    RetrievalPerformed,
    RetrievalQuery,
    RetrievalResult,
    SearchMode,
)
from llmops_retrieval.context import mmr, pack_context
from llmops_retrieval.ports import Index, IndexedChunk, SearchRequest
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.embedding import DenseEmbedder
from llmops_shared.logging import get_logger
from llmops_shared.publish import Publisher
from llmops_shared.sparse import SparseEncoder

SOURCE = "llmops/retrieval"
#: Scores reported on each performed event.
TOP_SCORES = 5

_log = get_logger(__name__)


class RetrievalService:
    """Feeds the index with chunk and deletion events and answers retrieval queries."""

    def __init__(
        self,
        index: Index,
        publisher: Publisher,
        clock: Clock = SYSTEM_CLOCK,
        *,
        dense: DenseEmbedder | None = None,
        encoder: SparseEncoder | None = None,
        candidates: int = 50,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.index = index
        self.publisher = publisher
        self.clock = clock
        self.dense = dense
        self.encoder = encoder or SparseEncoder()
        self.candidates = candidates
        self.timer = timer
        # Tenants being rebuilt: live events of theirs wait until the replay is over, so an
        # older replayed event can never land after a newer live one.
        self._rebuilding: dict[str, asyncio.Event] = {}
        # Performed events on their way to the stream (see :meth:`query`).
        self._reporting: set[asyncio.Task[None]] = set()

    @property
    def modes(self) -> frozenset[SearchMode]:
        """Search modes this service can serve: dense ones need an embedder and dense vectors."""
        if self.dense is not None and self.index.dense_dimensions:
            return frozenset(SearchMode)
        return frozenset({SearchMode.SPARSE})

    # --- writes -------------------------------------------------------------------------------

    async def apply(self, event: Envelope[Any]) -> None:
        """Apply one chunk or deletion event (idempotent: applying it again changes nothing)."""
        while (rebuild := self._rebuilding.get(event.tenant)) is not None:
            await rebuild.wait()
        await self._apply(event)

    async def _apply(self, event: Envelope[Any]) -> None:
        if isinstance(event.data, ChunksEmbedded):
            await self.index_chunks(event)
        elif isinstance(event.data, DocumentDeleted):
            await self.delete_document(event)
        else:
            raise InvalidMessage(
                f"type: the retrieval index applies chunk and deletion events, not {event.type}",
                type_id=event.type,
            )

    async def index_chunks(self, event: Envelope[ChunksEmbedded]) -> int:
        """Write a part of a document's chunks; its last part drops the chunks not kept.

        Non-final parts only write. The final part writes, then removes the document's chunks
        missing from ``keep`` (or, when ``keep`` is None, from this event): new chunks are
        searchable before old ones go, so a document never disappears while it is replaced.
        """
        data = event.data
        chunks = [self._indexed(data, i) for i in range(len(data.chunks))]
        await self.index.upsert(event.tenant, data.collection, data.document_id, chunks)
        if data.final:
            keep = set(data.keep) if data.keep is not None else {c.chunk_id for c in data.chunks}
            await self.index.delete_missing(event.tenant, data.collection, data.document_id, keep)
        return len(chunks)

    def _indexed(self, data: ChunksEmbedded, i: int) -> IndexedChunk:
        """One chunk of the event as the index stores it."""
        chunk = data.chunks[i]
        dims = self.index.dense_dimensions
        dense = chunk.vector if dims else None  # a sparse-only index keeps no dense vectors
        if dense is not None and len(dense) != dims:
            raise InvalidMessage(
                f"data.chunks[{i}].vector: {len(dense)} dimensions, the index holds {dims} "
                "(ingestion and retrieval must use the same dense model)",
                type_id=ChunksEmbedded.SPEC.type,
            )
        if chunk.sparse is not None:
            indices, values = list(chunk.sparse.indices), list(chunk.sparse.values)
        else:  # an older sender: the same encoder ingestion uses gives the same vector
            indices, values = self.encoder.document(chunk.text)
        return IndexedChunk(
            chunk_id=chunk.chunk_id,
            ordinal=chunk.ordinal,
            text=chunk.text,
            sparse_indices=indices,
            sparse_values=values,
            dense=dense,
            metadata=chunk.metadata,
            acl=tuple(data.acl),
            expires_at=data.expires_at.timestamp() if data.expires_at is not None else None,
            version=data.version,
        )

    async def delete_document(self, event: Envelope[DocumentDeleted]) -> None:
        """Drop a deleted (or expired) document's chunks."""
        data = event.data
        await self.index.delete_document(event.tenant, data.collection, data.document_id)

    async def rebuild(
        self, request: Envelope[RebuildIndex], events: AsyncIterable[Envelope[Any]]
    ) -> IndexRebuilt:
        """Drop the tenant's chunks (or one collection's) and apply ``events`` again, in order.

        ``events`` are the tenant's chunk and deletion events from the start of the stream.
        One the live path dead-lettered is skipped again. Live events of the tenant wait
        until the replay is over (then apply in stream order, which converges).
        """
        tenant, collection = request.tenant, request.data.collection
        if tenant in self._rebuilding:
            raise InvalidMessage(
                f"tenant: a rebuild of {tenant}'s index is already running",
                type_id=RebuildIndex.SPEC.type,
            )
        done = self._rebuilding[tenant] = asyncio.Event()
        replayed = 0
        documents: set[tuple[str, str]] = set()
        try:
            await self.index.drop(tenant, collection)
            async for event in events:
                data = event.data
                if event.tenant != tenant or (
                    collection is not None and getattr(data, "collection", None) != collection
                ):
                    continue
                replayed += 1
                try:
                    await self._apply(event)
                except InvalidMessage as exc:
                    _log.warning("replayed event skipped", event_id=event.id, reason=str(exc))
                    continue
                documents.add((data.collection, data.document_id))
            kept = 0
            for coll, document_id in documents:
                kept += await self.index.count(tenant, coll, document_id) > 0
            chunks = await self.index.count(tenant, collection)
        finally:
            del self._rebuilding[tenant]
            done.set()
        _log.info("index rebuilt", tenant=tenant, events=replayed, chunks=chunks)
        return IndexRebuilt(events=replayed, chunks=chunks, documents=kept)

    # --- queries ------------------------------------------------------------------------------

    def resolve_mode(self, requested: SearchMode) -> SearchMode:
        """The mode a query really runs in, given what the service can serve.

        Hybrid degrades to sparse while there is no dense model (the result and the performed
        event record the mode used); an explicit request for dense search without one is
        refused rather than answered with something else.
        """
        available = self.modes
        if requested in available:
            return requested
        if requested == SearchMode.HYBRID and SearchMode.SPARSE in available:
            return SearchMode.SPARSE
        served = ", ".join(sorted(available))
        raise InvalidMessage(
            f"data.mode: {requested} search is not available (this index serves: {served})",
            type_id=RetrievalQuery.SPEC.type,
        )

    async def query(self, request: Envelope[RetrievalQuery]) -> RetrievalResult:
        """Answer one query with hits and packed context, and publish what was retrieved.

        The search is always scoped to the request's tenant (the one of its subject); the
        caller's filters, labels and threshold only narrow it.
        """
        started = self.timer()
        q = request.data
        mode = self.resolve_mode(SearchMode(q.mode))
        indices, values = self.encoder.query(q.query)
        dense = None
        if mode != SearchMode.SPARSE and self.dense is not None:
            [dense] = await self.dense.embed([q.query])
        found = await self.index.search(
            SearchRequest(
                tenant=request.tenant,
                collection=q.collection,
                mode=mode,
                limit=max(q.top_k, self.candidates) if q.mmr is not None else q.top_k,
                now=self.clock.now().timestamp(),
                sparse_indices=indices,
                sparse_values=values,
                dense=dense,
                filters=q.filters,
                acl=q.acl,
                score_threshold=q.score_threshold,
                with_vectors=q.mmr is not None,
                candidates=max(q.top_k, self.candidates),
            )
        )
        if q.mmr is not None:
            found = mmr(found, q.mmr, q.top_k)
        hits = [
            Hit(
                chunk_id=c.chunk_id,
                document_id=c.document_id,
                score=c.score,
                text=c.text,
                ordinal=c.ordinal,
                metadata=c.metadata,
            )
            for c in found[: q.top_k]
        ]
        packed = pack_context(hits, q.max_context_tokens)
        took_ms = max(0.0, (self.timer() - started) * 1000)
        miss = not hits
        scores = [h.score for h in hits]
        # The report is published beside the reply, not before it: waiting for the stream's
        # acknowledgement would add a JetStream round trip to every query. It is an
        # observation, not an input anyone was promised: if the process dies in that instant
        # the report is lost, while the answer was already given. A failed publish is logged.
        self._report(
            wrap(
                RetrievalPerformed(
                    query_id=request.id,
                    collection=q.collection,
                    mode=mode,
                    query=q.query,
                    hit_count=len(hits),
                    top_score=max(scores) if scores else None,
                    top_scores=sorted(scores, reverse=True)[:TOP_SCORES],
                    score_threshold=q.score_threshold,
                    miss=miss,
                    chunk_ids=[h.chunk_id for h in hits],
                    latency_ms=took_ms,
                    actor=q.actor,
                ),
                tenant=request.tenant,
                source=SOURCE,
                causation=request,
                time=self.clock.now(),
            )
        )
        return RetrievalResult(
            hits=hits,
            context=packed.context,
            citations=packed.citations,
            context_tokens=packed.tokens,
            mode=mode,
            miss=miss,
            took_ms=took_ms,
        )

    def _report(self, event: Envelope[RetrievalPerformed]) -> None:
        """Publish a performed event in the background (a failure is logged, not raised)."""
        task = asyncio.get_running_loop().create_task(self._publish_report(event))
        self._reporting.add(task)
        task.add_done_callback(self._reporting.discard)

    async def _publish_report(self, event: Envelope[RetrievalPerformed]) -> None:
        try:
            await self.publisher.publish(event)
        except Exception as exc:  # JetStream away: the query was answered; say what was lost
            _log.warning(
                "retrieval.performed not published", query_id=event.data.query_id, error=str(exc)
            )

    async def settle(self) -> None:
        """Wait until every performed event started so far is published (or has failed)."""
        while self._reporting:
            await asyncio.gather(*list(self._reporting), return_exceptions=True)
