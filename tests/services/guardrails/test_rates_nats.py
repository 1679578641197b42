"""Tool rate limits through the service on a real nats-server: two replicas share one limit
exactly, windows roll over with the injected clock, a restart keeps them, and a rate-limited
tool is refused (never allowed unchecked) when the windows' bucket is gone."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as Nats

from llmops_contracts import subjects
from llmops_contracts.guardrails import GuardrailCheckRequest
from llmops_guardrails.app import create_app
from llmops_shared.clock import FixedClock
from tests.conftest import eventually, running
from tests.services.guardrails.test_guardrails_nats import ask, enforced, push, settings
from tests.services.guardrails.test_guardrails_service import policy_yaml

CALLS = 20
TOOLS = {
    "allow": [
        {"name": "search", "rate": {"calls": CALLS, "per_s": 60}},
        {"name": "lookup"},  # no rate: never touches the bucket
    ]
}


@pytest.fixture
def clock() -> FixedClock:
    """Business time of both replicas: one minute before midnight, 29 February 2028."""
    return FixedClock(datetime(2028, 2, 29, 23, 59, 30, tzinfo=UTC))


@pytest.fixture
def replicas(
    nats_url: str, uid: str, tmp_path: Path, clock: FixedClock, client: Nats, tenant: str
) -> Callable[..., contextlib.AbstractAsyncContextManager[list[Any]]]:
    """Start replicas (by name: each its own outbox; the queue group, policies, rate bucket and
    clock shared) with the tools policy enforced on each.

    Their rate timeout is 5 s, not 0.5: on a loaded 2-core test machine a burst of hundreds of
    checks has seen a single round trip stall past 0.5 s, which fails that check closed
    (`rate_unavailable`, as it should). These tests are about counting; failing closed on time
    is test_rate_windows.py's."""

    @contextlib.asynccontextmanager
    async def start(*names: str) -> AsyncIterator[list[Any]]:
        apps = [
            create_app(
                settings(
                    nats_url, uid, tmp_path, name, rates_bucket=f"rates_{uid}", rate_timeout_s=5
                ),
                clock,
            )
            for name in names
        ]
        async with contextlib.AsyncExitStack() as stack:
            for app in apps:
                await stack.enter_async_context(running(app))
            await push(client, tenant, policy_yaml(version="1", tools=TOOLS))  # again: a no-op
            await eventually(lambda: all(enforced(app, tenant) == "1" for app in apps))
            yield apps

    return start


def counting_windows(app: Any, counts: collections.Counter[str], name: str) -> None:
    """Count the window requests a replica makes (which replica served which checks)."""
    take = app.service.rates.take

    async def counted(*args: Any) -> float | None:
        counts[name] += 1
        return await take(*args)

    app.service.rates.take = counted


async def tool_check(nc: Nats, tenant: str, name: str) -> tuple[str, list[str], list[str]]:
    """Outcome, finding kinds and messages of one tool-call check."""
    request = GuardrailCheckRequest(
        stage="tool_call", tool={"name": name, "arguments": {}}, actor={"app": "bot"}
    )
    reply = await ask(nc, subjects.GUARDRAILS_CHECK, request, tenant)
    findings = reply.data.findings
    return reply.data.outcome, [f.kind for f in findings], [f.message for f in findings]


async def burst(nc: Nats, tenant: str, name: str, n: int) -> collections.Counter[str]:
    """``n`` concurrent checks of one tool: how many ended with each outcome or finding kind."""
    replies = await asyncio.gather(*(tool_check(nc, tenant, name) for _ in range(n)))
    return collections.Counter(kinds[0] if kinds else outcome for outcome, kinds, _ in replies)


async def test_two_replicas_share_one_limit_exactly_and_roll_over_with_the_clock(
    replicas: Any, client: Nats, tenant: str, clock: FixedClock
) -> None:
    async with replicas("a", "b") as (first, second):
        served: collections.Counter[str] = collections.Counter()
        counting_windows(first, served, "a")
        counting_windows(second, served, "b")

        assert await burst(client, tenant, "search", 300) == {"allow": CALLS, "rate_limited": 280}
        assert served.total() == 300
        assert min(served["a"], served["b"]) > 0  # both replicas answered checks
        outcome, _, [message] = await tool_check(client, tenant, "search")
        assert (outcome, message) == ("block", "tool 'search': rate_limited (a slot frees in 60 s)")
        assert await burst(client, tenant, "lookup", 20) == {"allow": 20}
        assert served.total() == 301  # the tool without a rate never asked the windows

        clock.advance(seconds=59.999)
        assert await burst(client, tenant, "search", 10) == {"rate_limited": 10}
        clock.advance(seconds=0.001)  # now 2028-03-01T00:00:30Z: the window has rolled over
        assert await burst(client, tenant, "search", 50) == {"allow": CALLS, "rate_limited": 30}


async def test_a_restarted_replica_keeps_the_window(
    replicas: Any, client: Nats, tenant: str, clock: FixedClock
) -> None:
    async with replicas("a"):
        assert await burst(client, tenant, "search", CALLS) == {"allow": CALLS}
    clock.advance(seconds=30)
    async with replicas("a"):
        outcome, kinds, [message] = await tool_check(client, tenant, "search")
        assert (outcome, kinds) == ("block", ["rate_limited"])
        assert message == "tool 'search': rate_limited (a slot frees in 30 s)"
        clock.advance(seconds=30)
        assert (await tool_check(client, tenant, "search"))[0] == "allow"


async def test_a_rate_limited_tool_is_refused_when_its_windows_are_gone(
    replicas: Any, client: Nats, tenant: str, uid: str
) -> None:
    async with replicas("a"):
        assert (await tool_check(client, tenant, "search"))[0] == "allow"
        await client.jetstream().delete_key_value(f"rates_{uid}")  # JetStream lost the bucket

        started = time.monotonic()
        outcome, kinds, messages = await tool_check(client, tenant, "search")
        assert (outcome, kinds, messages) == (
            "block",
            ["rate_unavailable"],
            ["tool 'search': rate_unavailable"],
        )
        assert time.monotonic() - started < 1.5  # at once: no responder, no 5 s timeout
        assert (await tool_check(client, tenant, "lookup"))[0] == "allow"
