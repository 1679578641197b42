"""Audit: stored records (republished for external audit consumers), query, verify and purge.

How a record is hashed and a chain verified is in :mod:`llmops_contracts.auditchain`.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from llmops_contracts import subjects
from llmops_contracts.common import JsonObject, ObjectRef, Part, Sha256Hex
from llmops_contracts.envelope import Kind, MessageSpec, Payload

AUDIT_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"


class AuditRecord(Payload):
    """One stored, hash-chained audit record (the hashed document plus its ``hash``)."""

    SPEC = MessageSpec(
        type="llmops.audit.record.v1",
        kind=Kind.AUDIT,
        subject=subjects.AUDIT_RECORDS,
        summary="A stored audit record with its place in the tenant's hash chain.",
        producers=("audit",),
        consumers=("external audit consumers",),
    )

    tenant: str = Field(description="Tenant whose chain the record belongs to.")
    seq: int = Field(ge=1, description="Position in the tenant's chain, from 1.")
    event_id: str = Field(description="Id of the recorded event.")
    event_type: str = Field(description="Type id of the recorded event.")
    event_subject: str = Field(description="Subject the event was published on.")
    recorded_at: str = Field(
        pattern=AUDIT_TIME_PATTERN,
        description="When the audit service stored it, always YYYY-MM-DDTHH:MM:SS.ffffffZ.",
    )
    redaction_policy_version: str | None = Field(
        description="Redaction policy applied before hashing; null when none applied."
    )
    event: JsonObject | None = Field(
        default=None,
        description=(
            "The recorded envelope, after redaction. Absent from an AUDIT-stream message too "
            "large for one NATS message: then event_ref says where its JSON text is kept."
        ),
    )
    event_ref: ObjectRef | None = Field(
        default=None,
        description=(
            "Where the event's JSON text is kept (object store) when the record's AUDIT message "
            "would not fit one NATS message; fetch it, check size and sha256, and put it back "
            "as 'event' before hashing."
        ),
    )
    prev_hash: Sha256Hex = Field(description="Hash of the previous record (64 zeros for seq 1).")
    hash: Sha256Hex = Field(description="SHA-256 of this record's canonical document.")


class Checkpoint(Part):
    """A signed chain head: proof of what the chain held at ``seq``."""

    tenant: str = Field(description="Tenant of the chain.")
    seq: int = Field(ge=0, description="Sequence number of the head it signs.")
    hash: Sha256Hex = Field(description="Hash of the record at ``seq``.")
    created_at: str = Field(pattern=AUDIT_TIME_PATTERN, description="When it was signed.")
    kind: str = Field(description="'periodic' or 'purge' (anchors a chain whose start was purged).")
    key_id: str = Field(
        description="Id of the public key that checks the signature: 'ed25519-' and the first 16 "
        "hex digits of SHA-256 of the raw public key (published in the llmops_audit_keys bucket)."
    )
    signature: str = Field(
        description="Ed25519 signature (128 lowercase hex digits) over the UTF-8 canonical JSON "
        "(RFC 8785) of the other six fields."
    )


class AuditCheckpoint(Checkpoint, Payload):
    """A signed chain head published on the AUDIT stream, so the database can be held to it."""

    SPEC = MessageSpec(
        type="llmops.audit.checkpoint.v1",
        kind=Kind.AUDIT,
        subject=subjects.AUDIT_CHECKPOINTS,
        summary="A signed head of a tenant's audit chain; verify compares the database with the "
        "newest one.",
        producers=("audit",),
        consumers=("audit", "cli", "external audit consumers"),
    )


class AuditSigningKey(Part):
    """A public key that checks checkpoint signatures (a value of the ``llmops_audit_keys`` bucket).

    The private half never leaves the audit service; anyone holding this verifies, nobody signs.
    """

    key_id: str = Field(description="The key's id, as checkpoints name it (derived from the key).")
    algorithm: str = Field(default="ed25519", description="Signature algorithm; always 'ed25519'.")
    public_key: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="The raw 32-byte Ed25519 public key, lowercase hex."
    )
    created_at: str = Field(
        pattern=AUDIT_TIME_PATTERN, description="When the service first published it."
    )


class AuditQuery(Payload):
    """Request: a page of a tenant's audit records matching filters, oldest first."""

    SPEC = MessageSpec(
        type="llmops.audit.query.v1",
        kind=Kind.REQUEST,
        subject=subjects.AUDIT_QUERY,
        summary="Query a tenant's audit records; the reply is one page and a cursor.",
        producers=("application", "cli"),
        consumers=("audit",),
        reply="llmops.audit.query_result.v1",
    )

    types: list[str] = Field(default_factory=list, description="Only these event type ids.")
    since: AwareDatetime | None = Field(default=None, description="Event time at or after.")
    until: AwareDatetime | None = Field(default=None, description="Event time before.")
    trace_id: str | None = Field(default=None, description="Only this W3C trace id.")
    correlation_id: str | None = Field(default=None, description="Only this correlation id.")
    user: str | None = Field(default=None, description="Only this end user (actor.user).")
    app: str | None = Field(default=None, description="Only this application (actor.app).")
    source: str | None = Field(default=None, description="Only this envelope source.")
    after_seq: int = Field(default=0, ge=0, description="Cursor: records after this seq.")
    limit: int = Field(default=100, ge=1, le=1000, description="Page size.")


