"""The dead-letter path: a message that cannot be processed is kept, with the reason, and never lost.

- invalid input (not JSON, unknown type, schema violation, wrong tenant): dead-lettered at once and
  terminated, never retried;
- processing failure: nacked with backoff, and dead-lettered once ``max_deliver`` is reached.

Dead letters go to ``llmops.dlq.<service>.<tenant>`` (stream DLQ) as a :class:`DeadLetter`
envelope holding the original subject, headers and payload, so an operator can inspect and replay
them (``llmops dlq``). The tenant is the original subject's last token (``unknown`` when that is
not a valid tenant id): the subject, which NATS permissions control, says whose letter it is. A
letter that would not fit one message (the original was near the server's limit, or base64 made
it so) keeps the original's bytes in the object store (:mod:`llmops_shared.blobs`) and carries a
reference, so the dead-letter path never fails on size.
"""

from __future__ import annotations

import base64
import json

from nats.aio.client import Client
from nats.aio.msg import Msg
from prometheus_client import Counter
from pydantic import ValidationError

from llmops_contracts import headers, subjects
from llmops_contracts.common import ObjectRef
from llmops_contracts.dlq import DeadLetter, FailureKind
from llmops_contracts.envelope import MAX_ID_LENGTH, Envelope, wrap
from llmops_contracts.registry import InvalidMessage, format_errors
from llmops_shared.blobs import BlobStore, wire_size
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.logging import get_logger

DEAD_LETTERS = Counter(
    "llmops_dead_letters_total",
    "Messages sent to the dead-letter stream.",
    ["service", "failure"],
)

_log = get_logger(__name__)

#: Longest reason a dead letter carries: a reason quoting a huge input is cut, not the input.
MAX_ERROR = 4000


def reason_of(exc: BaseException) -> str:
    """A one-line reason naming the bad field, for a validation failure of any origin."""
    if isinstance(exc, InvalidMessage):
        return exc.reason
    if isinstance(exc, ValidationError):
        return format_errors(exc)
    return f"{type(exc).__name__}: {exc}"


def _stream_of(msg: Msg) -> str:
    return str(msg.metadata.stream)


def delivery_of(msg: Msg) -> tuple[int, int | None]:
    """``(deliveries, stream sequence)`` of a message: how many times JetStream has delivered
    it, this time included, and where it sits in its stream; ``(1, None)`` for a message with
    no JetStream metadata (core NATS)."""
    try:
        meta = msg.metadata
    except Exception:  # a core-NATS message has no JetStream metadata
        return 1, None
    return int(meta.num_delivered), meta.sequence.stream


def bounded(error: str, limit: int = MAX_ERROR) -> str:
    """``error`` cut to ``limit`` characters, saying how much was left out."""
    if len(error) <= limit:
        return error
    return f"{error[:limit]}... ({len(error) - limit} more characters)"


