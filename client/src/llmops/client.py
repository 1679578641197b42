"""The application-facing client: publish contract events and call request/reply endpoints."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any, Self

import nats
from nats.aio.client import Client as NatsConnection
from nats.js.errors import NoStreamResponseError

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

    async def publish(self, message: Payload | Envelope[Any], **attributes: Any) -> Envelope[Any]:
        """Publish an event or command and wait for JetStream to store it.

        A retry of the same envelope is dropped by the server's de-duplication window, because
        its id travels as ``Nats-Msg-Id``.

        Args:
            message: a payload (wrapped with this client's tenant/source) or a full envelope.
            **attributes: envelope fields for a payload: tenant, correlation_id, causation, ...

        Returns:
            The envelope that was published.
        """
        env = self.envelope(message, **attributes)
        subject, body, hdrs = headers.wire(env)
        if subjects.stream_for(subject) is None:
            await self.nc.publish(subject, body, headers=hdrs)
            return env
        try:
            await self.nc.jetstream().publish(subject, body, headers=hdrs)
        except NoStreamResponseError:
            raise NoStreamError(subject) from None
        return env

    async def publish_many(self, messages: list[Payload | Envelope[Any]], **attributes: Any) -> int:
        """Publish many messages pipelined, waiting for every stream acknowledgement at the end.

        Returns:
            How many were stored (duplicates dropped by the server are not counted).
        """
        js = self.nc.jetstream()
        futures = []
        for message in messages:
            env = self.envelope(message, **attributes)
            subject, body, hdrs = headers.wire(env)
            futures.append(await js.publish_async(subject, body, headers=hdrs))
        acks = await asyncio.gather(*futures)
        return sum(1 for ack in acks if not ack.duplicate)

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
