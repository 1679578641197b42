"""The composition every service shares: broker, streams, health server, lifecycle and drain.

A service's ``create_app(settings)`` builds its adapters and router and hands them to
:func:`service_app`; ``python -m llmops_<name>`` calls :func:`run`. Nothing here does I/O until the
app starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker, NatsRouter

from llmops_shared.barrier import server_caught_up
from llmops_shared.broker import MessageScope, create_broker
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.direct import DirectEndpoint
from llmops_shared.health import HealthServer
from llmops_shared.jetstream import JetStreamSink
from llmops_shared.logging import configure_logging, get_logger
from llmops_shared.publish import Publisher
from llmops_shared.settings import ServiceSettings
from llmops_shared.streams import ensure_streams

Hook = Callable[[], Awaitable[Any]]
Loop = Callable[[], Coroutine[Any, Any, Any]]

_log = get_logger(__name__)


def every(seconds: float, work: Callable[[], Awaitable[object]], what: str) -> Loop:
    """A background loop running ``work`` every ``seconds``; a failed round is logged, not fatal."""

    async def loop() -> None:
        while True:
            try:
                await work()
            except Exception:  # the next round retries; the loop must live
                _log.exception(f"{what} failed; retrying next round")
            await asyncio.sleep(seconds)

    return loop


class Wiring:
    """The broker, its dead-letter scope and an event publisher, built before the service.

    A service's logic needs its publisher when it is constructed, before the app exists; the
    publisher only touches the connection when it publishes, after start. Nothing here does I/O.

    Args:
        settings: the service's settings.
        clock: the service's clock (business time), which also dates its dead letters.
    """

    def __init__(self, settings: ServiceSettings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.scope = MessageScope(settings, clock)
        self.broker = create_broker(settings, self.scope)
        self.publisher: Publisher = JetStreamSink(lambda: self.broker.connection)


class ServiceState:
    """Readiness and liveness of one running service, read by the health server and tests.

    The health server reads it from a thread of its own (see :mod:`llmops_shared.health`), so
    that a stalled event loop is seen while it is stalled; everything here is a read of
    attributes the loop writes.

    Args:
        stall_after_s: readiness fails when the event loop's heartbeat is older than this.
        clock: a monotonic clock, in seconds.
        wedged_after_s: liveness fails when the heartbeat is older than this (None: never).
    """

    def __init__(
        self,
        stall_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wedged_after_s: float | None = None,
    ) -> None:
        self.started = False
        self.draining = False
        self.broker: NatsBroker | None = None
        self.health_port: int | None = None
        self.stall_after_s = stall_after_s
        self.wedged_after_s = wedged_after_s
        self.clock = clock
        #: When the heartbeat task last ran (None: not running).
        self.last_beat: float | None = None

    def stalled_for(self) -> float:
        """Seconds since the heartbeat last ran (0 while it does not run at all)."""
        beat = self.last_beat
        return 0.0 if beat is None else max(0.0, self.clock() - beat)

    @property
    def stalled(self) -> bool:
        """Whether the event loop has not run the heartbeat for ``stall_after_s``.

        A loop blocked in a write to a full pipe, or in a long synchronous call, runs nothing
        else: no message is handled while this holds.
        """
        return self.stalled_for() > self.stall_after_s

    def not_ready(self) -> str | None:
        """Why the service should get no traffic (one line), or None when it is ready:
        connected, subscribed, not draining, and the event loop not stalled."""
        if not self.started:
            return "starting"
        if self.draining:
            return "draining"
        stalled = self.stalled_for()
        if stalled > self.stall_after_s:
            return f"the event loop has not run for {stalled:.1f} s (limit {self.stall_after_s} s)"
        broker = self.broker
        try:
            connected = broker is not None and bool(broker.connection.is_connected)
        except Exception:  # not connected yet: the broker has no connection to ask
            connected = False
        return None if connected else "not connected to NATS"

    @property
    def ready(self) -> bool:
        """Connected, subscribed, not draining, and the event loop not stalled."""
        return self.not_ready() is None

    def not_alive(self) -> str | None:
        """Why the process should be restarted (its event loop wedged), or None."""
        stalled = self.stalled_for()
        if self.wedged_after_s is not None and stalled > self.wedged_after_s:
            return (
                f"the event loop has not run for {stalled:.1f} s "
                f"(liveness limit {self.wedged_after_s} s)"
            )
        return None

    async def heartbeat(self) -> None:
        """Record that the event loop runs, several times per ``stall_after_s``, until cancelled.

        Once cancelled (the service drains) nothing is judged on it: draining is no stall.
        """
        interval = min(1.0, self.stall_after_s / 5)
        try:
            while True:
                self.last_beat = self.clock()
                await asyncio.sleep(interval)
        finally:
            self.last_beat = None


def service_app(
    settings: ServiceSettings,
    router: NatsRouter | Callable[[NatsBroker], NatsRouter],
    *,
    on_start: Sequence[Hook] = (),
    on_connected: Sequence[Hook] = (),
    on_stop: Sequence[Hook] = (),
    background: Sequence[Loop] = (),
    wiring: Wiring | None = None,
    endpoints: Sequence[DirectEndpoint] = (),
) -> FastStream:
    """Compose a runnable service.

    Args:
        settings: the service's settings.
        router: its handlers, or a function of the broker that builds them (for handlers that
            publish through the broker).
        on_start: adapter openers, run before the broker subscribes.
        on_connected: run once connected and the streams are declared, before any subscriber
            starts (``broker.connection`` is usable).
        on_stop: adapter closers, run after in-flight messages are drained.
        background: loops to run while the service is up (started once it is subscribed,
            cancelled when it starts draining).
        wiring: the broker, scope and publisher, when the service was built with them.
        endpoints: request/reply endpoints served by nats-py directly: subscribed on the
            broker's connection once FastStream's subscribers run (an answer means the service
            is up), and stopped first when the service drains, each request taken answered
            before the connection closes.

    Returns:
        A FastStream app; ``app.state`` holds the :class:`ServiceState`.
    """
    wiring = wiring or Wiring(settings)
    scope, broker = wiring.scope, wiring.broker
    broker.include_router(router if isinstance(router, NatsRouter) else router(broker))
    state = ServiceState(settings.loop_stall_s, wedged_after_s=settings.loop_wedged_s)
    state.broker = broker
    health = HealthServer(
        settings.service,
        settings.health_host,
        settings.resolved_health_port,
        ready=state.not_ready,
        alive=state.not_alive,
    )

    async def starting() -> None:
        state.health_port = await health.start()
        for hook in on_start:
            await hook()
        await broker.connect()
        scope.bind(broker.connection)
        if settings.manage_streams:
            await ensure_streams(broker.connection.jetstream(), settings)
        for hook in on_connected:
            await hook()

    tasks: list[asyncio.Task[Any]] = []

    async def started() -> None:
        # The endpoints answer only once FastStream's subscribers run: an answer means the
        # whole service is up (a caller, or a test, may act on it at once).
        for endpoint in endpoints:
            await endpoint.start(broker.connection)
        # Ready means reachable: the server has read every SUB FastStream just sent, so a
        # request sent the moment readiness flips finds its handler ("no responders" else).
        await server_caught_up(broker.connection)
        tasks.extend(asyncio.create_task(loop()) for loop in (state.heartbeat, *background))
        state.started = True
        _log.info("service ready", health_port=state.health_port, nats=settings.nats_url)

    async def stopping() -> None:
        state.draining = True
        _log.info("draining")
        # Before FastStream drains the connection: nats-py's drain does not wait for the answers
        # these endpoints give in tasks of their own; the background loops still run meanwhile.
        await asyncio.gather(*(endpoint.stop(settings.drain_timeout_s) for endpoint in endpoints))
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stopped() -> None:
        for hook in on_stop:
            await hook()
        await health.stop()
        _log.info("service stopped")

    app = FastStream(
        broker,
        logger=logging.getLogger("llmops.app"),
        on_startup=[starting],
        after_startup=[started],
        on_shutdown=[stopping],
        after_shutdown=[stopped],
    )
    app.state = state  # type: ignore[attr-defined]
    return app


def run(settings: ServiceSettings, create_app: Callable[[Any], FastStream]) -> None:
    """Run a service until SIGTERM or SIGINT, then drain and exit.

    Args:
        settings: the loaded settings.
        create_app: the service's composition root.
    """
    configure_logging(settings.service, settings.log_level, settings.log_format)
    # FastStream's own chatter (consumer task callbacks) stays below the service's log level.
    logging.getLogger("llmops.broker").setLevel(logging.WARNING)
    app = create_app(settings)
    with contextlib.suppress(KeyboardInterrupt):  # SIGINT already drained the app
        asyncio.run(app.run(log_level=logging.DEBUG))
