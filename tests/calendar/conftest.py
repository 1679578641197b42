"""Fixtures of the calendar-edge suite: the edge instant, and a costs service on a fixed clock.

The costs service runs with its real SQL repository on SQLite and on PostgreSQL (when
``LLMOPS_TEST_POSTGRES_URL`` reaches one), like ``tests/services/costs/test_costs_repository.py``.
PostgreSQL tests share one database created for the module (a fresh database per test would
cost half a second each): each test has its own tenant, and every assertion reads its tenant only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmops_contracts.envelope import Envelope
from llmops_contracts.llm import Usage
from llmops_costs.anomalies import detect_spike
from llmops_costs.pricing import PriceTable
from llmops_costs.service import CostsOptions, CostsService
from llmops_costs.store import SqlCostRepository
from llmops_shared.clock import FixedClock
from tests.calendar.edges import EDGES, Edge
from tests.conftest import fresh_postgres_database
from tests.fakes import FakePublisher
from tests.services.costs.fakes import FakeMetrics
from tests.services.costs.support import call

#: The model the suite prices: one micro-dollar per input token and a tenth of a cent per output
#: token, so every cost is an exact literal (100 input + 23 output tokens cost $0.023100).
MODEL, PROVIDER = "edge-model", "openai"
PRICES = PriceTable.from_dict(
    {
        "version": "calendar-1",
        "models": {
            MODEL: {
                "provider": PROVIDER,
                "tiers": {"standard": [{"input": "0.000001", "output": "0.001"}]},
            }
        },
    }
)


#: How old an outbox event must be before any replica publishes it.
OUTBOX_GRACE_S = 10.0


def usage_costing(micro_dollars: int) -> Usage:
    """Usage that :data:`PRICES` prices at exactly ``micro_dollars`` millionths of a dollar."""
    return Usage(input_tokens=micro_dollars, output_tokens=0)


@pytest.fixture(params=EDGES, ids=[e.name for e in EDGES])
def edge(request: pytest.FixtureRequest) -> Edge:
    """One of the four calendar edges."""
    edge: Edge = request.param
    return edge


@pytest.fixture(scope="module")
async def costs_postgres(postgres_url: str) -> AsyncIterator[str]:
    """A PostgreSQL database for the module's costs tests (each test uses its own tenant)."""
    async with fresh_postgres_database(postgres_url, f"calendar_{uuid.uuid4().hex[:10]}") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def costs_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database of one costs test: a SQLite file of its own, or the module's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'costs.db'}"
    url: str = request.getfixturevalue("costs_postgres")
    return url


@dataclass
class Costs:
    """A costs service on its real repository, standing at an edge on a fixed clock."""

    service: CostsService
    repository: SqlCostRepository
    clock: FixedClock
    sink: FakePublisher
    tenant: str

    async def record(self, *calls: Envelope[Any]) -> int:
        """Price and store a batch of call events."""
        return await self.service.record_batch(list(calls))

    def call(self, micro_dollars: int, at: Any, **fields: Any) -> Envelope[Any]:
        """A call of the tenant dated ``at`` that costs exactly ``micro_dollars`` µ$."""
        return call(self.tenant, MODEL, usage_costing(micro_dollars), time=at, **fields)


async def open_costs(
    url: str, tenant: str, clock: FixedClock, prices: PriceTable = PRICES
) -> AsyncIterator[Costs]:
    """A :class:`Costs` on ``url`` (the caller closes it by finishing the iterator)."""
    repository = SqlCostRepository(url)
    await repository.open()
    sink = FakePublisher()
    service = CostsService(
        repository,
        sink,
        FakeMetrics(),
        bundled_prices=lambda: prices,
        detect_spike=detect_spike,
        # Every anomaly check runs (its interval is a monotonic timer, not business time).
        options=CostsOptions(anomaly_interval_s=0, outbox_grace_s=OUTBOX_GRACE_S),
        clock=clock,
    )
    try:
        yield Costs(service, repository, clock, sink, tenant)
    finally:
        await repository.close()


@pytest.fixture
async def costs(costs_url: str, edge: Edge, tenant: str) -> AsyncIterator[Costs]:
    """A costs service whose clock stands at the edge instant."""
    async for opened in open_costs(costs_url, tenant, FixedClock(edge.at)):
        yield opened
