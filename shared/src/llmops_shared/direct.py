"""Request/reply endpoints served by nats-py directly, with the suite's edge rules.

Some endpoints sit on an application's request path with a latency budget of a millisecond or
a few (guardrails' checks, retrieval's queries). FastStream's per-message layers cost about as
much as a whole raw nats-py request/reply round trip (measured: docs/decisions.md), so these
subscribe with nats-py directly. They keep the rules every other endpoint follows: the body is
parsed by its type and its tenant checked against the subject (``registry.parse``); input the
sender got wrong is answered with an ``invalid`` error reply (header ``Llmops-Error``), any
other failure with a ``failed`` one, never a timeout; the reply is the logic's payload wrapped
by ``reply()``, dated by the service's clock.

nats-py runs a subscription's callback for one message at a time, so a request that awaits
something slow (a tool check's rate window in the key-value bucket, a query's embedding) would
hold every request queued behind it. The callback therefore only takes the message: each request
is answered in a task of its own, at most ``concurrency`` at once per endpoint; past that the
callback waits for one to finish (back-pressure: what waits stays in nats-py's bounded pending
queue, nothing is dropped). ``stop`` answers every request taken before the connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from nats.errors import Error as NatsError
from prometheus_client import Counter, Gauge, Histogram
from pydantic import ValidationError

from llmops_contracts import headers, subjects
from llmops_contracts.envelope import Envelope, Payload, reply
from llmops_contracts.registry import InvalidMessage, parse
from llmops_shared.barrier import server_caught_up
from llmops_shared.dlq import reason_of
from llmops_shared.logging import get_logger

_log = get_logger(__name__)

DIRECT_REQUESTS = Counter(
    "llmops_direct_requests_total",
    "Requests answered by the direct nats-py endpoints, by endpoint and result.",
    ["endpoint", "result"],  # ok, invalid, failed
)
DIRECT_SECONDS = Histogram(
    "llmops_direct_request_seconds",
    "Time from receiving a request at a direct endpoint to publishing its reply.",
    ["endpoint"],
    buckets=(0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.1, 1.0),
)
DIRECT_IN_FLIGHT = Gauge(
    "llmops_direct_in_flight",
    "Requests a direct endpoint is answering now (at most its concurrency).",
    ["endpoint"],
)
DIRECT_SATURATED = Counter(
    "llmops_direct_saturated_total",
    "Requests that waited for a free slot because the endpoint answered its most at once.",
    ["endpoint"],
)

#: Requests one endpoint answers at once unless its service says otherwise.
DEFAULT_CONCURRENCY = 64

# Every endpoint built, for the in-flight gauge: counted when scraped rather than updated per
# request (a gauge's inc and dec cost more than a task does), summed over endpoints of one name
# (tests run several replicas in one process).
_ENDPOINTS: weakref.WeakSet[DirectEndpoint] = weakref.WeakSet()


def _in_flight(name: str) -> int:
    return sum(endpoint.in_flight for endpoint in list(_ENDPOINTS) if endpoint.name == name)


class DirectEndpoint:
    """A request/reply endpoint served by nats-py directly, with the suite's edge rules.

    Args:
        name: the endpoint's name (metrics, logs).
        subject: the subject to serve (a wildcard over tenants).
        queue: the queue group shared by the replicas.
        answer: the logic's answer to a parsed request (the reply's payload).
        clock: dates the reply (the service's clock).
        source: the replying service's ``SOURCE``.
        concurrency: the most requests answered at once; past it, the next waits for a slot.
    """

    def __init__(
        self,
        name: str,
        subject: str,
        queue: str,
        answer: Callable[[Envelope[Any]], Awaitable[Payload]],
        clock: Callable[[], Any],
        source: str,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.name = name
        self.source = source
        self.subject = subject
        self.queue = queue
        self._answer = answer
        self._now = clock
        self._sub: Any = None
        self._nc: Any = None
        self._limit = concurrency
        # Strong references: the event loop keeps only weak ones to the tasks it runs.
        self._answering: set[asyncio.Task[None]] = set()
        self._slot_freed: asyncio.Future[None] | None = None  # the callback waits on it when full
        self._ok = DIRECT_REQUESTS.labels(name, "ok")
        self._seconds = DIRECT_SECONDS.labels(name)
        self._saturated = DIRECT_SATURATED.labels(name)
        _ENDPOINTS.add(self)
        DIRECT_IN_FLIGHT.labels(name).set_function(lambda: _in_flight(name))

    @property
    def in_flight(self) -> int:
        """Requests being answered now."""
        return len(self._answering)

    async def start(self, nc: Any) -> None:
        """Subscribe on the service's connection; :meth:`stop` before that connection drains."""
        self._nc = nc
        self._spawn = asyncio.get_running_loop().create_task
        self._sub = await nc.subscribe(self.subject, queue=self.queue, cb=self._on_message)
        # Once start returns the server knows the subscription: a request sent right after
        # (readiness reported, a test's first call) reaches it instead of "no responders".
        await server_caught_up(nc)

    async def stop(self, timeout: float) -> None:
        """Stop taking requests, then wait until every request taken has its reply.

        The connection's own drain would not wait for them: for nats-py a message is done when
        the callback returns, which is before its answer. Requests still unanswered after
        ``timeout`` seconds are cancelled (their callers time out), and logged.
        """
        sub, self._sub = self._sub, None
        try:
            async with asyncio.timeout(timeout):
                # Unsubscribe; the callback still takes what was already delivered. When the
                # connection is closing or gone, nothing more comes anyway.
                if sub is not None:
                    with contextlib.suppress(NatsError):
                        await sub.drain()
                while self._answering:
                    await asyncio.wait(set(self._answering))
        except TimeoutError:
            _log.warning(
                "requests left unanswered at shutdown", endpoint=self.name, count=self.in_flight
            )
            for task in self._answering:
                task.cancel()
            self._answering.clear()  # a task cancelled before its first step never removes itself

    async def _on_message(self, msg: Any) -> None:
        if not msg.reply:
            return  # a request nobody waits for has nobody to answer
        started = time.perf_counter()
        if len(self._answering) >= self._limit:
            await self._wait_for_slot()
        # The task removes itself when done (cheaper than a done callback, which is one more
        # handle through the event loop per request).
        self._answering.add(self._spawn(self._respond(msg, started)))

    async def _wait_for_slot(self) -> None:
        # Only the subscription's callback waits here, one message at a time: one waiter at most.
        self._saturated.inc()
        while len(self._answering) >= self._limit:
            self._slot_freed = asyncio.get_running_loop().create_future()
            try:
                await self._slot_freed
            finally:
                self._slot_freed = None

    async def _respond(self, msg: Any, started: float) -> None:
        try:
            request = parse(msg.data, subject=msg.subject)
            payload = await self._answer(request)
            body = reply(payload, request, source=self.source, time=self._now()).to_json()
            await self._nc.publish(msg.reply, body)
        except Exception as exc:  # a reply too large to send is refused like any failure
            await self._refuse(msg, exc)
        else:
            self._ok.inc()
            self._seconds.observe(time.perf_counter() - started)
        finally:
            self._answering.discard(asyncio.current_task())
            freed = self._slot_freed
            if freed is not None and not freed.done():
                freed.set_result(None)

    async def _refuse(self, msg: Any, exc: Exception) -> None:
        invalid = isinstance(exc, InvalidMessage | ValidationError)
        kind = "invalid" if invalid else "failed"
        DIRECT_REQUESTS.labels(self.name, kind).inc()
        reason = reason_of(exc)
        with structlog.contextvars.bound_contextvars(
            subject=msg.subject, tenant=subjects.tenant_of(msg.subject)
        ):
            if invalid:
                _log.warning("request failed", error=reason, invalid=True)
            else:
                _log.exception("request failed", error=reason, invalid=False)
        body = json.dumps({"error": kind, "reason": reason}).encode()
        try:
            await self._nc.publish(msg.reply, body, headers={headers.ERROR: kind})
        except Exception:  # the connection is gone: the caller times out, nothing else to do
            _log.warning("could not send the error reply", subject=msg.subject)
