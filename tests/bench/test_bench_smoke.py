"""The benchmarks still run: each one end to end on a few hundred events (slow suite).

Numbers are not checked here (speed is the benchmarks' business, never a test's); what is
checked is that every benchmark completes, verifies its own results and writes its table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("module", "rows"),
    [("bench_wire", 3), ("bench_audit", 6), ("bench_costs", 4)],
)
def test_benchmark_runs_and_writes_its_results(module: str, rows: int, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LLMOPS_BENCH_RESULTS": str(tmp_path),
        "LLMOPS_BENCH_AUDIT_N": "600",
        "LLMOPS_BENCH_COSTS_N": "600",
        "LLMOPS_BENCH_COSTS_CHECKS": "200",
        "PYTHONPATH": str(ROOT),
    }
    if os.environ.get("LLMOPS_TEST_POSTGRES_URL"):  # CI's server; else the bench's default
        env["LLMOPS_BENCH_POSTGRES_URL"] = os.environ["LLMOPS_TEST_POSTGRES_URL"]
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    name = module.removeprefix("bench_")
    result = json.loads((tmp_path / f"{name}.json").read_text())
    assert result["benchmark"] == name
    # Audit has one block of rows per backend: SQLite always, PostgreSQL when reachable.
    assert len(result["rows"]) in {rows, 2 * rows}
