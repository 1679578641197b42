"""The audit hash chain: how a record is hashed, how checkpoints are signed, how a chain is verified.

Standard library only, so the CLI, tests and any third party (see ``examples/audit_consumer.py``)
verify exactly what the audit service wrote.

A record's hash is ``sha256(canonical_json(document))`` (hex), where ``document`` holds these keys
(see :mod:`llmops_contracts.canonical` for the canonical form):

    tenant, seq, event_id, event_type, event_subject, recorded_at, redaction_policy_version,
    event (the recorded envelope, after redaction), prev_hash

``seq`` counts a tenant's records from 1; ``prev_hash`` is the previous record's hash, or 64 zeros
for the first record; ``recorded_at`` is always ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.

A checkpoint signs a chain head with Ed25519: the signature is over the UTF-8 bytes of
``canonical_json({tenant, seq, hash, created_at, kind, key_id})`` (:func:`checkpoint_message`),
and ``key_id`` names the public key that checks it (:func:`key_id_for`). A record at a
checkpoint's ``seq`` must carry the checkpoint's ``hash``; a purge checkpoint anchors a chain
whose older records were removed.

This module does not do the Ed25519 arithmetic itself (the standard library has none, and
signatures are no place for home-made cryptography): a :class:`KeyRing` is handed the
verification primitive of a library, such as ``cryptography``'s ``Ed25519PublicKey.verify``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
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


#: The one signature algorithm of checkpoints.
SIGNATURE_ALGORITHM = "ed25519"

#: Checks one signature: ``verify(public_key, signature, message)`` is True when valid (32-byte
#: raw Ed25519 public key, 64-byte signature).
SignatureVerify = Callable[[bytes, bytes, bytes], bool]


def checkpoint_message(checkpoint: Mapping[str, Any]) -> bytes:
    """The bytes a checkpoint's signature signs: UTF-8 of the canonical JSON of its six fields.

    Raises:
        ValueError: a field is missing.
    """
    try:
        doc = {name: checkpoint[name] for name in CHECKPOINT_FIELDS}
    except KeyError as missing:
        raise ValueError(f"checkpoint lacks {missing.args[0]!r}") from None
    return canonical_json(doc).encode()


def published_checkpoint(body: bytes) -> dict[str, Any]:
    """The checkpoint an AUDIT-stream checkpoint message carries (its ``data``), unchecked.

    A message that is not one gives an empty dict, which no key ring accepts: the caller reports
    it as a break instead of passing over it.
    """
    try:
        data = json.loads(body)["data"]
    except (ValueError, TypeError, KeyError):
        return {}
    return data if isinstance(data, dict) else {}


def key_id_for(public_key: bytes) -> str:
    """The id of a public key: ``ed25519-`` and the first 16 hex digits of SHA-256 of its bytes.

    Derived from the key, so an id can never name two keys, and a ring refuses a key filed
    under another key's id.
    """
    return f"{SIGNATURE_ALGORITHM}-{hashlib.sha256(public_key).hexdigest()[:16]}"


class KeyRing:
    """The public keys a verifier trusts, by ``key_id``, and the primitive that checks signatures.

    Args:
        public_keys: raw 32-byte Ed25519 public keys (their ids are derived, not given).
        verify: the signature primitive of a cryptography library.
    """

    def __init__(self, public_keys: Iterable[bytes], verify: SignatureVerify) -> None:
        self.keys = {key_id_for(key): key for key in public_keys}
        self._verify = verify

    def problem(self, checkpoint: Mapping[str, Any]) -> str | None:
        """Why a checkpoint's signature does not verify, or None when it does."""
        key = self.keys.get(str(checkpoint.get("key_id")))
        if key is None:
            return f"signed by an unknown key {checkpoint.get('key_id')!r}"
        try:
            signature = bytes.fromhex(str(checkpoint.get("signature")))
            message = checkpoint_message(checkpoint)
        except ValueError:
            return "checkpoint signature is invalid"
        if len(signature) != 64 or not self._verify(key, signature, message):
            return "checkpoint signature is invalid"
        return None

    def valid(self, checkpoint: Mapping[str, Any]) -> bool:
        """Whether a checkpoint was signed by one of the ring's keys, as it stands."""
        return self.problem(checkpoint) is None


