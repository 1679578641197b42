"""The envelope every llmops message travels in, with CloudEvents 1.0 attribute names.

A message on the wire is one JSON object::

    {"specversion": "1.0", "id": "<uuidv7>", "type": "llmops.llm.call_completed.v1",
     "source": "app://chatbot", "time": "2026-11-27T07:00:00.123456Z", "tenant": "acme",
     "datacontenttype": "application/json", "traceparent": null, "correlation_id": null,
     "causation_id": null, "data": {...}}

``id`` is also sent as the ``Nats-Msg-Id`` header so JetStream drops publisher retries, and every
consumer is idempotent on it.
"""

from __future__ import annotations

import hashlib
import os
import time as _time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar, Generic, Literal, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from llmops_contracts import subjects

TYPE_PATTERN = r"^llmops\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
#: Longest ``correlation_id`` or ``causation_id`` an envelope takes. Producers that copy these
#: from a publisher's headers (dead letters, audit messages) drop a longer value rather than fail.
MAX_ID_LENGTH = 128

Tenant = Annotated[
    str,
    Field(
        pattern=subjects._TOKEN.pattern,
        description=(
            "Tenant id. It is the last token of every subject, so it must be a valid NATS subject "
            "token: 1-64 letters, digits, '_' or '-', starting with a letter or digit."
        ),
        examples=["acme"],
    ),
]


def new_event_id() -> str:
    """A new UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.

    Time-ordered ids keep database indexes append-mostly and sort roughly by creation time.

    Returns:
        The id in canonical lowercase hyphenated form.
    """
    millis = _time.time_ns() // 1_000_000  # clock-ok: a UUIDv7's ordering bits, not business time
    return _uuid7(millis, int.from_bytes(os.urandom(10), "big"))


def _uuid7(ms: int, rand: int) -> str:
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    # str(uuid.UUID(int=value)), formatted directly (performance: ids are made per event).
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def stable_id(moment: datetime, *parts: str) -> str:
    """A UUIDv7 with ``moment``'s time bits and random bits fixed by ``parts`` (a SHA-256)."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return _uuid7(int(moment.timestamp() * 1000), int.from_bytes(digest[:10], "big"))


def derived_id(cause: Envelope[Any], key: str) -> str:
    """A UUIDv7 determined by the message that caused an event and a key naming the event.

    A redelivered or re-run cause yields the same ids, so JetStream's de-duplication on
    ``Nats-Msg-Id`` and every consumer's idempotency drop the repeats. The time bits are the
    cause's time (ids stay roughly time-ordered); the tenant is hashed in, so one tenant reusing
    another tenant's message id cannot shadow its events.

    Args:
        cause: the message being handled.
        key: distinguishes the events one cause produces, e.g. their type id.
    """
    return stable_id(cause.time, cause.tenant, cause.id, key)


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC: the default ``time`` of a new envelope.

    An application's event happens at its own wall-clock time (CloudEvents ``time``). Services
    take business time from ``llmops_shared.clock`` and pass ``time=`` where it matters.
    """
    return datetime.now(UTC)  # clock-ok: a publisher's own creation time (contracts are stdlib)


class Kind(StrEnum):
    """What role a message plays on the wire."""

    EVENT = "event"
    COMMAND = "command"
    REQUEST = "request"
    REPLY = "reply"
    AUDIT = "audit"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class MessageSpec:
    """Where and how one payload type travels.

    Attributes:
        type: the stable type id with its version, e.g. ``llmops.llm.call_completed.v1``.
        kind: event, command, request, reply, audit record or dead letter.
        subject: the subject prefix constant from :mod:`llmops_contracts.subjects` (the tenant,
            or for dead letters the service and the tenant, is appended); None for replies.
        summary: one line for the AsyncAPI document.
        producers: services or actors that publish it.
        consumers: services that consume it.
        reply: for requests, the reply payload type id.
    """

    type: str
    kind: Kind
    subject: str | None
    summary: str
    producers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    reply: str | None = None

    @property
    def domain(self) -> str:
        """The domain token of the type id (``llm`` in ``llmops.llm.call_completed.v1``)."""
        return self.type.split(".")[1]

    @property
    def name(self) -> str:
        """The name token of the type id (``call_completed``)."""
        return self.type.split(".")[2]

    @property
    def version(self) -> int:
        """The major version of the type id."""
        return int(self.type.rsplit(".v", 1)[1])


class Payload(BaseModel):
    """Base class of every ``data`` model. Each concrete payload declares its ``SPEC``.

    Unknown fields are rejected so that a typo is a clear error rather than lost data; contracts
    evolve by adding optional fields, so consumers upgrade before producers start sending them.
    """

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, use_enum_values=True, allow_inf_nan=False
    )

    SPEC: ClassVar[MessageSpec]


DataT = TypeVar("DataT")


