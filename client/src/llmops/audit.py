"""Client side of the audit trail: page through records, export them, verify an export file.

The audit service answers ``llmops.rpc.audit.{query,verify,purge}.<tenant>``; this module wraps
those requests for the ``llmops audit`` commands and verifies exported files locally with
:class:`llmops_contracts.auditchain.ChainVerifier`, so a file is checked without the service.
Checkpoint signatures are Ed25519, checked with the service's *public* key: given by the user
(pinned), or read from the ``llmops_audit_keys`` bucket; the checkpoints published for a tenant
are read from the AUDIT stream.

Export format (JSON lines, UTF-8): the first line is a header object
``{"llmops_audit_export": 1, "tenant": T, "anchor": <purge checkpoint or null>, "filters": {...}}``,
then one stored record per line, oldest first (the hashed document plus ``hash``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from llmops.client import Client, RequestError
from llmops_contracts import auditchain, subjects
from llmops_contracts.audit import AuditQuery, AuditQueryResult, AuditSigningKey
from llmops_contracts.auditchain import ChainBreak, ChainVerifier, KeyRing, key_id_for

#: Key of the header object that opens an export file; its value is the format version.
EXPORT_MAGIC = "llmops_audit_export"
EXPORT_VERSION = 1
#: Records one ChainVerifier checks before a fresh one takes over at the same (seq, hash): the
#: verifier remembers every hash it saw (to tell a reordered link from a forged one), about
#: 180 bytes a record, so this bounds the memory of verifying a file of any length.
VERIFIER_SPAN = 50_000
#: Records asked for per query request (the service allows up to 1000; smaller keeps replies
#: well under NATS's default 1 MB message limit when events carry prompt and response text).
DEFAULT_PAGE = 200

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_moment(text: str, *, now: datetime | None = None) -> datetime:
    """An instant from ``7d``/``12h``/``30m``/``45s``/``2w`` (ago), ``now``, or ISO 8601.

    ISO values without a time zone are UTC; a bare date is its midnight UTC.

    Raises:
        ValueError: naming what is accepted.
    """
    # A person's "7d" means seven days before their own wall clock; tests pass ``now``.
    now = now or datetime.now(UTC)  # clock-ok: relative times typed on the command line
    value = text.strip()
    if value.lower() == "now":
        return now
    found = _RELATIVE.match(value)
    if found:
        return now - timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a relative time (7d, 12h, 30m, 45s, 2w) nor an ISO 8601 "
            "date or date-time (2026-11-01, 2026-11-01T09:30:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- public keys and published checkpoints ------------------------------------------------


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_ring(public_keys: Sequence[bytes]) -> KeyRing:
    """A ring of raw Ed25519 public keys, checked with the ``cryptography`` package."""
    return KeyRing(public_keys, ed25519_verify)


def parse_public_key(text: str) -> bytes:
    """A raw 32-byte Ed25519 public key from hex, base64, PEM, or a file holding one of them.

    Raises:
        ValueError: naming the accepted forms.
    """
    value = text.strip()
    if not value.startswith("-----BEGIN") and len(value) not in (44, 64):
        path = Path(value)
        if path.is_file():
            value = path.read_text().strip()
    try:
        if value.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(value.encode())
            if isinstance(key, Ed25519PublicKey):
                return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        elif len(value) == 64:
            return bytes.fromhex(value)
        else:
            raw = base64.b64decode(value, validate=True)
            if len(raw) == 32:
                return raw
    except (ValueError, binascii.Error):
        pass
    raise ValueError(
        f"{text!r} is not an Ed25519 public key: give 64 hex digits, base64 of 32 bytes, a PEM "
        "public key, or a file holding one"
    )


async def published_keys(nc: Any) -> list[bytes]:
    """The public keys the audit service published (bucket ``llmops_audit_keys``)."""
    from nats.js.errors import BucketNotFoundError, NoKeysError

    try:
        bucket = await nc.jetstream().key_value(subjects.AUDIT_KEYS_BUCKET)
        names = await bucket.keys()
    except (BucketNotFoundError, NoKeysError):
        return []
    found = []
    for name in names:
        entry = await bucket.get(name)
        try:
            public = bytes.fromhex(
                AuditSigningKey.model_validate_json(entry.value or b"").public_key
            )
        except ValueError:
            continue
        if key_id_for(public) == name:  # an entry filed under another key's id is ignored
            found.append(public)
    return found


async def published_checkpoints(nc: Any, tenant: str) -> list[dict[str, Any]]:
    """Every message on the tenant's checkpoint subject of the AUDIT stream, oldest first, as
    published (unchecked; a malformed one as an empty dict).

    All of them, not the newest: the chain is held to the highest signed seq among them
    (:func:`llmops_contracts.auditchain.held_checkpoint`), which republishing an old one does
    not lower.
    """
    import nats.errors
    from nats.js.api import DeliverPolicy

    js = nc.jetstream()
    subject = subjects.for_tenant(subjects.AUDIT_CHECKPOINTS, tenant)
    sub = await js.subscribe(
        subject,
        stream=subjects.AUDIT_STREAM,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.ALL,
    )
    found: list[dict[str, Any]] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=2.0)
            except nats.errors.TimeoutError:
                return found  # none at all (a pending count comes with each message)
            found.append(auditchain.published_checkpoint(msg.data))
            if msg.metadata.num_pending == 0:
                return found
    finally:
        await sub.unsubscribe()


def record_line(record: Mapping[str, Any]) -> str:
    """One export line (no newline): compact JSON, UTF-8 text kept as is."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def export_header(
    tenant: str, anchor: Mapping[str, Any] | None, filters: Mapping[str, Any]
) -> dict[str, Any]:
    """The header object of an export: format version, tenant, purge anchor, filters used."""
    return {
        EXPORT_MAGIC: EXPORT_VERSION,
        "tenant": tenant,
        "anchor": dict(anchor) if anchor is not None else None,
        "filters": dict(filters),
    }


