"""Unit tests of the retrieval service: packing, queries, events (the index: test_index.py)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from llmops_contracts import wrap
from llmops_contracts.common import Actor
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import Chunk, ChunksEmbedded
from llmops_contracts.registry import InvalidMessage, parse
from llmops_contracts.retrieval import (
    Hit,
    RetrievalPerformed,
    RetrievalQuery,
    RetrievalResult,
    SearchMode,
)
from llmops_retrieval.service import RetrievalService, estimate_tokens, pack_context
from llmops_retrieval.store import Bm25Index
from llmops_shared.clock import FixedClock
from tests.fakes import FakePublisher


def chunks_event(
    tenant: str, document_id: str, texts: list[str], collection: str = "kb", **metadata: Any
) -> Envelope[ChunksEmbedded]:
    return wrap(
        ChunksEmbedded(
            document_id=document_id,
            collection=collection,
            embedding_model="none",
            dimensions=0,
            chunks=[
                Chunk(chunk_id=f"{document_id}:{i}", ordinal=i, text=t, metadata=metadata)
                for i, t in enumerate(texts)
            ],
        ),
        tenant=tenant,
        source="llmops/ingestion",
    )


def query(tenant: str, text: str, **fields: Any) -> Envelope[RetrievalQuery]:
    fields.setdefault("collection", "kb")
    return wrap(RetrievalQuery(query=text, **fields), tenant=tenant, source="app://test")


def hit(text: str, score: float = 1.0) -> Hit:
    return Hit(chunk_id=text[:8], document_id="d", score=score, text=text)


@pytest.fixture
def service() -> RetrievalService:
    return RetrievalService(Bm25Index(), FakePublisher())


def published(service: RetrievalService) -> list[Envelope[Any]]:
    assert isinstance(service.publisher, FakePublisher)
    return service.publisher.published


# --- context packing ------------------------------------------------------------------------


def test_context_packs_hits_best_first_within_the_budget() -> None:
    hits = [hit("one two three four"), hit("five six seven"), hit("eight nine")]
    assert pack_context(hits, None) == "one two three four\n\nfive six seven\n\neight nine"
    assert pack_context(hits, 7) == "one two three four\n\nfive six seven"
    # A hit that does not fit is skipped; a smaller one after it may still fit.
    assert pack_context(hits, 6) == "one two three four\n\neight nine"
    assert pack_context(hits, 1) is None
    assert pack_context([], 100) is None


def test_token_estimate_counts_words() -> None:
    assert estimate_tokens("  a  b\nc\td ") == 4


# --- the service ----------------------------------------------------------------------------


async def test_query_answers_hits_context_and_publishes_performed(
    service: RetrievalService,
) -> None:
    await service.add_chunks(
        chunks_event(
            "acme",
            "faq",
            ["refunds take five days", "shipping is free over fifty", "refunds need a receipt"],
        )
    )
    request = query(
        "acme",
        "how do refunds work",
        top_k=2,
        max_context_tokens=100,
        actor=Actor(app="bot", user="u1"),
    )
    result = await service.query(request)

    # The handler wraps it in the reply (tenant and causation: test_retrieval_nats.py).
    assert isinstance(result, RetrievalResult)
    assert {h.chunk_id for h in result.hits} == {"faq:0", "faq:2"}
    assert result.hits[0].score >= result.hits[1].score
    assert result.context == "\n\n".join(h.text for h in result.hits)
    assert result.took_ms >= 0

    [event] = published(service)
    performed = event.data
    assert isinstance(performed, RetrievalPerformed)
    assert performed.query_id == request.id
    assert performed.mode == SearchMode.SPARSE  # hybrid degrades while there are no vectors
    assert performed.hit_count == 2
    assert performed.chunk_ids == [h.chunk_id for h in result.hits]
    assert performed.top_score == result.hits[0].score
    assert performed.actor == Actor(app="bot", user="u1")
    assert (event.tenant, event.causation_id) == ("acme", request.id)
    assert parse(event.to_json(), subject=event.subject()).data == performed


async def test_a_miss_is_answered_and_recorded(service: RetrievalService) -> None:
    await service.add_chunks(chunks_event("acme", "faq", ["refunds take five days"]))
    result = await service.query(query("acme", "quantum chromodynamics"))
    assert result.hits == []
    assert result.context is None
    [event] = published(service)
    assert (event.data.hit_count, event.data.top_score, event.data.chunk_ids) == (0, None, [])


async def test_a_tenant_never_sees_another_tenants_chunks(service: RetrievalService) -> None:
    await service.add_chunks(chunks_event("acme", "plan", ["acme launch date is friday"]))
    await service.add_chunks(chunks_event("globex", "plan", ["globex launch is monday"]))
    acme = await service.query(query("acme", "launch date monday friday", top_k=10))
    globex = await service.query(query("globex", "launch date monday friday", top_k=10))
    assert [h.text for h in acme.hits] == ["acme launch date is friday"]
    assert [h.text for h in globex.hits] == ["globex launch is monday"]
    assert [e.tenant for e in published(service)] == ["acme", "globex"]


async def test_filters_and_top_k_are_applied(service: RetrievalService) -> None:
    await service.add_chunks(chunks_event("acme", "a", ["alpha beta"] * 3, team="red"))
    await service.add_chunks(chunks_event("acme", "b", ["alpha gamma"] * 3, team="blue"))
    result = await service.query(query("acme", "alpha", top_k=2, filters={"team": "blue"}))
    assert [h.chunk_id for h in result.hits] == ["b:0", "b:1"]


async def test_dense_search_is_refused_rather_than_faked(service: RetrievalService) -> None:
    with pytest.raises(InvalidMessage, match=r"data\.mode: dense"):
        await service.query(query("acme", "anything", mode=SearchMode.DENSE))
    assert published(service) == []


async def test_took_ms_comes_from_the_timer_and_times_from_the_clock() -> None:
    # The reply is dated by the same clock in the handler: test_endpoints_at_edges.py.
    ticks = itertools.count(step=0.25)
    new_year = datetime(2026, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    service = RetrievalService(
        Bm25Index(), FakePublisher(), FixedClock(new_year), timer=lambda: next(ticks)
    )
    result = await service.query(query("acme", "x"))
    assert result.took_ms == 250.0
    assert published(service)[0].data.latency_ms == 250.0
    assert published(service)[0].time == new_year
