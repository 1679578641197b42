"""Logs never block: bounded log values, a dev pump without a line limit, stalled-loop probes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import structlog

from llmops.dev import DevStack
from llmops_shared.health import HealthServer
from llmops_shared.logging import (
    MAX_TRACEBACK_CHARS,
    MAX_VALUE_CHARS,
    BoundValues,
    configure_logging,
    get_logger,
)
from llmops_shared.runtime import ServiceState
from tests.conftest import eventually


def test_long_values_keep_head_and_tail_and_say_how_much_was_cut() -> None:
    event = BoundValues(max_chars=100)(
        None, "info", {"event": "x", "payload": "a" * 60 + "b" * 940}
    )
    text = event["payload"]
    assert len(text) < 160
    assert text.startswith("a" * 60)
    assert text.endswith("b" * 25)
    assert "[900 characters cut]" in text


def test_short_values_and_scalars_are_untouched() -> None:
    original = {"event": "ok", "n": 10**50, "f": 1.5, "s": "s" * 100, "d": {"k": "v"}, "none": None}
    assert BoundValues(max_chars=100)(None, "info", dict(original)) == original


def test_containers_and_bytes_are_bounded_by_their_text() -> None:
    event = BoundValues(max_chars=100)(
        None, "info", {"body": b"\xff" * 1000, "doc": {"k": "v" * 1000}, "items": list(range(999))}
    )
    for key in ("body", "doc", "items"):
        assert isinstance(event[key], str), key
        assert len(event[key]) < 160, key
        assert "characters cut" in event[key]


def test_a_traceback_keeps_its_last_lines_and_bounds_each_line() -> None:
    frames = "".join(f'  File "f{i}.py", line {i}, in g\n' for i in range(2_000))
    traceback = "Traceback (most recent call last):\n" + frames + "ValueError: " + "x" * 50_000
    event = BoundValues()(None, "error", {"event": "boom", "exception": traceback})
    text = event["exception"]
    assert len(text) <= MAX_TRACEBACK_CHARS + 100
    assert "ValueError: xxx" in text  # the error line survives, cut to MAX_VALUE_CHARS
    assert all(len(line) <= MAX_VALUE_CHARS + 100 for line in text.splitlines())


def test_a_configured_service_writes_bounded_lines(capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging("probe", "INFO", "json")
    try:
        get_logger("t").warning("dead-lettered", error="e" * 70_000)
        logging.getLogger("stdlib").error("plain %s", "p" * 70_000)
        try:
            raise ValueError("v" * 70_000)
        except ValueError:
            get_logger("t").exception("failed")
        lines = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers[:] = []
    assert [line["event"][:5] for line in lines] == ["dead-", "plain", "faile"]
    assert all(len(json.dumps(line)) < 12_000 for line in lines)
    assert "characters cut" in lines[0]["error"]
    assert "characters cut" in lines[2]["exception"]


# --- the dev pump ----------------------------------------------------------------------------


async def test_the_dev_pump_echoes_a_70000_character_line_and_everything_after_it(
    tmp_path: Path,
) -> None:
    seen: list[tuple[str, str]] = []
    stack = DevStack(data_dir=tmp_path, echo=lambda name, line: seen.append((name, line)))
    # A child that writes a 70,000-character line (asyncio's readline limit is 64 KiB), then
    # 3 MB more in 1,000 lines: it finishes only if the pump keeps draining its pipe.
    script = (
        "import sys\n"
        "sys.stdout.write('L' * 70000 + '\\n')\n"
        "for i in range(1000): sys.stdout.write(f'{i} ' + 'x' * 3000 + '\\n')\n"
        "sys.stdout.write('tail without newline')\n"
    )
    proc = await stack._spawn("child", [sys.executable, "-c", script])
    assert await asyncio.wait_for(proc.process.wait(), timeout=30) == 0
    assert proc.pump is not None
    await asyncio.wait_for(proc.pump, timeout=10)
    lines = [line for _, line in seen]
    assert lines[0] == "L" * 70_000
    assert [int(line.split()[0]) for line in lines[1:1001]] == list(range(1000))
    assert lines[-1] == "tail without newline"
    assert len(lines) == 1002


async def test_the_dev_pump_splits_a_line_longer_than_its_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llmops.dev

    monkeypatch.setattr(llmops.dev, "MAX_LINE", 1000)
    seen: list[str] = []
    stack = DevStack(data_dir=tmp_path, echo=lambda name, line: seen.append(line))
    proc = await stack._spawn("child", [sys.executable, "-c", "print('z' * 2500)"])
    await asyncio.wait_for(proc.process.wait(), timeout=30)
    assert proc.pump is not None
    await asyncio.wait_for(proc.pump, timeout=10)
    assert "".join(seen) == "z" * 2500
    assert max(map(len, seen)) <= 1000


# --- readiness -------------------------------------------------------------------------------


class _Connected:
    class connection:
        is_connected = True


async def test_readiness_fails_while_the_event_loop_is_stalled() -> None:
    state = ServiceState(stall_after_s=0.2)
    state.broker = _Connected()  # type: ignore[assignment]
    state.started = True
    beat = asyncio.create_task(state.heartbeat())
    try:
        await asyncio.sleep(0)  # the first beat
        assert state.ready
        time.sleep(0.3)  # noqa: ASYNC251 - a deliberate stall: nothing else on this loop runs
        assert not state.ready
        assert state.stalled
        await asyncio.sleep(0.05)  # the loop runs again: the heartbeat catches up
        assert state.ready
    finally:
        beat.cancel()


def _get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    """GET from the health server (blocking: call it off the event loop)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


