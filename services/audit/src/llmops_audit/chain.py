"""The per-tenant hash chains: a chain's head, the records that extend it, and their hashes.

A record's hash is defined by :func:`llmops_contracts.auditchain.record_hash`; this module
writes the same bytes faster (see :func:`chain_record`), and tests compare the two.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from llmops_audit import fastjson
from llmops_audit.admission import Incoming
from llmops_audit.redaction import Redactor
from llmops_contracts.auditchain import GENESIS_HASH, RECORD_FIELDS, record_hash
from llmops_contracts.envelope import TRACEPARENT_PATTERN


@dataclass(frozen=True)
class Head:
    """The last record of a tenant's chain."""

    seq: int
    hash: str


GENESIS = Head(0, GENESIS_HASH)


class ChainConflict(Exception):
    """Another writer extended the same chain first (a unique (tenant, seq) violation)."""


# --- filter columns ---------------------------------------------------------------------------

_TRACEPARENT = re.compile(TRACEPARENT_PATTERN)
# Column widths of the trail (see the migration): a longer value is not indexed.
MAX_CORRELATION, MAX_ACTOR = 128, 200


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


# --- records ----------------------------------------------------------------------------------


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


#: The document's keys other than "event", in canonical (sorted) order.
_REST_KEYS = tuple(sorted(name for name in RECORD_FIELDS if name != "event"))
#: Of those, the ones that are always strings (the policy version may be null, the seq is not).
_TEXT_KEYS = tuple(key for key in _REST_KEYS if key not in ("seq", "redaction_policy_version"))
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
        and all(type(rest[key]) is str for key in _TEXT_KEYS)
    ):
        with contextlib.suppress(orjson.JSONEncodeError):
            return orjson.dumps(rest)
    return fastjson.canonical(rest)


def chain_record(item: Incoming, head: Head, recorded_at: str, redactor: Redactor) -> NewRecord:
    """The record of ``item`` (redacted) extending a chain whose head is ``head``."""
    envelope, version = redactor.apply(item.tenant, item.envelope)
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


def chain_batch(
    by_tenant: Mapping[str, Sequence[Incoming]],
    heads: Mapping[str, Head],
    recorded_at: str,
    redactor: Redactor,
    known: Mapping[str, set[str]],
) -> tuple[list[NewRecord], dict[str, Head]]:
    """Chain each tenant's items after its head, skipping known and repeated event ids.

    Returns the records and every chain's head after them.
    """
    records: list[NewRecord] = []
    after = dict(heads)
    for tenant, items in by_tenant.items():
        seen = set(known.get(tenant, ()))
        head = after[tenant]
        for item in items:
            if item.event_id in seen:
                continue
            seen.add(item.event_id)
            record = chain_record(item, head, recorded_at, redactor)
            records.append(record)
            head = Head(record.seq, record.hash)
        after[tenant] = head
    return records, after


def record_hash_ok(record: dict[str, Any]) -> bool:
    """Whether a record's stored hash matches its content."""
    return bool(record_hash(record) == record.get("hash"))
