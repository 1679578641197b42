"""Retrieval: tenant-scoped search over the vector index, and context packing."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from llmops_contracts import subjects
from llmops_contracts.common import Actor, Metadata, Part
from llmops_contracts.envelope import Kind, MessageSpec, Payload


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
    filters: Metadata = Field(
        default_factory=dict, description="Exact-match filters on chunk metadata."
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
    metadata: Metadata = Field(default_factory=dict)


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
    took_ms: float = Field(ge=0, description="Server-side time to answer.")


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
    hit_count: int = Field(ge=0, description="Number of hits returned.")
    top_score: float | None = Field(default=None, description="Best score, none on a miss.")
    chunk_ids: list[str] = Field(
        default_factory=list, description="Returned chunk ids, best first."
    )
    latency_ms: float = Field(ge=0, description="Time to answer.")
    actor: Actor = Field(default_factory=Actor, description="Who asked.")
