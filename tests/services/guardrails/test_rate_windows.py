"""One abstract suite for the rate-windows port, run against the in-memory windows, the test
fake and the JetStream key-value bucket on a real nats-server; then what only the bucket does:
replicas sharing a window exactly, a restart forgetting nothing, expiring keys, failing closed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client as Nats
from nats.js.errors import NotFoundError

from llmops_guardrails.store import RATE_KEY_GRACE_S, KvRateWindows, window_key
from llmops_guardrails.toolpolicy import MemoryRateWindows, RateLimit, RateUnavailable
from tests.conftest import NatsServer
from tests.services.guardrails.conftest import FakeRateWindows

NOW = 1_830_000_000.0  # 2027-12-28, POSIX seconds


class RateWindowsContract:
    """What the gate relies on from wherever rate windows are kept."""

    @pytest.fixture
    async def windows(self) -> Any:  # overridden per adapter
        raise NotImplementedError

    async def test_admits_the_limit_then_says_when_a_slot_frees(
        self, windows: Any, tenant: str
    ) -> None:
        rate = RateLimit(calls=3, per_s=10)
        window = (tenant, "p", "1", "0")
        assert [await windows.take(window, rate, NOW + i) for i in range(3)] == [None] * 3
        assert await windows.take(window, rate, NOW + 4) == 6.0  # the first leaves at NOW + 10
        assert await windows.take(window, rate, NOW + 9.5) == 0.5  # a refusal spent nothing
        assert await windows.take(window, rate, NOW + 10) is None
        assert await windows.take(window, rate, NOW + 10) == 1.0

    async def test_windows_are_independent(self, windows: Any, tenant: str) -> None:
        rate = RateLimit(calls=1, per_s=60, scope="agent")
        assert await windows.take((tenant, "p", "1", "0", "bot", "a1"), rate, NOW) is None
        assert await windows.take((tenant, "p", "1", "0", "bot", "a1"), rate, NOW) == 60.0
        for other in (("bot", "a2"), ("bot.a1",), ("bot", "a1", "")):
            assert await windows.take((tenant, "p", "1", "0", *other), rate, NOW) is None
        assert await windows.take((tenant, "p", "2", "0", "bot", "a1"), rate, NOW) is None
        assert await windows.take((f"{tenant}x", "p", "1", "0", "bot", "a1"), rate, NOW) is None

    async def test_concurrent_calls_admit_exactly_the_limit(
        self, windows: Any, tenant: str
    ) -> None:
        rate = RateLimit(calls=17, per_s=60)
        waits = await asyncio.gather(
            *(windows.take((tenant, "burst"), rate, NOW + i / 1000) for i in range(120))
        )
        assert sum(w is None for w in waits) == 17
        assert all(w is None or 59 < w <= 60 for w in waits)


class TestMemoryRateWindows(RateWindowsContract):
    @pytest.fixture
    async def windows(self) -> Any:
        return MemoryRateWindows()


class TestFakeRateWindows(RateWindowsContract):
    @pytest.fixture
    async def windows(self) -> Any:
        return FakeRateWindows()


async def kv_windows(url: str, bucket: str, **options: Any) -> tuple[Nats, KvRateWindows]:
    """A replica's windows: a connection of its own on the shared bucket."""
    nc = await nats.connect(url)
    windows = KvRateWindows(lambda: nc, bucket=bucket, **options)
    await windows.open()
    return nc, windows


@pytest.fixture
async def bucket(nats_url: str, uid: str) -> AsyncIterator[str]:
    """A rate bucket of this test's own, deleted afterwards."""
    name = f"rates_{uid}"
    yield name
    nc = await nats.connect(nats_url)
    try:
        with contextlib.suppress(NotFoundError):  # a test deleted it already
            await nc.jetstream().delete_key_value(name)
    finally:
        await nc.close()


class TestKvRateWindows(RateWindowsContract):
    @pytest.fixture
    async def windows(self, nats_url: str, bucket: str) -> AsyncIterator[Any]:
        nc, windows = await kv_windows(nats_url, bucket, timeout_s=5)
        try:
            yield windows
        finally:
            await nc.close()


