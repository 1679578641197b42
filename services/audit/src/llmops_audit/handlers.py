"""NATS edge of the audit service: batched capture, and the query/verify/purge endpoints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from nats.aio.msg import Msg
from prometheus_client import Counter, Histogram

from llmops_audit.admission import Incoming, admit
from llmops_audit.chain import ChainConflict
from llmops_audit.config import AuditSettings
from llmops_audit.service import SOURCE, AuditService
from llmops_contracts import subjects
from llmops_contracts.audit import (
    AuditPurge,
    AuditPurgeResult,
    AuditQuery,
    AuditQueryResult,
    AuditRecord,
    AuditVerify,
    AuditVerifyResult,
    ChainBreakInfo,
    Checkpoint,
)
from llmops_contracts.envelope import Envelope, reply
from llmops_shared.batch import BatchConsumer, is_transient
from llmops_shared.broker import MessageScope, consumer_config

RECORDS_WRITTEN = Counter("llmops_audit_records_written_total", "Audit records stored.")
BATCH_SIZE = Histogram(
    "llmops_audit_batch_size",
    "Messages per captured batch.",
    buckets=(1, 8, 32, 64, 128, 256, 512, 1024),
)

#: (stream, filter subject, durable suffix) of everything the audit service records.
SOURCES = (
    (subjects.EVENTS_STREAM, subjects.EVENTS_ALL, "events"),
    (subjects.COMMANDS_STREAM, subjects.COMMANDS_ALL, "commands"),
    (subjects.DLQ_STREAM, subjects.DLQ_ALL, "dlq"),
)


def capture_consumer(
    service: AuditService, settings: AuditSettings, scope: MessageScope
) -> BatchConsumer[Incoming]:
    """The capture path: admit each message, record the admitted in one transaction.

    A chain conflict (another replica extended a chain first) is retried like an outage: the
    service reloads its cached heads and the batch is chained again.
    """

    async def store(items: Sequence[Incoming], messages: Sequence[Msg], retry: bool) -> None:
        RECORDS_WRITTEN.inc(await service.record(items))

    return BatchConsumer(
        "audit",
        lambda msg: admit(msg.subject, msg.data),
        store,
        lambda: scope.letters,
        settings.max_deliver,
        ack_wait_s=settings.ack_wait_s,
        transient=lambda exc: isinstance(exc, ChainConflict) or is_transient(exc),
    )


def build_router(
    service: AuditService, settings: AuditSettings, scope: MessageScope
) -> Callable[[NatsBroker], NatsRouter]:
    """The audit router: one batched durable pull consumer per stream, and three endpoints."""

    def factory(broker: NatsBroker) -> NatsRouter:
        router = NatsRouter()
        capture = capture_consumer(service, settings, scope)
        for stream, subject, suffix in SOURCES:
            durable = f"{settings.durable_prefix}-{suffix}"

            @router.subscriber(
                subject,
                stream=JStream(stream, declare=False),
                durable=durable,
                config=consumer_config(settings, durable, unlimited=True),
                pull_sub=PullSub(
                    batch_size=settings.batch_size, timeout=settings.batch_timeout_s, batch=True
                ),
                # The batch consumer settles every message itself: FastStream must never ack,
                # nak or (on an exception) terminate a batch.
                ack_policy=AckPolicy.MANUAL,
                title=f"audit.capture.{suffix}",
                description=f"Record every message of the {stream} stream.",
            )
            async def capture_batch(bodies: list[bytes]) -> None:
                """Record a batch: malformed or unrecordable items dead-lettered, the rest stored."""
                batch = broker.context.get_local("message").raw_message
                BATCH_SIZE.observe(len(batch))
                await capture(batch)

        queue = settings.query_queue

        @router.subscriber(subjects.any_tenant(subjects.AUDIT_QUERY), queue=queue)
        async def query(request: Envelope[AuditQuery]) -> Envelope[AuditQueryResult]:
            """Answer a page of the tenant's records."""
            rows, next_after, anchor = await service.query(request.tenant, request.data)
            result = AuditQueryResult(
                records=[AuditRecord.model_validate(r) for r in rows],
                next_after_seq=next_after,
                anchor=Checkpoint.model_validate(anchor) if anchor else None,
            )
            return reply(result, request, source=SOURCE, time=service.clock.now())

        @router.subscriber(subjects.any_tenant(subjects.AUDIT_VERIFY), queue=queue)
        async def verify(request: Envelope[AuditVerify]) -> Envelope[AuditVerifyResult]:
            """Verify the tenant's stored chain."""
            report = await service.verify(request.tenant, all_breaks=request.data.all_breaks)
            result = AuditVerifyResult(
                ok=report.ok,
                checked=report.checked,
                first_seq=report.first_seq,
                last_seq=report.last_seq,
                checkpoints_checked=report.checkpoints_checked,
                breaks=[ChainBreakInfo(**vars(b)) for b in report.breaks],
                last_hash=report.last_hash,
                published=_published(report.published),
            )
            return reply(result, request, source=SOURCE, time=service.clock.now())

        @router.subscriber(subjects.any_tenant(subjects.AUDIT_PURGE), queue=queue)
        async def purge(request: Envelope[AuditPurge]) -> Envelope[AuditPurgeResult]:
            """Purge the tenant's old records behind a purge checkpoint."""
            purged, checkpoint = await service.purge(request.tenant, request.data.before)
            result = AuditPurgeResult(
                purged=purged,
                checkpoint=Checkpoint.model_validate(checkpoint) if checkpoint else None,
            )
            return reply(result, request, source=SOURCE, time=service.clock.now())

        return router

    return factory


def _published(checkpoint: Any) -> Checkpoint | None:
    """The published checkpoint for a reply; one too malformed to be a Checkpoint is left out
    (its break is in the report)."""
    if checkpoint is None:
        return None
    try:
        return Checkpoint.model_validate(checkpoint)
    except ValueError:
        return None