class Envelope(BaseModel, Generic[DataT]):
    """The CloudEvents-style envelope around every payload.

    ``id`` is required: a message without one would get a fresh id on every delivery, and no
    consumer could then recognise a redelivery (:func:`wrap` makes one for code that builds
    envelopes).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    specversion: Literal["1.0"] = Field(
        default="1.0", description="CloudEvents specification version; always '1.0'."
    )
    id: str = Field(
        pattern=UUID_PATTERN,
        description=(
            "Unique message id, a UUIDv7. Sent as the Nats-Msg-Id header too; consumers are "
            "idempotent on it, so a redelivery or a publisher retry is never counted twice."
        ),
    )
    type: str = Field(
        pattern=TYPE_PATTERN,
        description="Stable payload type id with its major version, e.g. 'llmops.llm.call_completed.v1'.",
    )
    source: str = Field(
        min_length=1,
        max_length=256,
        description="Who produced the message: 'llmops/<service>' for services, an app URI otherwise.",
        examples=["app://support-bot", "llmops/costs"],
    )
    time: AwareDatetime = Field(
        default_factory=utc_now, description="When the fact happened, RFC 3339 with a time zone."
    )
    tenant: Tenant
    datacontenttype: Literal["application/json"] = Field(
        default="application/json", description="Content type of 'data'; always JSON."
    )
    traceparent: str | None = Field(
        default=None,
        pattern=TRACEPARENT_PATTERN,
        description="W3C Trace Context 'traceparent' of the operation that produced the message.",
    )
    correlation_id: str | None = Field(
        default=None,
        max_length=MAX_ID_LENGTH,
        description="Id shared by every message of one end-to-end interaction (a request, a run).",
    )
    causation_id: str | None = Field(
        default=None,
        max_length=MAX_ID_LENGTH,
        description="Id of the message that directly caused this one.",
    )
    data: DataT = Field(description="The typed payload; its schema is selected by 'type'.")

    @model_validator(mode="after")
    def _type_matches_payload(self) -> Self:
        spec = getattr(type(self.data), "SPEC", None)
        if isinstance(spec, MessageSpec) and spec.type != self.type:
            raise ValueError(f"type {self.type!r} does not match payload type {spec.type!r}")
        return self

    @property
    def trace_id(self) -> str | None:
        """The 32-hex trace id inside ``traceparent``, if any."""
        return self.traceparent.split("-")[1] if self.traceparent else None

    def subject(self) -> str:
        """The concrete subject this message is published on.

        Raises:
            ValueError: when the payload has no subject (a reply) or is not a typed payload.
        """
        spec = getattr(type(self.data), "SPEC", None)
        if not isinstance(spec, MessageSpec) or spec.subject is None:
            raise ValueError(f"{self.type} has no subject of its own")
        if spec.kind is Kind.DEAD_LETTER:  # llmops.dlq.<service>.<tenant>
            return subjects.dlq_for(str(getattr(self.data, "service", "")), self.tenant)
        return subjects.for_tenant(spec.subject, self.tenant)

    def to_json(self) -> bytes:
        """The wire form: compact UTF-8 JSON."""
        return self.model_dump_json().encode()


def wrap(
    data: Payload,
    *,
    tenant: str,
    source: str,
    correlation_id: str | None = None,
    causation: Envelope[Any] | None = None,
    traceparent: str | None = None,
    **attributes: Any,
) -> Envelope[Any]:
    """Wrap a payload in an envelope with its type filled in.

    Args:
        data: the payload.
        tenant: the tenant id.
        source: the producer ('llmops/<service>' or an app URI).
        correlation_id: the interaction id; inherited from ``causation`` when omitted.
        causation: the message that caused this one; sets ``causation_id`` and carries its
            correlation id and trace context forward.
        traceparent: W3C trace context; inherited from ``causation`` when omitted.
        **attributes: other envelope fields (``id``, ``time``); ``id`` defaults to a new
            UUIDv7.

    Returns:
        The envelope, validated.
    """
    if causation is not None:
        correlation_id = correlation_id or causation.correlation_id or causation.id
        traceparent = traceparent or causation.traceparent
        attributes.setdefault("causation_id", causation.id)
    if attributes.get("id") is None:
        attributes["id"] = new_event_id()
    return _envelope_of(type(data))(
        type=data.SPEC.type,
        tenant=tenant,
        source=source,
        correlation_id=correlation_id,
        traceparent=traceparent,
        data=data,
        **attributes,
    )


@cache
def _envelope_of(payload: type[Payload]) -> type[Envelope[Any]]:
    """``Envelope[payload]``, kept for good.

    pydantic caches parametrised generics weakly: once the last envelope of a type is gone the
    class is collected, and the next ``Envelope[payload]`` builds it again (milliseconds each
    time, measured as p99 spikes on the guardrails check path). Payload types are few and live
    as long as the process, so a strong cache costs nothing.
    """
    return Envelope[payload]  # type: ignore[valid-type]


def reply(data: Payload, request: Envelope[Any], *, source: str, time: datetime) -> Envelope[Any]:
    """The answer to ``request``: same tenant, caused by it, and dated by the answering
    service's clock.

    The one rule for replies: a service's logic returns payloads and its handlers wrap them
    with this. ``time`` is required because an envelope built without one takes the wall
    clock, and a service on a fixed or shifted clock would answer from today.
    """
    return wrap(data, tenant=request.tenant, source=source, causation=request, time=time)
