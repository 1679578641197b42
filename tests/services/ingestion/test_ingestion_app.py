"""The ingestion service against a real nats-server: commands in, events and dead letters out."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import nats
from faststream import FastStream
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.dlq import DeadLetter
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import (
    ChunksEmbedded,
    DocumentIndexed,
    DocumentRejected,
    SubmitDocument,
)
from llmops_contracts.registry import parse
from llmops_ingestion.app import create_app
from llmops_ingestion.config import IngestionSettings

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 10.0) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        assert loop.time() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(app: FastStream) -> AsyncIterator[FastStream]:
    """Run the app in a task until the block ends, then drain it."""
    task = asyncio.create_task(app.run())

    async def ready() -> bool:
        if task.done():
            task.result()  # re-raise why the app stopped before it was ready
        return bool(app.state.ready)  # type: ignore[attr-defined]

    try:
        await eventually(ready)
        yield app
    finally:
        app.exit()
        await task


async def last_on(js: JetStreamContext, stream: str, subject: str) -> Envelope[Any] | None:
    """The last message on a subject, parsed, or None when there is none yet."""
    try:
        msg = await js.get_last_msg(stream, subject)
    except NotFoundError:
        return None
    return parse(msg.data, subject=subject)


def settings_for(nats_url: str, uid: str, **overrides: Any) -> IngestionSettings:
    return IngestionSettings(
        nats_url=nats_url,
        health_port=0,
        submit_durable=f"ingestion-{uid}",
        batch_timeout_s=0.05,
        **overrides,
    )


async def test_submit_document_publishes_chunks_and_indexed_once(
    nats_url: str, uid: str, tenant: str
) -> None:
    settings = settings_for(nats_url, uid, chunk_max_chars=100, chunk_overlap_chars=20)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        async with running(create_app(settings)):
            text = "\n\n".join(f"Paragraph {i}: " + " ".join(["llama"] * 12) for i in range(5))
            cmd = wrap(
                SubmitDocument(document_id="handbook", collection="kb", text=text),
                tenant=tenant,
                source="app://test",
            )
            subject = cmd.subject()
            await js.publish(subject, cmd.to_json(), headers=headers.headers_for(cmd))

            chunks_subject = subjects.for_tenant(subjects.INGESTION_CHUNKS_EMBEDDED, tenant)
            indexed_subject = subjects.for_tenant(subjects.INGESTION_DOCUMENT_INDEXED, tenant)
            chunks_event = await eventually(
                lambda: last_on(js, subjects.EVENTS_STREAM, chunks_subject)
            )
            indexed_event = await eventually(
                lambda: last_on(js, subjects.EVENTS_STREAM, indexed_subject)
            )
            assert isinstance(chunks_event.data, ChunksEmbedded)
            assert isinstance(indexed_event.data, DocumentIndexed)
            assert chunks_event.causation_id == indexed_event.causation_id == cmd.id
            chunk_ids = [c.chunk_id for c in chunks_event.data.chunks]
            assert chunk_ids == [f"handbook:{i}" for i in range(len(chunk_ids))]
            assert indexed_event.data.chunk_count == len(chunk_ids) > 1

            # A redelivery of the same command (here: sent again under another Nats-Msg-Id, so
            # the COMMANDS stream keeps both) must not add events: their ids are derived from
            # the command, so the EVENTS stream drops the re-publish as a duplicate.
            ack = await js.publish(subject, cmd.to_json(), headers={headers.MSG_ID: f"again-{uid}"})

            async def consumed() -> bool:
                info = await js.consumer_info(subjects.COMMANDS_STREAM, settings.submit_durable)
                return info.ack_floor.stream_seq >= ack.seq

            await eventually(consumed)
            info = await js.stream_info(subjects.EVENTS_STREAM, subjects_filter=subjects.EVENTS_ALL)
            mine = {s: n for s, n in info.state.subjects.items() if subjects.tenant_of(s) == tenant}
            assert mine == {chunks_subject: 1, indexed_subject: 1}
    finally:
        await nc.close()


async def test_rejection_and_invalid_command_while_the_service_keeps_working(
    nats_url: str, uid: str, tenant: str
) -> None:
    settings = settings_for(nats_url, uid)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        async with running(create_app(settings)):
            subject = subjects.for_tenant(subjects.INGESTION_SUBMIT_DOCUMENT, tenant)
            bad = {"type": SubmitDocument.SPEC.type, "source": "app://test", "tenant": tenant}
            bad["data"] = {"collection": "kb", "text": "no document id"}
            await js.publish(subject, json.dumps(bad).encode())

            dlq_subject = subjects.dlq_for("ingestion")

            async def dead_letter() -> DeadLetter | None:
                letter = await last_on(js, subjects.DLQ_STREAM, dlq_subject)
                if letter is None or letter.data.original_subject != subject:
                    return None
                return letter.data  # type: ignore[no-any-return]

            letter = await eventually(dead_letter)
            assert letter.failure == "invalid"
            assert "data.document_id" in letter.error
            assert json.loads(letter.payload) == bad

            # Still serving: a short document is rejected with the rule that failed.
            cmd = wrap(
                SubmitDocument(document_id="tiny", text="hi"), tenant=tenant, source="app://test"
            )
            await js.publish(cmd.subject(), cmd.to_json(), headers=headers.headers_for(cmd))
            rejected_subject = subjects.for_tenant(subjects.INGESTION_DOCUMENT_REJECTED, tenant)
            rejected = await eventually(
                lambda: last_on(js, subjects.EVENTS_STREAM, rejected_subject)
            )
            assert isinstance(rejected.data, DocumentRejected)
            assert [r.rule for r in rejected.data.reasons] == ["min_length"]
            assert rejected.causation_id == cmd.id
    finally:
        await nc.close()