async def test_the_probes_answer_while_the_event_loop_is_blocked() -> None:
    """The health server runs in a thread of its own: a blocked loop cannot answer probes, so
    a server on it said nothing while stuck, and all was well again by the time it answered."""
    state = ServiceState(stall_after_s=0.2, wedged_after_s=0.6)
    state.broker = _Connected()  # type: ignore[assignment]
    state.started = True
    health = HealthServer("probe", "127.0.0.1", 0, ready=state.not_ready, alive=state.not_alive)
    port = await health.start()
    beat = asyncio.create_task(state.heartbeat())
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    probed = threading.Event()

    def probe_until_both_fail() -> None:  # another thread, while the loop is blocked
        deadline = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < deadline:
            for path in ("/readyz", "/healthz"):
                answer = _get(port, path)
                if answer[0] == 503:
                    seen.setdefault(path, answer)
            time.sleep(0.02)
        probed.set()

    try:
        await asyncio.sleep(0)  # the first beat
        assert await asyncio.to_thread(_get, port, "/readyz") == (
            200,
            {"service": "probe", "status": "ready"},
        )
        prober = threading.Thread(target=probe_until_both_fail)
        prober.start()
        probed.wait(timeout=5)  # blocks the event loop on purpose, until both probes failed
        prober.join()
        assert set(seen) == {"/readyz", "/healthz"}, "no 503 while the loop was blocked"
        body = seen["/readyz"][1]
        assert body["status"] == "not ready"
        assert body["reason"].startswith("the event loop has not run for ")
        assert body["reason"].endswith("(limit 0.2 s)")
        body = seen["/healthz"][1]
        assert body["status"] == "wedged"
        assert body["reason"].endswith("(liveness limit 0.6 s)")
        await eventually(lambda: state.ready)  # the loop runs again: the heartbeat catches up
        assert (await asyncio.to_thread(_get, port, "/readyz"))[0] == 200
        assert (await asyncio.to_thread(_get, port, "/healthz"))[0] == 200
    finally:
        beat.cancel()
        await health.stop()


async def test_readiness_names_why_it_fails_and_liveness_ignores_a_stopped_heartbeat() -> None:
    state = ServiceState(stall_after_s=0.2, wedged_after_s=0.6)
    assert state.not_ready() == "starting"
    state.started = True
    assert state.not_ready() == "not connected to NATS"
    state.broker = _Connected()  # type: ignore[assignment]
    assert state.not_ready() is None
    state.last_beat = state.clock() - 1  # a heartbeat a second old
    assert state.not_alive() is not None
    beat = asyncio.create_task(state.heartbeat())
    await asyncio.sleep(0)
    beat.cancel()  # draining cancels it: a stopped heartbeat is no stall
    with contextlib.suppress(asyncio.CancelledError):
        await beat
    assert state.last_beat is None
    assert state.not_alive() is None
    state.draining = True
    assert state.not_ready() == "draining"


def test_readiness_is_not_judged_on_a_heartbeat_that_never_started() -> None:
    clock: Any = iter(range(100, 10_000, 100)).__next__
    state = ServiceState(stall_after_s=1, clock=clock)
    assert not state.stalled
    state.last_beat = clock()
    assert state.stalled  # 100 s later by this clock
