"""One abstract suite for the retrieval ``Index`` port, run against every adapter.

``IndexContract`` holds the port's promises: idempotent writes, keep-set deletion, tenant
isolation under adversarial filters, ACL labels, expiry, thresholds, BM25 ranking with IDF
scoped to the tenant, dense and hybrid search. It runs against the in-memory fake (the service's
unit tests rest on it), the embedded Qdrant edge shard in a temporary directory, and
qdrant-client's local mode (the server adapter's code path; local mode applies IDF, corpus-scoped
IDF and RRF, so every test runs there too). The edge class adds persistence and the one-writer
lock.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from llmops_contracts.retrieval import RetrievalQuery, SearchMode
from llmops_retrieval.edge import EdgeIndex, IndexConfigMismatch
from llmops_retrieval.ports import Index, IndexedChunk, ScoredChunk, SearchRequest, point_id
from llmops_retrieval.qdrant_server import QdrantServerIndex
from llmops_shared.sparse import SparseEncoder
from tests.conftest import eventually
from tests.services.retrieval.conftest import FakeIndex, HashEmbedder

DIMS = 16
NOW = 1_800_000_000.0
ENCODER = SparseEncoder()
EMBED = HashEmbedder(DIMS)


def chunk(
    text: str,
    id_: str | None = None,
    *,
    ordinal: int = 0,
    acl: Sequence[str] = (),
    expires_at: float | None = None,
    dense: list[float] | None = None,
    meta: dict[str, Any] | None = None,
) -> IndexedChunk:
    indices, values = ENCODER.document(text)
    return IndexedChunk(
        chunk_id=id_ or text,
        ordinal=ordinal,
        text=text,
        sparse_indices=indices,
        sparse_values=values,
        dense=dense if dense is not None else EMBED.vector(text),
        metadata=meta or {},
        acl=acl,
        expires_at=expires_at,
    )


async def search(
    index: Index,
    tenant: str,
    text: str,
    *,
    collection: str = "kb",
    mode: SearchMode = SearchMode.SPARSE,
    limit: int = 10,
    dense: list[float] | None = None,
    **fields: Any,
) -> list[ScoredChunk]:
    indices, values = ENCODER.query(text)
    fields.setdefault("now", NOW)
    return await index.search(
        SearchRequest(
            tenant=tenant,
            collection=collection,
            mode=mode,
            limit=limit,
            sparse_indices=indices,
            sparse_values=values,
            dense=dense if dense is not None else EMBED.vector(text),
            **fields,
        )
    )


def ids(hits: Sequence[ScoredChunk]) -> list[str]:
    return [h.chunk_id for h in hits]


class IndexContract:
    """What every implementation of the ``Index`` port must do."""

    #: Whether the adapter under test computes IDF over the searched tenant's collection.
    scoped_idf = True

    @pytest.fixture
    def index(self, tmp_path: Path) -> Index:  # overridden per adapter
        raise NotImplementedError

    # --- writes ---------------------------------------------------------------------------

    async def test_upserting_again_changes_nothing(self, index: Index) -> None:
        chunks = [chunk("refunds take five days"), chunk("shipping is free", ordinal=1)]
        await index.upsert("acme", "kb", "faq", chunks)
        await index.upsert("acme", "kb", "faq", chunks)
        assert await index.count("acme", "kb", "faq") == 2
        hits = await search(index, "acme", "refunds")
        assert ids(hits) == ["refunds take five days"]
        assert (hits[0].document_id, hits[0].text, hits[0].ordinal) == (
            "faq",
            "refunds take five days",
            0,
        )

    async def test_new_chunks_are_written_before_old_ones_are_dropped(self, index: Index) -> None:
        await index.upsert("acme", "kb", "doc", [chunk("alpha old"), chunk("beta kept")])
        await index.upsert("acme", "kb", "other", [chunk("alpha elsewhere")])
        await index.upsert("globex", "kb", "doc", [chunk("alpha old")])
        # Version 2: written first, so a query between the two steps sees both versions.
        await index.upsert("acme", "kb", "doc", [chunk("alpha new")])
        assert set(ids(await search(index, "acme", "alpha"))) == {
            "alpha old",
            "alpha new",
            "alpha elsewhere",
        }
        await index.delete_missing("acme", "kb", "doc", {"alpha new", "beta kept"})
        assert set(ids(await search(index, "acme", "alpha beta"))) == {
            "alpha new",
            "beta kept",
            "alpha elsewhere",
        }
        assert ids(await search(index, "globex", "alpha")) == ["alpha old"]  # not the same doc
        await index.delete_missing("acme", "kb", "doc", set())
        assert await index.count("acme", "kb", "doc") == 0
        assert await index.count("acme", "kb") == 1

    async def test_deleting_a_document_touches_only_it(self, index: Index) -> None:
        await index.upsert("acme", "kb", "a", [chunk("first text"), chunk("second text")])
        await index.upsert("acme", "kb", "b", [chunk("third text")])
        await index.upsert("acme", "other", "a", [chunk("first text")])
        await index.delete_document("acme", "kb", "a")
        assert ids(await search(index, "acme", "text")) == ["third text"]
        assert await index.count("acme", "other", "a") == 1
        await index.delete_document("acme", "kb", "a")  # again: nothing to do
        assert await index.count("acme") == 2

    async def test_drop_removes_a_tenant_or_one_collection(self, index: Index) -> None:
        await index.upsert("acme", "kb", "a", [chunk("one")])
        await index.upsert("acme", "wiki", "a", [chunk("two")])
        await index.upsert("globex", "kb", "a", [chunk("one")])
        await index.drop("acme", "wiki")
        assert (await index.count("acme", "kb"), await index.count("acme", "wiki")) == (1, 0)
        await index.drop("acme")
        assert await index.count("acme") == 0
        assert await index.count("globex") == 1

    # --- tenant isolation ------------------------------------------------------------------

    async def test_identical_chunks_of_two_tenants_are_two_points(self, index: Index) -> None:
        assert point_id("acme", "kb", "c") != point_id("globex", "kb", "c")
        assert point_id("acme", "kb", "c") != point_id("acme", "wiki", "c")
        await index.upsert("acme", "kb", "d", [chunk("shared text", "c")])
        await index.upsert("globex", "kb", "d", [chunk("shared text", "c")])
        await index.delete_document("globex", "kb", "d")
        assert ids(await search(index, "acme", "shared")) == ["c"]
        assert await search(index, "globex", "shared") == []

    @pytest.mark.parametrize(
        "filters",
        [
            {"tenant": "globex"},
            {"tenant": ["globex", "acme"]},
            {"collection": "kb"},
            {"document_id": "secret"},
            {"acl": "board"},
            {"chunk_id": "s"},
        ],
    )
    async def test_no_filter_reaches_another_tenant(
        self, index: Index, filters: dict[str, Any]
    ) -> None:
        await index.upsert(
            "globex",
            "kb",
            "secret",
            [chunk("merger plans", "s", acl=["board"], meta={"team": "x"})],
        )
        # A chunk of the caller's own whose metadata names the other tenant and its fields.
        own = chunk(
            "merger rumours",
            "own",
            meta={
                "tenant": "globex",
                "collection": "kb",
                "document_id": "secret",
                "acl": "board",
                "chunk_id": "s",
            },
        )
        await index.upsert("acme", "kb", "mine", [own])
        for mode in SearchMode:
            hits = await search(index, "acme", "merger plans", mode=mode, filters=filters)
            hits += await search(
                index, "acme", "merger plans", mode=mode, filters=filters, acl=["board"]
            )
            # Filters read the chunk's own metadata only: they narrow acme's chunks, no more.
            assert {h.document_id for h in hits} <= {"mine"}, (mode, filters)
            assert "s" not in ids(hits)
        assert ids(await search(index, "acme", "merger", filters=filters)) == ["own"]

    async def test_idf_is_computed_over_the_tenants_own_collection(self, index: Index) -> None:
        if not self.scoped_idf:
            pytest.skip("this adapter is configured with IDF over the whole index")
        await index.upsert("acme", "kb", "d", [chunk("axolotl care"), chunk("cat care")])
        before = await search(index, "acme", "axolotl care")
        # Another tenant (and another collection) full of the rare word changes nothing.
        many = [chunk(f"axolotl note {i}", ordinal=i) for i in range(20)]
        await index.upsert("globex", "kb", "flood", many)
        await index.upsert("acme", "wiki", "flood", many)
        after = await search(index, "acme", "axolotl care")
        assert ids(after) == ids(before) == ["axolotl care", "cat care"]
        assert [h.score for h in after] == pytest.approx([h.score for h in before], rel=1e-3)

    # --- visibility ------------------------------------------------------------------------

    async def test_acl_labels_restrict_labelled_chunks(self, index: Index) -> None:
        await index.upsert(
            "acme",
            "kb",
            "d",
            [
                chunk("salary bands", "hr", acl=["hr", "execs"]),
                chunk("salary day is friday", "all"),
            ],
        )
        assert ids(await search(index, "acme", "salary")) == ["all"]
        assert ids(await search(index, "acme", "salary", acl=["eng"])) == ["all"]
        assert set(ids(await search(index, "acme", "salary", acl=["eng", "execs"]))) == {
            "hr",
            "all",
        }
        for mode in SearchMode:
            found = await search(index, "acme", "salary bands", mode=mode, acl=["eng"])
            assert "hr" not in ids(found), mode

    async def test_expired_chunks_are_never_returned(self, index: Index) -> None:
        await index.upsert(
            "acme",
            "kb",
            "d",
            [
                chunk("promo code gone", "past", expires_at=NOW - 1),
                chunk("promo code ends now", "edge", expires_at=NOW),
                chunk("promo code later", "later", expires_at=NOW + 60),
                chunk("promo code forever", "forever"),
            ],
        )
        for mode in SearchMode:
            found = set(ids(await search(index, "acme", "promo code", mode=mode)))
            assert found == {"later", "forever"}, mode
        assert set(ids(await search(index, "acme", "promo", now=NOW - 10))) == {
            "past",
            "edge",
            "later",
            "forever",
        }

    async def test_metadata_filters_narrow_exactly(self, index: Index) -> None:
        await index.upsert(
            "acme",
            "kb",
            "d",
            [
                chunk("hello world", "en", meta={"lang": "en", "year": 2024, "public": True}),
                chunk("hello monde", "fr", meta={"lang": "fr", "year": 2025, "public": False}),
                chunk("hello welt", "de", meta={"lang": "de", "public": 0}),
            ],
        )
        assert ids(await search(index, "acme", "hello", filters={"lang": "fr"})) == ["fr"]
        both = await search(index, "acme", "hello", filters={"lang": ["fr", "en"]})
        assert set(ids(both)) == {"fr", "en"}
        assert ids(await search(index, "acme", "hello", filters={"year": 2024})) == ["en"]
        assert ids(await search(index, "acme", "hello", filters={"public": False})) == ["fr"]
        assert ids(await search(index, "acme", "hello", filters={"public": True})) == ["en"]
        assert ids(await search(index, "acme", "hello", filters={"public": 0})) == ["de"]
        mixed = await search(index, "acme", "hello", filters={"public": [True, 0]})
        assert set(ids(mixed)) == {"en", "de"}
        assert await search(index, "acme", "hello", filters={"year": "2024"}) == []
        assert await search(index, "acme", "hello", filters={"team": "red"}) == []
        assert await search(index, "acme", "hello", filters={"lang": []}) == []
        narrowed = await search(
            index, "acme", "hello", filters={"lang": ["fr", "en"], "year": 2025}
        )
        assert ids(narrowed) == ["fr"]

    async def test_score_threshold_drops_weak_hits(self, index: Index) -> None:
        await index.upsert("acme", "kb", "d", [chunk("refund policy"), chunk("refund")])
        hits = await search(index, "acme", "refund policy")
        assert len(hits) == 2
        best = hits[0].score
        assert hits[1].score < best * 0.9
        just_below = best * 0.99
        assert ids(await search(index, "acme", "refund policy", score_threshold=just_below)) == [
            hits[0].chunk_id
        ]
        assert await search(index, "acme", "refund policy", score_threshold=best * 2) == []

    # --- ranking ---------------------------------------------------------------------------

    async def test_sparse_ranking_is_bm25(self, index: Index) -> None:
        await index.upsert(
            "acme",
            "kb",
            "doc",
            [
                chunk("cat sat on mat", "common"),
                chunk("axolotl sat on mat", "rare"),
                chunk("axolotl axolotl on mat", "rare-twice"),
                chunk("an unrelated sentence", "nothing"),
                chunk("cat naps on mat", "filler"),
            ],
        )
        hits = await search(index, "acme", "axolotl mat")
        assert ids(hits)[:2] == ["rare-twice", "rare"]  # the rare term ranks first
        assert hits[0].score > hits[1].score > hits[2].score > 0
        assert "nothing" not in ids(hits)
        assert ids(await search(index, "acme", "axolotl", limit=1)) == ["rare-twice"]
        assert await search(index, "acme", "zeppelin") == []

    async def test_dense_search_ranks_by_cosine(self, index: Index) -> None:
        x = [1.0] + [0.0] * (DIMS - 1)
        y = [0.0, 1.0] + [0.0] * (DIMS - 2)
        xy = [1.0, 1.0] + [0.0] * (DIMS - 2)
        await index.upsert(
            "acme",
            "kb",
            "d",
            [
                chunk("one", "x", dense=x),
                chunk("two", "y", dense=y),
                chunk("three", "xy", dense=xy),
            ],
        )
        hits = await search(index, "acme", "unrelated words", mode=SearchMode.DENSE, dense=x)
        assert ids(hits) == ["x", "xy", "y"]
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert hits[1].score == pytest.approx(1 / math.sqrt(2), abs=1e-4)

    async def test_hybrid_fuses_sparse_and_dense_candidates(self, index: Index) -> None:
        x = [1.0] + [0.0] * (DIMS - 1)
        y = [0.0, 1.0] + [0.0] * (DIMS - 2)
        await index.upsert(
            "acme",
            "kb",
            "d",
            [
                chunk("gearbox repair manual", "both", dense=x),
                chunk("gearbox oil", "sparse-only", dense=y),
                chunk("transmission servicing", "dense-only", dense=x),
                chunk("weather report", "neither", dense=y),
            ],
        )
        sparse = await search(index, "acme", "gearbox repair", dense=x)
        assert set(ids(sparse)) == {"both", "sparse-only"}
        hybrid = await search(index, "acme", "gearbox repair", mode=SearchMode.HYBRID, dense=x)
        assert ids(hybrid)[0] == "both"  # first in both rankings
        assert {"sparse-only", "dense-only"} <= set(ids(hybrid))
        assert all(a.score >= b.score for a, b in itertools.pairwise(hybrid))

    async def test_vectors_come_back_when_asked(self, index: Index) -> None:
        await index.upsert("acme", "kb", "d", [chunk("vector text")])
        [bare] = await search(index, "acme", "vector")
        assert (bare.sparse_indices, bare.dense) == (None, None)
        [full] = await search(index, "acme", "vector", with_vectors=True)
        assert full.sparse_indices == ENCODER.document("vector text")[0]
        assert full.dense is not None
        assert len(full.dense) == DIMS


class TestFakeIndex(IndexContract):
    """The in-memory fake the service's unit tests use keeps the same promises."""

    @pytest.fixture
    async def index(self, tmp_path: Path) -> AsyncIterator[Index]:
        fake = FakeIndex(DIMS)
        await fake.open()
        yield fake
        await fake.close()


