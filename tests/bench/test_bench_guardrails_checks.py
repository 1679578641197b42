"""The guardrails checks benchmark still runs end to end and writes both tables (slow suite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_guardrails_checks_benchmark_runs_and_writes_its_results(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LLMOPS_BENCH_RESULTS": str(tmp_path),
        "LLMOPS_BENCH_CHECKS_RUNS": "5",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_guardrails_checks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    checks = json.loads((tmp_path / "guardrails_checks.json").read_text())
    assert {r["check"] for r in checks["rows"]} >= {
        "terms",
        "refusal",
        "prompt_leakage",
        "groundedness",
        "json_schema",
        "url_allowlist",
        "length",
        "tool_policy",
    }
    overhead = json.loads((tmp_path / "guardrails_checks_guard_overhead.json").read_text())
    paths = {(r["detector"], r["path"]) for r in overhead["rows"]}
    assert ("injection", "GuardRunner (AsyncGuard)") in paths
    assert all(r["us_per_1kb"] > 0 for r in overhead["rows"])
