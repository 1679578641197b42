"""Unit tests of the retrieval service with fakes: applying events, queries, packing, MMR,
misses, rebuilds (the index adapters: test_index_suite.py)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from llmops_contracts import wrap
from llmops_contracts.common import Actor
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import Chunk, ChunksEmbedded, DocumentDeleted, SparseVector
from llmops_contracts.registry import InvalidMessage, parse
from llmops_contracts.retrieval import (
    Hit,
    RebuildIndex,
    RetrievalPerformed,
    RetrievalQuery,
    RetrievalResult,
    SearchMode,
)
from llmops_retrieval.context import estimate_tokens, mmr, pack_context
from llmops_retrieval.ports import ScoredChunk
from llmops_retrieval.service import RetrievalService
from llmops_shared.clock import FixedClock
from llmops_shared.sparse import SparseEncoder
from tests.fakes import FakePublisher
from tests.services.retrieval.conftest import FakeIndex, HashEmbedder

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ENCODER = SparseEncoder()


def chunks_event(
    tenant: str,
    document_id: str,
    texts: Sequence[str],
    collection: str = "kb",
    *,
    ids: Sequence[str] | None = None,
    embed: HashEmbedder | None = None,
    metadata: dict[str, Any] | None = None,
    **fields: Any,
) -> Envelope[ChunksEmbedded]:
    ids = ids or [f"{document_id}:{i}" for i in range(len(texts))]
    chunks = []
    for i, (cid, text) in enumerate(zip(ids, texts, strict=True)):
        indices, values = ENCODER.document(text)
        chunks.append(
            Chunk(
                chunk_id=cid,
                ordinal=i,
                text=text,
                sparse=SparseVector(indices=indices, values=values),
                vector=embed.vector(text) if embed else None,
                metadata=metadata or {},
            )
        )
    return wrap(
        ChunksEmbedded(
            document_id=document_id,
            collection=collection,
            embedding_model=embed.model if embed else "bm25",
            dimensions=embed.dimensions if embed else 0,
            chunks=chunks,
            **fields,
        ),
        tenant=tenant,
        source="llmops/ingestion",
    )


def deleted(tenant: str, document_id: str, collection: str = "kb") -> Envelope[DocumentDeleted]:
    return wrap(
        DocumentDeleted(document_id=document_id, collection=collection, reason="deleted"),
        tenant=tenant,
        source="llmops/ingestion",
    )


def query(tenant: str, text: str, **fields: Any) -> Envelope[RetrievalQuery]:
    fields.setdefault("collection", "kb")
    return wrap(RetrievalQuery(query=text, **fields), tenant=tenant, source="app://test")


def make(dense: bool = False, clock: Any = None) -> RetrievalService:
    embed = HashEmbedder() if dense else None
    return RetrievalService(
        FakeIndex(embed.dimensions if embed else 0),
        FakePublisher(),
        clock or FixedClock(NOW),
        dense=embed,
    )


@pytest.fixture
def service() -> RetrievalService:
    return make()


async def published(service: RetrievalService) -> list[Envelope[Any]]:
    """What the service published, once its performed events (sent beside replies) are out."""
    await service.settle()
    assert isinstance(service.publisher, FakePublisher)
    return service.publisher.published


def texts(result: RetrievalResult) -> list[str]:
    return [h.text for h in result.hits]


# --- applying events ------------------------------------------------------------------------


async def test_applying_an_event_twice_changes_nothing(service: RetrievalService) -> None:
    event = chunks_event("acme", "faq", ["refunds take five days", "shipping is free"])
    await service.apply(event)
    await service.apply(event)
    assert await service.index.count("acme", "kb", "faq") == 2
    assert texts(await service.query(query("acme", "refunds"))) == ["refunds take five days"]


async def test_a_new_version_replaces_the_old_after_its_last_part(
    service: RetrievalService,
) -> None:
    await service.apply(chunks_event("acme", "doc", ["alpha one", "beta one"]))
    # Version 2 in two parts: the first part only adds; the last one drops what keep lacks.
    part1 = chunks_event(
        "acme", "doc", ["alpha two"], ids=["doc:a2"], final=False, keep=None, version="2"
    )
    await service.apply(part1)
    assert set(texts(await service.query(query("acme", "alpha", top_k=10)))) == {
        "alpha one",
        "alpha two",
    }
    part2 = chunks_event(
        "acme", "doc", ["gamma two"], ids=["doc:g2"], keep=["doc:a2", "doc:g2", "doc:1"]
    )
    await service.apply(part2)
    assert set(texts(await service.query(query("acme", "alpha beta gamma", top_k=10)))) == {
        "alpha two",
        "gamma two",
        "beta one",  # unchanged chunk, listed in keep and not sent again
    }
    # keep None on a final event: its chunks are the whole document.
    await service.apply(chunks_event("acme", "doc", ["only this"], ids=["doc:x"]))
    assert await service.index.count("acme", "kb", "doc") == 1


async def test_a_deleted_document_leaves_the_index(service: RetrievalService) -> None:
    await service.apply(chunks_event("acme", "a", ["keep me"]))
    await service.apply(chunks_event("acme", "b", ["delete me"]))
    await service.apply(deleted("acme", "b"))
    await service.apply(deleted("acme", "b"))  # again: nothing left to do
    assert await service.index.count("acme", "kb") == 1
    assert (await service.query(query("acme", "delete"))).hits == []


async def test_acl_and_expiry_travel_from_the_event_to_the_query(
    service: RetrievalService,
) -> None:
    await service.apply(chunks_event("acme", "hr", ["salary bands"], acl=["hr"]))
    await service.apply(
        chunks_event("acme", "promo", ["salary promo"], expires_at=NOW - timedelta(seconds=1))
    )
    await service.apply(chunks_event("acme", "faq", ["salary day"]))
    assert texts(await service.query(query("acme", "salary", top_k=10))) == ["salary day"]
    labelled = await service.query(query("acme", "salary bands", acl=["hr"], top_k=10))
    assert set(texts(labelled)) == {"salary bands", "salary day"}


async def test_chunks_without_sparse_vectors_are_encoded_here(service: RetrievalService) -> None:
    event = chunks_event("acme", "old", ["legacy sender text"])
    for chunk in event.data.chunks:
        chunk.sparse = None
    await service.apply(event)
    assert texts(await service.query(query("acme", "legacy"))) == ["legacy sender text"]


async def test_a_vector_of_the_wrong_length_is_invalid() -> None:
    service = make(dense=True)
    event = chunks_event("acme", "d", ["text"], embed=HashEmbedder(8))
    with pytest.raises(InvalidMessage, match=r"data\.chunks\[0\]\.vector: 8 dimensions"):
        await service.apply(event)


async def test_an_event_of_another_type_is_invalid(service: RetrievalService) -> None:
    with pytest.raises(InvalidMessage, match="chunk and deletion events"):
        await service.apply(query("acme", "not an index event"))


# --- queries --------------------------------------------------------------------------------


async def test_query_answers_hits_context_citations_and_publishes_performed(
    service: RetrievalService,
) -> None:
    await service.apply(
        chunks_event(
            "acme",
            "faq",
            ["refunds take five days", "shipping is free over fifty", "refunds need a receipt"],
            metadata={"title": "FAQ", "uri": "https://example.test/faq"},
        )
    )
    request = query("acme", "how do refunds work", top_k=2, actor=Actor(app="bot", user="u1"))
    result = await service.query(request)

    assert {h.chunk_id for h in result.hits} == {"faq:0", "faq:2"}
    assert result.hits[0].score >= result.hits[1].score
    assert result.mode == SearchMode.SPARSE  # hybrid degrades while there is no dense model
    assert result.context == "\n\n".join(f"[{i}] {h.text}" for i, h in enumerate(result.hits, 1))
    assert [(c.marker, c.chunk_id, c.title, c.uri) for c in result.citations] == [
        (i, h.chunk_id, "FAQ", "https://example.test/faq") for i, h in enumerate(result.hits, 1)
    ]
    assert result.context_tokens == estimate_tokens(result.context)
    assert result.miss is False

    [event] = await published(service)
    performed = event.data
    assert isinstance(performed, RetrievalPerformed)
    assert performed.query_id == request.id
    assert performed.query == "how do refunds work"
    assert performed.mode == SearchMode.SPARSE
    assert performed.hit_count == 2
    assert performed.chunk_ids == [h.chunk_id for h in result.hits]
    assert performed.top_scores == [h.score for h in result.hits]
    assert performed.top_score == result.hits[0].score
    assert performed.miss is False
    assert performed.actor == Actor(app="bot", user="u1")
    assert (event.tenant, event.causation_id, event.time) == ("acme", request.id, NOW)
    assert parse(event.to_json(), subject=event.subject()).data == performed


async def test_a_miss_is_answered_and_recorded(service: RetrievalService) -> None:
    await service.apply(chunks_event("acme", "faq", ["refunds take five days"]))
    result = await service.query(query("acme", "quantum chromodynamics"))
    assert (result.hits, result.context, result.citations, result.miss) == ([], None, [], True)
    [event] = await published(service)
    assert (event.data.hit_count, event.data.top_score, event.data.miss) == (0, None, True)


async def test_the_threshold_turns_weak_hits_into_a_miss(service: RetrievalService) -> None:
    await service.apply(chunks_event("acme", "faq", ["refunds take five days"]))
    weak = await service.query(query("acme", "refunds", score_threshold=1000.0))
    assert (weak.hits, weak.miss) == ([], True)
    strong = await service.query(query("acme", "refunds", score_threshold=0.01))
    assert (len(strong.hits), strong.miss) == (1, False)
    assert [e.data.miss for e in (await published(service))] == [True, False]
    assert (await published(service))[0].data.score_threshold == 1000.0


async def test_top_scores_keep_at_most_five(service: RetrievalService) -> None:
    await service.apply(chunks_event("acme", "d", [f"common word {i}" for i in range(8)]))
    await service.query(query("acme", "common", top_k=8))
    assert len((await published(service))[0].data.top_scores) == 5
    assert (await published(service))[0].data.hit_count == 8


async def test_a_tenant_never_sees_another_tenants_chunks(service: RetrievalService) -> None:
    await service.apply(chunks_event("acme", "plan", ["acme launch date is friday"]))
    await service.apply(chunks_event("globex", "plan", ["globex launch is monday"]))
    acme = await service.query(query("acme", "launch date monday friday", top_k=10))
    globex = await service.query(
        query("globex", "launch date monday friday", top_k=10, filters={"tenant": "acme"})
    )
    assert texts(acme) == ["acme launch date is friday"]
    assert globex.hits == []  # a filter narrows globex's own chunks; it never reaches acme's


async def test_filters_and_top_k_are_applied(service: RetrievalService) -> None:
    await service.apply(chunks_event("acme", "a", ["alpha beta"] * 3, metadata={"team": "red"}))
    await service.apply(chunks_event("acme", "b", ["alpha gamma"] * 3, metadata={"team": "blue"}))
    result = await service.query(query("acme", "alpha", top_k=2, filters={"team": "blue"}))
    assert {h.document_id for h in result.hits} == {"b"}
    assert len(result.hits) == 2


async def test_dense_search_is_refused_without_a_dense_model(service: RetrievalService) -> None:
    with pytest.raises(InvalidMessage, match=r"data\.mode: dense"):
        await service.query(query("acme", "anything", mode=SearchMode.DENSE))
    assert (await published(service)) == []


async def test_dense_and_hybrid_with_a_dense_model() -> None:
    service = make(dense=True)
    embed = HashEmbedder()
    await service.apply(
        chunks_event("acme", "d", ["gearbox repair manual", "weather report"], embed=embed)
    )
    dense = await service.query(query("acme", "gearbox repair manual", mode=SearchMode.DENSE))
    assert dense.mode == SearchMode.DENSE
    assert dense.hits[0].text == "gearbox repair manual"
    assert dense.hits[0].score == pytest.approx(1.0)
    hybrid = await service.query(query("acme", "gearbox repair", mode=SearchMode.HYBRID))
    assert hybrid.mode == SearchMode.HYBRID
    assert hybrid.hits[0].text == "gearbox repair manual"
    assert [e.data.mode for e in (await published(service))] == [
        SearchMode.DENSE,
        SearchMode.HYBRID,
    ]


async def test_mmr_diversifies_near_duplicates(service: RetrievalService) -> None:
    await service.apply(
        chunks_event(
            "acme",
            "d",
            [
                "refund policy refund window refund form",
                "refund policy refund window refund forms",
                "refund by bank transfer",
            ],
        )
    )
    plain = await service.query(query("acme", "refund policy window", top_k=2))
    assert {h.chunk_id for h in plain.hits} == {"d:0", "d:1"}  # the two near-duplicates
    diverse = await service.query(query("acme", "refund policy window", top_k=2, mmr=0.3))
    assert diverse.hits[0].chunk_id == plain.hits[0].chunk_id  # the best stays first
    assert diverse.hits[1].chunk_id == "d:2"


async def test_took_ms_comes_from_the_timer_and_times_from_the_clock() -> None:
    ticks = itertools.count(step=0.25)
    new_year = datetime(2026, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    service = RetrievalService(
        FakeIndex(), FakePublisher(), FixedClock(new_year), timer=lambda: next(ticks)
    )
    result = await service.query(query("acme", "x"))
    assert result.took_ms == 250.0
    assert (await published(service))[0].data.latency_ms == 250.0
    assert (await published(service))[0].time == new_year


async def test_expiry_is_judged_by_the_service_clock() -> None:
    clock = FixedClock(NOW)
    service = make(clock=clock)
    await service.apply(
        chunks_event("acme", "promo", ["promo code"], expires_at=NOW + timedelta(hours=1))
    )
    assert len((await service.query(query("acme", "promo"))).hits) == 1
    later = RetrievalService(service.index, FakePublisher(), FixedClock(NOW + timedelta(hours=2)))
    assert (await later.query(query("acme", "promo"))).hits == []


# --- rebuild --------------------------------------------------------------------------------


async def events_of(*events: Envelope[Any]) -> AsyncIterator[Envelope[Any]]:
    for event in events:
        yield event


def rebuild_request(tenant: str, collection: str | None = None) -> Envelope[RebuildIndex]:
    return wrap(RebuildIndex(collection=collection), tenant=tenant, source="cli://llmops")


async def test_rebuild_drops_the_tenant_and_replays_its_events(
    service: RetrievalService,
) -> None:
    history = [
        chunks_event("acme", "a", ["first document"]),
        chunks_event("acme", "b", ["second document"]),
        chunks_event("acme", "a", ["first document v2"], ids=["a:v2"]),
        deleted("acme", "b"),
        chunks_event("acme", "c", ["third document"], collection="wiki"),
    ]
    await service.apply(chunks_event("acme", "stale", ["not in the stream any more"]))
    await service.apply(chunks_event("globex", "g", ["globex document"]))
    rebuilt = await service.rebuild(rebuild_request("acme"), events_of(*history))
    assert (rebuilt.events, rebuilt.chunks, rebuilt.documents) == (5, 2, 2)
    assert texts(await service.query(query("acme", "document", top_k=10))) == ["first document v2"]
    assert await service.index.count("acme", "wiki") == 1
    assert await service.index.count("globex") == 1  # another tenant is untouched


async def test_rebuild_of_one_collection_keeps_the_others(service: RetrievalService) -> None:
    await service.apply(chunks_event("acme", "w", ["wiki page"], collection="wiki"))
    await service.apply(chunks_event("acme", "k", ["kb page"]))
    history = [
        chunks_event("acme", "k2", ["kb page two"]),
        chunks_event("acme", "w", ["x"], "wiki"),
    ]
    rebuilt = await service.rebuild(rebuild_request("acme", "kb"), events_of(*history))
    assert (rebuilt.events, rebuilt.chunks) == (1, 1)
    assert await service.index.count("acme", "wiki") == 1
    assert texts(await service.query(query("acme", "page", top_k=10))) == ["kb page two"]


async def test_live_events_wait_for_a_running_rebuild(service: RetrievalService) -> None:
    gate = asyncio.Event()

    async def slow_history() -> AsyncIterator[Envelope[Any]]:
        yield chunks_event("acme", "doc", ["old version"], ids=["old"])
        await gate.wait()

    rebuilding = asyncio.create_task(service.rebuild(rebuild_request("acme"), slow_history()))
    await asyncio.sleep(0)
    live = asyncio.create_task(
        service.apply(chunks_event("acme", "doc", ["new version"], ids=["new"]))
    )
    await asyncio.sleep(0.01)
    assert not live.done()  # held back: applied now, the replay could undo it
    with pytest.raises(InvalidMessage, match="already running"):
        await service.rebuild(rebuild_request("acme"), events_of())
    gate.set()
    await rebuilding
    await live
    assert texts(await service.query(query("acme", "version"))) == ["new version"]


async def test_an_invalid_replayed_event_is_skipped() -> None:
    service = make()  # sparse only: a vector of any length is ignored, so use a dense one
    dense = make(dense=True)
    bad = chunks_event("acme", "bad", ["wrong length"], embed=HashEmbedder(4))
    good = chunks_event("acme", "good", ["right"], embed=HashEmbedder())
    rebuilt = await dense.rebuild(rebuild_request("acme"), events_of(bad, good))
    assert (rebuilt.events, rebuilt.chunks, rebuilt.documents) == (2, 1, 1)
    await service.apply(bad)  # a sparse-only index keeps no vectors, so nothing to refuse
    assert await service.index.count("acme") == 1


# --- pure rules -----------------------------------------------------------------------------


def hit(text: str, score: float = 1.0) -> Hit:
    return Hit(chunk_id=text[:8], document_id="d", score=score, text=text)


def test_context_packs_hits_best_first_within_the_budget() -> None:
    hits = [hit("one two three"), hit("four five"), hit("six")]
    assert pack_context(hits, None).context == "[1] one two three\n\n[2] four five\n\n[3] six"
    assert pack_context(hits, 7).context == "[1] one two three\n\n[2] four five"
    # A hit that does not fit is skipped; a smaller one after it may still fit.
    packed = pack_context(hits, 6)
    assert packed.context == "[1] one two three\n\n[2] six"
    assert [c.chunk_id for c in packed.citations] == ["one two ", "six"]
    assert packed.tokens == 6
    assert pack_context(hits, 1).context is None
    assert pack_context([], 100) == pack_context([], None)


def test_token_estimate_counts_words() -> None:
    assert estimate_tokens("  a  b\nc\td ") == 4


def test_mmr_uses_dense_vectors_when_present() -> None:
    def sc(cid: str, score: float, dense: list[float]) -> ScoredChunk:
        return ScoredChunk(cid, "d", 0, cid, score, {}, sparse_indices=[1], dense=dense)

    candidates = [sc("a", 1.0, [1, 0]), sc("a2", 0.99, [1, 0.01]), sc("b", 0.5, [0, 1])]
    assert [c.chunk_id for c in mmr(candidates, 1.0, 2)] == ["a", "a2"]
    assert [c.chunk_id for c in mmr(candidates, 0.5, 2)] == ["a", "b"]
    assert mmr([], 0.5, 3) == []
