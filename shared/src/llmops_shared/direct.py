"""Request/reply endpoints served by nats-py directly, with the suite's edge rules.

Some endpoints sit on an application's request path with a latency budget of a millisecond or
a few (guardrails' checks, retrieval's queries). FastStream's per-message layers cost about as
much as a whole raw nats-py request/reply round trip (measured: docs/decisions.md), so these
subscribe with nats-py directly. They keep the rules every other endpoint follows: the body is
parsed by its type and its tenant checked against the subject (``registry.parse``); input the
sender got wrong is answered with an ``invalid`` error reply (header ``Llmops-Error``), any
other failure with a ``failed`` one, never a timeout; the reply is the logic's payload wrapped
by ``reply()``, dated by the service's clock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from llmops_contracts import headers, subjects
from llmops_contracts.envelope import Envelope, Payload, reply
from llmops_contracts.registry import InvalidMessage, parse
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


class DirectEndpoint:
    """A request/reply endpoint served by nats-py directly, with the suite's edge rules.

    Args:
        name: the endpoint's name (metrics, logs).
        subject: the subject to serve (a wildcard over tenants).
        queue: the queue group shared by the replicas.
        answer: the logic's answer to a parsed request (the reply's payload).
        clock: dates the reply (the service's clock).
        source: the replying service's ``SOURCE``.
    """

    def __init__(
        self,
        name: str,
        subject: str,
        queue: str,
        answer: Callable[[Envelope[Any]], Awaitable[Payload]],
        clock: Callable[[], Any],
        source: str,
    ) -> None:
        self.name = name
        self.source = source
        self.subject = subject
        self.queue = queue
        self._answer = answer
        self._now = clock
        self._sub: Any = None
        self._ok = DIRECT_REQUESTS.labels(name, "ok")
        self._seconds = DIRECT_SECONDS.labels(name)

    async def start(self, nc: Any) -> None:
        """Subscribe on the service's connection (its drain at shutdown drains this too)."""
        self._sub = await nc.subscribe(self.subject, queue=self.queue, cb=self._on_message)
        self._nc = nc

    async def _on_message(self, msg: Any) -> None:
        if not msg.reply:
            return  # a request nobody waits for has nobody to answer
        started = time.perf_counter()
        try:
            request = parse(msg.data, subject=msg.subject)
            payload = await self._answer(request)
            body = reply(payload, request, source=self.source, time=self._now()).to_json()
        except Exception as exc:
            await self._refuse(msg, exc)
            return
        await self._nc.publish(msg.reply, body)
        self._ok.inc()
        self._seconds.observe(time.perf_counter() - started)

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
