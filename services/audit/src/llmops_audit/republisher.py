"""Republishing to the AUDIT stream: stored records, in storage order, for external consumers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from llmops_audit import fastjson
from llmops_audit.service import SOURCE
from llmops_contracts import subjects
from llmops_contracts.audit import AuditRecord
from llmops_contracts.common import ObjectRef
from llmops_contracts.envelope import MAX_ID_LENGTH, TRACEPARENT_PATTERN, stable_id
from llmops_contracts.headers import MSG_ID, TYPE, Wire
from llmops_shared.publish import Publisher

_TRACEPARENT = re.compile(TRACEPARENT_PATTERN)
_RECORDED_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


@functools.lru_cache(maxsize=64)
def _recorded_moment(recorded_at: str) -> datetime:
    """``recorded_at`` (always ``YYYY-MM-DDTHH:MM:SS.ffffffZ``) as an aware datetime.

    ``fromisoformat`` after a format check, instead of the much slower ``strptime``
    (performance: this runs once per republished record); anything else still goes to
    strptime. Cached: the records of a stored batch share one ``recorded_at``.
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


def audit_message(record: dict[str, Any], event_ref: ObjectRef | None = None) -> Wire:
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
        "source": SOURCE,
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

    async def messages(self, records: Sequence[dict[str, Any]]) -> list[Wire]:
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
                # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation
                # that arrives as the event is set, and this loop then outlives the shutdown.
                async with asyncio.timeout(idle_s):
                    await self.wake.wait()
            self.wake.clear()
