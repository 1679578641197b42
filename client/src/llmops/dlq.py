"""Client side of the dead-letter queue: list dead letters and replay them to their subjects.

A dead letter (``llmops.dlq.<service>.<tenant>``, stream ``DLQ``) keeps the original subject,
headers and payload (or, when they would not fit one message, references to their exact bytes
in the object store, read by :mod:`llmops.blobs`). :func:`read_letters` reads the stream with an
ephemeral consumer (filtered on the server by service and tenant, from a start time) up to the
last letter stored when it began; :func:`replay` republishes each letter's original through
JetStream, so an outage longer than a service's retry budget loses nothing.

Replays are safe to repeat because every consumer is idempotent on the envelope ``id``: a call
already priced or recorded is not counted again. The replayed message carries a
``Nats-Msg-Id`` of its own (``dlq-replay:<DLQ sequence>``), not the original's: JetStream drops
a message whose id it saw within its duplicate window (2 minutes by default), and the original
was stored moments before it was dead-lettered, so reusing its id would make a quick replay a
silent no-op. Replaying one letter twice within the window is dropped by JetStream; after it,
by the services. Within one run, a second letter of the same original is skipped.

The original's own NATS headers (``Nats-Expected-*``, ``Nats-Rollup``, ...) are not replayed:
they were its publisher's conditions and instructions to the server at the time (see
:data:`NATS_HEADERS`). A letter that cannot be published is reported and the run goes on.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from llmops.blobs import ObjectUnavailable, read_object
from llmops.client import Client, NoStreamError
from llmops_contracts import subjects
from llmops_contracts.dlq import DeadLetter, FailureKind
from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import MSG_ID, REPLAY_OF
from llmops_contracts.registry import InvalidMessage, check_depth, parse

#: Letters fetched per pull.
BATCH = 256
#: Streams a replay may publish to (requests and replies are not stored; they are not replayed).
REPLAYABLE_STREAMS = (subjects.EVENTS_STREAM, subjects.COMMANDS_STREAM)
#: Headers whose names start with this (in any case) are NATS's own, and not replayed. JetStream
#: stores a message's headers as published, so the original keeps its publisher's conditions
#: and instructions: ``Nats-Expected-Last-Sequence`` and the other ``Nats-Expected-*`` fail for
#: ever once the stream has moved on, ``Nats-Rollup`` would purge the subject, ``Nats-TTL``,
#: ``Nats-Incr``, ``Nats-Schedule*`` and ``Nats-Batch-*`` ask for features the suite's streams do
#: not enable. NATS reserves the prefix, so whatever a later server adds is dropped too; the
#: replay sets its own ``Nats-Msg-Id``.
NATS_HEADERS = "nats-"


class OriginalUnavailable(Exception):
    """A dead letter's original message cannot be rebuilt."""


@dataclass(frozen=True)
class Original:
    """A dead letter's original message.

    Attributes:
        subject: the subject it arrived on.
        body: its exact bytes.
        headers: its headers.
    """

    subject: str
    body: bytes
    headers: dict[str, str]

    def event_id(self) -> str:
        """Its event id (what consumers de-duplicate on).

        Its envelope ``id``; else its ``Nats-Msg-Id``; else a digest of its bytes.
        """
        with contextlib.suppress(InvalidMessage, ValueError, UnicodeDecodeError):
            check_depth(self.body)
            found = json.loads(self.body)
            if isinstance(found, dict) and isinstance(found.get("id"), str):
                return str(found["id"])
        msg_id = self.headers.get(MSG_ID)
        return msg_id or "sha256:" + hashlib.sha256(self.body).hexdigest()


def _headers(raw: bytes) -> dict[str, str]:
    """Headers kept by reference: the JSON object of strings a service stored."""
    with contextlib.suppress(InvalidMessage, ValueError, UnicodeDecodeError):
        check_depth(raw)
        found = json.loads(raw)
        if isinstance(found, dict) and all(isinstance(v, str) for v in found.values()):
            return found
    raise OriginalUnavailable("its headers object is not a JSON object of strings")


