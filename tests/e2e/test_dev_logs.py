"""`llmops dev` keeps every service running when a message would make a huge log line.

Before: a log line over 64 KiB killed dev's output pump, the child's pipe filled, and its event
loop froze in the next log write (audit recorded 0 of 1,000 valid events, /healthz timed out).
Here 1,000 valid calls follow messages whose ``type`` is 70,000 characters long: costs refuses
each with a reason quoting that type (a 70,000-character ``error`` on its "dead-lettered" log
line, before values were bounded); their 40,000-character ``Nats-Msg-Id`` must not stop them
being dead-lettered either. Every valid call is priced and recorded, /healthz answers, and no
line dev prints is huge.
The pump's own handling of a 70,000-character line is tested in
``tests/unit/test_logs_never_block.py`` with the same ``DevStack`` code.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import subprocess
from pathlib import Path

import nats
import pytest

from llmops_contracts import subjects, wrap
from llmops_contracts.headers import MSG_ID
from llmops_contracts.llm import LlmCallCompleted, Usage
from tests.conftest import eventually, free_port
from tests.e2e.test_dev_stack import _Lines, launch_dev

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


async def _healthz(port: int) -> bool:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()
    return b" 200 " in answer.split(b"\r\n", 1)[0]


def test_huge_log_values_under_llmops_dev_never_stop_a_service(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    proc = launch_dev(data_dir, port, "--services", "costs,audit", LLMOPS_LOG_FORMAT="json")
    lines = _Lines(proc)
    try:
        lines.wait_for("llmops dev ready", timeout=120)
        ready = [
            json.loads(line.split("| ", 1)[1])
            for line in lines.seen
            if line.lstrip().startswith("audit |") and "service ready" in line
        ]
        health = int(ready[0]["health_port"])
        tenant = "devlogs"
        subject = subjects.for_tenant(subjects.LLM_CALL_COMPLETED, tenant)
        calls = [
            wrap(
                LlmCallCompleted(
                    provider="openai",
                    request_model="gpt-4o",
                    latency_ms=3,
                    usage=Usage(input_tokens=5, output_tokens=2),
                ),
                tenant=tenant,
                source="app://e2e",
            )
            for _ in range(1_000)
        ]

        async def publish() -> None:
            nc = await nats.connect(f"nats://127.0.0.1:{port}")
            js = nc.jetstream()
            for i in range(3):  # raw nats-py: a 70,000-character type, a 40,000-character id
                body = json.loads(calls[0].to_json()) | {"type": "t" * 70_000, "id": str(i)}
                await js.publish(
                    subject, json.dumps(body).encode(), headers={MSG_ID: f"{i}" + "h" * 40_000}
                )
            futures = [
                await js.publish_async(subject, c.to_json(), headers={MSG_ID: c.id}) for c in calls
            ]
            await asyncio.gather(*futures)
            await nc.close()

        asyncio.run(publish())
        wanted = {c.id for c in calls}

        def recorded() -> bool:
            with sqlite3.connect(data_dir / "audit.db") as db:
                rows = db.execute(
                    "select event_id from audit_records where tenant = ?", (tenant,)
                ).fetchall()
            return wanted <= {r[0] for r in rows}

        def priced() -> bool:
            with sqlite3.connect(data_dir / "costs.db") as db:
                rows = db.execute(
                    "select event_id from cost_calls where tenant = ?", (tenant,)
                ).fetchall()
            return wanted == {r[0] for r in rows}

        asyncio.run(eventually(recorded, timeout=120))
        asyncio.run(eventually(priced, timeout=60))
        assert asyncio.run(_healthz(health))
        lines.wait_for("dead-lettered", timeout=30)
        assert proc.poll() is None, "llmops dev stopped"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    while True:  # the rest of dev's output, up to its exit
        try:
            lines.seen.append(lines.lines.get(timeout=2))
        except queue.Empty:
            break
    longest = max(len(line) for line in lines.seen)
    assert longest < 20_000, f"a {longest}-character line reached dev's output"
    logged = [
        json.loads(line.split("| ", 1)[1])
        for line in lines.seen
        if "dead-lettered" in line and line.lstrip().startswith("costs")
    ]
    assert len(logged) == 3
    for entry in logged:
        assert "characters cut" in entry["error"]
