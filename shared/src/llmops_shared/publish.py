"""The one publish port every service's logic talks to.

A service publishes an event (one envelope), a batch it has already serialised (an outbox, a
republished audit record), or a batch where a message the server will never take must not hold
back the rest. :class:`llmops_shared.jetstream.JetStreamSink` implements all three against
JetStream; ``tests/fakes.py`` has the fake every unit test uses. Ports of their own per service
(there were six) drifted apart in what "published" meant; this one means "stored by the stream".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import Wire

__all__ = ["Publisher", "Wire"]


class Publisher(Protocol):
    """Port: publishes to JetStream and waits until the stream has stored what it sent."""

    async def publish(self, message: Envelope[Any]) -> None:
        """Publish one envelope on its own subject; raise when it was not stored."""
        ...

    async def publish_batch(self, messages: Sequence[Wire]) -> None:
        """Publish all, in order; raise when one was not stored (the caller retries them all:
        each carries its ``Nats-Msg-Id``, so the stream drops the copies)."""
        ...

    async def publish_storable(self, messages: Sequence[Wire]) -> list[tuple[int, str]]:
        """Publish all the server can take; return ``(index, reason)`` of those it never will
        (too large, refused by the stream); raise when JetStream is away or too slow."""
        ...