async def test_two_replicas_hammering_one_window_admit_exactly_the_limit(
    nats_url: str, bucket: str, tenant: str
) -> None:
    (nc1, first), (nc2, second) = [await kv_windows(nats_url, bucket, timeout_s=5) for _ in "ab"]
    try:
        rate = RateLimit(calls=37, per_s=60)
        by_replica = [0, 0]
        for round_ in range(3):  # three windows, one after another
            start = NOW + round_ * 60

            async def agent(replica: KvRateWindows, start: float = start) -> int:
                # One caller after another, as agents do: rounds of both replicas interleave.
                admitted = 0
                for i in range(25):
                    if await replica.take((tenant, "hot"), rate, start + i / 1000) is None:
                        admitted += 1
                return admitted

            # Agents of the two replicas alternate, so their rounds contend for the window; the
            # replica whose agent starts first tends to win it, so each round another starts
            # (a run with the first always first once gave the second nothing in all three).
            order = (first, second) if round_ % 2 == 0 else (second, first)
            admitted = await asyncio.gather(
                *(agent(replica) for _ in range(8) for replica in order)
            )
            assert sum(admitted) == 37  # of 400 calls
            by_replica[round_ % 2] += sum(admitted[0::2])
            by_replica[1 - round_ % 2] += sum(admitted[1::2])
        # Both replicas admitted calls (which one wins a given window is the scheduler's say).
        assert by_replica[0] > 0
        assert by_replica[1] > 0
        # A third replica, started now, finds the window as the others left it.
        nc3, third = await kv_windows(nats_url, bucket, timeout_s=5)
        try:
            assert await third.take((tenant, "hot"), rate, NOW + 120.5) is not None
        finally:
            await nc3.close()
    finally:
        await nc1.close()
        await nc2.close()


async def test_keys_are_the_tenant_then_a_hash_and_expire_after_the_period(
    nats_url: str, bucket: str, tenant: str
) -> None:
    nc, windows = await kv_windows(nats_url, bucket)
    try:
        window = (tenant, "support bot", "v1.2", "0", "app with spaces", "ünïcode")
        assert await windows.take(window, RateLimit(calls=5, per_s=90), NOW) is None
        key = window_key(window)
        assert key.startswith(f"{tenant}.")
        assert len(key.split(".")) == 2
        msg = await nc.jetstream().get_msg(f"KV_{bucket}", subject=f"$KV.{bucket}.{key}")
        assert msg.headers is not None
        assert msg.headers["Nats-TTL"] == str(90 + RATE_KEY_GRACE_S)
        assert msg.data == f"[[{NOW},1]]".encode()
    finally:
        await nc.close()


async def test_a_window_known_full_refuses_without_asking_and_one_not_full_always_asks(
    nats_url: str, bucket: str, tenant: str
) -> None:
    (nc1, first), (nc2, second) = [await kv_windows(nats_url, bucket, timeout_s=0.3) for _ in "ab"]
    try:
        rate, window = RateLimit(calls=2, per_s=60), (tenant, "w")
        assert await first.take(window, rate, NOW) is None
        assert await second.take(window, rate, NOW + 1) is None  # the first does not know
        assert await first.take(window, rate, NOW + 2) == 58.0  # it read the full window
        await nc1.jetstream().delete_key_value(bucket)  # from now on, asking fails
        assert await first.take(window, rate, NOW + 30) == 30.0  # known full: not asked
        with pytest.raises(RateUnavailable):  # a slot has freed: only the bucket can say
            await first.take(window, rate, NOW + 60)
    finally:
        await nc1.close()
        await nc2.close()


async def test_windows_fail_closed_while_nats_is_away_and_keep_their_calls(
    own_nats_server: NatsServer, tenant: str
) -> None:
    nc = await nats.connect(own_nats_server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    windows = KvRateWindows(lambda: nc, bucket="rates", timeout_s=0.3)
    await windows.open()
    rate = RateLimit(calls=2, per_s=60)
    try:
        assert await windows.take((tenant, "w"), rate, NOW) is None
        own_nats_server.stop()
        started = time.monotonic()
        with pytest.raises(RateUnavailable):
            await windows.take((tenant, "w"), rate, NOW + 1)
        assert time.monotonic() - started < 1.0  # the timeout, not nats-py's 5 s
        own_nats_server.start()
        deadline = time.monotonic() + 10
        while not nc.is_connected:
            assert time.monotonic() < deadline, "no reconnection"
            await asyncio.sleep(0.05)
        # JetStream kept the window: one call of two was spent before the outage, and none
        # during it.
        assert await windows.take((tenant, "w"), rate, NOW + 2) is None
        assert await windows.take((tenant, "w"), rate, NOW + 3) == 57.0
    finally:
        await nc.close()
