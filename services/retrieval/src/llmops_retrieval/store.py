"""Adapters of the retrieval ports: an in-process BM25 index."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmops_contracts.ingestion import Chunk
from llmops_contracts.retrieval import Hit, SearchMode

_WORD = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (Unicode letters, digits and underscores)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class _Entry:
    chunk_id: str
    document_id: str
    ordinal: int
    text: str
    metadata: dict[str, Any]
    terms: Counter[str]
    length: int


class _Collection:
    """One tenant's collection: chunks, postings and lengths for BM25."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.by_document: dict[str, set[str]] = {}
        self.postings: dict[str, dict[str, int]] = {}
        self.total_length = 0

    def remove_document(self, document_id: str) -> None:
        """Drop every chunk of one document."""
        for chunk_id in self.by_document.pop(document_id, set()):
            self._remove(chunk_id)

    def add(self, document_id: str, chunk: Chunk) -> None:
        """Index one chunk of a document, replacing a chunk with the same id."""
        if chunk.chunk_id in self.entries:  # the same id sent under another document
            old = self.entries[chunk.chunk_id]
            self.by_document.get(old.document_id, set()).discard(chunk.chunk_id)
            self._remove(chunk.chunk_id)
        terms = Counter(tokenize(chunk.text))
        entry = _Entry(
            chunk_id=chunk.chunk_id,
            document_id=document_id,
            ordinal=chunk.ordinal,
            text=chunk.text,
            metadata=dict(chunk.metadata),
            terms=terms,
            length=sum(terms.values()),
        )
        self.entries[entry.chunk_id] = entry
        self.by_document.setdefault(document_id, set()).add(entry.chunk_id)
        self.total_length += entry.length
        for term, tf in terms.items():
            self.postings.setdefault(term, {})[entry.chunk_id] = tf

    def _remove(self, chunk_id: str) -> None:
        """Drop one chunk from the entries, postings and length total."""
        entry = self.entries.pop(chunk_id)
        self.total_length -= entry.length
        for term in entry.terms:
            posting = self.postings[term]
            del posting[chunk_id]
            if not posting:
                del self.postings[term]

    def search(
        self, terms: Sequence[str], top_k: int, filters: Mapping[str, Any], k1: float, b: float
    ) -> list[tuple[float, _Entry]]:
        """The ``top_k`` best (score, entry) pairs matching ``filters``, best first."""
        n = len(self.entries)
        if n == 0:
            return []
        avg_length = self.total_length / n or 1.0
        scores: dict[str, float] = {}
        for term in set(terms):
            posting = self.postings.get(term)
            if not posting:
                continue
            # Lucene's BM25 idf: never negative, so a term in most chunks still adds a little.
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for chunk_id, tf in posting.items():
                norm = k1 * (1 - b + b * self.entries[chunk_id].length / avg_length)
                scores[chunk_id] = scores.get(chunk_id, 0.0) + idf * tf * (k1 + 1) / (tf + norm)
        ranked = [
            (score, self.entries[chunk_id])
            for chunk_id, score in scores.items()
            if _matches(self.entries[chunk_id].metadata, filters)
        ]
        ranked.sort(key=lambda se: (-se[0], se[1].document_id, se[1].ordinal))
        return ranked[:top_k]


def _matches(metadata: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    """Whether every filter key is present in the metadata with exactly that value."""
    return all(key in metadata and metadata[key] == value for key, value in filters.items())


class Bm25Index:
    """Index port in process memory: BM25 keyword ranking, one index per tenant and collection.

    Pure Python and lost when the process exits (the service rebuilds it from the EVENTS stream
    at start). The Qdrant edge index replaces it in the retrieval issue, with dense and hybrid
    search; this one serves sparse search only.
    """

    modes = frozenset({SearchMode.SPARSE})

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        # Keyed by tenant first: a search only ever reads the caller's tenant's entry.
        self._tenants: dict[str, dict[str, _Collection]] = {}

    async def replace_document(
        self, tenant: str, collection: str, document_id: str, chunks: Sequence[Chunk]
    ) -> None:
        """Make ``chunks`` the whole indexed content of one document."""
        target = self._tenants.setdefault(tenant, {}).setdefault(collection, _Collection())
        target.remove_document(document_id)
        for chunk in chunks:
            target.add(document_id, chunk)

    async def search(
        self,
        tenant: str,
        collection: str,
        query: str,
        *,
        mode: SearchMode = SearchMode.SPARSE,
        top_k: int = 5,
        filters: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        """BM25 hits in one tenant's collection, best first (ties by document and position)."""
        if mode not in self.modes:
            raise ValueError(f"{mode} search is not supported by the BM25 index")
        target = self._tenants.get(tenant, {}).get(collection)
        if target is None:
            return []
        ranked = target.search(tokenize(query), top_k, filters or {}, self.k1, self.b)
        return [
            Hit(
                chunk_id=entry.chunk_id,
                document_id=entry.document_id,
                score=score,
                text=entry.text,
                metadata=entry.metadata,
            )
            for score, entry in ranked
        ]

    def count(self, tenant: str, collection: str) -> int:
        """Chunks indexed in one tenant's collection."""
        target = self._tenants.get(tenant, {}).get(collection)
        return len(target.entries) if target is not None else 0
