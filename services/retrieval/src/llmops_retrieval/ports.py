"""The index port of the retrieval service, and what both Qdrant adapters share.

The service talks to its index through :class:`Index` only. Two adapters implement it:
:mod:`llmops_retrieval.edge` (Qdrant's embedded engine on disk, the default) and
:mod:`llmops_retrieval.qdrant_server` (a Qdrant server through qdrant-client). Both store one
point per (tenant, collection, chunk) with the payload :func:`payload` builds, so a point id
never collides across tenants even when two tenants index the same text.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from llmops_contracts.retrieval import FilterValue, SearchMode

#: Names of the two vectors of a point.
SPARSE = "sparse"
DENSE = "dense"

#: Payload fields every query filters on; both adapters index them.
KEYWORD_FIELDS = ("tenant", "collection", "document_id", "acl")
EXPIRES_AT = "expires_at"
#: Where a chunk's own metadata lives in the payload: a query filter on key ``k`` reads
#: ``metadata.k`` and nothing else (filter keys cannot hold dots, see ``FilterKey``).
METADATA = "metadata"

_CHUNK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "llmops:chunk")


def point_id(tenant: str, collection: str, chunk_id: str) -> str:
    """The point id of one chunk in one tenant's collection.

    ``chunk_id`` is a uuid5 of its document and text (ingestion's rule); two tenants (or two
    collections) may hold the same chunk id, so the point id mixes both in. A chunk id that is
    not a UUID is first hashed into one, so any sender's ids stay usable.
    """
    try:
        base = uuid.UUID(chunk_id)
    except ValueError:
        base = uuid.uuid5(_CHUNK_NAMESPACE, chunk_id)
    return str(uuid.uuid5(base, f"{tenant}/{collection}"))


@dataclass(frozen=True)
class IndexedChunk:
    """One chunk as the index stores it."""

    chunk_id: str
    ordinal: int
    text: str
    sparse_indices: list[int]
    sparse_values: list[float]
    dense: list[float] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    acl: Sequence[str] = ()
    expires_at: float | None = None  # epoch seconds
    version: str | None = None


@dataclass(frozen=True)
class SearchRequest:
    """One search in one tenant's collection.

    ``now`` (epoch seconds) hides expired chunks; ``acl`` are the caller's labels (a labelled
    chunk needs one of them, an unlabelled one is tenant-wide); ``filters`` match chunk metadata
    exactly (a list: any of its values) and only ever narrow the tenant's chunks.
    """

    tenant: str
    collection: str
    mode: SearchMode
    limit: int
    now: float
    sparse_indices: list[int] = field(default_factory=list)
    sparse_values: list[float] = field(default_factory=list)
    dense: list[float] | None = None
    filters: Mapping[str, FilterValue | list[FilterValue]] = field(default_factory=dict)
    acl: Sequence[str] = ()
    score_threshold: float | None = None
    with_vectors: bool = False
    #: Hybrid: how many candidates each of sparse and dense contributes to the fusion.
    candidates: int = 50


@dataclass(frozen=True)
class ScoredChunk:
    """A search result: the stored chunk and its score (higher is better)."""

    chunk_id: str
    document_id: str
    ordinal: int
    text: str
    score: float
    metadata: dict[str, Any]
    sparse_indices: list[int] | None = None
    dense: list[float] | None = None


class Index(Protocol):
    """Port: a chunk index shared by every tenant, where a tenant's calls see only its chunks."""

    @property
    def dense_dimensions(self) -> int:
        """Length of the dense vectors the index holds; 0 when it holds sparse vectors only."""
        ...

    async def open(self) -> None:
        """Open (creating when absent) the index."""
        ...

    async def close(self) -> None:
        """Flush and release the index."""
        ...

    async def upsert(
        self, tenant: str, collection: str, document_id: str, chunks: Sequence[IndexedChunk]
    ) -> None:
        """Write chunks of one document (a chunk already there is replaced)."""
        ...

    async def delete_missing(
        self, tenant: str, collection: str, document_id: str, keep: Collection[str]
    ) -> None:
        """Drop the document's chunks whose ids are not in ``keep``."""
        ...

    async def delete_document(self, tenant: str, collection: str, document_id: str) -> None:
        """Drop every chunk of one document."""
        ...

    async def drop(self, tenant: str, collection: str | None = None) -> None:
        """Drop every chunk of a tenant (or of one of its collections)."""
        ...

    async def search(self, request: SearchRequest) -> list[ScoredChunk]:
        """At most ``request.limit`` chunks, best first."""
        ...

    async def count(
        self, tenant: str, collection: str | None = None, document_id: str | None = None
    ) -> int:
        """Chunks stored for a tenant (a collection, a document)."""
        ...