class TestEdgeIndex(IndexContract):
    """The embedded default: a Qdrant edge shard on disk."""

    @pytest.fixture
    async def index(self, tmp_path: Path) -> AsyncIterator[Index]:
        edge = EdgeIndex(tmp_path / "index", DIMS, scoped_idf=self.scoped_idf)
        await edge.open()
        yield edge
        await edge.close()

    async def test_the_index_survives_close_and_reopen(self, tmp_path: Path) -> None:
        path = tmp_path / "persist"
        # Scoped IDF is recomputed per query; the engine's global IDF statistics count deleted
        # points until the segment is optimized or reloaded, so scores would shift on reopen.
        first = EdgeIndex(path, DIMS, scoped_idf=True)
        await first.open()
        await first.upsert("acme", "kb", "d", [chunk("durable words", acl=["x"])])
        await first.upsert("acme", "kb", "e", [chunk("durable too")])
        await first.delete_document("acme", "kb", "e")
        before = await search(first, "acme", "durable", acl=["x"])
        await first.close()
        again = EdgeIndex(path, DIMS, scoped_idf=True)
        await again.open()
        try:
            assert await again.count("acme") == 1
            after = await search(again, "acme", "durable", acl=["x"])
            assert [(h.chunk_id, h.score) for h in after] == [(h.chunk_id, h.score) for h in before]
            assert await search(again, "acme", "durable") == []  # the label survived too
        finally:
            await again.close()

    async def test_one_writer_per_directory(self, index: EdgeIndex) -> None:
        second = EdgeIndex(index.path, DIMS)
        with pytest.raises(Exception, match="WAL"):
            await second.open()

    async def test_a_sparse_index_gains_dense_vectors_but_never_changes_their_length(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "grow"
        sparse_only = EdgeIndex(path)
        await sparse_only.open()
        await sparse_only.upsert("acme", "kb", "d", [chunk("old sparse chunk")])
        await sparse_only.close()
        dense = EdgeIndex(path, DIMS)
        await dense.open()
        await dense.upsert("acme", "kb", "e", [chunk("new dense chunk", "n")])
        hits = await search(dense, "acme", "new dense chunk", mode=SearchMode.DENSE)
        assert ids(hits)[0] == "n"
        await dense.close()
        with pytest.raises(IndexConfigMismatch, match=f"{DIMS} dimensions"):
            await EdgeIndex(path, DIMS * 2).open()

    async def test_the_optimizer_runs_once_writes_pause(self, index: EdgeIndex) -> None:
        runs: list[bool] = []
        optimize = index.optimize

        def counted() -> bool:
            runs.append(optimize())
            return runs[-1]

        index.optimize = counted  # type: ignore[method-assign]
        loop = asyncio.create_task(index.optimize_when_idle(0.05))
        try:
            await asyncio.sleep(0.2)
            assert runs == []  # nothing written, nothing to optimize
            await index.upsert("acme", "kb", "d", [chunk("fresh words")])
            await eventually(lambda: len(runs) == 1)
            await asyncio.sleep(0.2)
            assert len(runs) == 1  # once per pause in writing, not on every tick
            assert ids(await search(index, "acme", "fresh")) == ["fresh words"]
        finally:
            loop.cancel()

    async def test_optimizing_keeps_every_answer(self, index: EdgeIndex) -> None:
        await index.upsert(
            "acme", "kb", "d", [chunk(f"note number {i}", ordinal=i) for i in range(50)]
        )
        before = await search(index, "acme", "note 7 number")
        index.optimize()
        after = await search(index, "acme", "note 7 number")
        assert [(h.chunk_id, round(h.score, 4)) for h in after] == [
            (h.chunk_id, round(h.score, 4)) for h in before
        ]


class TestEdgeIndexGlobalIdf(TestEdgeIndex):
    """The embedded index as configured by default: IDF over the whole index (faster)."""

    scoped_idf = False


class TestQdrantClientLocal(IndexContract):
    """The server adapter's code, against qdrant-client's local mode (no server here)."""

    @pytest.fixture
    async def index(self, tmp_path: Path) -> AsyncIterator[Index]:
        local = QdrantServerIndex("llmops_test", DIMS, location=":memory:", scoped_idf=True)
        await local.open()
        yield local
        await local.close()


# --- the contract keeps crafted filters out before any index sees them ----------------------


@pytest.mark.parametrize(
    "key",
    ["metadata.team", "tenant.x", "acl[0]", "$or", "a b", "", "x" * 65, "../tenant", "tenant\n"],
)
def test_filter_keys_that_could_address_the_payload_are_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="filters"):
        RetrievalQuery(query="q", filters={key: "v"})


@pytest.mark.parametrize("value", [{"$ne": "x"}, [{"a": 1}], None, 1.5, [[1]]])
def test_filter_values_are_scalars_or_lists_of_scalars(value: Any) -> None:
    with pytest.raises(ValidationError, match="filters"):
        RetrievalQuery(query="q", filters={"team": value})