def query_filters(query: AuditQuery) -> dict[str, Any]:
    """The filters of a query that narrow it (for an export header), as JSON values."""
    raw = query.model_dump(mode="json", exclude={"limit"}, exclude_defaults=True)
    return {k: v for k, v in raw.items() if v not in (None, [], 0)}


async def pages(
    client: Client,
    tenant: str,
    query: AuditQuery,
    *,
    total: int | None = None,
    timeout: float = 10.0,
) -> AsyncIterator[AuditQueryResult]:
    """Every page of a query, following the cursor, until the end or ``total`` records.

    Each request asks for at most ``query.limit`` records; the first page carries the anchor.
    A page too big for one NATS message (records with long prompts) is asked for again in
    halves, down to one record per request.
    """
    remaining = total
    cursor = query.after_seq
    limit = query.limit
    while remaining is None or remaining > 0:
        size = limit if remaining is None else min(limit, remaining)
        page_query = query.model_copy(update={"after_seq": cursor, "limit": size})
        try:
            reply = await client.request(page_query, tenant=tenant, timeout=timeout)
        except RequestError as exc:
            if size > 1 and "MaxPayload" in exc.reason:
                limit = max(1, size // 2)
                continue
            raise
        result: AuditQueryResult = reply.data
        if remaining is not None:
            remaining -= len(result.records)
        yield result
        if result.next_after_seq is None or not result.records:
            return
        cursor = result.next_after_seq


# --- verifying an export file ---------------------------------------------------------------


@dataclass
class TenantCheck:
    """What verifying one tenant's records in a file found.

    Attributes:
        tenant: the tenant.
        checked: records checked.
        first_seq: seq of the first record checked.
        last_seq: seq of the last record checked.
        last_hash: hash of the last record checked (the head of what the file holds).
        anchor: the purge checkpoint the file's chain starts from, if one applied.
        anchor_signature: 'valid', 'invalid' or 'unchecked' (no key given).
        partial_from: set when the file starts mid-chain without an anchor: verified from the
            first record's ``prev_hash``.
        filtered: the export was filtered: records checked one by one and linked where
            consecutive.
        gaps: with ``filtered``, how many times the seq jumped (links not checkable there).
        breaks: every break found, first first.
    """

    tenant: str
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    anchor: dict[str, Any] | None = None
    anchor_signature: str = "unchecked"
    partial_from: int | None = None
    filtered: bool = False
    gaps: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing broke."""
        return not self.breaks


@dataclass
class FileReport:
    """What verifying an export file found, per tenant in order of first appearance."""

    tenants: dict[str, TenantCheck] = field(default_factory=dict)
    skipped: int = 0  # records of other tenants when one tenant was asked for
    problems: list[str] = field(default_factory=list)  # lines that are not records at all

    @property
    def ok(self) -> bool:
        """True when every tenant verified and every line was readable."""
        return not self.problems and all(t.ok for t in self.tenants.values())


class _TenantState:
    """Feeds one tenant's records into a ChainVerifier (one per contiguous run when filtered)."""

    def __init__(
        self, check: TenantCheck, header: Mapping[str, Any] | None, keys: KeyRing | None
    ) -> None:
        self.check = check
        self.keys = keys
        self.header = header
        self.verifier: ChainVerifier | None = None
        self.next_seq: int | None = None
        self.fed = 0  # records fed to the current verifier
        filters = header.get("filters") if header is not None else None
        check.filtered = bool(filters)
        anchor = header.get("anchor") if header is not None else None
        self.anchor = anchor if isinstance(anchor, dict) else None

    def feed(self, record: Mapping[str, Any]) -> None:
        check, seq, verifier = self.check, int(record["seq"]), self.verifier
        if verifier is None:
            verifier = self._start(record, seq)
        elif check.filtered and self.next_seq is not None and seq > self.next_seq:
            # A filtered export skips records: link-check each consecutive run on its own.
            self._collect()
            check.gaps += 1
            verifier = ChainVerifier(anchor={"seq": seq - 1, "hash": record["prev_hash"]})
        elif self.fed >= VERIFIER_SPAN:
            # Same state, fresh memory: a new verifier anchored where this one stopped.
            anchor = {"seq": verifier.report.last_seq, "hash": verifier.report.last_hash}
            self._collect()
            verifier = ChainVerifier(anchor=anchor)
        if verifier is not self.verifier:
            self.verifier, self.fed = verifier, 0
        verifier.feed(record)
        self.fed += 1
        self.next_seq = seq + 1

    def _start(self, record: Mapping[str, Any], seq: int) -> ChainVerifier:
        check, anchor = self.check, self.anchor
        complete = self.header is not None and not check.filtered
        if anchor is not None and (complete or int(anchor["seq"]) + 1 == seq):
            check.anchor = dict(anchor)
            if self.keys is not None:
                problem = self.keys.problem(anchor)
                check.anchor_signature = "valid" if problem is None else "invalid"
                if problem is not None:
                    check.breaks.append(
                        ChainBreak(
                            int(anchor["seq"]),
                            None,
                            "checkpoint",
                            f"the export's anchor: {problem}",
                        )
                    )
            return ChainVerifier(anchor=anchor)
        if complete or seq == 1:
            # A full export claims the whole chain: a missing start is a break, not a partial.
            return ChainVerifier()
        check.partial_from = seq
        return ChainVerifier(anchor={"seq": seq - 1, "hash": record["prev_hash"]})

    def _collect(self) -> None:
        if self.verifier is None:
            return
        report = self.verifier.finish()
        self.check.breaks.extend(report.breaks)
        self.check.checked += report.checked
        if self.check.first_seq is None:
            self.check.first_seq = report.first_seq
        if report.last_seq is not None:
            self.check.last_seq, self.check.last_hash = report.last_seq, report.last_hash
        self.verifier = None

    def finish(self) -> TenantCheck:
        self._collect()
        return self.check


def verify_lines(
    lines: Iterable[str], *, tenant: str | None = None, keys: KeyRing | None = None
) -> FileReport:
    """Verify an export's lines in constant memory per tenant (one pass, nothing kept but heads).

    Args:
        lines: the file's lines (headers and records, any tenants, blank lines ignored).
        tenant: check only this tenant's records (others are counted as skipped).
        keys: the service's public keys; with them the anchors' signatures are checked.

    Returns:
        The per-tenant outcome; ``report.ok`` is False on any break or unreadable line.
    """
    report = FileReport()
    states: dict[str, _TenantState] = {}
    headers: dict[str, Mapping[str, Any]] = {}
    for number, line in _numbered(lines):
        try:
            obj = json.loads(line)
        except ValueError as exc:
            report.problems.append(f"line {number}: not JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            report.problems.append(f"line {number}: not a JSON object")
            continue
        if EXPORT_MAGIC in obj:
            owner = obj.get("tenant")
            if obj.get(EXPORT_MAGIC) != EXPORT_VERSION or not isinstance(owner, str):
                report.problems.append(f"line {number}: unsupported export header")
            elif owner not in states:  # a header after its tenant's records changes nothing
                headers[owner] = obj
            continue
        owner = obj.get("tenant")
        if not isinstance(owner, str) or not isinstance(obj.get("seq"), int):
            report.problems.append(f"line {number}: not an audit record (no tenant or seq)")
            continue
        if tenant is not None and owner != tenant:
            report.skipped += 1
            continue
        state = states.get(owner)
        if state is None:
            check = report.tenants.setdefault(owner, TenantCheck(owner))
            state = states[owner] = _TenantState(check, headers.get(owner), keys)
        try:
            state.feed(obj)
        except (KeyError, ValueError, TypeError) as exc:
            state.check.breaks.append(
                ChainBreak(
                    int(obj["seq"]),
                    str(obj.get("event_id")),
                    "modified",
                    f"line {number}: not a complete record ({exc})",
                )
            )
    for state in states.values():
        state.finish()
    if tenant is not None and tenant not in report.tenants:
        report.problems.append(f"no records of tenant {tenant!r} in the file")
    return report


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield number, line
