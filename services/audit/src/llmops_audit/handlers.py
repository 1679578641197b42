"""NATS edge of the audit service: batched capture, and the query/verify/purge endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from prometheus_client import Counter, Histogram

from llmops_audit.config import AuditSettings
from llmops_audit.service import AuditService, Incoming, admit
from llmops_contracts import subjects, wrap
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
from llmops_contracts.dlq import FailureKind
from llmops_contracts.envelope import Envelope
from llmops_contracts.registry import InvalidMessage
from llmops_shared.broker import MessageScope, backoff_s, consumer_config
from llmops_shared.logging import get_logger

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

SOURCE = "llmops/audit"

_log = get_logger(__name__)


def build_router(
    service: AuditService, settings: AuditSettings, scope: MessageScope
) -> Callable[[NatsBroker], NatsRouter]:
    """The audit router: one batched durable pull consumer per stream, and three endpoints."""

    def factory(broker: NatsBroker) -> NatsRouter:
        router = NatsRouter()
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
                title=f"audit.capture.{suffix}",
                description=f"Record every message of the {stream} stream.",
            )
            async def capture(bodies: list[bytes]) -> None:
                """Admit a batch, dead-letter malformed items, store the rest in one commit."""
                batch = broker.context.get_local("message").raw_message
                admitted: list[Incoming] = []
                for msg in batch:
                    try:
                        admitted.append(admit(msg.subject, msg.data))
                    except InvalidMessage as exc:
                        assert scope.letters is not None
                        await scope.letters.send(msg, FailureKind.INVALID, exc.reason)
                BATCH_SIZE.observe(len(batch))
                try:
                    RECORDS_WRITTEN.inc(await service.record(admitted))
                except Exception:
                    # Never let FastStream reject (terminate) a batch: the audit trail must not
                    # lose a message to a transient failure (database away, a chain conflict
                    # with another replica). Every message comes back after the backoff.
                    deliveries = max(m.metadata.num_delivered for m in batch)
                    _log.exception("recording a batch failed; it will be redelivered")
                    for msg in batch:
                        if not msg._ackd:
                            await msg.nak(delay=backoff_s(deliveries))

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
            return _reply(result, request)

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
            return _reply(result, request)

        @router.subscriber(subjects.any_tenant(subjects.AUDIT_PURGE), queue=queue)
        async def purge(request: Envelope[AuditPurge]) -> Envelope[AuditPurgeResult]:
            """Purge the tenant's old records behind a purge checkpoint."""
            purged, checkpoint = await service.purge(request.tenant, request.data.before)
            result = AuditPurgeResult(
                purged=purged,
                checkpoint=Checkpoint.model_validate(checkpoint) if checkpoint else None,
            )
            return _reply(result, request)

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


def _reply(result: Any, request: Envelope[Any]) -> Envelope[Any]:
    return wrap(result, tenant=request.tenant, source=SOURCE, causation=request)
