"""The broker every service uses: FastStream's NatsBroker with the suite's edge rules built in.

- every message is decoded by :func:`decode_envelope` (parse by ``type``, tenant checked against
  the subject), so handlers receive typed :class:`Envelope` models;
- :class:`MessageScope` binds the message's ids to the logs and applies the dead-letter rules
  (invalid: dead-lettered and terminated; failing: nacked with backoff, then dead-lettered);
- per-message FastStream logs are at DEBUG, so the hot path does not format a line per message.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import nats.errors
import structlog
from faststream._internal.middlewares import BaseMiddleware
from faststream.message import StreamMessage
from faststream.nats import NatsBroker
from faststream.nats.prometheus import NatsPrometheusMiddleware
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from prometheus_client import REGISTRY
from pydantic import ValidationError

from llmops_contracts import headers, subjects
from llmops_contracts.dlq import FailureKind
from llmops_contracts.registry import InvalidMessage, parse
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.dlq import DeadLetterer, bounded, is_jetstream, reason_of
from llmops_shared.logging import get_logger
from llmops_shared.settings import ServiceSettings

_log = get_logger(__name__)


async def decode_envelope(msg: StreamMessage[Any]) -> Any:
    """FastStream decoder: a typed envelope for single messages, raw bodies for batches.

    Batch handlers get the raw bodies and parse them one by one, so one bad message dead-letters
    alone instead of failing its whole batch.
    """
    raw = msg.raw_message
    if isinstance(raw, list):
        return msg.body
    return parse(msg.body, subject=raw.subject)


def backoff_s(deliveries: int) -> float:
    """Redelivery delay after a failed attempt: 1 s, 2 s, 4 s ... capped at 60 s."""
    return float(min(60, 2 ** max(0, deliveries - 1)))


class MessageScope:
    """Broker middleware factory: log context and dead-letter rules for one service.

    Args:
        settings: the service's settings.
        clock: the service's clock; it dates the dead letters.
    """

    def __init__(self, settings: ServiceSettings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.service = settings.service
        self.max_deliver = settings.max_deliver
        self.clock = clock
        self.letters: DeadLetterer | None = None
        self.nc: Client | None = None

    def bind(self, nc: Client) -> None:
        """Give the scope its connection once the broker is connected."""
        self.nc = nc
        self.letters = DeadLetterer(self.service, nc, clock=self.clock)

    def __call__(self, msg: Any, /, *, context: Any) -> _Scope:
        return _Scope(msg, context=context, owner=self)


class _Scope(BaseMiddleware):
    __slots__ = ("owner", "tokens")

    def __init__(self, msg: Any, /, *, context: Any, owner: MessageScope) -> None:
        super().__init__(msg, context=context)
        self.owner = owner
        self.tokens: Any = None

    async def on_receive(self) -> None:
        raw = self.msg
        if isinstance(raw, Msg):
            hdrs = raw.headers or {}
            self.tokens = structlog.contextvars.bind_contextvars(
                tenant=subjects.tenant_of(raw.subject),
                subject=raw.subject,
                event_id=hdrs.get(headers.MSG_ID),
                correlation_id=hdrs.get(headers.CORRELATION_ID),
                traceparent=hdrs.get(headers.TRACEPARENT),
            )

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        try:
            if exc_val is None or not isinstance(exc_val, Exception):
                return False
            raw = self.msg
            if not isinstance(raw, Msg):
                return False  # batches handle failures item by item
            return await self._handle_failure(raw, exc_val)
        finally:
            if self.tokens is not None:
                structlog.contextvars.reset_contextvars(**self.tokens)

    async def _handle_failure(self, raw: Msg, exc: Exception) -> bool:
        owner = self.owner
        invalid = isinstance(exc, InvalidMessage | ValidationError)
        if not is_jetstream(raw):
            if raw.reply:  # request/reply: answer with the error so the caller does not wait
                kind = "invalid" if invalid else "failed"
                body = json.dumps({"error": kind, "reason": reason_of(exc)}).encode()
                assert owner.nc is not None, "MessageScope.bind() was not called"
                await owner.nc.publish(raw.reply, body, headers={headers.ERROR: kind})
            _log.warning("request failed", error=reason_of(exc), invalid=invalid)
            return True
        assert owner.letters is not None, "MessageScope.bind() was not called"
        deliveries = raw.metadata.num_delivered
        try:
            if invalid:
                await owner.letters.send(raw, FailureKind.INVALID, reason_of(exc))
                return True
            if deliveries >= owner.max_deliver:
                _log.error("giving up", deliveries=deliveries, error=bounded(reason_of(exc)))
                await owner.letters.send(raw, FailureKind.FAILED, reason_of(exc))
                return True
        except Exception as failed:
            # The dead letter could not be published (NATS away): the message is retried,
            # never terminated (returning False would let FastStream reject it).
            _log.warning("dead-lettering failed, will retry", error=bounded(reason_of(failed)))
        else:
            _log.warning(
                "processing failed, will retry",
                deliveries=deliveries,
                error=bounded(reason_of(exc), 500),
            )
        with contextlib.suppress(Exception):  # NATS away: redelivered after the ack wait
            await raw.nak(delay=backoff_s(deliveries))
        return True


_prometheus: NatsPrometheusMiddleware | None = None


def nats_timeouts(fetch: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap a pull ``fetch`` so every timeout is a ``nats.errors.TimeoutError``.

    nats-py 2.16 raises a bare ``asyncio.TimeoutError`` on one fetch path (deadline spent after
    its no-wait probe); FastStream 0.7.8 suppresses only ``nats.errors.TimeoutError`` there, so
    its supervisor logs an error traceback and restarts an idle consumer. No message is involved
    when it happens; converting the exception keeps the idle loop quiet.
    """
    if getattr(fetch, "_llmops_patched", False):
        return fetch

    @functools.wraps(fetch)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fetch(*args, **kwargs)
        except nats.errors.TimeoutError:
            raise
        except TimeoutError as exc:
            raise nats.errors.TimeoutError from exc

    wrapped._llmops_patched = True  # type: ignore[attr-defined]
    return wrapped


