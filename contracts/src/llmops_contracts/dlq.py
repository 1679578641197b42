"""Dead letters: messages a service could not process, with the reason."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from llmops_contracts import subjects
from llmops_contracts.common import ObjectRef
from llmops_contracts.envelope import Kind, MessageSpec, Payload


class FailureKind(StrEnum):
    """Why a message was dead-lettered."""

    INVALID = "invalid"  # never retried: it will never parse
    FAILED = "failed"  # processing kept failing until max deliveries


class DeadLetter(Payload):
    """A message that a service gave up on, kept whole for inspection and replay."""

    SPEC = MessageSpec(
        type="llmops.dlq.dead_letter.v1",
        kind=Kind.DEAD_LETTER,
        subject=subjects.DLQ,
        summary="A message a service could not process, with the original subject, headers and error.",
        producers=("every service",),
        consumers=("audit", "operators"),
    )

    service: str = Field(description="Service that gave up.")
    failure: FailureKind = Field(
        description="'invalid' (never retried) or 'failed' (retries exhausted)."
    )
    error: str = Field(
        description="Human-readable reason, naming the bad field where there is one."
    )
    original_subject: str = Field(description="Subject the message arrived on.")
    original_headers: dict[str, str] = Field(default_factory=dict, description="Its NATS headers.")
    payload: str = Field(
        description="The original payload, as text or base64; empty when kept by reference."
    )
    payload_encoding: str = Field(
        default="utf-8",
        description="'utf-8', 'base64', or 'ref' when the payload is kept in payload_ref.",
    )
    payload_ref: ObjectRef | None = Field(
        default=None,
        description=(
            "Where the original payload's exact bytes are kept when the dead letter would not "
            "fit one NATS message (then payload is empty and payload_encoding 'ref')."
        ),
    )
    headers_ref: ObjectRef | None = Field(
        default=None,
        description=(
            "Where the original headers are kept (a JSON object) when even without the payload "
            "they would not fit one message (then original_headers is empty)."
        ),
    )
    deliveries: int = Field(default=1, ge=1, description="How many times it was delivered.")
    stream_sequence: int | None = Field(
        default=None, description="Its sequence in the source stream."
    )
