"""NATS edge of the audit service: batches in, records stored, then acked."""

from __future__ import annotations

from typing import Any

from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub

from llmops_audit.config import AuditSettings
from llmops_audit.service import AuditService, Entry
from llmops_contracts import subjects
from llmops_contracts.dlq import FailureKind
from llmops_contracts.registry import InvalidMessage, parse
from llmops_shared.broker import MessageScope, consumer_config

#: (stream, filter subject, durable suffix) of everything the audit service records.
SOURCES = (
    (subjects.EVENTS_STREAM, subjects.EVENTS_ALL, "events"),
    (subjects.COMMANDS_STREAM, subjects.COMMANDS_ALL, "commands"),
    (subjects.DLQ_STREAM, subjects.DLQ_ALL, "dlq"),
)


def build_router(service: AuditService, settings: AuditSettings, scope: MessageScope) -> Any:
    """The audit router: one batched durable pull consumer per stream."""

    def factory(broker: NatsBroker) -> NatsRouter:
        router = NatsRouter()
        for stream, subject, suffix in SOURCES:
            durable = f"{settings.durable_prefix}-{suffix}"

            @router.subscriber(
                subject,
                stream=JStream(stream, declare=False),
                durable=durable,
                config=consumer_config(settings, durable),
                pull_sub=PullSub(
                    batch_size=settings.batch_size, timeout=settings.batch_timeout_s, batch=True
                ),
                title=f"audit.capture.{suffix}",
                description=f"Record every message of the {stream} stream.",
            )
            async def capture(bodies: list[bytes]) -> None:
                """Parse a batch, dead-letter the invalid items, store the rest in one commit."""
                batch = broker.context.get_local("message").raw_message
                entries = []
                for msg in batch:
                    try:
                        entries.append(Entry(msg.subject, parse(msg.data, subject=msg.subject)))
                    except InvalidMessage as exc:
                        assert scope.letters is not None
                        await scope.letters.send(msg, FailureKind.INVALID, exc.reason)
                await service.record(entries)

        return router

    return factory
