"""The application-facing client: publish contract events and call request/reply endpoints."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Self

import nats
from nats.aio.client import Client as NatsConnection
from nats.js.errors import APIError

from llmops_contracts import headers, subjects
from llmops_contracts.envelope import Envelope, Kind, Payload, wrap
from llmops_contracts.registry import parse


class RequestError(RuntimeError):
    """A request/reply endpoint answered with an error.

    Attributes:
        kind: 'invalid' (the request broke its contract) or 'failed' (the service failed).
        reason: the service's explanation, naming the bad field where there is one.
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


class NoStreamError(RuntimeError):
    """No JetStream stream captures the subject: the services (which create them) never ran."""

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"no stream stores {subject!r}: start the llmops services once (they create the "
            "streams), e.g. `llmops dev`, or check NATS_URL"
        )


class Client:
    """Publishes llmops messages with the right subject, headers and de-duplication id.

    Use as an async context manager::

        async with await Client.connect("nats://127.0.0.1:4222", source="app://bot",
                                        tenant="acme") as client:
            await client.publish(LlmCallCompleted(...))
    """

    def __init__(self, nc: NatsConnection, *, source: str, tenant: str | None = None) -> None:
        """Wrap an existing nats-py connection.

        Args:
            nc: a connected nats-py client.
            source: the envelope ``source`` for messages built from payloads (an app URI).
            tenant: the default tenant for messages built from payloads.
        """
        self.nc = nc
        self.source = source
        self.tenant = tenant
        self._answers = _StreamAnswers(nc)

    @classmethod
    async def connect(
        cls,
        url: str = "nats://127.0.0.1:4222",
        *,
        source: str = "app://unknown",
        tenant: str | None = None,
        **options: Any,
    ) -> Self:
        """Connect to NATS.

        Args:
            url: server URL(s), comma-separated.
            source: envelope ``source`` for messages built from payloads.
            tenant: default tenant for messages built from payloads.
            **options: passed to :func:`nats.connect` (credentials, TLS, ...).
        """
        options.setdefault("name", f"llmops-client {source}")
        nc = await nats.connect(url.split(","), **options)
        return cls(nc, source=source, tenant=tenant)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def release(self) -> None:
        """Stop listening for JetStream's answers, leaving the connection open (for a client
        made over a connection the caller keeps, e.g. ``Client(nc, source=...)``)."""
        await self._answers.release()

    async def close(self) -> None:
        """Flush pending publishes and close the connection."""
        if not self.nc.is_closed:
            await self.nc.drain()

    def envelope(self, message: Payload | Envelope[Any], **attributes: Any) -> Envelope[Any]:
        """Wrap a payload with this client's tenant and source (an envelope passes through)."""
        if isinstance(message, Envelope):
            return message
        tenant = attributes.pop("tenant", None) or self.tenant
        if tenant is None:
            raise ValueError("no tenant: pass tenant= here or to Client.connect()")
        return wrap(
            message, tenant=tenant, source=attributes.pop("source", self.source), **attributes
        )

    async def publish(
        self, message: Payload | Envelope[Any], *, timeout: float = 5.0, **attributes: Any
    ) -> Envelope[Any]:
        """Publish an event or command and wait for JetStream to store it.

        A retry of the same envelope is dropped by the server's de-duplication window, because
        its id travels as ``Nats-Msg-Id``.

        Args:
            message: a payload (wrapped with this client's tenant/source) or a full envelope.
            **attributes: envelope fields for a payload: tenant, correlation_id, causation, ...

        Returns:
            The envelope that was published.

        Raises:
            NoStreamError: no stream captures the subject.
            nats.js.errors.APIError: the stream refused the message.
            nats.errors.TimeoutError: JetStream did not answer within ``timeout`` seconds.
        """
        env = self.envelope(message, **attributes)
        subject, body, hdrs = headers.wire(env)
        if subjects.stream_for(subject) is None:
            await self.nc.publish(subject, body, headers=hdrs)
            return env
        await self.store(subject, body, hdrs, timeout=timeout)
        return env

    async def store(
        self, subject: str, body: bytes, hdrs: dict[str, str], *, timeout: float = 5.0
    ) -> bool:
        """Publish one NATS message to JetStream and wait for the stream's answer (for a
        message already on the wire, e.g. a dead letter's original replayed).

        Returns:
            True when the server dropped it as a duplicate of one it already stores.

        Raises:
            as :meth:`publish`.
        """
        answer = await self._answers.publish(subject, body, hdrs)
        return await self._answers.result(subject, answer, timeout=timeout)

    async def publish_many(
        self,
        messages: Iterable[Payload | Envelope[Any]],
        *,
        timeout: float = 5.0,
        window: int = 1024,
        **attributes: Any,
    ) -> int:
        """Publish many messages pipelined, at most ``window`` awaiting their acknowledgement.

        Returns:
            How many were stored (duplicates dropped by the server are not counted).

        Raises:
            as :meth:`publish` (``timeout`` is per answer, counted from the previous one), or
            what ``messages`` raised. Then some of the messages, up to the failure, may be
            stored and some not: publish the same envelopes again (their ids make JetStream drop
            the copies it has), not the payloads, which would get new ids.
        """
        if window < 1:
            raise ValueError(f"window must be at least 1, not {window}")
        # A window, not the whole batch in flight: a million messages would otherwise hold a
        # million waiters and outrun what the server buffers for a slow stream.
        answers: deque[tuple[str, asyncio.Future[tuple[str, bytes]]]] = deque()
        duplicates = published = 0
        try:
            for message in messages:
                if len(answers) >= window:
                    duplicates += await self._answers.result(*answers.popleft(), timeout=timeout)
                subject, body, hdrs = headers.wire(self.envelope(message, **attributes))
                answers.append((subject, await self._answers.publish(subject, body, hdrs)))
                published += 1
            # ``timeout`` for each answer after the one before: a large batch is not failed
            # for its size while JetStream keeps answering.
            while answers:
                duplicates += await self._answers.result(*answers.popleft(), timeout=timeout)
        finally:
            for _, answer in answers:
                answer.cancel()  # no-op once answered; otherwise stop waiting for it
        return published - duplicates

    async def request(
        self, message: Payload | Envelope[Any], *, timeout: float = 5.0, **attributes: Any
    ) -> Envelope[Any]:
        """Call a request/reply endpoint and return the typed reply.

        Raises:
            RequestError: when the service answers with an error.
            nats.errors.TimeoutError: when nobody answers in time.
        """
        env = self.envelope(message, **attributes)
        if env.data.SPEC.kind is not Kind.REQUEST:
            raise ValueError(f"{env.type} is not a request")
        subject, body, hdrs = headers.wire(env)
        reply = await self.nc.request(subject, body, timeout=timeout, headers=hdrs)
        if reply.headers and headers.ERROR in reply.headers:
            body = json.loads(reply.data or b"{}")
            raise RequestError(reply.headers[headers.ERROR], str(body.get("reason", "")))
        return parse(reply.data, expect=env.data.SPEC.reply)


