"""Read a JetStream stream from the start (or from now) with an ephemeral ordered consumer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
from nats.js.api import DeliverPolicy


async def tail_stream(
    url: str,
    stream: str,
    subject: str,
    show: Callable[[str, bytes], None],
    *,
    count: int | None = None,
    follow: bool = False,
    new: bool = False,
    timeout: float | None = None,
) -> int:
    """Print messages of ``stream`` matching ``subject``; returns how many were shown.

    Without ``follow`` it stops once caught up with the stream; with it, it waits for new
    messages until ``count`` is reached, ``timeout`` passes, or it is interrupted.
    """
    nc = await nats.connect(url, name="llmops tail")
    seen = 0
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        if not new and info.state.messages == 0 and not follow:
            return 0
        sub = await js.subscribe(
            subject,
            stream=stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW if new else DeliverPolicy.ALL,
        )
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while count is None or seen < count:
            wait = 1.0 if deadline is None else max(0.0, deadline - loop.time())
            if deadline is not None and wait == 0:
                break
            try:
                msg = await sub.next_msg(timeout=min(wait, 1.0) if follow else 1.0)
            except nats.errors.TimeoutError:
                if follow:
                    continue
                break  # caught up
            show(msg.subject, msg.data)
            seen += 1
            if not follow and msg.metadata.num_pending == 0:
                break
        await sub.unsubscribe()
    finally:
        await nc.close()
    return seen
