"""Shared benchmark plumbing: a throwaway nats-server, timing, tables and JSON results."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

#: Where results go (``LLMOPS_BENCH_RESULTS``: the smoke test writes elsewhere).
RESULTS = Path(os.environ.get("LLMOPS_BENCH_RESULTS") or Path(__file__).parent / "results")
console = Console()


@contextmanager
def nats_server() -> Iterator[str]:
    """A nats-server with JetStream on a free loopback port; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tempfile.mkdtemp(prefix="llmops-bench-")
    binary = Path(sys.executable).parent / "nats-server"
    proc = subprocess.Popen(
        [str(binary), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", store],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.02)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
