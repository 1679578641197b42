"""Retrieval: tenant-scoped search over the vector index, and context packing."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from llmops_contracts import subjects
from llmops_contracts.common import Actor, Metadata, Part
from llmops_contracts.envelope import Kind, MessageSpec, Payload
from llmops_contracts.ingestion import AclLabel

#: A metadata key a query may filter on: a plain name, never a path into the stored payload (no
#: dots, brackets or operators), so a filter can only ever narrow the caller's own chunks.
FilterKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")]
FilterValue = str | int | bool


class SearchMode(StrEnum):
    """How to search the index."""

    DENSE = "dense"
    SPARSE = "sparse"
    HYBRID = "hybrid"


class RetrievalQuery(Payload):
    """Request: search a collection and pack the context."""

    SPEC = MessageSpec(
        type="llmops.retrieval.query.v1",
        kind=Kind.REQUEST,
        subject=subjects.RETRIEVAL_QUERY,
        summary="Search the tenant's index; the reply is a retrieval result.",
        producers=("application",),
        consumers=("retrieval",),
        reply="llmops.retrieval.result.v1",
    )

    query: str = Field(
        min_length=1, max_length=8000, description="The user's question or search text."
    )
    collection: str = Field(default="default", description="Index collection to search.")
    top_k: int = Field(default=5, ge=1, le=100, description="How many hits to return.")
    mode: SearchMode = Field(
        default=SearchMode.HYBRID, description="Dense, sparse or hybrid search."
    )
    filters: dict[FilterKey, FilterValue | list[FilterValue]] = Field(
        default_factory=dict,
        max_length=16,
        description="Filters on chunk metadata: a value must match exactly, a list matches any "
        "of its values. They narrow the tenant's chunks; they never widen them.",
    )
    score_threshold: float | None = Field(
        default=None, description="Drop hits scoring below this; none keeps all."
    )
    mmr: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Diversify hits by maximal marginal relevance: 1 is pure relevance, 0 pure "
        "diversity; none does not diversify.",
    )
    acl: list[AclLabel] = Field(
        default_factory=list,
        max_length=64,
        description="The caller's access labels: labelled chunks need one of them.",
    )
    max_context_tokens: int | None = Field(
        default=None, ge=1, description="Token budget for the packed context; none packs all hits."
    )
    actor: Actor = Field(default_factory=Actor, description="Who asked.")


class Hit(Part):
    """One retrieved chunk."""

    chunk_id: str = Field(description="Chunk id.")
    document_id: str = Field(description="Document the chunk belongs to.")
    score: float = Field(description="Relevance score; higher is better.")
    text: str = Field(description="Chunk text.")
    ordinal: int = Field(default=0, ge=0, description="Position of the chunk in its document.")
    metadata: Metadata = Field(default_factory=dict)


class Citation(Part):
    """A source of the packed context: marker ``[n]`` in the context points here."""

    marker: int = Field(ge=1, description="The number in the context's ``[n]`` marker.")
    document_id: str = Field(description="Document cited.")
    chunk_id: str = Field(description="Chunk cited.")
    title: str | None = Field(default=None, description="The document's title, if known.")
    uri: str | None = Field(default=None, description="The document's URI, if known.")


class RetrievalResult(Payload):
    """Reply: the hits of a retrieval query and the packed context."""

    SPEC = MessageSpec(
        type="llmops.retrieval.result.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="Hits and packed context for a retrieval query.",
        producers=("retrieval",),
    )

    hits: list[Hit] = Field(default_factory=list, description="Best hits first.")
    context: str | None = Field(default=None, description="Hits packed into one context string.")
    citations: list[Citation] = Field(
        default_factory=list, description="The sources of the context, by marker."
    )
    context_tokens: int = Field(default=0, ge=0, description="Estimated tokens in the context.")
    mode: SearchMode | None = Field(default=None, description="Search mode used.")
    miss: bool = Field(default=False, description="Whether no hit cleared the threshold.")
    took_ms: float = Field(ge=0, description="Server-side time to answer.")


class RebuildIndex(Payload):
    """Request: drop the tenant's index and rebuild it by replaying the chunk events."""

    SPEC = MessageSpec(
        type="llmops.retrieval.rebuild.v1",
        kind=Kind.REQUEST,
        subject=subjects.RETRIEVAL_REBUILD,
        summary="Rebuild the tenant's index from the EVENTS stream.",
        producers=("operator",),
        consumers=("retrieval",),
        reply="llmops.retrieval.rebuilt.v1",
    )

    collection: str | None = Field(
        default=None, max_length=128, description="Only this collection; none: all of them."
    )


class IndexRebuilt(Payload):
    """Reply: what a rebuild replayed."""

    SPEC = MessageSpec(
        type="llmops.retrieval.rebuilt.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="Counts of a finished index rebuild.",
        producers=("retrieval",),
    )

    events: int = Field(ge=0, description="Events replayed.")
    chunks: int = Field(ge=0, description="Chunks in the rebuilt index.")
    documents: int = Field(ge=0, description="Documents in the rebuilt index.")


class RetrievalPerformed(Payload):
    """Event: a retrieval query was answered (hit or miss)."""

    SPEC = MessageSpec(
        type="llmops.retrieval.performed.v1",
        kind=Kind.EVENT,
        subject=subjects.RETRIEVAL_PERFORMED,
        summary="A query was answered; records hits and misses for evaluation and audit.",
        producers=("retrieval",),
        consumers=("evaluation", "audit"),
    )

    query_id: str = Field(description="Id of the query request message.")
    collection: str = Field(description="Collection searched.")
    mode: SearchMode = Field(description="Search mode used.")
    query: str = Field(default="", max_length=8000, description="The query text.")
    hit_count: int = Field(ge=0, description="Number of hits returned.")
    top_score: float | None = Field(default=None, description="Best score, none on a miss.")
    top_scores: list[float] = Field(
        default_factory=list, description="Scores of the best hits (at most 5), best first."
    )
    score_threshold: float | None = Field(default=None, description="The threshold asked for.")
    miss: bool = Field(default=False, description="Whether no hit cleared the threshold.")
    chunk_ids: list[str] = Field(
        default_factory=list, description="Returned chunk ids, best first."
    )
    latency_ms: float = Field(ge=0, description="Time to answer.")
    actor: Actor = Field(default_factory=Actor, description="Who asked.")
