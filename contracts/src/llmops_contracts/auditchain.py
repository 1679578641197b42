"""The audit hash chain: how a record is hashed, how checkpoints are signed, how a chain is verified.

Standard library only, so the CLI, tests and any third party (see ``examples/audit_consumer.py``)
verify exactly what the audit service wrote.

A record's hash is ``sha256(canonical_json(document))`` (hex), where ``document`` holds these keys
(see :mod:`llmops_contracts.canonical` for the canonical form):

    tenant, seq, event_id, event_type, event_subject, recorded_at, redaction_policy_version,
    event (the recorded envelope, after redaction), prev_hash

``seq`` counts a tenant's records from 1; ``prev_hash`` is the previous record's hash, or 64 zeros
for the first record; ``recorded_at`` is always ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.

A checkpoint signs a chain head: ``hmac_sha256(key, canonical_json({tenant, seq, hash,
created_at, kind, key_id}))``. A record at a checkpoint's ``seq`` must carry the checkpoint's
``hash``; a purge checkpoint anchors a chain whose older records were removed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from llmops_contracts.canonical import canonical_json

GENESIS_HASH = "0" * 64
RECORD_FIELDS = (
    "tenant",
    "seq",
    "event_id",
    "event_type",
    "event_subject",
    "recorded_at",
    "redaction_policy_version",
    "event",
    "prev_hash",
)
CHECKPOINT_FIELDS = ("tenant", "seq", "hash", "created_at", "kind", "key_id")


def timestamp(moment: datetime) -> str:
    """The fixed audit time format: UTC with microseconds, ``2026-11-27T09:30:00.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_document(record: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed part of a record (extra keys such as ``hash`` are left out)."""
    try:
        return {name: record[name] for name in RECORD_FIELDS}
    except KeyError as missing:
        raise ValueError(f"record lacks {missing.args[0]!r}") from None


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a record's canonical document."""
    return hashlib.sha256(canonical_json(record_document(record)).encode()).hexdigest()


def sign_checkpoint(checkpoint: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA256 (hex) of a checkpoint's canonical fields."""
    doc = {name: checkpoint[name] for name in CHECKPOINT_FIELDS}
    return hmac.new(key, canonical_json(doc).encode(), hashlib.sha256).hexdigest()


def checkpoint_valid(checkpoint: Mapping[str, Any], key: bytes) -> bool:
    """Whether a checkpoint's signature is right for ``key``."""
    return hmac.compare_digest(sign_checkpoint(checkpoint, key), str(checkpoint.get("signature")))


@dataclass(frozen=True)
class ChainBreak:
    """The first place a chain does not verify.

    Attributes:
        seq: sequence number where the break shows.
        event_id: the record's event id (None for a missing record).
        kind: 'modified', 'missing', 'reordered', 'inserted' or 'checkpoint'.
        detail: one human sentence.
    """

    seq: int
    event_id: str | None
    kind: str
    detail: str


@dataclass
class ChainReport:
    """What verifying a chain found."""

    tenant: str | None = None
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    checkpoints_checked: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing broke."""
        return not self.breaks

    @property
    def first_break(self) -> ChainBreak | None:
        """The earliest break, if any."""
        return self.breaks[0] if self.breaks else None


class ChainVerifier:
    """Verifies one tenant's records fed in stored order, in constant memory.

    Args:
        anchor: for a chain not starting at seq 1, the checkpoint (``seq``, ``hash``) just before
            it (a purge checkpoint, or the record before an exported range).
        checkpoints: signed heads the chain must agree with: the record at each ``seq`` must
            carry its ``hash``.
        key: with it, every checkpoint's signature is checked too.
    """

    def __init__(
        self,
        *,
        anchor: Mapping[str, Any] | None = None,
        checkpoints: Iterable[Mapping[str, Any]] = (),
        key: bytes | None = None,
    ) -> None:
        self.report = ChainReport()
        self._expected: dict[int, str] = {}
        for cp in checkpoints:
            if key is not None and not checkpoint_valid(cp, key):
                self._break(int(cp["seq"]), None, "checkpoint", "checkpoint signature is invalid")
            self._expected[int(cp["seq"])] = str(cp["hash"])
        if anchor is not None:
            self._next_seq, self._prev_hash = int(anchor["seq"]) + 1, str(anchor["hash"])
        else:
            self._next_seq, self._prev_hash = 1, GENESIS_HASH
        self._seen: dict[str, int] = {}  # hash -> seq, to tell a reordered link from a forgery

    def _break(self, seq: int, event_id: str | None, kind: str, detail: str) -> None:
        self.report.breaks.append(ChainBreak(seq, event_id, kind, detail))

    def feed(self, record: Mapping[str, Any]) -> None:
        """Check the next record."""
        report = self.report
        seq, event_id, stored = int(record["seq"]), str(record.get("event_id")), record.get("hash")
        report.tenant = report.tenant or str(record.get("tenant"))
        report.first_seq = seq if report.first_seq is None else report.first_seq
        report.checked += 1
        if record_hash(record) != stored:
            self._break(seq, event_id, "modified", "stored hash does not match the content")
        elif seq > self._next_seq:
            self._break(
                seq, event_id, "missing", f"records {self._next_seq}..{seq - 1} are missing"
            )
        elif seq < self._next_seq:
            self._break(
                seq, event_id, "reordered", f"seq {seq} comes after seq {self._next_seq - 1}"
            )
        elif record.get("prev_hash") != self._prev_hash:
            linked = self._seen.get(str(record.get("prev_hash")))
            if linked is not None:
                self._break(seq, event_id, "reordered", f"links to seq {linked}, not {seq - 1}")
            else:
                self._break(
                    seq, event_id, "inserted", "links to a record that is not the previous one"
                )
        if seq in self._expected:
            report.checkpoints_checked += 1
            if self._expected[seq] != stored:
                self._break(seq, event_id, "checkpoint", "differs from the signed checkpoint")
        self._seen[str(stored)] = seq
        self._prev_hash, self._next_seq = str(stored), seq + 1
        report.last_seq, report.last_hash = seq, str(stored)

    def finish(self) -> ChainReport:
        """The report, after checking that no signed checkpoint lies past the chain's end."""
        beyond = [s for s in self._expected if s >= self._next_seq]
        if beyond:
            self._break(min(beyond), None, "missing", "records up to a signed checkpoint are gone")
        return self.report


def verify_chain(
    records: Iterable[Mapping[str, Any]],
    *,
    anchor: Mapping[str, Any] | None = None,
    checkpoints: Iterable[Mapping[str, Any]] = (),
    key: bytes | None = None,
) -> ChainReport:
    """Verify one tenant's records in stored order; ``report.first_break`` names the first break."""
    verifier = ChainVerifier(anchor=anchor, checkpoints=checkpoints, key=key)
    for record in records:
        verifier.feed(record)
    return verifier.finish()
