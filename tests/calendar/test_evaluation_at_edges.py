"""The evaluation service at calendar edges: a run completes at the clock's instant, everywhere.

``completed_at`` in the run store and the ``time`` of the events the run publishes are the same
instant, the service's clock (a replay on a fixed clock must not stamp its events with the day
it runs), and SQLite keeps it to the microsecond and in UTC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from llmops_contracts import wrap
from llmops_contracts.evaluation import RunEval
from llmops_evaluation.service import EvaluationService, GoldenCase
from llmops_evaluation.store import SqlRunStore
from llmops_shared.clock import FixedClock
from tests.calendar.edges import Edge
from tests.fakes import FakePublisher
from tests.services.evaluation.conftest import FakeGoldenSets

CASES = [
    GoldenCase("fr", "Capital of France?", "Paris", "Paris."),
    GoldenCase("it", "Capital of Italy?", "Rome", "Milan"),
]


@pytest.fixture
async def runs(tmp_path: Path) -> AsyncIterator[SqlRunStore]:
    store = SqlRunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def test_a_run_completes_at_the_clocks_instant(
    runs: SqlRunStore, edge: Edge, tenant: str
) -> None:
    published = FakePublisher()
    service = EvaluationService(published, FakeGoldenSets({"qa": CASES}), runs, FixedClock(edge.at))
    # The command was sent a minute before: its own time stays its own.
    sent = edge.at - timedelta(minutes=1)
    command = wrap(RunEval(run_id="r1", golden_set="qa"), tenant=tenant, source="ci://t", time=sent)
    completed = await service.run(command)
    assert completed is not None

    stored = await runs.get(tenant, "r1")
    assert stored is not None
    assert stored.completed_at == edge.at
    assert stored.completed_at.utcoffset() == timedelta(0)
    assert [(e.type.split(".")[2], e.time) for e in published.published] == [
        ("case_scored", edge.at),
        ("case_scored", edge.at),
        ("run_completed", edge.at),
    ]
    assert command.time == sent