class AuditQueryResult(Payload):
    """Reply: one page of records, the cursor for the next, and the chain's anchor."""

    SPEC = MessageSpec(
        type="llmops.audit.query_result.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="A page of audit records.",
        producers=("audit",),
    )

    records: list[AuditRecord] = Field(default_factory=list, description="Oldest first.")
    next_after_seq: int | None = Field(
        default=None, description="Pass as after_seq for the next page; null at the end."
    )
    anchor: Checkpoint | None = Field(
        default=None, description="The purge checkpoint the remaining chain starts from, if any."
    )


class AuditVerify(Payload):
    """Request: verify a tenant's stored chain against its hashes and signed checkpoints."""

    SPEC = MessageSpec(
        type="llmops.audit.verify.v1",
        kind=Kind.REQUEST,
        subject=subjects.AUDIT_VERIFY,
        summary="Recompute a tenant's chain from the database; the reply reports the first break.",
        producers=("cli",),
        consumers=("audit",),
        reply="llmops.audit.verify_result.v1",
    )

    all_breaks: bool = Field(default=False, description="Report every break, not just the first.")


class ChainBreakInfo(Part):
    """Where a chain broke."""

    seq: int = Field(description="Sequence number where the break shows.")
    event_id: str | None = Field(description="The record's event id (null for a missing one).")
    kind: str = Field(description="'modified', 'missing', 'reordered', 'inserted' or 'checkpoint'.")
    detail: str = Field(description="What is wrong, in one sentence.")


class AuditVerifyResult(Payload):
    """Reply: the outcome of verifying a chain."""

    SPEC = MessageSpec(
        type="llmops.audit.verify_result.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="Outcome of verifying a tenant's chain.",
        producers=("audit",),
    )

    ok: bool = Field(description="True when the chain verified.")
    checked: int = Field(ge=0, description="Records checked.")
    first_seq: int | None = Field(default=None, description="First seq checked.")
    last_seq: int | None = Field(default=None, description="Last seq checked.")
    checkpoints_checked: int = Field(default=0, ge=0, description="Signed checkpoints matched.")
    breaks: list[ChainBreakInfo] = Field(default_factory=list, description="First break first.")
    last_hash: Sha256Hex | None = Field(
        default=None, description="Hash of the last record checked (the verified head)."
    )
    published: Checkpoint | None = Field(
        default=None,
        description="The newest checkpoint published on the AUDIT stream, which the database "
        "was compared with (null when none was published yet).",
    )


class AuditPurge(Payload):
    """Request: remove a tenant's records older than a date, keeping the rest verifiable."""

    SPEC = MessageSpec(
        type="llmops.audit.purge.v1",
        kind=Kind.REQUEST,
        subject=subjects.AUDIT_PURGE,
        summary="Purge records recorded before a date behind a signed purge checkpoint.",
        producers=("cli",),
        consumers=("audit",),
        reply="llmops.audit.purge_result.v1",
    )

    before: AwareDatetime = Field(description="Remove records recorded before this instant.")


class AuditPurgeResult(Payload):
    """Reply: what a purge removed and the checkpoint that now anchors the chain."""

    SPEC = MessageSpec(
        type="llmops.audit.purge_result.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="Outcome of a purge.",
        producers=("audit",),
    )

    purged: int = Field(ge=0, description="Records removed.")
    checkpoint: Checkpoint | None = Field(
        default=None, description="The purge checkpoint (null when nothing was old enough)."
    )
