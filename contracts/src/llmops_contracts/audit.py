"""Audit records: what the audit service republishes for external audit consumers."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, Field

from llmops_contracts import subjects
from llmops_contracts.common import Sha256Hex
from llmops_contracts.envelope import Kind, MessageSpec, Payload


class AuditRecord(Payload):
    """One stored, hash-chained audit record."""

    SPEC = MessageSpec(
        type="llmops.audit.record.v1",
        kind=Kind.AUDIT,
        subject=subjects.AUDIT_RECORDS,
        summary="A stored audit record with its place in the tenant's hash chain.",
        producers=("audit",),
        consumers=("external audit consumers",),
    )

    seq: int = Field(ge=1, description="Position in the tenant's chain, from 1.")
    event_id: str = Field(description="Id of the recorded event.")
    event_type: str = Field(description="Type id of the recorded event.")
    event_subject: str = Field(description="Subject the event was published on.")
    recorded_at: AwareDatetime = Field(description="When the audit service stored it.")
    event: dict[str, Any] = Field(description="The recorded envelope, after redaction.")
    hash: Sha256Hex | None = Field(
        default=None, description="SHA-256 of this record's canonical form."
    )
    prev_hash: Sha256Hex | None = Field(default=None, description="Hash of the previous record.")
    redaction_policy_version: str | None = Field(
        default=None, description="Redaction policy applied before hashing."
    )