def dead_letter_envelope(
    service: str,
    msg: Msg,
    failure: FailureKind,
    error: str,
    *,
    payload_ref: ObjectRef | None = None,
    headers_ref: ObjectRef | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Envelope[DeadLetter]:
    """Wrap a failed message in a dead-letter envelope, dated by ``clock``.

    With ``payload_ref`` (``headers_ref``) the payload (headers) are kept in the object store
    and left out of the letter.
    """
    if payload_ref is not None:
        payload, encoding = "", "ref"
    else:
        try:
            payload, encoding = msg.data.decode(), "utf-8"
        except UnicodeDecodeError:
            payload, encoding = base64.b64encode(msg.data).decode(), "base64"
    deliveries, stream_seq = delivery_of(msg)
    return wrap(
        DeadLetter(
            service=service,
            failure=failure,
            error=bounded(error),
            original_subject=msg.subject,
            original_headers={} if headers_ref is not None else dict(msg.headers or {}),
            payload=payload,
            payload_encoding=encoding,
            payload_ref=payload_ref,
            headers_ref=headers_ref,
            deliveries=deliveries,
            stream_sequence=stream_seq,
        ),
        tenant=letter_tenant(msg.subject),
        source=f"llmops/{service}",
        time=clock.now(),
        # Header values come from the publisher: one too long for the envelope's attribute
        # must not make the message impossible to dead-letter (it is kept in original_headers).
        correlation_id=_id_attribute((msg.headers or {}).get(headers.CORRELATION_ID)),
        causation_id=_id_attribute((msg.headers or {}).get(headers.MSG_ID)),
    )


def _id_attribute(value: str | None) -> str | None:
    """A header value usable as an envelope id attribute (not too long for it), else None."""
    return value if value is not None and len(value) <= MAX_ID_LENGTH else None


def letter_tenant(subject: str) -> str:
    """The tenant a dead letter of a message received on ``subject`` belongs to.

    The subject's last token when it is a valid tenant id, else ``unknown``. A dead letter of a
    dead letter (audit refusing one) keeps the tenant of the letter's own subject, ``unknown``
    for the old tenant-less ``llmops.dlq.<service>``: its last token is a service.
    """
    parts = subjects.dlq_parts(subject)
    if parts is not None:
        return parts[1]
    tenant = subjects.tenant_of(subject)
    return tenant if subjects.is_token(tenant) else subjects.UNKNOWN_TENANT


class DeadLetterer:
    """Publishes dead letters for one service and terminates the original message.

    Args:
        service: the service giving up (a subject token).
        nc: its connection.
        blobs: where originals too large for a letter are kept (the suite's bucket by default).
        clock: dates the letters: the service's own, so one on a fixed clock dates them too.
    """

    def __init__(
        self,
        service: str,
        nc: Client,
        blobs: BlobStore | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if not subjects.is_token(service):
            raise ValueError(f"service {service!r} is not a valid subject token")
        self.service = service
        self._nc = nc
        self.blobs = blobs or BlobStore(lambda: nc)
        self.clock = clock

    async def letter(
        self, msg: Msg, failure: FailureKind, error: str
    ) -> tuple[Envelope[DeadLetter], bytes]:
        """The dead letter of ``msg`` and its bytes; the payload (then the headers) are kept by
        reference when the letter would not fit the server's ``max_payload``."""
        room = self.blobs.max_payload() - _LETTER_HEADERS
        clock = self.clock
        letter = dead_letter_envelope(self.service, msg, failure, error, clock=clock)
        body = letter.to_json()
        if len(body) <= room:
            return letter, body
        payload_ref = await self.blobs.put(msg.data)
        letter = dead_letter_envelope(
            self.service, msg, failure, error, payload_ref=payload_ref, clock=clock
        )
        body = letter.to_json()
        if len(body) <= room:
            return letter, body
        original = json.dumps(dict(msg.headers or {}), ensure_ascii=False).encode()
        headers_ref = await self.blobs.put(original)
        letter = dead_letter_envelope(
            self.service,
            msg,
            failure,
            error,
            payload_ref=payload_ref,
            headers_ref=headers_ref,
            clock=clock,
        )
        return letter, letter.to_json()

    async def send(self, msg: Msg, failure: FailureKind, error: str) -> None:
        """Publish the dead letter (awaiting the stream's ack), then terminate the original.

        The order matters: if the process dies between the two, the original is redelivered and
        dead-lettered again so nothing is lost; the dead letter's Nats-Msg-Id is derived from the original's stream
        sequence, so the second copy is dropped by JetStream's de-duplication.
        """
        letter, body = await self.letter(msg, failure, error)
        seq = letter.data.stream_sequence
        # One dead letter per original stream message, even if it is dead-lettered twice; the
        # stream is part of the id because one service may read several streams.
        msg_id = f"dlq-{self.service}-{_stream_of(msg)}-{seq}" if seq is not None else letter.id
        await self._nc.jetstream().publish(
            letter.subject(), body, headers={headers.MSG_ID: msg_id[:MAX_ID_LENGTH]}
        )
        DEAD_LETTERS.labels(self.service, failure.value).inc()
        _log.warning(
            "dead-lettered",
            subject=msg.subject,
            failure=failure.value,
            error=letter.data.error,
            deliveries=letter.data.deliveries,
            by_reference=letter.data.payload_ref is not None,
        )
        if is_jetstream(msg):  # terminate so it is never redelivered
            await msg.term()


#: Room kept for the dead letter's own headers (its Nats-Msg-Id) within ``max_payload``.
_LETTER_HEADERS = wire_size(b"", {headers.MSG_ID: "x" * 200})


def is_jetstream(msg: Msg) -> bool:
    """Whether a message came from a JetStream consumer (and so can be acked or terminated)."""
    return bool(msg.reply) and msg.reply.startswith("$JS.ACK.")
