"""The retrieval service against a real nats-server: chunks in, queries answered, events out."""

from __future__ import annotations

import json
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import Chunk, ChunksEmbedded
from llmops_contracts.registry import parse
from llmops_contracts.retrieval import RetrievalPerformed, RetrievalQuery, SearchMode
from llmops_retrieval.app import create_app
from llmops_retrieval.config import RetrievalSettings
from tests.conftest import eventually, last_on, running


@pytest.fixture
def settings(nats_url: str, uid: str) -> RetrievalSettings:
    """Settings of one test's retrieval processes (a durable name of its own)."""
    return RetrievalSettings(
        nats_url=nats_url, health_port=0, chunks_durable=f"retrieval-{uid}", batch_timeout_s=0.05
    )


async def publish_chunks(js: JetStreamContext, tenant: str, document_id: str, *texts: str) -> None:
    event = wrap(
        ChunksEmbedded(
            document_id=document_id,
            collection="kb",
            embedding_model="none",
            dimensions=0,
            chunks=[
                Chunk(chunk_id=f"{document_id}:{i}", ordinal=i, text=t) for i, t in enumerate(texts)
            ],
        ),
        tenant=tenant,
        source="llmops/ingestion",
    )
    await js.publish(event.subject(), event.to_json(), headers=headers.headers_for(event))


async def ask(nc: Client, tenant: str, text: str, **fields: Any) -> tuple[Any, Envelope[Any]]:
    """Send a query; returns the raw reply and the request envelope."""
    request = wrap(
        RetrievalQuery(query=text, collection="kb", **fields), tenant=tenant, source="app://test"
    )
    reply = await nc.request(request.subject(), request.to_json(), timeout=5)
    return reply, request


async def test_chunks_are_indexed_and_queries_answered_per_tenant(
    nats_url: str, settings: RetrievalSettings, tenant: str
) -> None:
    other = f"{tenant}-other"
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        async with running(create_app(settings)):
            await publish_chunks(
                js, tenant, "faq", "refunds take five days", "refunds need the receipt and box"
            )
            await publish_chunks(js, other, "secret", "refunds for the other tenant only")

            async def answered() -> tuple[Envelope[Any], Envelope[Any]] | None:
                reply, request = await ask(nc, tenant, "refunds receipt", max_context_tokens=5)
                assert not (reply.headers or {}).get(headers.ERROR), reply.data
                result = parse(reply.data)
                return (result, request) if len(result.data.hits) == 2 else None

            result, request = await eventually(answered)
            hits = result.data.hits
            assert [h.chunk_id for h in hits] == ["faq:1", "faq:0"]  # the receipt chunk first
            assert hits[0].score > hits[1].score
            # The best hit (6 words) overflows the budget of 5; the next one (4 words) fits.
            assert result.data.context == "refunds take five days"
            assert result.type == "llmops.retrieval.result.v1"
            assert (result.tenant, result.causation_id) == (tenant, request.id)

            other_reply, _ = await ask(nc, other, "refunds receipt box five days", top_k=10)
            assert [h.document_id for h in parse(other_reply.data).data.hits] == ["secret"]

            miss_reply, miss_request = await ask(nc, tenant, "zeppelin")
            assert parse(miss_reply.data).data.hits == []
            performed_subject = subjects.for_tenant(subjects.RETRIEVAL_PERFORMED, tenant)

            async def performed() -> Envelope[Any] | None:
                event = await last_on(js, subjects.EVENTS_STREAM, performed_subject)
                return event if event and event.data.query_id == miss_request.id else None

            event = await eventually(performed)
            assert isinstance(event.data, RetrievalPerformed)
            assert (event.data.hit_count, event.data.mode) == (0, SearchMode.SPARSE)
            assert event.causation_id == miss_request.id
    finally:
        await nc.close()


async def test_invalid_input_is_dead_lettered_or_refused_and_the_service_keeps_answering(
    nats_url: str, settings: RetrievalSettings, tenant: str
) -> None:
    nc = await nats.connect(nats_url)
    try:
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
                letter = await last_on(
                    js, subjects.DLQ_STREAM, subjects.dlq_for("retrieval", tenant)
                )
                ok = letter is not None and letter.data.original_subject == chunks_subject
                return letter if ok else None

            letter = (await eventually(dead_letter)).data
            assert letter.failure == "invalid"
            assert "data.embedding_model" in letter.error
            assert json.loads(letter.payload) == bad

            # An invalid request is answered at once with the reason, not left to time out.
            query_subject = subjects.for_tenant(subjects.RETRIEVAL_QUERY, tenant)
            bad_query = {"type": RetrievalQuery.SPEC.type, "source": "app://t", "tenant": tenant}
            bad_query["data"] = {"query": ""}
            reply = await nc.request(query_subject, json.dumps(bad_query).encode(), timeout=5)
            assert reply.headers[headers.ERROR] == "invalid"
            assert "data.query" in json.loads(reply.data)["reason"]

            # A tenant in the body that differs from the subject's is refused too.
            reply = await nc.request(
                query_subject,
                wrap(RetrievalQuery(query="x"), tenant="intruder", source="app://t").to_json(),
                timeout=5,
            )
            assert reply.headers[headers.ERROR] == "invalid"

            reply, _ = await ask(nc, tenant, "anything", mode=SearchMode.DENSE)
            assert reply.headers[headers.ERROR] == "invalid"
            assert "dense" in json.loads(reply.data)["reason"]

            # Still serving both paths.
            await publish_chunks(js, tenant, "ok", "still indexing after a bad event")

            async def indexed() -> bool:
                reply, _ = await ask(nc, tenant, "indexing")
                return len(parse(reply.data).data.hits) == 1

            await eventually(indexed)
    finally:
        await nc.close()


async def test_every_replica_rebuilds_the_whole_index_from_the_stream(
    nats_url: str, settings: RetrievalSettings, tenant: str
) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        # Published before any retrieval process runs: a new process must still find them.
        await publish_chunks(js, tenant, "a", "first document text")
        await publish_chunks(js, tenant, "b", "second document text")
        first, second = create_app(settings), create_app(settings)
        async with running(first), running(second):

            async def both_complete() -> bool:
                counts = [app.service.index.count(tenant, "kb") for app in (first, second)]  # type: ignore[attr-defined]
                return counts == [2, 2]

            await eventually(both_complete)
            # One consumer per process, each removed by the server once its process is gone.
            consumers = [
                c
                for c in await js.consumers_info(subjects.EVENTS_STREAM)
                if c.name.startswith(settings.chunks_durable)
            ]
            assert len(consumers) == 2
            assert all(
                c.config.inactive_threshold == settings.chunks_consumer_idle_s for c in consumers
            )
            reply, _ = await ask(nc, tenant, "document", top_k=10)
            assert {h.document_id for h in parse(reply.data).data.hits} == {"a", "b"}
    finally:
        await nc.close()
