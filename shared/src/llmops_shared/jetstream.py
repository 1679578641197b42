"""Publishing to JetStream with one acknowledgement count per batch: the :class:`~llmops_shared.publish.Publisher` every service uses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import Counter

from llmops_contracts import subjects
from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import Wire, jetstream_answer, wire
from llmops_shared.blobs import wire_size

UNPUBLISHABLE = Counter(
    "llmops_unpublishable_messages_total",
    "Messages left out of a publish because the server will never take them as built.",
    ["reason"],  # too_large (for the server), refused (by the stream)
)

#: Below this many bytes under the limit a message's headers are not measured (performance):
#: the suite's own headers (ids, type, trace context) are far smaller.
_HEADER_ALLOWANCE = 8192


def _core(message: Wire) -> tuple[str, bytes, str, dict[str, str]]:
    subject, body, headers = message
    return subject, body, "", headers


class PublishError(RuntimeError):
    """A batch was not (wholly) stored by JetStream."""


class NotAcknowledged(PublishError):
    """JetStream did not acknowledge every message in time, or had no stream to answer (NATS
    slow, away or electing a leader): worth retrying the whole batch."""


class Refused(PublishError):
    """The stream refused a message (it answered with an error other than "unavailable")."""


class MessageTooLarge(PublishError):
    """A message exceeds the server's ``max_payload``; nothing of the batch was published.

    Attributes:
        index: position of the first such message in the batch.
    """

    def __init__(self, index: int, subject: str, size: int, limit: int) -> None:
        super().__init__(f"message {index} on {subject} is {size} bytes; the server takes {limit}")
        self.index = index


class JetStreamSink:
    """Publishes messages to JetStream, pipelined, waiting for every acknowledgement.

    Each message is a plain publish with a reply subject under one inbox this sink subscribes
    once per connection; the stream's acknowledgements arrive there and are counted. This is what
    nats-py's ``publish_async`` does, without its per-message future, semaphore and parsed
    ``PubAck`` (performance: less than half its CPU per message, measured in docs/decisions.md),
    and without the leak of a new JetStream context per call, each of which subscribed its own
    inbox for good.
    """

    def __init__(self, connection: Callable[[], Any], timeout_s: float = 30.0) -> None:
        self._connection = connection
        self._timeout_s = timeout_s
        self._inbox: tuple[Any, str] | None = None  # (connection, inbox prefix)
        self._batches = 0
        self._pending: dict[str, _Acks] = {}

    async def publish(self, message: Envelope[Any]) -> None:
        """Publish one envelope on its own subject and await its ack.

        A subject no stream captures (none today) is a plain core-NATS publish: no ack would
        ever come for it.
        """
        if subjects.stream_for(message.subject()) is None:
            await self._connection().publish(*_core(wire(message)))
            return
        await self.publish_batch([wire(message)])

    async def publish_batch(self, messages: Sequence[Wire]) -> None:
        """Publish all, then await all acks (a failure raises and the cursor stays put).

        Raises:
            MessageTooLarge: a message would exceed ``max_payload`` (checked before publishing
                any: the server would close the connection on it).
            NotAcknowledged: not every message was acknowledged in time, or no stream answered.
            Refused: the stream refused a message.
        """
        if not messages:
            return
        nc = self._connection()
        large = _too_large(nc, messages)
        if large:
            i, size, limit = large[0]
            raise MessageTooLarge(i, messages[i][0], size, limit)
        refused = await self._send(nc, messages)
        if refused:
            raise Refused(f"JetStream refused a message: {refused[0][1]}")

    async def publish_storable(self, messages: Sequence[Wire]) -> list[tuple[int, str]]:
        """Publish every message the server can take and await their acks; returns ``(index,
        reason)`` of those it never will as they are (too large for the server, or refused by
        the stream), which no retry would change. Each is counted in
        ``llmops_unpublishable_messages_total``.

        Raises:
            NotAcknowledged: not every message was acknowledged in time, or no stream answered.
        """
        if not messages:
            return []
        nc = self._connection()
        out = [
            (i, f"{size} bytes; the server takes {limit}")
            for i, size, limit in _too_large(nc, messages)
        ]
        kept: Sequence[int] = range(len(messages))
        if out:
            UNPUBLISHABLE.labels("too_large").inc(len(out))
            left_out = {i for i, _ in out}
            kept = [i for i in kept if i not in left_out]
            messages = [messages[i] for i in kept]
        refused = await self._send(nc, messages)
        if refused:
            UNPUBLISHABLE.labels("refused").inc(len(refused))
        return sorted(out + [(kept[j], error) for j, error in refused])

    async def _send(self, nc: Any, messages: Sequence[Wire]) -> list[tuple[int, str]]:
        """Publish, pipelined, and await every ack; returns ``(index, error)`` of the refused."""
        if not messages:
            return []
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
                async with asyncio.timeout(self._timeout_s):  # wait_for can lose a cancel
                    await acks.done.wait()
            except TimeoutError:
                # Unless the last one came in the same turn as the timeout.
                if not acks.done.is_set():
                    raise NotAcknowledged(
                        f"JetStream acknowledged {acks.total - acks.left} of {acks.total} "
                        f"messages within {self._timeout_s} s"
                    ) from None
        finally:
            del self._pending[token]
        if acks.unavailable is not None:
            raise NotAcknowledged(f"JetStream is unavailable: {acks.unavailable}")
        return sorted(acks.refused)

    async def _on_ack(self, msg: Any) -> None:
        token = msg.subject.rsplit(".", 2)[-2]
        acks = self._pending.get(token)
        if acks is None:
            return  # a late answer for a batch that already failed
        data = msg.data
        status = (msg.headers or {}).get("Status") if not data else None  # only for an empty body
        answer = jetstream_answer(data, status)
        if answer is None:
            return  # a plain subscriber's reply, not JetStream's (see jetstream_answer)
        if answer == "unavailable":
            acks.unavailable = acks.unavailable or (
                data.decode(errors="replace") if data else f"no stream (status {status})"
            )
        elif answer == "refused":
            acks.refused.append((int(msg.subject.rsplit(".", 1)[1]), data.decode(errors="replace")))
        acks.left -= 1
        if acks.left <= 0:
            acks.done.set()


class _Acks:
    """Acknowledgements still expected for one published batch."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total
        self.unavailable: str | None = None  # the first "unavailable" answer: worth a retry
        self.refused: list[tuple[int, str]] = []  # (index, error) of the messages refused
        self.done = asyncio.Event()


def _too_large(nc: Any, messages: Sequence[Wire]) -> list[tuple[int, int, int]]:
    """``(index, size, limit)`` of the messages that exceed the server's ``max_payload``."""
    limit = nc.max_payload
    return [
        (i, wire_size(body, headers), limit)
        for i, (_, body, headers) in enumerate(messages)
        if len(body) > limit - _HEADER_ALLOWANCE and wire_size(body, headers) > limit
    ]
