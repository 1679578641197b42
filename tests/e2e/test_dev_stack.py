"""`llmops dev`: the whole suite as real processes, observable end to end, and clean to stop."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from llmops import Client
from llmops.dev import SERVICES
from llmops_contracts.llm import LlmCallCompleted, Usage
from tests.conftest import eventually, free_port

LLMOPS = str(Path(sys.executable).parent / "llmops")


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (read from /proc, so nothing is missed by name)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class _Lines:
    """Reads a process's output on a thread so the test can wait for a line with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(proc,), daemon=True).start()

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        pytest.fail(f"no line containing {text!r} in {timeout} s; got:\n{''.join(self.seen[-40:])}")


def launch_dev(data_dir: Path, port: int, *args: str, **env: str) -> subprocess.Popen[str]:
    """``llmops dev`` as a child process (its own nats-server on ``port``), output piped."""
    environ = {k: v for k, v in os.environ.items() if k != "NATS_URL"} | env
    return subprocess.Popen(
        [LLMOPS, "dev", "--data-dir", str(data_dir), "--nats-port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environ,
    )


@pytest.fixture
def dev_stack(tmp_path: Path):
    port = free_port()
    proc = launch_dev(tmp_path / "data", port)
    lines = _Lines(proc)
    try:
        line = lines.wait_for("llmops dev ready", timeout=120)
        yield proc, lines, line, tmp_path / "data", f"nats://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_dev_stack_runs_every_service_records_events_and_stops_cleanly(dev_stack) -> None:
    proc, _lines, ready_line, data_dir, url = dev_stack
    assert url in ready_line
    assert f"{len(SERVICES)} services" in ready_line

    async def publish() -> str:
        async with await Client.connect(url, source="app://e2e", tenant="e2e") as client:
            sent = await client.publish(
                LlmCallCompleted(
                    provider="openai",
                    request_model="gpt-4o",
                    latency_ms=3,
                    usage=Usage(input_tokens=5, output_tokens=2),
                )
            )
            return sent.id

    event_id = asyncio.run(publish())

    def stored() -> bool:
        with sqlite3.connect(data_dir / "audit.db") as db:
            return bool(
                db.execute("select 1 from audit_records where event_id = ?", (event_id,)).fetchone()
            )

    asyncio.run(eventually(stored, timeout=20))
    tailed = subprocess.run(
        [LLMOPS, "tail", "--tenant", "e2e", "--json", "--count", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NATS_URL": url},
        check=False,
    )
    assert event_id in tailed.stdout, tailed.stderr

    children = _descendants(proc.pid)
    assert len(children) >= len(SERVICES) + 1  # the services plus nats-server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.05)
    assert not [pid for pid in children if _alive(pid)], "processes left behind after SIGTERM"
