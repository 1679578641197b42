"""Fakes of the guardrails service's own ports (the policy store, the verdict outbox, the tool
rate windows), and an application's connection to the session's nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import nats
import pytest
from nats.aio.client import Client as Nats

from llmops_contracts.headers import Wire
from llmops_guardrails.toolpolicy import MemoryRateWindows, RateLimit, RateUnavailable, WindowId


@pytest.fixture
async def client(nats_url: str) -> AsyncIterator[Nats]:
    """A plain nats-py connection, as an application would hold."""
    nc = await nats.connect(nats_url)
    try:
        yield nc
    finally:
        await nc.drain()


class MemoryPolicyStore:
    """The ``PolicyStore`` port in memory (the contract suite holds it to the bucket's promises)."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, str, str], str] = {}
        self.order: list[tuple[str, str, str]] = []
        self.pointers: dict[tuple[str, str, str], str] = {}

    async def create_document(
        self, tenant: str, policy: str, version: str, document: str
    ) -> str | None:
        key = (tenant, policy, version)
        if key in self.documents:
            return self.documents[key]
        self.documents[key] = document
        self.order.append(key)
        return None

    async def document(self, tenant: str, policy: str, version: str) -> str | None:
        return self.documents.get((tenant, policy, version))

    async def versions(self, tenant: str, policy: str) -> list[str]:
        return [v for t, p, v in self.order if (t, p) == (tenant, policy)]

    async def pointer(self, tenant: str, policy: str, slot: str) -> str | None:
        return self.pointers.get((tenant, policy, slot))

    async def point(self, tenant: str, policy: str, slot: str, version: str | None) -> None:
        if version is None:
            self.pointers.pop((tenant, policy, slot), None)
        else:
            self.pointers[(tenant, policy, slot)] = version

    async def policies(self, tenant: str) -> list[str]:
        return sorted({p for t, p, _ in self.documents if t == tenant})

    async def pointed(self) -> list[tuple[str, str]]:
        return sorted({(t, p) for t, p, _ in self.pointers})


class MemoryOutbox:
    """The ``Outbox`` port in memory; ``crash()`` is what a process crash leaves (everything)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, Wire]] = []
        self._next = 1

    def add(self, messages: Sequence[Wire]) -> None:
        for message in messages:
            self.rows.append((self._next, message))
            self._next += 1

    def pending(self, limit: int) -> list[tuple[int, Wire]]:
        return self.rows[:limit]

    def remove(self, upto: int) -> None:
        self.rows = [(pk, m) for pk, m in self.rows if pk > upto]

    def count(self) -> int:
        return len(self.rows)

    def checkpoint(self) -> None:
        pass


class FakeRateWindows:
    """The ``RateWindows`` port in memory; records every window asked for, and ``down`` makes it
    fail as an unreachable bucket does (the contract suite holds it to the bucket's promises)."""

    def __init__(self) -> None:
        self.memory = MemoryRateWindows()
        self.asked: list[WindowId] = []
        self.down = False

    async def take(self, window: WindowId, rate: RateLimit, now: float) -> float | None:
        self.asked.append(window)
        if self.down:
            raise RateUnavailable("the bucket is away")
        return self.memory.take_now(window, rate, now)
