"""The ingestion service against a real nats-server: commands in, events and dead letters out."""

from __future__ import annotations

import json
from typing import Any

import nats

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.dlq import DeadLetter
from llmops_contracts.ingestion import (
    ChunksEmbedded,
    DocumentIndexed,
    DocumentRejected,
    SubmitDocument,
)
from llmops_ingestion.app import create_app
from llmops_ingestion.config import IngestionSettings
from tests.conftest import eventually, last_on, running


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

            dlq_subject = subjects.dlq_for("ingestion", tenant)

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
