"""Audit logic: admit messages, redact, chain per tenant, verify, checkpoint, purge.

No framework imports here: the NATS edge is ``handlers.py``, storage is ``store.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from llmops_contracts import subjects
from llmops_contracts.audit import AuditQuery, AuditRecord
from llmops_contracts.auditchain import (
    GENESIS_HASH,
    ChainReport,
    ChainVerifier,
    record_hash,
    sign_checkpoint,
    timestamp,
)
from llmops_contracts.canonical import canonical_json
from llmops_contracts.envelope import TRACEPARENT_PATTERN, TYPE_PATTERN, UUID_PATTERN, stable_id
from llmops_contracts.headers import MSG_ID, TYPE
from llmops_contracts.registry import InvalidMessage

_UUID = re.compile(UUID_PATTERN)
_TYPE = re.compile(TYPE_PATTERN)


# --- admission ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """One message to record: where it arrived and its envelope as received (decoded JSON)."""

    subject: str
    envelope: dict[str, Any]

    @property
    def tenant(self) -> str:
        """The tenant whose chain the message joins."""
        return str(self.envelope["tenant"])

    @property
    def event_id(self) -> str:
        """The envelope id."""
        return str(self.envelope["id"])


def admit(subject: str, body: bytes) -> Incoming:
    """Check the envelope attributes the audit trail relies on, and nothing more.

    Audit records every well-formed envelope, even one whose payload a consumer will refuse (the
    consumer's dead letter is recorded too) or whose type is newer than this service: the trail
    is of what was published. It needs a JSON object with a UUID ``id``, a versioned ``type``
    and a ``tenant`` that matches the subject (so subject permissions bound what an application
    can write into a tenant's chain).

    Raises:
        InvalidMessage: naming the bad attribute.
    """
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage(f"(message): not valid JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise InvalidMessage("(message): not a JSON object")
    event_id, type_id, tenant = envelope.get("id"), envelope.get("type"), envelope.get("tenant")
    if not isinstance(event_id, str) or not _UUID.match(event_id):
        raise InvalidMessage("id: missing or not a UUID")
    if not isinstance(type_id, str) or not _TYPE.match(type_id):
        raise InvalidMessage("type: missing or not a versioned llmops type id")
    if not isinstance(tenant, str) or not subjects.is_token(tenant):
        raise InvalidMessage("tenant: missing or not a valid subject token")
    if not subject.startswith(subjects.DLQ + ".") and subjects.tenant_of(subject) != tenant:
        raise InvalidMessage(
            f"tenant: {tenant!r} does not match the subject's tenant {subjects.tenant_of(subject)!r}"
        )
    if not isinstance(envelope.get("source"), str):
        raise InvalidMessage("source: missing or not a string")
    return Incoming(subject, envelope)


# --- redaction ------------------------------------------------------------------------------

ACTIONS = ("keep", "hash", "drop")


@dataclass(frozen=True)
class Rule:
    """One redaction rule: an action for every value at ``path`` (``*`` matches any key/index)."""

    path: tuple[str, ...]
    action: str

    def matches(self, path: Sequence[str]) -> bool:
        """Whether ``path`` is exactly the rule's path (with wildcards)."""
        return len(path) == len(self.path) and all(
            want in ("*", got) for want, got in zip(self.path, path, strict=True)
        )


@dataclass(frozen=True)
class Policy:
    """A versioned redaction policy; applied to the envelope before it is hashed."""

    version: str
    rules: tuple[Rule, ...]

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Policy:
        """Load ``{"version": ..., "rules": [{"path": "data.x", "action": "drop"}]}``."""
        version = raw.get("version")
        if not isinstance(version, str) or not version:
            raise ValueError("a redaction policy needs a 'version'")
        rules = []
        for i, rule in enumerate(raw.get("rules", [])):
            path, action = str(rule.get("path", "")), rule.get("action")
            if not path.startswith("data.") or action not in ACTIONS:
                raise ValueError(
                    f"rule {i}: path must start with 'data.' and action be one of {ACTIONS}"
                )
            rules.append(Rule(tuple(path.split(".")), str(action)))
        return cls(version, tuple(rules))


class Redactor:
    """Applies each tenant's policy (or the default policy) with salted hashing."""

    def __init__(
        self,
        policies: dict[str, Policy] | None = None,
        default: Policy | None = None,
        salt: bytes | None = None,
    ) -> None:
        self.policies = policies or {}
        self.default = default
        self.salt = salt
        hashing = [p for p in [*self.policies.values(), default] if p and _hashes(p)]
        if hashing and not salt:
            raise ValueError("a redaction policy hashes fields: set LLMOPS_AUDIT_REDACTION_SALT")

    @classmethod
    def from_file(cls, path: str | None, salt: bytes | None) -> Redactor:
        """Load ``{"default": policy, "tenants": {"acme": policy}}`` (JSON); none: keep all."""
        if path is None:
            return cls(salt=salt)
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        tenants = {t: Policy.from_dict(p) for t, p in (raw.get("tenants") or {}).items()}
        default = Policy.from_dict(raw["default"]) if raw.get("default") else None
        return cls(tenants, default, salt)

    def policy_for(self, tenant: str) -> Policy | None:
        """The policy that applies to a tenant."""
        return self.policies.get(tenant, self.default)

    def apply(self, tenant: str, envelope: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The envelope after redaction, and the policy version (None: nothing applied)."""
        policy = self.policy_for(tenant)
        if policy is None or not policy.rules:
            return envelope, None if policy is None else policy.version
        key = hmac.new(self.salt or b"", tenant.encode(), hashlib.sha256).digest()
        return self._walk(envelope, (), policy.rules, key), policy.version

    def _walk(self, node: Any, path: tuple[str, ...], rules: tuple[Rule, ...], key: bytes) -> Any:
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = ((str(i), v) for i, v in enumerate(node))
        else:
            return node
        out: dict[str, Any] = {}
        for name, value in items:
            here = (*path, name)
            action = next((r.action for r in reversed(rules) if r.matches(here)), None)
            if action == "drop":
                continue
            if action == "hash":
                digest = hmac.new(key, canonical_json(value).encode(), hashlib.sha256).hexdigest()
                out[name] = f"hmac-sha256:{digest}"
            else:
                out[name] = self._walk(value, here, rules, key)
        return out if isinstance(node, dict) else list(out.values())


def _hashes(policy: Policy) -> bool:
    return any(r.action == "hash" for r in policy.rules)


# --- records --------------------------------------------------------------------------------


@dataclass
class NewRecord:
    """A chained record ready to store (the hashed document, its hash, and filter columns)."""

    doc: dict[str, Any]
    hash: str
    source: str
    time: datetime | None
    trace_id: str | None
    correlation_id: str | None
    user: str | None
    app: str | None

    @property
    def tenant(self) -> str:
        """Tenant of the chain."""
        return str(self.doc["tenant"])

    @property
    def seq(self) -> int:
        """Position in the chain."""
        return int(self.doc["seq"])


class ChainConflict(Exception):
    """Another writer extended the same chain first (a unique (tenant, seq) violation)."""


@dataclass(frozen=True)
class Head:
    """The last record of a tenant's chain."""

    seq: int
    hash: str


GENESIS = Head(0, GENESIS_HASH)


class AuditRepository(Protocol):
    """Storage port of the audit trail (append-only)."""

    async def heads(self, tenants: Sequence[str]) -> dict[str, Head]:
        """The chain head of each tenant that has records."""
        ...

    async def known_ids(self, tenant: str, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids the tenant's chain already holds."""
        ...

    async def append(self, records: Sequence[NewRecord]) -> None:
        """Store records in one transaction; raises ChainConflict if a (tenant, seq) exists."""
        ...

    async def query(self, tenant: str, query: AuditQuery) -> list[dict[str, Any]]:
        """Records matching a query, oldest first, at most ``query.limit``."""
        ...

    def records(self, tenant: str, after_seq: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Every record of a tenant after a seq, in seq order, streamed."""
        ...

    async def tenants(self) -> list[str]:
        """Tenants that have records."""
        ...

    async def checkpoints(self, tenant: str) -> list[dict[str, Any]]:
        """A tenant's checkpoints, oldest first."""
        ...

    async def add_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store a signed checkpoint."""
        ...

    async def purge(
        self, tenant: str, before: str, sign: Callable[[Head], dict[str, Any]]
    ) -> tuple[int, dict[str, Any] | None]:
        """Delete records recorded before ``before`` with a purge checkpoint, in one transaction."""
        ...


def _trace_id(envelope: dict[str, Any]) -> str | None:
    tp = envelope.get("traceparent")
    if isinstance(tp, str) and tp.count("-") == 3:
        return tp.split("-")[1]
    return None


def _time(envelope: dict[str, Any]) -> datetime | None:
    raw = envelope.get("time")
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _actor(envelope: dict[str, Any], key: str) -> str | None:
    data = envelope.get("data")
    actor = data.get("actor") if isinstance(data, dict) else None
    value = actor.get(key) if isinstance(actor, dict) else None
    return value if isinstance(value, str) else None


@dataclass
class Checkpointer:
    """Signs chain heads with an HMAC key."""

    key: bytes
    key_id: str
    signed: dict[str, int] = field(default_factory=dict)

    def sign(self, tenant: str, head: Head, kind: str, now: datetime) -> dict[str, Any]:
        """A signed checkpoint of ``head``."""
        cp: dict[str, Any] = {
            "tenant": tenant,
            "seq": head.seq,
            "hash": head.hash,
            "created_at": timestamp(now),
            "kind": kind,
            "key_id": self.key_id,
        }
        cp["signature"] = sign_checkpoint(cp, self.key)
        return cp


class AuditService:
    """Records messages into per-tenant hash chains and answers questions about them."""

    def __init__(
        self,
        repository: AuditRepository,
        redactor: Redactor | None = None,
        checkpointer: Checkpointer | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_verify_failure: Callable[[str], None] | None = None,
        on_recorded: Callable[[], None] | None = None,
    ) -> None:
        self.repository = repository
        self.on_verify_failure = on_verify_failure
        self.on_recorded = on_recorded
        self.redactor = redactor or Redactor()
        self.checkpointer = checkpointer or Checkpointer(b"", "none")
        self.clock = clock
        self._heads: dict[str, Head] = {}
        # One writer per process: the capture consumers of three streams share the chains.
        self._lock = asyncio.Lock()

    async def record(self, batch: Sequence[Incoming]) -> int:
        """Chain and store a batch in one transaction; returns how many records were added.

        Redeliveries and republished events (an id the tenant's chain already holds, or twice in
        the batch) are skipped, so each event is recorded exactly once.
        """
        async with self._lock:
            by_tenant: dict[str, list[Incoming]] = {}
            for item in batch:
                by_tenant.setdefault(item.tenant, []).append(item)
            missing = [t for t in by_tenant if t not in self._heads]
            if missing:
                found = await self.repository.heads(missing)
                for tenant in missing:
                    self._heads[tenant] = found.get(tenant, GENESIS)
            recorded_at = timestamp(self.clock())
            records: list[NewRecord] = []
            heads = dict(self._heads)
            for tenant, items in by_tenant.items():
                known = await self.repository.known_ids(tenant, [i.event_id for i in items])
                head = heads[tenant]
                for item in items:
                    if item.event_id in known:
                        continue
                    known.add(item.event_id)
                    record = self._chain(item, head, recorded_at)
                    records.append(record)
                    head = Head(record.seq, record.hash)
                heads[tenant] = head
            if not records:
                return 0
            try:
                await self.repository.append(records)
            except ChainConflict:
                self._heads.clear()  # another writer moved on: reload heads on the retry
                raise
            self._heads.update(heads)
        if self.on_recorded is not None:
            self.on_recorded()
        return len(records)

    def _chain(self, item: Incoming, head: Head, recorded_at: str) -> NewRecord:
        envelope, version = self.redactor.apply(item.tenant, item.envelope)
        doc = {
            "tenant": item.tenant,
            "seq": head.seq + 1,
            "event_id": item.event_id,
            "event_type": envelope["type"],
            "event_subject": item.subject,
            "recorded_at": recorded_at,
            "redaction_policy_version": version,
            "event": envelope,
            "prev_hash": head.hash,
        }
        return NewRecord(
            doc=doc,
            hash=record_hash(doc),
            source=str(envelope.get("source")),
            time=_time(envelope),
            trace_id=_trace_id(envelope),
            correlation_id=_str_or_none(envelope.get("correlation_id")),
            user=_actor(envelope, "user"),
            app=_actor(envelope, "app"),
        )

    async def query(
        self, tenant: str, query: AuditQuery
    ) -> tuple[list[dict[str, Any]], int | None, dict[str, Any] | None]:
        """A page of records, the next cursor (None at the end) and the purge anchor."""
        rows = await self.repository.query(tenant, query)
        next_after = rows[-1]["seq"] if len(rows) == query.limit else None
        anchor = await self.anchor(tenant) if query.after_seq == 0 else None
        return rows, next_after, anchor

    async def anchor(self, tenant: str) -> dict[str, Any] | None:
        """The latest purge checkpoint: where the remaining chain starts."""
        purges = [c for c in await self.repository.checkpoints(tenant) if c["kind"] == "purge"]
        return purges[-1] if purges else None

    async def verify(self, tenant: str, *, all_breaks: bool = False) -> ChainReport:
        """Recompute a tenant's chain from storage against its hashes and signed checkpoints."""
        checkpoints = await self.repository.checkpoints(tenant)
        # Every checkpoint's signature is checked, the purge anchor's included: a forged anchor
        # would otherwise let a rewritten chain start wherever the forger wanted.
        verifier = ChainVerifier(
            anchor=await self.anchor(tenant), checkpoints=checkpoints, key=self.checkpointer.key
        )
        async for record in self.repository.records(tenant):
            verifier.feed(record)
            if verifier.report.breaks and not all_breaks:
                break
        report = verifier.finish() if not verifier.report.breaks else verifier.report
        report.tenant = tenant
        if self.on_verify_failure is not None and not report.ok:
            self.on_verify_failure(tenant)
        return report

    async def checkpoint_heads(self) -> int:
        """Sign every chain head that moved since it was last signed; returns how many."""
        async with self._lock:
            tenants = await self.repository.tenants()
            heads = await self.repository.heads(tenants)
        signed = 0
        for tenant, head in heads.items():
            if self.checkpointer.signed.get(tenant) == head.seq:
                continue
            await self.repository.add_checkpoint(
                self.checkpointer.sign(tenant, head, "periodic", self.clock())
            )
            self.checkpointer.signed[tenant] = head.seq
            signed += 1
        return signed

    async def purge(self, tenant: str, before: datetime) -> tuple[int, dict[str, Any] | None]:
        """Remove records recorded before ``before`` behind a signed purge checkpoint."""
        async with self._lock:
            return await self.repository.purge(
                tenant,
                timestamp(before),
                lambda head: self.checkpointer.sign(tenant, head, "purge", self.clock()),
            )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# --- republishing to the AUDIT stream --------------------------------------------------------

_TRACEPARENT = re.compile(TRACEPARENT_PATTERN)


def audit_message(record: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    """The AUDIT-stream message of a stored record: subject, envelope bytes, headers.

    Built as a plain dict (this runs once per record): the envelope carries the record exactly as
    hashed plus ``hash``, so a consumer verifies it with nothing but the canonical form.
    """
    tenant, seq, event = record["tenant"], record["seq"], record["event"]
    recorded = datetime.strptime(record["recorded_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    traceparent = event.get("traceparent")
    correlation = event.get("correlation_id")
    envelope = {
        "specversion": "1.0",
        "id": stable_id(recorded, tenant, str(seq), record["hash"]),
        "type": AuditRecord.SPEC.type,
        "source": "llmops/audit",
        "time": record["recorded_at"],
        "tenant": tenant,
        "datacontenttype": "application/json",
        "traceparent": traceparent
        if isinstance(traceparent, str) and _TRACEPARENT.match(traceparent)
        else None,
        "correlation_id": correlation
        if isinstance(correlation, str) and len(correlation) <= 128
        else None,
        "causation_id": record["event_id"],
        "data": record,
    }
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    # Republishing the same record (after a crash) reuses the id: JetStream drops the copy.
    headers = {MSG_ID: f"audit:{tenant}:{seq}", TYPE: AuditRecord.SPEC.type}
    return subjects.for_tenant(subjects.AUDIT_RECORDS, tenant), body, headers


class Outbox(Protocol):
    """Storage side of republishing: records not yet on the AUDIT stream, and the cursor."""

    async def unpublished(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` (storage position, record) pairs past the cursor, in storage order."""
        ...

    async def mark_published(self, position: int) -> None:
        """Move the cursor past ``position``."""
        ...


class RecordSink(Protocol):
    """Where republished records go (the AUDIT stream)."""

    async def publish(self, messages: Sequence[tuple[str, bytes, dict[str, str]]]) -> None:
        """Publish and wait until every message is stored."""
        ...


class Republisher:
    """Copies stored records, in storage order, to the AUDIT stream for external consumers.

    An outbox: the capture path only writes the database; this loop publishes what is stored and
    then moves its cursor. A crash in between republishes with the same ``Nats-Msg-Id``, so
    consumers see each record once within the de-duplication window and can always drop a
    ``seq`` they already hold.
    """

    def __init__(self, outbox: Outbox, sink: RecordSink, batch: int = 1000) -> None:
        self.outbox = outbox
        self.sink = sink
        self.batch = batch
        self.wake = asyncio.Event()

    async def flush(self) -> int:
        """Publish everything stored so far; returns how many records went out."""
        sent = 0
        while True:
            rows = await self.outbox.unpublished(self.batch)
            if not rows:
                return sent
            await self.sink.publish([audit_message(record) for _, record in rows])
            await self.outbox.mark_published(rows[-1][0])
            sent += len(rows)

    async def run(self, idle_s: float = 1.0) -> None:
        """Flush whenever woken (after each stored batch) or every ``idle_s``, until cancelled."""
        while True:
            await self.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), idle_s)
            self.wake.clear()
