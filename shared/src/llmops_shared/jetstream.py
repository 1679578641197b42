"""Publishing batches to JetStream with one acknowledgement count per batch (audit, costs)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any


class JetStreamSink:
    """Publishes messages to JetStream, pipelined, waiting for every acknowledgement.

    Each message is a plain publish with a reply subject under one inbox this sink subscribes
    once per connection; the stream's acknowledgements arrive there and are counted. This is what
    nats-py's ``publish_async`` does, without its per-message future, semaphore and parsed
    ``PubAck`` (performance: 26 instead of 60 µs of CPU per message, measured), and without the
    leak of a new JetStream context per call, each of which subscribed its own inbox for good.
    """

    def __init__(self, connection: Callable[[], Any], timeout_s: float = 30.0) -> None:
        self._connection = connection
        self._timeout_s = timeout_s
        self._inbox: tuple[Any, str] | None = None  # (connection, inbox prefix)
        self._batches = 0
        self._pending: dict[str, _Acks] = {}

    async def publish(self, messages: Sequence[tuple[str, bytes, dict[str, str]]]) -> None:
        """Publish all, then await all acks (a failure raises and the cursor stays put).

        Raises:
            RuntimeError: the stream refused a message, or did not acknowledge all in time.
        """
        if not messages:
            return
        nc = self._connection()
        if self._inbox is None or self._inbox[0] is not nc:
            prefix = nc.new_inbox()
            await nc.subscribe(f"{prefix}.>", cb=self._on_ack)
            self._inbox = (nc, prefix)
        self._batches += 1
        token = str(self._batches)
        reply = f"{self._inbox[1]}.{token}."
        acks = self._pending[token] = _Acks(len(messages))
        try:
            for i, (subject, body, headers) in enumerate(messages):
                await nc.publish(subject, body, reply=f"{reply}{i}", headers=headers)
            try:
                await asyncio.wait_for(acks.done.wait(), self._timeout_s)
            except TimeoutError:
                raise RuntimeError(
                    f"JetStream acknowledged {acks.total - acks.left} of {acks.total} "
                    f"messages within {self._timeout_s} s"
                ) from None
        finally:
            del self._pending[token]
        if acks.error is not None:
            raise RuntimeError(f"JetStream refused a message: {acks.error}")

    async def _on_ack(self, msg: Any) -> None:
        token = msg.subject.rsplit(".", 2)[-2]
        acks = self._pending.get(token)
        if acks is None:
            return  # a late answer for a batch that already failed
        data = msg.data
        # A stored message answers {"stream": ..., "seq": ...}; a refusal {"error": {...}}, and
        # no stream at all a status message with no body (503, no responders).
        if (not data or b'"error"' in data) and acks.error is None:
            status = (msg.headers or {}).get("Status")
            acks.error = data.decode(errors="replace") if data else f"no stream (status {status})"
        acks.left -= 1
        if acks.left <= 0:
            acks.done.set()


class _Acks:
    """Acknowledgements still expected for one published batch."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total
        self.error: str | None = None
        self.done = asyncio.Event()