class _StreamAnswers:
    """JetStream's answers to this client's publishes, and only JetStream's.

    nats-py's ``js.publish`` takes the first reply on its inbox as the stream's answer, but a
    plain subscriber of the subject can answer the same publish (FastStream replies to a
    handler's ``None`` with an empty body), and nats-py then fails a publish JetStream stored a
    moment later. Here each publish carries a reply subject under one inbox, and replies that
    are not JetStream's are ignored (:func:`llmops_contracts.headers.jetstream_answer`).
    """

    def __init__(self, nc: NatsConnection) -> None:
        self._nc = nc
        self._prefix: str | None = None
        self._count = 0
        self._waiting: dict[str, asyncio.Future[tuple[str, bytes]]] = {}
        self._subscribing = asyncio.Lock()
        self._inbox: Any = None  # the nats-py subscription of the answer inbox

    async def publish(
        self, subject: str, body: bytes, hdrs: dict[str, str]
    ) -> asyncio.Future[tuple[str, bytes]]:
        """Publish with a reply subject of ours; the future is JetStream's (answer, body)."""
        if self._prefix is None:
            # The SUB goes out before any PUB on this connection, so the server knows the
            # inbox before JetStream answers (no barrier needed: one connection, in order).
            # The lock: subscribe waits when nats-py's buffer is full, and two first
            # publishes at once would each subscribe an inbox.
            async with self._subscribing:
                if self._prefix is None:
                    prefix = self._nc.new_inbox()
                    self._inbox = await self._nc.subscribe(f"{prefix}.*", cb=self._on_answer)
                    self._prefix = prefix
        self._count += 1
        token = str(self._count)
        answer = self._waiting[token] = asyncio.get_running_loop().create_future()
        answer.add_done_callback(lambda _: self._waiting.pop(token, None))
        try:
            await self._nc.publish(subject, body, reply=f"{self._prefix}.{token}", headers=hdrs)
        except BaseException:
            del self._waiting[token]  # never sent (too large, connection closed): nothing
            answer.cancel()  # will answer
            raise
        return answer

    async def release(self) -> None:
        """Stop listening for answers (the connection is someone else's and lives on)."""
        for answer in list(self._waiting.values()):
            answer.cancel()
        if self._inbox is not None:
            await self._inbox.unsubscribe()
        self._inbox = self._prefix = None

    async def result(
        self, subject: str, answer: asyncio.Future[tuple[str, bytes]], *, timeout: float | None
    ) -> bool:
        """Wait for JetStream's answer: True when the server dropped it as a duplicate.

        Raises as ``js.publish`` does: NoStreamError, nats-py's APIError, TimeoutError.
        """
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation of
            # the caller that arrives as the answer does.
            async with asyncio.timeout(timeout):
                kind, body = await answer
        except TimeoutError:
            if not answer.done() or answer.cancelled():
                raise nats.errors.TimeoutError from None
            kind, body = answer.result()  # it came in the same turn as the timeout: stored
        if kind == "stored":
            return bool(json.loads(body).get("duplicate", False))
        if not body:
            raise NoStreamError(subject)
        APIError.from_error(json.loads(body)["error"])
        raise AssertionError("unreachable: from_error always raises")  # pragma: no cover

    async def _on_answer(self, msg: Any) -> None:
        token = msg.subject.rsplit(".", 1)[1]
        answer = self._waiting.get(token)
        if answer is None or answer.done():
            return  # a late answer, or a second one
        status = (msg.headers or {}).get("Status") if not msg.data else None
        kind = headers.jetstream_answer(msg.data, status)
        if kind is not None:
            # Forgotten now, not by the done callback a loop turn later: a caller that finds
            # the answer already there does not wait, and returns before that turn.
            del self._waiting[token]
            answer.set_result((kind, msg.data))