@dataclass
class Letter:
    """One stored dead letter.

    Attributes:
        seq: its sequence in the DLQ stream.
        subject: the subject it was stored on.
        service: the service that gave up (from the subject).
        tenant: its tenant (from the subject; ``unknown`` for old tenant-less letters).
        stored_at: when it was dead-lettered (the stream's timestamp).
        envelope: the parsed dead letter, or None when it does not parse.
        problem: why it does not parse, when it does not.
    """

    seq: int
    subject: str
    service: str
    tenant: str
    stored_at: datetime
    envelope: Envelope[DeadLetter] | None
    problem: str | None = None

    @property
    def failure(self) -> str | None:
        """``invalid`` or ``failed``; None when the letter does not parse."""
        return None if self.envelope is None else str(self.envelope.data.failure)

    async def original(self, nc: NatsClient) -> Original:
        """The original message as the service received it: its exact bytes and headers.

        A letter that would not fit one message keeps the payload (and perhaps the headers) in
        the object store; they are fetched and checked against the letter's references.

        Raises:
            OriginalUnavailable: an object is missing or not what its reference describes, or
                the letter's payload cannot be decoded.
        """
        assert self.envelope is not None
        data = self.envelope.data
        try:
            if data.payload_ref is not None:
                body = await read_object(nc, data.payload_ref)
            elif data.payload_encoding == "ref":
                raise OriginalUnavailable("payload kept by reference, but no payload_ref")
            elif data.payload_encoding == "base64":
                body = base64.b64decode(data.payload, validate=True)
            else:
                body = data.payload.encode()
            headers = data.original_headers
            if data.headers_ref is not None:
                headers = _headers(await read_object(nc, data.headers_ref))
        except ObjectUnavailable as exc:
            raise OriginalUnavailable(str(exc)) from None
        except (binascii.Error, UnicodeEncodeError) as exc:  # a letter no service wrote
            raise OriginalUnavailable(f"payload cannot be decoded: {exc}") from None
        return Original(data.original_subject, body, dict(headers))

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description of the letter (the whole dead letter under ``letter``)."""
        data = self.envelope.data if self.envelope is not None else None
        return {
            "dlq_seq": self.seq,
            "dlq_subject": self.subject,
            "dead_lettered_at": self.stored_at.isoformat(),
            "service": self.service,
            "tenant": self.tenant,
            "failure": self.failure,
            "error": data.error if data is not None else self.problem,
            "original_subject": data.original_subject if data is not None else None,
            "deliveries": data.deliveries if data is not None else None,
            "letter": json.loads(self.envelope.to_json()) if self.envelope is not None else None,
        }


async def read_letters(
    nc: NatsClient,
    *,
    service: str | None = None,
    tenant: str | None = None,
    reason: FailureKind | None = None,
    since: datetime | None = None,
    fetch_timeout: float = 1.0,
) -> AsyncIterator[Letter]:
    """Every dead letter matching the filters, oldest first, up to the last one stored now.

    Letters stored while reading (a replayed message dead-lettered again) are not read, so a
    replay cannot feed on itself.

    Args:
        nc: a connected NATS client.
        service: only this service's letters.
        tenant: only this tenant's (old tenant-less letters then do not match).
        reason: only ``invalid`` or only ``failed`` letters (and those that do not parse: their
            reason cannot be told, and leaving them out would hide them).
        since: only letters dead-lettered at or after this instant.
        fetch_timeout: how long one pull waits for letters before the stream counts as read.
    """
    js = nc.jetstream()
    info = await js.stream_info(subjects.DLQ_STREAM)
    last = info.state.last_seq
    if info.state.messages == 0:
        return
    filters = subjects.dlq_filter(service, tenant)
    config = ConsumerConfig(
        filter_subjects=filters,
        deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
        opt_start_time=since,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=30.0,  # the server removes it if this process dies
        mem_storage=True,
    )
    sub = await js.pull_subscribe(filters[0], stream=subjects.DLQ_STREAM, config=config)
    try:
        while True:
            try:
                batch = await sub.fetch(BATCH, timeout=fetch_timeout)
            except NatsTimeoutError:
                return  # nothing more to read
            for msg in batch:
                meta = msg.metadata
                if meta.sequence.stream > last:
                    return
                letter = _letter(msg.subject, msg.data, meta.sequence.stream, meta.timestamp)
                if reason is None or letter.failure in (None, reason.value):
                    yield letter
                if meta.num_pending == 0:
                    return
    finally:
        await sub.unsubscribe()


def _letter(subject: str, body: bytes, seq: int, stored_at: datetime) -> Letter:
    service, tenant = subjects.dlq_parts(subject) or ("?", subjects.UNKNOWN_TENANT)
    try:
        # With the subject: a letter whose body names another tenant than its subject's is
        # unreadable, never taken at its word.
        envelope: Envelope[DeadLetter] = parse(body, expect=DeadLetter.SPEC.type, subject=subject)
    except InvalidMessage as exc:
        return Letter(seq, subject, service, tenant, stored_at, None, exc.reason)
    return Letter(seq, subject, service, tenant, stored_at, envelope)


def replay_headers(original: dict[str, str], seq: int) -> dict[str, str]:
    """The headers a replay of the letter at DLQ sequence ``seq`` is published with.

    The original's, without NATS's own (see :data:`NATS_HEADERS`), with the replay's id.
    """
    kept = {k: v for k, v in original.items() if not k.lower().startswith(NATS_HEADERS)}
    return {**kept, MSG_ID: f"dlq-replay:{seq}", REPLAY_OF: f"{subjects.DLQ_STREAM}:{seq}"}


@dataclass
class ReplayReport:
    """What a replay did (or, dry, would do).

    Attributes:
        replayed: letters whose original was published again.
        repeated: letters skipped because an earlier letter of this run had the same original.
        not_replayable: letters of request/reply or other non-stream subjects.
        unreadable: letters that do not parse as dead letters.
        refused: letters whose original subject is not their own tenant's (see :func:`replay`).
        failed: letters whose original could not be fetched (kept by reference) or published
            (the run goes on without them).
        dropped: replays JetStream reported as duplicates (this letter replayed moments ago).
        subjects: replayed letters per original subject.
        problems: one line per letter unreadable, refused or failed, naming it by its DLQ
            sequence.
    """

    replayed: int = 0
    repeated: int = 0
    not_replayable: int = 0
    unreadable: int = 0
    refused: int = 0
    failed: int = 0
    dropped: int = 0
    subjects: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


async def replay(
    nc: NatsClient,
    letters: AsyncIterator[Letter],
    *,
    dry_run: bool = False,
    on_letter: Callable[[Letter, str], None] | None = None,
) -> ReplayReport:
    """Publish each letter's original message again, to its original subject, through JetStream.

    A letter is replayed only into its own tenant: the tenant of its DLQ subject (which NATS
    permissions control) must be the last token of the original subject (which only its body
    says). A letter naming another tenant's subject is refused, and so is a letter on an old
    tenant-less subject, whose tenant is unknown.

    Args:
        nc: a connected NATS client.
        letters: the letters to replay (from :func:`read_letters`).
        dry_run: count what would be replayed, publish nothing.
        on_letter: called with each letter and what happened to it ('replayed', 'repeated',
            'not replayable', 'unreadable', 'refused', 'failed', 'dropped').

    Returns:
        The counts.
    """
    client = Client(nc, source="llmops://cli/dlq")  # replays originals as they were sent
    report = ReplayReport()
    seen: set[tuple[str, str]] = set()

    def note(letter: Letter, outcome: str) -> None:
        if on_letter is not None:
            on_letter(letter, outcome)

    def failed(letter: Letter, why: str) -> None:
        report.failed += 1
        report.problems.append(f"DLQ seq {letter.seq}: failed: {why}")
        note(letter, "failed")

    try:
        async for letter in letters:
            if letter.envelope is None:
                report.unreadable += 1
                report.problems.append(f"DLQ seq {letter.seq}: unreadable: {letter.problem}")
                note(letter, "unreadable")
                continue
            data = letter.envelope.data
            if subjects.tenant_of(data.original_subject) != letter.tenant:
                report.refused += 1
                report.problems.append(
                    f"DLQ seq {letter.seq}: refused: its original subject {data.original_subject!r} "
                    f"is not a subject of its tenant {letter.tenant!r}"
                )
                note(letter, "refused")
                continue
            if subjects.stream_for(data.original_subject) not in REPLAYABLE_STREAMS:
                report.not_replayable += 1
                note(letter, "not replayable")
                continue
            try:
                original = await letter.original(nc)
            except OriginalUnavailable as exc:
                failed(letter, f"its original is unavailable: {exc}")
                continue
            key = (original.subject, original.event_id())
            if key in seen:
                report.repeated += 1
                note(letter, "repeated")
                continue
            duplicate = False
            if not dry_run:
                headers = replay_headers(original.headers, letter.seq)
                try:
                    duplicate = await client.store(original.subject, original.body, headers)
                except (nats.errors.Error, NoStreamError) as exc:  # this letter's, or NATS's
                    failed(letter, f"publishing to {original.subject!r}: {exc}")
                    continue  # not seen: a later letter of the same original may still pass
            seen.add(key)
            if duplicate:
                report.dropped += 1
                note(letter, "dropped")
                continue
            report.replayed += 1
            report.subjects[data.original_subject] = (
                report.subjects.get(data.original_subject, 0) + 1
            )
            note(letter, "replayed")
    finally:
        await client.release()  # the connection is the caller's
    return report
