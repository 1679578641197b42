"""The clock port, and the lint check that keeps every other wall-clock read out."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from llmops_shared.clock import SYSTEM_CLOCK, Clock, FixedClock, ShiftedClock, require_utc

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "tools/check_clock.py"
LAST_MS_OF_2026 = datetime(2026, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)


def _check(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), str(tree)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _copy_product(tmp_path: Path) -> Path:
    """A copy of every package's sources, as ``make lint`` checks them."""
    for part in ("contracts/src", "shared/src", "client/src", "services"):
        shutil.copytree(
            ROOT / part,
            tmp_path / part,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "migrations"),
        )
    return tmp_path


def test_fixed_clock_stands_still_until_moved() -> None:
    clock = FixedClock(LAST_MS_OF_2026)
    assert isinstance(clock, Clock)
    assert clock.now() == clock.now() == LAST_MS_OF_2026
    assert clock.advance(milliseconds=1) == datetime(2027, 1, 1, tzinfo=UTC)
    assert clock.advance(timedelta(days=59)) == datetime(2027, 3, 1, tzinfo=UTC)
    clock.set(datetime(2028, 2, 29, 12, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2028, 2, 29, 10, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 12, 31))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        require_utc(datetime(2026, 12, 31))  # noqa: DTZ001


def test_shifted_clock_runs_at_the_pace_of_its_timer() -> None:
    ticks = [100.0]
    clock = ShiftedClock(LAST_MS_OF_2026, monotonic=lambda: ticks[0])
    assert clock.now() == LAST_MS_OF_2026
    ticks[0] += 0.001
    assert clock.now() == datetime(2027, 1, 1, tzinfo=UTC)


def test_the_system_clock_is_aware_utc() -> None:
    assert isinstance(SYSTEM_CLOCK, Clock)
    assert SYSTEM_CLOCK.now().tzinfo is UTC


def test_the_real_tree_reads_no_wall_clock_outside_the_port() -> None:
    result = _check(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("from datetime import UTC, datetime\nx = datetime.now(UTC)\n", "datetime.datetime.now"),
        ("import datetime as dt\nx = dt.datetime.utcnow()\n", "datetime.datetime.utcnow"),
        ("from datetime import date\nx = date.today()\n", "datetime.date.today"),
        ("import time\nx = time.time()\n", "time.time"),
        ("from time import time as wall\nx = wall()\n", "time.time"),
        ("from time import time_ns\nx = time_ns()\n", "time.time_ns"),
    ],
)
def test_a_new_wall_clock_read_in_a_service_fails_lint(
    tmp_path: Path, source: str, name: str
) -> None:
    tree = _copy_product(tmp_path)
    assert _check(tree).returncode == 0  # the copy is clean, so the probe alone fails it
    probe = tree / "services/costs/src/llmops_costs/probe.py"
    probe.write_text('"""A module that reads the wall clock."""\n\n' + source)
    result = _check(tree)
    assert result.returncode == 1
    assert f"services/costs/src/llmops_costs/probe.py:4: {name}() reads the wall clock" in (
        result.stdout
    )


def test_a_justified_read_and_monotonic_timers_pass(tmp_path: Path) -> None:
    probe = tmp_path / "services/x/src/llmops_x/timing.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "import time\nfrom datetime import UTC, datetime\n"
        "started = time.monotonic()\nspan = time.perf_counter()\n"
        "x = datetime.now(UTC)  # clock-ok: compared with a server's own timestamps\n"
    )
    assert _check(tmp_path).returncode == 0
    probe.write_text("from datetime import UTC, datetime\nx = datetime.now(UTC)  # clock-ok:\n")
    assert _check(tmp_path).returncode == 1, "an escape must give its reason"


def test_make_lint_runs_the_clock_check() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lint_block = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "tools/check_clock.py" in lint_block
    assert '"DTZ"' in (ROOT / "pyproject.toml").read_text()
