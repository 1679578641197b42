"""The retrieval service against a real nats-server and a real on-disk index: chunk and deletion
events in, queries and rebuilds answered, performed events out, dead letters for bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import Chunk, ChunksEmbedded, DocumentDeleted
from llmops_contracts.registry import parse
from llmops_contracts.retrieval import (
    RebuildIndex,
    RetrievalPerformed,
    RetrievalQuery,
    SearchMode,
)
from llmops_retrieval.app import create_app
from llmops_retrieval.config import RetrievalSettings
from tests.conftest import eventually, last_on, running


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    """A connection of the test's own, as an application or ingestion would hold."""
    connection = await nats.connect(nats_url)
    yield connection
    await connection.close()


@pytest.fixture
def settings(nats_url: str, uid: str, tmp_path: Path) -> RetrievalSettings:
    """Settings of one test's retrieval process: its own durable and index directory."""
    return RetrievalSettings(
        nats_url=nats_url,
        health_port=0,
        chunks_durable=f"retrieval-{uid}",
        batch_timeout_s=0.05,
        index_dir=tmp_path / "index",
        replay_timeout_s=0.5,
    )


async def publish(js: JetStreamContext, event: Envelope[Any]) -> None:
    await js.publish(event.subject(), event.to_json(), headers=headers.headers_for(event))


async def publish_chunks(
    js: JetStreamContext, tenant: str, document_id: str, *texts: str, **fields: Any
) -> None:
    event = wrap(
        ChunksEmbedded(
            document_id=document_id,
            collection="kb",
            embedding_model="bm25",
            dimensions=0,
            chunks=[
                Chunk(chunk_id=f"{document_id}:{i}", ordinal=i, text=t) for i, t in enumerate(texts)
            ],
            **fields,
        ),
        tenant=tenant,
        source="llmops/ingestion",
    )
    await publish(js, event)


async def publish_deleted(js: JetStreamContext, tenant: str, document_id: str, reason: str) -> None:
    deleted = DocumentDeleted(document_id=document_id, collection="kb", reason=reason)
    await publish(js, wrap(deleted, tenant=tenant, source="llmops/ingestion"))


async def ask(nc: Client, tenant: str, text: str, **fields: Any) -> tuple[Any, Envelope[Any]]:
    """Send a query; returns the raw reply and the request envelope."""
    request = wrap(
        RetrievalQuery(query=text, collection="kb", **fields), tenant=tenant, source="app://test"
    )
    reply = await nc.request(request.subject(), request.to_json(), timeout=5)
    return reply, request


async def hits_of(nc: Client, tenant: str, text: str, **fields: Any) -> list[Any]:
    reply, _ = await ask(nc, tenant, text, **fields)
    assert not (reply.headers or {}).get(headers.ERROR), reply.data
    return list(parse(reply.data).data.hits)


