"""Audit logic: admit messages, redact, chain per tenant, verify, checkpoint, purge.

No framework imports here: the NATS edge is ``handlers.py``, storage is ``store.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from llmops_audit import fastjson
from llmops_audit.checkpoints import GENESIS, Head, Sealer
from llmops_contracts import subjects
from llmops_contracts.audit import AuditQuery, AuditRecord
from llmops_contracts.auditchain import (
    ChainBreak,
    ChainReport,
    ChainVerifier,
    record_hash,
    timestamp,
)
from llmops_contracts.common import ObjectRef
from llmops_contracts.envelope import (
    MAX_ID_LENGTH,
    TRACEPARENT_PATTERN,
    TYPE_PATTERN,
    UUID_PATTERN,
    stable_id,
)
from llmops_contracts.headers import MSG_ID, TYPE
from llmops_contracts.registry import InvalidMessage, check_depth
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.publish import Publisher

_UUID = re.compile(UUID_PATTERN)
_TYPE = re.compile(TYPE_PATTERN)


# --- admission ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """One message to record: where it arrived and its envelope as received (decoded JSON).

    ``tenant`` is the chain it joins, taken from the subject (see :func:`admit`); by default
    the envelope's, for messages built in code.
    """

    subject: str
    envelope: dict[str, Any]
    tenant: str = ""

    def __post_init__(self) -> None:
        if not self.tenant:
            object.__setattr__(self, "tenant", str(self.envelope["tenant"]))

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
    # Encoding and nesting first: deep JSON parses, but hashing and redaction walk it
    # recursively, so it would fail its batch on every delivery; and the depth is counted on
    # UTF-8 bytes, so UTF-16/32 text is refused before it (see llmops_contracts.jsonlimits).
    check_depth(body)
    try:
        envelope = fastjson.loads(body)
    except ValueError as exc:  # UnicodeDecodeError is one
        raise InvalidMessage(f"(message): not valid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(body):
        # Escaped surrogates decode (surrogates encoded as bytes are not UTF-8, refused above),
        # but a lone one cannot be written as UTF-8: it would fail the hash later and jam the
        # batch. Checked only when such an escape is present at all.
        try:
            json.dumps(envelope, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise InvalidMessage("(message): a string holds a lone UTF-16 surrogate") from None
    if len(subject) > MAX_SUBJECT:
        raise InvalidMessage(f"(subject): longer than {MAX_SUBJECT} characters")
    if not isinstance(envelope, dict):
        raise InvalidMessage("(message): not a JSON object")
    event_id, type_id, tenant = envelope.get("id"), envelope.get("type"), envelope.get("tenant")
    if not isinstance(event_id, str) or not _UUID.match(event_id):
        raise InvalidMessage("id: missing or not a UUID")
    if not isinstance(type_id, str) or not _TYPE.match(type_id) or len(type_id) > MAX_TYPE:
        raise InvalidMessage("type: missing, not a versioned llmops type id, or too long")
    if not isinstance(tenant, str) or not subjects.is_token(tenant):
        raise InvalidMessage("tenant: missing or not a valid subject token")
    chain, legacy = _chain_tenant(subject)
    if chain != tenant and not legacy:
        raise InvalidMessage(f"tenant: {tenant!r} does not match the subject's tenant {chain!r}")
    source = envelope.get("source")
    if not isinstance(source, str) or not 0 < len(source) <= MAX_SOURCE:
        raise InvalidMessage(f"source: missing, not a string, or longer than {MAX_SOURCE}")
    return Incoming(subject, envelope, chain)


def _chain_tenant(subject: str) -> tuple[str, bool]:
    """The tenant whose chain a message on ``subject`` joins (always the subject's), and
    whether the subject is an old tenant-less dead-letter subject.

    Permissions are granted on subjects, so a body naming another tenant must never choose the
    chain. Dead letters travel on ``llmops.dlq.<service>.<tenant>``; letters stored on the old
    ``llmops.dlq.<service>`` join the ``unknown`` chain whatever their body says.
    """
    if not subject.startswith(subjects.DLQ + "."):
        return subjects.tenant_of(subject), False
    parts = subjects.dlq_parts(subject)
    if parts is None:
        raise InvalidMessage(
            f"(subject): {subject!r} is not a dead-letter subject (llmops.dlq.<service>.<tenant>)"
        )
    return parts[1], subject.count(".") == 2


#: Budget of one query reply's records, well under NATS's default 1 MiB message limit.
PAGE_BYTES = 512 * 1024

# Column widths of the trail (see the migration): longer values are refused or not indexed.
MAX_SUBJECT, MAX_TYPE, MAX_SOURCE, MAX_CORRELATION, MAX_ACTOR = 256, 128, 256, 128, 200
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


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
                digest = hmac.new(key, fastjson.canonical(value), hashlib.sha256).hexdigest()
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
    #: The event as stored JSON text: its canonical text when that is also faithful to every
    #: parsed number (nearly always), else a compact dump. None: the store serialises it.
    event_json: str | None = None

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


class AuditRepository(Protocol):
    """Storage port of the audit trail (append-only)."""

    async def heads(self, tenants: Sequence[str]) -> dict[str, Head]:
        """The chain head of each tenant that has records."""
        ...

    async def known_ids(self, tenant: str, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids the tenant's chain already holds."""
        ...

    async def append(self, records: Sequence[NewRecord]) -> None:
        """Store records in one transaction, or none of them.

        Raises:
            ChainConflict: a (tenant, seq) or a (tenant, event_id) is already stored.
        """
        ...

    async def query(self, tenant: str, query: AuditQuery) -> list[dict[str, Any]]:
        """Records matching a query, oldest first, at most ``query.limit``."""
        ...

    def records(
        self, tenant: str, after_seq: int = 0, *, columns: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a tenant after a seq, in seq order, streamed.

        With ``columns``, each record also carries ``columns``: its stored filter columns.
        """
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
        self, tenant: str, before: str, sign: Callable[[Head], Awaitable[dict[str, Any]]]
    ) -> tuple[int, dict[str, Any] | None]:
        """Delete records recorded before ``before`` with a purge checkpoint, in one transaction.

        ``sign(head)`` gets the last record to delete and returns its signed checkpoint; it is
        awaited inside the transaction, before anything is deleted, and whatever it raises
        aborts the purge.
        """
        ...


def filter_columns(envelope: dict[str, Any]) -> dict[str, Any]:
    """The indexed columns stored beside a record, derived from its (redacted) envelope.

    Values that do not fit a column (an over-long id, a malformed traceparent) are left out
    rather than failing the batch; ``verify`` recomputes these and compares them.
    """
    return {
        "source": str(envelope.get("source")),
        "time": _time(envelope),
        "trace_id": _trace_id(envelope),
        "correlation_id": _bounded(envelope.get("correlation_id"), MAX_CORRELATION),
        "actor_user": _bounded(_actor(envelope, "user"), MAX_ACTOR),
        "actor_app": _bounded(_actor(envelope, "app"), MAX_ACTOR),
    }


def _bounded(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and len(value) <= limit else None


def _trace_id(envelope: dict[str, Any]) -> str | None:
    tp = envelope.get("traceparent")
    if isinstance(tp, str) and _TRACEPARENT.match(tp):
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


class AuditService:
    """Records messages into per-tenant hash chains and answers questions about them."""

    def __init__(
        self,
        repository: AuditRepository,
        redactor: Redactor | None = None,
        checkpointer: Sealer | None = None,
        clock: Clock = SYSTEM_CLOCK,
        on_verify_failure: Callable[[str], None] | None = None,
        on_recorded: Callable[[], None] | None = None,
    ) -> None:
        self.repository = repository
        self.on_verify_failure = on_verify_failure
        self.on_recorded = on_recorded
        self.redactor = redactor or Redactor()
        #: Signs, publishes and checks checkpoints (by default without a key: hashes, links and
        #: stored checkpoints are checked, nothing is signed and purge is refused).
        self.checkpointer = checkpointer or Sealer(repository)
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
                    self._heads[tenant] = found.get(tenant) or await self._purged_head(tenant)
            recorded_at = timestamp(self.clock.now())
            # Optimistic first (performance): an event is almost always new, and the repository
            # refuses an event id the tenant's chain holds (ChainConflict, nothing stored), so
            # asking storage which ids it knows, one query per tenant per batch, is only needed
            # when that happens. Then the batch is chained again exactly as before.
            records, heads = self._chain_batch(by_tenant, recorded_at, {})
            try:
                if records:
                    await self.repository.append(records)
            except ChainConflict:
                known = {
                    tenant: await self.repository.known_ids(tenant, [i.event_id for i in items])
                    for tenant, items in by_tenant.items()
                }
                records, heads = self._chain_batch(by_tenant, recorded_at, known)
                if not records:
                    return 0
                try:
                    await self.repository.append(records)
                except ChainConflict:
                    self._heads.clear()  # another writer moved on: reload heads on the retry
                    raise
            if not records:
                return 0
            self._heads.update(heads)
        if self.on_recorded is not None:
            self.on_recorded()
        return len(records)

    def _chain_batch(
        self, by_tenant: dict[str, list[Incoming]], recorded_at: str, known: dict[str, set[str]]
    ) -> tuple[list[NewRecord], dict[str, Head]]:
        """Chain each tenant's items after its cached head, skipping known and repeated ids."""
        records: list[NewRecord] = []
        heads = dict(self._heads)
        for tenant, items in by_tenant.items():
            seen = set(known.get(tenant, ()))
            head = heads[tenant]
            for item in items:
                if item.event_id in seen:
                    continue
                seen.add(item.event_id)
                record = self._chain(item, head, recorded_at)
                records.append(record)
                head = Head(record.seq, record.hash)
            heads[tenant] = head
        return records, heads

    def _chain(self, item: Incoming, head: Head, recorded_at: str) -> NewRecord:
        envelope, version = self.redactor.apply(item.tenant, item.envelope)
        columns = filter_columns(envelope)
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
        # record_hash(doc), with the event serialised once (performance): "event" sorts before
        # every other key of the document, so the document's canonical text is the event's
        # spliced in front of the rest's; and that event text is what gets stored.
        event_text = fastjson.canonical_fast(envelope)
        if event_text is not None:
            text = b'{"event":' + event_text + b"," + _rest_canonical(doc)[1:]
            event_json = event_text.decode()
        else:
            text = fastjson.canonical(doc)
            event_json = fastjson.dumps(envelope).decode()
        return NewRecord(
            doc=doc,
            hash=hashlib.sha256(text).hexdigest(),
            source=columns["source"],
            time=columns["time"],
            trace_id=columns["trace_id"],
            correlation_id=columns["correlation_id"],
            user=columns["actor_user"],
            app=columns["actor_app"],
            event_json=event_json,
        )

    async def query(
        self, tenant: str, query: AuditQuery
    ) -> tuple[list[dict[str, Any]], int | None, dict[str, Any] | None]:
        """A page of records, the next cursor (None at the end) and the purge anchor."""
        rows = await self.repository.query(tenant, query)
        next_after = rows[-1]["seq"] if len(rows) == query.limit else None
        # A reply must fit one NATS message (1 MiB by default): a page of large events (captured
        # prompts) stops early, and the cursor continues from there.
        size = 0
        for i, row in enumerate(rows):
            size += len(json.dumps(row["event"], ensure_ascii=False)) + 600
            if size > PAGE_BYTES and i > 0:
                rows, next_after = rows[:i], rows[i - 1]["seq"]
                break
        anchor = await self.anchor(tenant) if query.after_seq == 0 else None
        return rows, next_after, anchor

    async def _purged_head(self, tenant: str) -> Head:
        """Where a chain without records continues: its purge anchor, else the genesis."""
        anchor = await self.anchor(tenant)
        return Head(int(anchor["seq"]), str(anchor["hash"])) if anchor else GENESIS

    async def anchor(self, tenant: str) -> dict[str, Any] | None:
        """The latest purge checkpoint: where the remaining chain starts."""
        purges = [c for c in await self.repository.checkpoints(tenant) if c["kind"] == "purge"]
        return purges[-1] if purges else None

    async def verify(self, tenant: str, *, all_breaks: bool = False) -> ChainReport:
        """Recompute a tenant's chain from storage against its hashes and signed checkpoints.

        The chain is also held to the newest checkpoint published on the AUDIT stream, outside
        the database: records cut after it, or its row deleted, are breaks.
        """
        checkpoints = await self.repository.checkpoints(tenant)
        published = await self.checkpointer.held_to(tenant, checkpoints)
        # Every checkpoint's signature is checked, the purge anchor's included: a forged anchor
        # would otherwise let a rewritten chain start wherever the forger wanted.
        verifier = ChainVerifier(
            anchor=await self.anchor(tenant),
            checkpoints=[*checkpoints, *published.unstored],
            keys=self.checkpointer.keys,
        )
        async for record in self.repository.records(tenant, columns=True):
            stored = record.pop("columns")
            verifier.feed(record)
            wrong = [k for k, v in filter_columns(record["event"]).items() if stored.get(k) != v]
            if wrong and record_hash_ok(record):
                # The hashed content is intact but a query column was changed (say, a record
                # moved to another user): queries would lie, so it is a modification too.
                verifier.report.breaks.append(
                    ChainBreak(
                        int(record["seq"]),
                        str(record["event_id"]),
                        "modified",
                        f"indexed column(s) {', '.join(wrong)} do not match the hashed event",
                    )
                )
            if verifier.report.breaks and not all_breaks:
                break
        report = verifier.finish() if not verifier.report.breaks else verifier.report
        if all_breaks or not report.breaks:
            report.breaks.extend(published.breaks)
        report.tenant = tenant
        report.published = published.checkpoint
        if self.on_verify_failure is not None and not report.ok:
            self.on_verify_failure(tenant)
        return report

    async def checkpoint_heads(self) -> int:
        """Sign every verified chain head that moved since it was last signed; returns how many."""
        return await self.checkpointer.seal()

    async def purge(self, tenant: str, before: datetime) -> tuple[int, dict[str, Any] | None]:
        """Remove records recorded before ``before`` behind a signed purge checkpoint."""
        async with self._lock:
            return await self.checkpointer.purge(tenant, before)


#: The document's keys other than "event", in canonical (sorted) order.
_REST_KEYS = (
    "event_id",
    "event_subject",
    "event_type",
    "prev_hash",
    "recorded_at",
    "redaction_policy_version",
    "seq",
    "tenant",
)
#: Below 16 digits, orjson writes an integer exactly as the canonical form does.
_SHORT_INT = 10**15


def _rest_canonical(doc: dict[str, Any]) -> bytes:
    """The canonical text of the document without "event" (performance: no generic check).

    Its members are known: ASCII keys, written here already in canonical order; strings, which
    orjson writes as the canonical form does (an admitted envelope holds no lone surrogate); the
    policy version, a string or null; and the seq, a short integer. Anything else takes the
    reference.
    """
    rest = {key: doc[key] for key in _REST_KEYS}
    seq, version = rest["seq"], rest["redaction_policy_version"]
    if (
        type(seq) is int
        and 0 <= seq < _SHORT_INT
        and (version is None or type(version) is str)
        and type(rest["event_id"]) is str
        and type(rest["event_subject"]) is str
        and type(rest["event_type"]) is str
        and type(rest["prev_hash"]) is str
        and type(rest["recorded_at"]) is str
        and type(rest["tenant"]) is str
    ):
        with contextlib.suppress(orjson.JSONEncodeError):
            return orjson.dumps(rest)
    return fastjson.canonical(rest)


def record_hash_ok(record: dict[str, Any]) -> bool:
    """Whether a record's stored hash matches its content."""
    return bool(record_hash(record) == record.get("hash"))


# --- republishing to the AUDIT stream --------------------------------------------------------

_TRACEPARENT = re.compile(TRACEPARENT_PATTERN)
_RECORDED_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


@functools.lru_cache(maxsize=64)
def _recorded_moment(recorded_at: str) -> datetime:
    """``recorded_at`` (always ``YYYY-MM-DDTHH:MM:SS.ffffffZ``) as an aware datetime.

    ``fromisoformat`` after a format check, instead of ``strptime`` (performance: several times
    faster, and this runs once per republished record); anything else still goes to strptime.
    Cached: the records of a stored batch share one ``recorded_at``.
    """
    if _RECORDED_AT.fullmatch(recorded_at):
        return datetime.fromisoformat(recorded_at[:-1]).replace(tzinfo=UTC)
    return datetime.strptime(recorded_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class StoredRecord(dict[str, Any]):
    """A record as just stored, with ``event_json``: its event as the stored JSON text.

    That text is the event serialised compactly (usually its canonical text), so
    :func:`audit_message` can copy it into the AUDIT message instead of serialising the event
    again (performance).
    """

    __slots__ = ("event_json",)
    event_json: str


def audit_message(
    record: dict[str, Any], event_ref: ObjectRef | None = None
) -> tuple[str, bytes, dict[str, str]]:
    """The AUDIT-stream message of a stored record: subject, envelope bytes, headers.

    Built as a plain dict (this runs once per record): the envelope carries the record exactly as
    hashed plus ``hash``, so a consumer verifies it with nothing but the canonical form. With
    ``event_ref`` the event is left out and ``event_ref`` says where its JSON text is kept.
    """
    tenant, seq, event = record["tenant"], record["seq"], record["event"]
    traceparent = event.get("traceparent")
    correlation = event.get("correlation_id")
    envelope = {
        "specversion": "1.0",
        "id": stable_id(_recorded_moment(record["recorded_at"]), tenant, str(seq), record["hash"]),
        "type": AuditRecord.SPEC.type,
        "source": "llmops/audit",
        "time": record["recorded_at"],
        "tenant": tenant,
        "datacontenttype": "application/json",
        "traceparent": traceparent
        if isinstance(traceparent, str) and _TRACEPARENT.match(traceparent)
        else None,
        "correlation_id": correlation
        if isinstance(correlation, str) and len(correlation) <= MAX_ID_LENGTH
        else None,
        "causation_id": record["event_id"],
        "data": record,
    }
    event_json = getattr(record, "event_json", None)
    if event_ref is not None:
        data = {k: v for k, v in record.items() if k != "event"}
        data["event_ref"] = event_ref.model_dump(mode="json")
        envelope["data"] = data
        body = fastjson.dumps(envelope)
    elif event_json is not None and len(record) > 1 and next(reversed(record)) == "event":
        # The event's stored text spliced in as the last member of the last member
        # (performance: the event is most of the message).
        envelope["data"] = {k: v for k, v in record.items() if k != "event"}
        body = b"".join((fastjson.dumps(envelope)[:-2], b',"event":', event_json.encode(), b"}}"))
    else:
        body = fastjson.dumps(envelope)
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


class Blobs(Protocol):
    """Where a payload too large for one message is kept (the object store)."""

    def max_payload(self) -> int:
        """The largest message the server takes, headers included."""
        ...

    async def put(self, data: bytes) -> ObjectRef:
        """Keep ``data`` and return a reference to it (with its size and SHA-256)."""
        ...


#: Room for an AUDIT message's headers (its Nats-Msg-Id and type) and their framing.
_AUDIT_HEADERS = 512


class Republisher:
    """Copies stored records, in storage order, to the AUDIT stream for external consumers.

    An outbox: the capture path only writes the database; this loop publishes what is stored and
    then moves its cursor. A crash in between republishes with the same ``Nats-Msg-Id``, so
    consumers see each record once within the de-duplication window and can always drop a
    ``seq`` they already hold. A record whose message would exceed the server's limit is
    published by reference: its event goes to ``blobs`` and the message carries ``event_ref``
    (without ``blobs`` it would stall the stream, so production wiring always passes one).
    """

    def __init__(
        self, outbox: Outbox, sink: Publisher, batch: int = 1000, blobs: Blobs | None = None
    ) -> None:
        self.outbox = outbox
        self.sink = sink
        self.batch = batch
        self.blobs = blobs
        self.wake = asyncio.Event()

    async def messages(
        self, records: Sequence[dict[str, Any]]
    ) -> list[tuple[str, bytes, dict[str, str]]]:
        """The AUDIT messages of ``records``, any too large made by reference."""
        messages = [audit_message(record) for record in records]
        if self.blobs is None:
            return messages
        room = self.blobs.max_payload() - _AUDIT_HEADERS
        for i, (_, body, _) in enumerate(messages):
            if len(body) > room:
                record = records[i]
                event_json = getattr(record, "event_json", None)
                text = (
                    event_json.encode()
                    if event_json is not None
                    else fastjson.dumps(record["event"])
                )
                messages[i] = audit_message(record, await self.blobs.put(text))
        return messages

    async def flush(self) -> int:
        """Publish everything stored so far; returns how many records went out."""
        sent = 0
        while True:
            rows = await self.outbox.unpublished(self.batch)
            if not rows:
                return sent
            await self.sink.publish_batch(await self.messages([record for _, record in rows]))
            await self.outbox.mark_published(rows[-1][0])
            sent += len(rows)

    async def run(self, idle_s: float = 1.0) -> None:
        """Flush whenever woken (after each stored batch) or every ``idle_s``, until cancelled."""
        while True:
            await self.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), idle_s)
            self.wake.clear()
