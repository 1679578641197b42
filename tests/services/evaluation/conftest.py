"""Evaluation test fixtures: in-memory fakes of the service's own ports.

``FakeRunStore`` keeps the run-store port's promises: it runs the same abstract suite as the SQL
adapter (``test_run_store.py``), so the service's unit tests rest on real behaviour, not mocks.
The shared ports' fakes (the publisher) are in ``tests/fakes.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

import pytest

from llmops_evaluation.service import CompletedRun, GoldenCase, RunRejected


class FakeGoldenSets:
    """Golden sets held in a dict; a missing name is rejected like a missing file."""

    def __init__(self, sets: dict[str, list[GoldenCase]]) -> None:
        self.sets = sets
        self.loads = 0

    async def load(self, name: str, version: str | None = None) -> list[GoldenCase]:
        self.loads += 1
        if name not in self.sets:
            raise RunRejected(f"golden set {name!r} not found")
        return self.sets[name]


class FakeRunStore:
    """Completed runs in a dict."""

    def __init__(self) -> None:
        self.runs: dict[tuple[str, str], CompletedRun] = {}

    async def is_completed(self, tenant: str, run_id: str) -> bool:
        return (tenant, run_id) in self.runs

    async def mark_completed(self, run: CompletedRun) -> None:
        # Kept in UTC, as the SQL adapter reads every time back.
        stored = replace(run, completed_at=run.completed_at.astimezone(UTC))
        self.runs.setdefault((run.tenant, run.run_id), stored)

    async def get(self, tenant: str, run_id: str) -> CompletedRun | None:
        return self.runs.get((tenant, run_id))


@pytest.fixture
def fake_run_store() -> FakeRunStore:
    """An empty in-memory run store."""
    return FakeRunStore()