async def test_chunks_are_indexed_and_queries_answered_per_tenant(
    nc: Client, settings: RetrievalSettings, tenant: str
) -> None:
    other = f"{tenant}-other"
    js = nc.jetstream()
    async with running(create_app(settings)):
        await publish_chunks(
            js, tenant, "faq", "refunds take five days", "refunds need the receipt and box"
        )
        await publish_chunks(js, other, "secret", "refunds for the other tenant only")

        async def answered() -> tuple[Envelope[Any], Envelope[Any]] | None:
            reply, request = await ask(nc, tenant, "refunds receipt", max_context_tokens=6)
            assert not (reply.headers or {}).get(headers.ERROR), reply.data
            result = parse(reply.data)
            return (result, request) if len(result.data.hits) == 2 else None

        result, request = await eventually(answered)
        hits = result.data.hits
        assert [h.chunk_id for h in hits] == ["faq:1", "faq:0"]  # the receipt chunk first
        assert hits[0].score > hits[1].score
        # The best hit (7 words with its marker) overflows the budget of 6; the next fits.
        assert result.data.context == "[1] refunds take five days"
        assert [c.chunk_id for c in result.data.citations] == ["faq:0"]
        assert result.type == "llmops.retrieval.result.v1"
        assert (result.tenant, result.causation_id) == (tenant, request.id)

        async def others() -> list[Any] | None:  # the other tenant's event may come later
            found = await hits_of(nc, other, "refunds receipt box five days", top_k=10)
            return found or None

        other_hits = await eventually(others)
        assert [h.document_id for h in other_hits] == ["secret"]

        miss_reply, miss_request = await ask(nc, tenant, "zeppelin")
        assert parse(miss_reply.data).data.miss is True
        performed_subject = subjects.for_tenant(subjects.RETRIEVAL_PERFORMED, tenant)

        async def performed() -> Envelope[Any] | None:
            event = await last_on(js, subjects.EVENTS_STREAM, performed_subject)
            return event if event and event.data.query_id == miss_request.id else None

        event = await eventually(performed)
        assert isinstance(event.data, RetrievalPerformed)
        assert (event.data.hit_count, event.data.miss, event.data.query) == (
            0,
            True,
            "zeppelin",
        )
        assert event.data.mode == SearchMode.SPARSE
        assert event.causation_id == miss_request.id


async def test_no_crafted_query_reaches_another_tenant(
    nc: Client, settings: RetrievalSettings, tenant: str
) -> None:
    victim = f"{tenant}-victim"
    js = nc.jetstream()
    async with running(create_app(settings)):
        await publish_chunks(js, victim, "plans", "merger plans with globex", acl=["board"])
        await publish_chunks(js, tenant, "mine", "merger gossip")
        await eventually(lambda: hits_of(nc, tenant, "merger"))
        await eventually(lambda: hits_of(nc, victim, "merger", acl=["board"]))
        for filters in (
            {},
            {"tenant": victim},
            {"tenant": [victim, tenant]},
            {"collection": "kb"},
            {"document_id": "plans"},
        ):
            for mode in (SearchMode.SPARSE, SearchMode.HYBRID):
                hits = await hits_of(
                    nc, tenant, "merger plans globex", filters=filters, acl=["board"], mode=mode
                )
                assert {h.document_id for h in hits} <= {"mine"}, filters
        # A payload path as a filter key is refused by the contract, at the edge.
        raw = json.loads(
            wrap(RetrievalQuery(query="merger"), tenant=tenant, source="app://t").to_json()
        )
        raw["data"]["filters"] = {"metadata.tenant": victim}
        subject = subjects.for_tenant(subjects.RETRIEVAL_QUERY, tenant)
        reply = await nc.request(subject, json.dumps(raw).encode(), timeout=5)
        assert reply.headers[headers.ERROR] == "invalid"
        assert "filters" in json.loads(reply.data)["reason"]
        # The tenant is the subject's: a body claiming the victim's tenant is refused.
        claim = wrap(RetrievalQuery(query="merger"), tenant=victim, source="app://t")
        reply = await nc.request(subject, claim.to_json(), timeout=5)
        assert reply.headers[headers.ERROR] == "invalid"


