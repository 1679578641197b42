"""Shared benchmark plumbing: a throwaway nats-server, raw publishing, timing, tables and JSON."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nats
from rich.console import Console
from rich.table import Table

from llmops.dev import free_port, start_nats_server
from llmops_contracts.headers import Wire
from llmops_shared.settings import ServiceSettings
from llmops_shared.streams import ensure_streams

#: Where results go (``LLMOPS_BENCH_RESULTS``: the smoke test writes elsewhere).
RESULTS = Path(os.environ.get("LLMOPS_BENCH_RESULTS") or Path(__file__).parent / "results")
console = Console()


@contextmanager
def nats_server() -> Iterator[str]:
    """A nats-server with JetStream on a free loopback port; yields its URL."""
    port = free_port()
    proc = start_nats_server(port, tempfile.mkdtemp(prefix="llmops-bench-"))
    try:
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def publish_pipelined(url: str, messages: Sequence[Wire], *, window: int = 2000) -> float:
    """Publish prepared messages into JetStream with raw nats-py, ``window`` acks in flight.

    The streams are declared first, as a service declares them. Returns the seconds spent
    publishing (declaring and connecting not included).
    """
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, ServiceSettings(nats_url=url))
        start = time.perf_counter()
        for i in range(0, len(messages), max(window, 1)):
            futures = [
                await js.publish_async(s, b, headers=h) for s, b, h in messages[i : i + window]
            ]
            await asyncio.gather(*futures)
        return time.perf_counter() - start
    finally:
        await nc.close()


#: A raw nats-py responder for ``python -c``: ``URL SUBJECT [SIZE]``; answers ``SIZE`` fixed
#: bytes, or echoes the request without one. Run as its own process, like the service it is
#: compared with.
RESPONDER = """
import asyncio, sys, nats
async def main():
    nc = await nats.connect(sys.argv[1])
    fixed = b"x" * int(sys.argv[3]) if len(sys.argv) > 3 else None
    async def respond(msg):
        await msg.respond(msg.data if fixed is None else fixed)
    await nc.subscribe(sys.argv[2], queue="responder", cb=respond)
    await nc.flush()
    await asyncio.Event().wait()
asyncio.run(main())
"""


@contextmanager
def process(command: Sequence[str], env: dict[str, str] | None = None) -> Iterator[None]:
    """Run ``command`` (a Python module or script, with this interpreter) while the block runs.

    Its output is discarded; it is terminated (then killed) when the block ends.
    """
    proc = subprocess.Popen(
        [sys.executable, *command],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def until_answering(nc: Any, subject: str, body: bytes, timeout: float = 120) -> None:
    """Wait until a request to ``subject`` gets an answer (a process started up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await nc.request(subject, body, timeout=1)
            return
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def best_of(runs: int, fn: Any) -> float:
    """The fastest of ``runs`` timings of ``fn()`` in seconds (least disturbed by the machine)."""
    return min(_timed(fn) for _ in range(runs))


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(
    name: str, title: str, rows: list[dict[str, Any]], notes: list[str] | None = None
) -> None:
    """Print rows as a table (and notes under it); write both to bench/results/<name>.json."""
    table = Table(title=title)
    for key in rows[0]:
        table.add_column(key, justify="right" if isinstance(rows[0][key], int | float) else "left")
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)
    for note in notes or []:
        console.print(note)
    RESULTS.mkdir(exist_ok=True)
    out: dict[str, Any] = {
        "benchmark": name,
        "machine": {"python": platform.python_version(), "cpu_count": _cpus()},
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rows": rows,
    }
    if notes:
        out["notes"] = notes
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2) + "\n")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3f}"  # ratios keep 3 decimals
    return str(value)


def _cpus() -> int:
    return os.cpu_count() or 0
