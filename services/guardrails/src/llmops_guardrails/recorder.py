"""Every verdict reaches the EVENTS stream, even across a crash, without the caller waiting for it.

The check path writes its events (the verdict, a review request, a shadow verdict) to a local
outbox, durably, before the reply goes out, and wakes :class:`Recorder`'s loop, which publishes
what the outbox holds in batches, waits for JetStream's acknowledgements and only then forgets
them. A crash between the reply and the acknowledgement leaves the events in the outbox: the next
start publishes them, with the same ``Nats-Msg-Id`` (derived from the check), so JetStream's
de-duplication and the audit trail's idempotency drop any copy that did get through.

What the caller waits for is one local write; the round trip to JetStream happens beside it,
batched under load. JetStream being away no longer fails checks: the outbox grows until it is
back (``llmops_guardrails_outbox_pending`` says by how much). See docs/guardrails.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import Wire, wire
from llmops_shared.logging import get_logger
from llmops_shared.publish import Publisher

_log = get_logger(__name__)


class Outbox(Protocol):
    """Port: durable storage of events not yet acknowledged by JetStream, in write order."""

    def add(self, messages: Sequence[Wire]) -> None:
        """Store the messages; durable (across a crash of this process) once this returns."""
        ...

    def pending(self, limit: int) -> list[tuple[int, Wire]]:
        """Up to ``limit`` stored ``(position, message)`` pairs, oldest first."""
        ...

    def remove(self, upto: int) -> None:
        """Forget every message at or before ``position`` ``upto`` (they were acknowledged)."""
        ...

    def count(self) -> int:
        """How many messages are stored and not yet published."""
        ...

    def checkpoint(self) -> None:
        """Housekeeping that may take a while (syncing files): called from a worker thread,
        between rounds, never on a check's path."""
        ...


class Recorder:
    """Writes events to the outbox and publishes them from there.

    Args:
        outbox: where events wait for their acknowledgement.
        publisher: the JetStream publisher (waits for the stream's acknowledgements).
        batch: most messages published per round.
        on_pending: told the number of stored messages after each round (a metric).
    """

    def __init__(
        self,
        outbox: Outbox,
        publisher: Publisher,
        *,
        batch: int = 500,
        on_pending: Callable[[int], Any] | None = None,
    ) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.batch = batch
        self.on_pending = on_pending
        self.wake = asyncio.Event()

    def record(self, events: Sequence[Envelope[Any]]) -> None:
        """Store events durably and have them published soon; returns once they are stored."""
        self.outbox.add([wire(event) for event in events])
        self.wake.set()

    async def flush(self) -> int:
        """Publish everything stored, oldest first; returns how many messages went out.

        Raises:
            Exception: what the publisher raised (JetStream away): what was not acknowledged
                stays stored and goes out on a later round.
        """
        sent = 0
        while True:
            rows = self.outbox.pending(self.batch)
            if not rows:
                break
            await self.publisher.publish_batch([message for _, message in rows])
            self.outbox.remove(rows[-1][0])
            sent += len(rows)
        if self.on_pending is not None:
            self.on_pending(self.outbox.count())
        return sent

    async def run(
        self,
        idle_s: float = 1.0,
        retry_s: float = 1.0,
        checkpoint_s: float = 1.0,
        linger_s: float = 0.02,
    ) -> None:
        """Flush whenever woken (after each check) or every ``idle_s``, until cancelled; the
        outbox's housekeeping at most every ``checkpoint_s``, in a worker thread.

        Woken, it lingers ``linger_s`` first, so the checks arriving meanwhile go out in the
        same batch (one acknowledgement to wait for instead of one each). A failed round
        (JetStream away) is retried after ``retry_s``: the events stay stored.
        """
        loop = asyncio.get_running_loop()
        checked = loop.time()
        while True:
            self.wake.clear()
            if loop.time() - checked >= checkpoint_s:
                checked = loop.time()
                try:
                    await asyncio.to_thread(self.outbox.checkpoint)
                except Exception as exc:  # a full disk, say: the next round tries again
                    _log.warning("outbox checkpoint failed", error=str(exc))
            try:
                await self.flush()
            except Exception as exc:  # JetStream away: the outbox keeps them; retry shortly
                _log.warning("publishing verdicts failed; they stay in the outbox", error=str(exc))
                if self.on_pending is not None:
                    self.on_pending(self.outbox.count())
                await asyncio.sleep(retry_s)
                continue
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation
                # that arrives as the event is set, and this loop then outlives the shutdown.
                async with asyncio.timeout(idle_s):
                    await self.wake.wait()
                await asyncio.sleep(linger_s)