def checkpoint_seq(checkpoint: Mapping[str, Any]) -> int:
    """A checkpoint's seq, 0 when it has none that is an integer (a malformed one)."""
    seq = checkpoint.get("seq")
    return seq if type(seq) is int else 0


def checkpoint_shape_problem(tenant: str, checkpoint: Mapping[str, Any]) -> str | None:
    """Why a published message is no checkpoint of ``tenant``'s chain at all, or None.

    Returns:
        ``"malformed"`` (a field missing), ``"not a checkpoint of this chain"`` (another
        tenant's, or a seq or hash of the wrong type), or None.
    """
    if not all(name in checkpoint for name in (*CHECKPOINT_FIELDS, "signature")):
        return "malformed"
    if (
        checkpoint["tenant"] != tenant
        or type(checkpoint["seq"]) is not int
        or not isinstance(checkpoint["hash"], str)
    ):
        return "not a checkpoint of this chain"
    return None


def held_checkpoint(
    tenant: str, published: Iterable[Mapping[str, Any]], keys: KeyRing
) -> Mapping[str, Any] | None:
    """The published checkpoint a tenant's chain is held to: of the validly signed checkpoints
    of its chain, the one with the highest seq (of equals, the one published last), or None.

    Not simply the newest message: whoever can publish on the checkpoint subject can republish
    an old checkpoint, validly signed, and a chain held to it could lose every record after it
    unnoticed. Publishing cannot lower the highest signed seq (a forgery does not verify), and
    only a signer raises it. Signatures are checked from the highest seq down until one holds
    (performance: usually the first).

    Args:
        tenant: the chain's tenant.
        published: the messages published for it, oldest first, as published (unchecked).
        keys: the public keys to trust.
    """
    ranked = sorted(enumerate(published), key=lambda p: (checkpoint_seq(p[1]), p[0]), reverse=True)
    for _, checkpoint in ranked:
        if checkpoint_shape_problem(tenant, checkpoint) is None and keys.valid(checkpoint):
            return checkpoint
    return None


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
    #: The checkpoint published outside the database that the chain was held to (see
    #: :func:`held_checkpoint`), else the newest message published for it.
    published: Mapping[str, Any] | None = None

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
            carry its ``hash``, and the chain must reach the newest of them.
        keys: with them, every checkpoint's signature is checked too.
    """

    def __init__(
        self,
        *,
        anchor: Mapping[str, Any] | None = None,
        checkpoints: Iterable[Mapping[str, Any]] = (),
        keys: KeyRing | None = None,
    ) -> None:
        self.report = ChainReport()
        self._expected: dict[int, set[str]] = {}
        for cp in checkpoints:
            problem = keys.problem(cp) if keys is not None else None
            if problem is not None:
                self._break(int(cp["seq"]), None, "checkpoint", problem)
            self._expected.setdefault(int(cp["seq"]), set()).add(str(cp["hash"]))
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
            if self._expected[seq] != {stored}:
                self._break(seq, event_id, "checkpoint", "differs from the signed checkpoint")
        self._seen[str(stored)] = seq
        self._prev_hash, self._next_seq = str(stored), seq + 1
        report.last_seq, report.last_hash = seq, str(stored)

    def finish(self) -> ChainReport:
        """The report, after checking that no signed checkpoint lies past the chain's end.

        A chain cut short of a signed head is named at the first seq that is gone.
        """
        beyond = [s for s in self._expected if s >= self._next_seq]
        if beyond:
            self._break(
                self._next_seq,
                None,
                "missing",
                f"records {self._next_seq}..{max(beyond)} are gone: a signed checkpoint "
                f"holds seq {max(beyond)}",
            )
        return self.report


def verify_chain(
    records: Iterable[Mapping[str, Any]],
    *,
    anchor: Mapping[str, Any] | None = None,
    checkpoints: Iterable[Mapping[str, Any]] = (),
    keys: KeyRing | None = None,
) -> ChainReport:
    """Verify one tenant's records in stored order; ``report.first_break`` names the first break."""
    verifier = ChainVerifier(anchor=anchor, checkpoints=checkpoints, keys=keys)
    for record in records:
        verifier.feed(record)
    return verifier.finish()
