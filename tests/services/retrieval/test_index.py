"""One abstract suite for the retrieval index port, run against every adapter.

``IndexContract`` holds what the ``Index`` port promises (tenant isolation, whole-document
replacement, exact metadata filters); each adapter's class adds what only it promises (BM25's
ranking). Today the in-process BM25 index is the only adapter; the Qdrant index joins here.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmops_contracts.ingestion import Chunk
from llmops_retrieval.store import Bm25Index, tokenize


class IndexContract:
    """What every implementation of the ``Index`` port must do."""

    @pytest.fixture
    def index(self) -> Any:  # overridden per adapter
        raise NotImplementedError

    async def test_tenants_and_collections_are_isolated(self, index: Any) -> None:
        secret = [Chunk(chunk_id="s:0", ordinal=0, text="acme secret merger plans")]
        await index.replace_document("acme", "kb", "s", secret)
        assert await index.search("globex", "kb", "secret merger plans", top_k=5) == []
        assert await index.search("acme", "other", "secret merger plans", top_k=5) == []
        assert [h.chunk_id for h in await index.search("acme", "kb", "merger", top_k=5)] == ["s:0"]
        # The same document id under another tenant is another document.
        await index.replace_document(
            "globex", "kb", "s", [Chunk(chunk_id="s:0", ordinal=0, text="globex picnic")]
        )
        assert [h.text for h in await index.search("acme", "kb", "merger", top_k=5)] == [
            "acme secret merger plans"
        ]
        assert await index.search("globex", "kb", "merger", top_k=5) == []

    async def test_replacing_a_document_drops_its_old_chunks(self, index: Any) -> None:
        await index.replace_document(
            "acme",
            "kb",
            "d",
            [Chunk(chunk_id=f"d:{i}", ordinal=i, text=f"version one part {i}") for i in range(3)],
        )
        await index.replace_document(
            "acme", "kb", "d", [Chunk(chunk_id="d:0", ordinal=0, text="version two")]
        )
        assert await index.search("acme", "kb", "one part", top_k=5) == []
        assert [h.text for h in await index.search("acme", "kb", "version", top_k=5)] == [
            "version two"
        ]

    async def test_filters_match_chunk_metadata_exactly(self, index: Any) -> None:
        await index.replace_document(
            "acme",
            "kb",
            "en",
            [Chunk(chunk_id="en", ordinal=0, text="hello", metadata={"lang": "en"})],
        )
        await index.replace_document(
            "acme",
            "kb",
            "fr",
            [Chunk(chunk_id="fr", ordinal=0, text="hello", metadata={"lang": "fr"})],
        )
        found = await index.search("acme", "kb", "hello", top_k=5, filters={"lang": "fr"})
        assert [h.chunk_id for h in found] == ["fr"]
        assert await index.search("acme", "kb", "hello", top_k=5, filters={"team": None}) == []


class TestBm25Index(IndexContract):
    """The in-process BM25 index: the port's promises, and BM25's ranking."""

    @pytest.fixture
    def index(self) -> Bm25Index:
        return Bm25Index()

    async def test_replacing_a_document_drops_its_old_chunks(self, index: Bm25Index) -> None:
        await super().test_replacing_a_document_drops_its_old_chunks(index)
        assert index.count("acme", "kb") == 1

    async def test_ranking_prefers_rarer_terms_and_more_occurrences(self, index: Bm25Index) -> None:
        await index.replace_document(
            "acme",
            "kb",
            "doc",
            [
                Chunk(chunk_id="common", ordinal=0, text="the cat sat on the mat"),
                Chunk(chunk_id="rare", ordinal=1, text="the axolotl sat on the mat"),
                Chunk(chunk_id="rare-twice", ordinal=2, text="axolotl axolotl on the mat"),
                Chunk(chunk_id="nothing", ordinal=3, text="an unrelated sentence"),
            ],
        )
        hits = await index.search("acme", "kb", "the axolotl", top_k=10)
        assert [h.chunk_id for h in hits] == ["rare-twice", "rare", "common"]
        assert hits[0].score > hits[1].score > hits[2].score > 0
        assert [h.chunk_id for h in await index.search("acme", "kb", "axolotl", top_k=1)] == [
            "rare-twice"
        ]

    async def test_length_normalisation_favours_the_focused_chunk(self, index: Bm25Index) -> None:
        padding = " ".join(f"filler{i}" for i in range(40))
        await index.replace_document(
            "acme",
            "kb",
            "doc",
            [
                Chunk(chunk_id="long", ordinal=0, text=f"refund policy {padding}"),
                Chunk(chunk_id="short", ordinal=1, text="refund policy"),
            ],
        )
        assert [h.chunk_id for h in await index.search("acme", "kb", "refund", top_k=5)] == [
            "short",
            "long",
        ]


def test_tokenize_is_case_insensitive_and_unicode_aware() -> None:
    assert tokenize("Héllo, WORLD! 42-x_y") == ["héllo", "world", "42", "x_y"]
