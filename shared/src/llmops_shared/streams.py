"""The suite's JetStream streams, declared idempotently at start by every service."""

from __future__ import annotations

from typing import Any

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    ObjectStoreConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError

from llmops_contracts import subjects
from llmops_shared.settings import ServiceSettings

DAY_S = 86_400.0


def stream_configs(settings: ServiceSettings) -> list[StreamConfig]:
    """The four streams with retention and replicas taken from settings."""
    common: dict[str, Any] = {
        "storage": StorageType.FILE,
        "num_replicas": settings.stream_replicas,
        "duplicate_window": settings.duplicate_window_s,
        "discard": DiscardPolicy.OLD,
    }
    return [
        StreamConfig(
            name=subjects.EVENTS_STREAM,
            description="Facts published by applications and services (llmops.evt.>).",
            subjects=subjects.STREAM_SUBJECTS[subjects.EVENTS_STREAM],
            retention=RetentionPolicy.LIMITS,
            max_age=settings.events_max_age_days * DAY_S,
            **common,
        ),
        StreamConfig(
            name=subjects.COMMANDS_STREAM,
            description="Work to do (llmops.cmd.>); one durable consumer per worker service.",
            subjects=subjects.STREAM_SUBJECTS[subjects.COMMANDS_STREAM],
            retention=RetentionPolicy.LIMITS,
            max_age=settings.events_max_age_days * DAY_S,
            **common,
        ),
        StreamConfig(
            name=subjects.AUDIT_STREAM,
            description="Hash-chained audit records for external audit consumers (llmops.audit.>).",
            subjects=subjects.STREAM_SUBJECTS[subjects.AUDIT_STREAM],
            retention=RetentionPolicy.LIMITS,
            **common,
        ),
        StreamConfig(
            name=subjects.DLQ_STREAM,
            description="Messages a service gave up on, with the reason (llmops.dlq.>).",
            subjects=subjects.STREAM_SUBJECTS[subjects.DLQ_STREAM],
            retention=RetentionPolicy.LIMITS,
            max_age=settings.dlq_max_age_days * DAY_S,
            **common,
        ),
    ]


async def ensure_streams(js: JetStreamContext, settings: ServiceSettings) -> None:
    """Create the streams, or update them to the configured limits; safe to run concurrently.

    Six services start at once, so a create may lose a race to another service's create: that is
    an update on the next attempt.
    """
    for config in stream_configs(settings):
        for _ in range(3):
            try:
                await js.stream_info(config.name or "")
            except NotFoundError:
                try:
                    await js.add_stream(config)
                    break
                except BadRequestError:
                    continue  # created by a concurrent starter: update instead
            else:
                await js.update_stream(config)
                break
    await ensure_blobs(js, settings)


def blobs_config(settings: ServiceSettings) -> ObjectStoreConfig:
    """The object-store bucket for payloads too large for one message (no expiry: audit records
    refer to their events there for as long as the AUDIT stream keeps them)."""
    return ObjectStoreConfig(
        bucket=subjects.BLOBS_BUCKET,
        description="Payloads too large for one message, referred to by dead letters and records.",
        storage=StorageType.FILE,
        replicas=settings.stream_replicas,
    )


async def ensure_blobs(js: JetStreamContext, settings: ServiceSettings) -> None:
    """Create the blobs bucket if it is missing; a concurrent creator winning is fine."""
    try:
        await js.object_store(subjects.BLOBS_BUCKET)
    except BucketNotFoundError:
        config = blobs_config(settings)
        try:
            await js.create_object_store(subjects.BLOBS_BUCKET, config)
        except BadRequestError:
            await js.object_store(subjects.BLOBS_BUCKET)  # created meanwhile: it must exist now