def payload(tenant: str, collection: str, document_id: str, chunk: IndexedChunk) -> dict[str, Any]:
    """The stored payload of one chunk (the same in both adapters)."""
    return {
        "tenant": tenant,
        "collection": collection,
        "document_id": document_id,
        "chunk_id": chunk.chunk_id,
        "ordinal": chunk.ordinal,
        "text": chunk.text,
        METADATA: dict(chunk.metadata),
        "acl": list(chunk.acl),
        EXPIRES_AT: chunk.expires_at,
        "version": chunk.version,
    }


def scored(score: float, stored: Mapping[str, Any], vectors: Any = None) -> ScoredChunk:
    """A search result from a stored payload (and the point's vectors, when fetched)."""
    sparse_indices: list[int] | None = None
    dense: list[float] | None = None
    if isinstance(vectors, Mapping):
        sparse = vectors.get(SPARSE)
        if sparse is not None:
            sparse_indices = list(sparse.indices)
        raw = vectors.get(DENSE)
        if raw is not None:
            dense = [float(x) for x in raw]
    return ScoredChunk(
        chunk_id=str(stored["chunk_id"]),
        document_id=str(stored["document_id"]),
        ordinal=int(stored.get("ordinal") or 0),
        text=str(stored.get("text") or ""),
        score=float(score),
        metadata=dict(stored.get(METADATA) or {}),
        sparse_indices=sparse_indices,
        dense=dense,
    )


# --- filters, as both adapters build them ---------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A payload field holds exactly ``value`` (for a list field: among its items)."""

    key: str
    value: FilterValue


@dataclass(frozen=True)
class AnyOf:
    """At least one of the conditions holds."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Missing:
    """A payload field is absent, null or an empty list."""

    key: str


@dataclass(frozen=True)
class After:
    """A numeric payload field is greater than ``value``."""

    key: str
    value: float


Condition = Match | AnyOf | Missing | After


def scope(
    tenant: str, collection: str | None = None, document_id: str | None = None
) -> list[Condition]:
    """Conditions selecting a tenant's (collection's, document's) points."""
    conditions: list[Condition] = [Match("tenant", tenant)]
    if collection is not None:
        conditions.append(Match("collection", collection))
    if document_id is not None:
        conditions.append(Match("document_id", document_id))
    return conditions


def search_conditions(request: SearchRequest) -> list[Condition] | None:
    """Every condition of a search, all of which must hold; None when nothing can match.

    The tenant and collection come first, then visibility (no ACL labels, or one of the
    caller's; not expired at ``now``), then the caller's metadata filters. A filter key ``k``
    reads ``metadata.k`` only, so no filter can reach the tenant, ACL or any other stored field:
    filters can only narrow. An empty list of values matches nothing.
    """
    conditions = scope(request.tenant, request.collection)
    labels: list[Condition] = [Match("acl", label) for label in request.acl]
    conditions.append(AnyOf((Missing("acl"), *labels)))
    conditions.append(AnyOf((Missing(EXPIRES_AT), After(EXPIRES_AT, request.now))))
    for key, value in request.filters.items():
        values = value if isinstance(value, list) else [value]
        if not values:
            return None
        conditions.append(AnyOf(tuple(Match(f"{METADATA}.{key}", v) for v in values)))
    return conditions


def keep_ids(tenant: str, collection: str, keep: Collection[str]) -> list[str]:
    """The point ids of the chunk ids to keep."""
    return [point_id(tenant, collection, chunk_id) for chunk_id in keep]
