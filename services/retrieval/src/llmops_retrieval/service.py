"""Retrieval logic: keep the index fed with chunks, answer queries, pack context, report.

No framework imports here: the service talks to the world through the ports below.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from llmops_contracts import wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import Chunk, ChunksEmbedded
from llmops_contracts.registry import InvalidMessage
from llmops_contracts.retrieval import (
    Hit,
    RetrievalPerformed,
    RetrievalQuery,
    RetrievalResult,
    SearchMode,
)
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.publish import Publisher

SOURCE = "llmops/retrieval"
CONTEXT_SEP = "\n\n"


class Index(Protocol):
    """Port: a tenant-scoped chunk index. A tenant's calls never see another tenant's chunks."""

    @property
    def modes(self) -> frozenset[SearchMode]:
        """Search modes the index can serve."""
        ...

    async def replace_document(
        self, tenant: str, collection: str, document_id: str, chunks: Sequence[Chunk]
    ) -> None:
        """Make ``chunks`` the whole indexed content of one document."""
        ...

    async def search(
        self,
        tenant: str,
        collection: str,
        query: str,
        *,
        mode: SearchMode,
        top_k: int,
        filters: Mapping[str, Any],
    ) -> list[Hit]:
        """At most ``top_k`` hits, best first, among chunks whose metadata match ``filters``."""
        ...


def estimate_tokens(text: str) -> int:
    """A cheap token estimate: whitespace-separated words."""
    return len(text.split())


def pack_context(hits: Sequence[Hit], max_tokens: int | None) -> str | None:
    """Hit texts, best first, joined into one context within ``max_tokens`` (None: no limit).

    A hit that does not fit whole in what is left of the budget is skipped rather than cut, so
    the context never carries half a passage; a smaller, lower-ranked hit may still fit after it.
    Returns None when nothing is packed.
    """
    packed: list[str] = []
    left = max_tokens
    for hit in hits:
        cost = estimate_tokens(hit.text)
        if left is not None:
            if cost > left:
                continue
            left -= cost
        packed.append(hit.text)
    return CONTEXT_SEP.join(packed) if packed else None


class RetrievalService:
    """Feeds the index with chunk events and answers retrieval queries."""

    def __init__(
        self,
        index: Index,
        publisher: Publisher,
        clock: Clock = SYSTEM_CLOCK,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.index = index
        self.publisher = publisher
        self.clock = clock
        self.timer = timer

    async def add_chunks(self, event: Envelope[ChunksEmbedded]) -> int:
        """Index a document's chunks, replacing its previous version; returns the chunk count."""
        data = event.data
        await self.index.replace_document(
            event.tenant, data.collection, data.document_id, data.chunks
        )
        return len(data.chunks)

    def resolve_mode(self, requested: SearchMode) -> SearchMode:
        """The mode a query really runs in, given what the index can serve.

        Hybrid degrades to sparse while the index holds no dense vectors (the performed event
        records the mode used); an explicit request for a mode the index lacks is refused
        rather than answered with something else.
        """
        available = self.index.modes
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
        """Answer one query with hits and packed context, and publish what was retrieved."""
        started = self.timer()
        q = request.data
        mode = self.resolve_mode(SearchMode(q.mode))
        hits = await self.index.search(
            request.tenant,
            q.collection,
            q.query,
            mode=mode,
            top_k=q.top_k,
            filters=q.filters,
        )
        context = pack_context(hits, q.max_context_tokens)
        took_ms = max(0.0, (self.timer() - started) * 1000)
        await self.publisher.publish(
            wrap(
                RetrievalPerformed(
                    query_id=request.id,
                    collection=q.collection,
                    mode=mode,
                    hit_count=len(hits),
                    top_score=hits[0].score if hits else None,
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
        return RetrievalResult(hits=hits, context=context, took_ms=took_ms)