async def test_invalid_input_is_dead_lettered_or_refused_and_the_service_keeps_answering(
    nc: Client, settings: RetrievalSettings, tenant: str
) -> None:
    js = nc.jetstream()
    async with running(create_app(settings)):
        chunks_subject = subjects.for_tenant(subjects.INGESTION_CHUNKS_EMBEDDED, tenant)
        bad = {
            "type": ChunksEmbedded.SPEC.type,
            "source": "llmops/ingestion",
            "tenant": tenant,
            "data": {"document_id": "d", "collection": "kb", "chunks": []},
        }
        await js.publish(chunks_subject, json.dumps(bad).encode())

        async def dead_letter() -> Envelope[Any] | None:
            letter = await last_on(js, subjects.DLQ_STREAM, subjects.dlq_for("retrieval", tenant))
            ok = letter is not None and letter.data.original_subject == chunks_subject
            return letter if ok else None

        letter = (await eventually(dead_letter)).data
        assert letter.failure == "invalid"
        assert "data.embedding_model" in letter.error
        assert json.loads(letter.payload) == bad

        query_subject = subjects.for_tenant(subjects.RETRIEVAL_QUERY, tenant)
        bad_query = {"type": RetrievalQuery.SPEC.type, "source": "app://t", "tenant": tenant}
        bad_query["data"] = {"query": ""}
        reply = await nc.request(query_subject, json.dumps(bad_query).encode(), timeout=5)
        assert reply.headers[headers.ERROR] == "invalid"
        assert "data.query" in json.loads(reply.data)["reason"]

        reply, _ = await ask(nc, tenant, "anything", mode=SearchMode.DENSE)
        assert reply.headers[headers.ERROR] == "invalid"
        assert "dense" in json.loads(reply.data)["reason"]

        # Still serving both paths.
        await publish_chunks(js, tenant, "ok", "still indexing after a bad event")

        async def indexed() -> bool:
            return len(await hits_of(nc, tenant, "indexing")) == 1

        await eventually(indexed)


async def test_the_index_survives_a_restart_and_deletions_apply_in_order(
    nc: Client, settings: RetrievalSettings, tenant: str
) -> None:
    js = nc.jetstream()
    async with running(create_app(settings)) as app:
        await publish_chunks(js, tenant, "a", "first document text")
        await publish_chunks(js, tenant, "b", "second document text")
        # Deleted, then submitted again: one consumer applies both in stream order.
        await publish_deleted(js, tenant, "b", "deleted")
        await publish_chunks(js, tenant, "b", "second document back")
        await publish_chunks(js, tenant, "c", "third document text")

        async def all_applied() -> bool:
            return await app.service.index.count(tenant, "kb") == 3  # type: ignore[attr-defined]

        await eventually(all_applied)
    consumer = await js.consumer_info(subjects.EVENTS_STREAM, settings.chunks_durable)
    assert consumer.num_ack_pending == 0
    assert set(consumer.config.filter_subjects or []) == {
        subjects.any_tenant(subjects.INGESTION_CHUNKS_EMBEDDED),
        subjects.any_tenant(subjects.INGESTION_DOCUMENT_DELETED),
    }
    # A new process on the same directory: every event was acknowledged, so nothing is
    # delivered again, and the index answers from disk.
    async with running(create_app(settings)):
        hits = await hits_of(nc, tenant, "document", top_k=10)
        assert {h.text for h in hits} == {
            "first document text",
            "second document back",
            "third document text",
        }


async def test_rebuild_replays_the_tenants_events(
    nc: Client, settings: RetrievalSettings, tenant: str
) -> None:
    js = nc.jetstream()
    async with running(create_app(settings)) as app:
        index = app.service.index  # type: ignore[attr-defined]
        await publish_chunks(js, tenant, "a", "alpha text", "alpha more")
        await publish_chunks(js, tenant, "b", "beta text")
        await publish_deleted(js, tenant, "b", "expired")

        async def applied() -> bool:
            return await index.count(tenant, "kb") == 2

        await eventually(applied)
        await index.drop(tenant)  # the index is lost...
        assert await hits_of(nc, tenant, "alpha") == []
        request = wrap(RebuildIndex(), tenant=tenant, source="cli://test")
        reply = await nc.request(request.subject(), request.to_json(), timeout=10)
        assert not (reply.headers or {}).get(headers.ERROR), reply.data
        rebuilt = parse(reply.data).data
        assert (rebuilt.events, rebuilt.chunks, rebuilt.documents) == (3, 2, 1)
        assert {h.text for h in await hits_of(nc, tenant, "alpha text beta")} == {
            "alpha text",
            "alpha more",
        }
