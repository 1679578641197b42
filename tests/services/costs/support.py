"""Helpers shared by the costs test suites (unit, repository, NATS and integration)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import nats
from nats.js import JetStreamContext

from llmops_contracts import subjects, wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_contracts.registry import parse
from llmops_costs.config import CostsSettings
from llmops_costs.pricing import MissingPrice, PriceTable
from llmops_shared.barrier import server_caught_up

#: The instant the costs suites stand at: calls are dated then and services run on a clock
#: started then, so no test depends on the day it runs.
NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
#: A caller's W3C trace context.
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def settings(nats_url: str, database_url: str, uid: str, **overrides: Any) -> CostsSettings:
    """Settings of a costs service under test: its own durable, fast batches, no fixed ports."""
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "health_port": 0,
        "database_url": database_url,
        "llm_calls_durable": f"costs-{uid}",
        "batch_timeout_s": 0.05,
        "manage_streams": False,  # the session fixture created them
    }
    values.update(overrides)
    return CostsSettings(**values)


def call(
    tenant: str,
    model: str = "gpt-4o-mini",
    usage: Usage | None = None,
    *,
    provider: str = "openai",
    time: datetime = NOW,
    traceparent: str | None = None,
    **fields: Any,
) -> Envelope[Any]:
    """An LlmCallCompleted envelope, dated ``time`` (NOW unless given)."""
    payload = LlmCallCompleted(
        provider=provider, request_model=model, latency_ms=10, usage=usage, **fields
    )
    return wrap(payload, tenant=tenant, source="app://test", time=time, traceparent=traceparent)


def independent_total(table: PriceTable, events: Iterable[Envelope[Any]]) -> Decimal:
    """The exact sum of the events' costs, priced one by one with ``table`` (each id once)."""
    seen: set[tuple[str, str]] = set()
    total = Decimal(0)
    for e in events:
        if (e.tenant, e.id) in seen or e.data.usage is None:
            continue
        seen.add((e.tenant, e.id))
        data = e.data
        priced = table.price_call(
            data.usage,
            data.response_model or data.request_model,
            data.provider,
            data.service_tier,
            e.time,
            tenant=e.tenant,
        )
        assert not isinstance(priced, MissingPrice), priced
        total += priced.cost
    return total


async def drained(js: JetStreamContext, durable: str, seq: int) -> bool:
    """Whether a consumer has acknowledged everything up to stream sequence ``seq``."""
    info = await js.consumer_info(subjects.EVENTS_STREAM, durable)
    return info.ack_floor.stream_seq >= seq and info.num_ack_pending == 0


class Collector:
    """Collects the parsed events published on one subject (core subscription)."""

    def __init__(self) -> None:
        self.events: list[Envelope[Any]] = []
        self._sub: Any = None

    async def start(self, nc: nats.NATS, subject: str) -> Collector:
        async def on(msg: Any) -> None:
            self.events.append(parse(msg.data))

        self._sub = await nc.subscribe(subject, cb=on)
        await server_caught_up(nc)  # events published from now on reach it
        return self

    def of(self, type_id: str) -> list[Envelope[Any]]:
        return [e for e in self.events if e.type == type_id]


async def publish_all(
    js: JetStreamContext, events: Sequence[Envelope[Any]], msg_id_prefix: str = ""
) -> int:
    """Publish envelopes pipelined; returns the last stream sequence.

    Nats-Msg-Id is the envelope id, behind ``msg_id_prefix``: a replay needs a new prefix, or
    JetStream's de-duplication drops it before the service could show its own idempotency.
    """
    from llmops_contracts import headers

    futures = []
    for e in events:
        hdrs = headers.headers_for(e)
        hdrs[headers.MSG_ID] = msg_id_prefix + e.id
        futures.append(await js.publish_async(e.subject(), e.to_json(), headers=hdrs))
    acks = await asyncio.gather(*futures)
    return max(a.seq for a in acks)