def prometheus_middleware() -> NatsPrometheusMiddleware:
    """FastStream's per-handler metrics (received, processed, duration, in progress).

    One per process: its metrics register in the global Prometheus registry, which refuses a
    second registration (tests run several services in one process).
    """
    global _prometheus
    if _prometheus is None:
        _prometheus = NatsPrometheusMiddleware(registry=REGISTRY, app_name="llmops")
    return _prometheus


def create_broker(
    settings: ServiceSettings, scope: MessageScope | None = None, *, metrics: bool = True
) -> NatsBroker:
    """A NatsBroker for one service (not connected: no I/O happens here)."""
    pull = JetStreamContext.PullSubscription
    pull.fetch = nats_timeouts(pull.fetch)  # type: ignore[method-assign,assignment]
    options: dict[str, Any] = {}
    if settings.nats_user:
        options["user"] = settings.nats_user
    if settings.nats_password:
        options["password"] = settings.nats_password.get_secret_value()
    if settings.nats_token:
        options["token"] = settings.nats_token.get_secret_value()
    if settings.nats_creds_file:
        options["user_credentials"] = settings.nats_creds_file
    return NatsBroker(
        [s.strip() for s in settings.nats_url.split(",")],
        name=f"llmops-{settings.service}",
        decoder=decode_envelope,
        middlewares=[
            *([prometheus_middleware()] if metrics else []),
            scope or MessageScope(settings),
        ],
        graceful_timeout=settings.drain_timeout_s,
        log_level=logging.DEBUG,
        logger=logging.getLogger("llmops.broker"),
        max_reconnect_attempts=-1,
        **options,
    )


def consumer_config(
    settings: ServiceSettings, durable: str, *, deliver_all: bool = True, unlimited: bool = False
) -> ConsumerConfig:
    """A durable pull consumer with explicit acks and the service's redelivery limits.

    ``max_deliver`` is one more than the service's own limit: the service dead-letters a message
    on its last delivery, and the server-side limit only stops a message that crashed the process
    every time it was handled. ``unlimited`` removes the server-side limit, for batch consumers
    (:class:`llmops_shared.batch.BatchConsumer`): they retry an outage for as long as it lasts
    and bound only item failures themselves, so a server-side limit would drop a message that
    merely outlived an outage.
    """
    return ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL if deliver_all else DeliverPolicy.NEW,
        ack_wait=settings.ack_wait_s,
        max_deliver=-1 if unlimited else settings.max_deliver + 1,
        max_ack_pending=max(1000, settings.batch_size * 4),
    )
