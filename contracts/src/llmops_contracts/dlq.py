"""Dead letters: messages a service could not process, with the reason."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from llmops_contracts import subjects
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
        summary=(
            "A message a service could not process, with the original subject, headers and "
            "error; on llmops.dlq.<service>.<tenant>, the tenant being the original subject's."
        ),
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
    payload: str = Field(description="The original payload, as text or base64.")
    payload_encoding: str = Field(default="utf-8", description="'utf-8' or 'base64'.")
    deliveries: int = Field(default=1, ge=1, description="How many times it was delivered.")
    stream_sequence: int | None = Field(
        default=None, description="Its sequence in the source stream."
    )
