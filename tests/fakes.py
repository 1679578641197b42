"""Fakes of the shared ports, one of each, for every service's unit tests.

A service's own ports (its repository, golden sets, index ...) have their fakes beside its tests;
what every service shares lives here, so that there is one fake per port and it keeps up with the
port. Fakes are for unit tests of service logic; integration tests use the real thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import MSG_ID, Wire, wire
from llmops_contracts.registry import parse
from llmops_shared.jetstream import Refused


class FakePublisher:
    """The :class:`llmops_shared.publish.Publisher` port in memory.

    Keeps what was published, as envelopes (``published``) and as sent (``wires``). ``fail``
    makes every publish raise as when JetStream is away; ``refuse`` holds message ids the
    server never takes (too large, refused by the stream).
    """

    def __init__(self) -> None:
        self.published: list[Envelope[Any]] = []
        self.wires: list[Wire] = []
        self.fail = False
        self.refuse: set[str] = set()

    async def publish(self, message: Envelope[Any]) -> None:
        await self.publish_batch([wire(message)])
        self.published[-1] = message  # the very object, as a test may compare identity

    async def publish_batch(self, messages: Sequence[Wire]) -> None:
        if self.fail:
            raise RuntimeError("JetStream away")
        if any(sent[MSG_ID] in self.refuse for _, _, sent in messages):
            raise Refused("JetStream refused a message: message size exceeds maximum allowed")
        self.wires += messages
        self.published += [parse(body, subject=subject) for subject, body, _ in messages]

    async def publish_storable(self, messages: Sequence[Wire]) -> list[tuple[int, str]]:
        out = [(i, "refused") for i, m in enumerate(messages) if m[2][MSG_ID] in self.refuse]
        left_out = {i for i, _ in out}
        await self.publish_batch([m for i, m in enumerate(messages) if i not in left_out])
        return out

    def types(self) -> list[str]:
        """The short type of each published message (``cost_recorded``, ``verdict`` ...)."""
        return [m.type.split(".")[2] for m in self.published]

    def of(self, tenant: str, kind: str) -> list[Envelope[Any]]:
        """The tenant's published messages of one short type."""
        return [m for m in self.published if m.tenant == tenant and m.type.split(".")[2] == kind]
