"""The audit trail at calendar edges: record stamps, checkpoint times, purge cut-offs, event time.

The service runs on a fixed clock with the in-memory fake repository (the one its unit tests use)
and with the SQL repository on SQLite and PostgreSQL. ``recorded_at`` and checkpoint
``created_at`` are the clock's instant in the trail's fixed text format, compared as text by a
purge: the expected stamps are written out in ``tests/calendar/edges.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from llmops_audit.admission import Incoming, admit
from llmops_audit.checkpoints import Sealer, Signer
from llmops_audit.service import AuditService
from llmops_audit.store import SqlAuditRepository
from llmops_contracts import wrap
from llmops_contracts.audit import AuditQuery
from llmops_contracts.llm import LlmCallCompleted
from llmops_shared.clock import FixedClock
from tests.calendar.edges import Edge
from tests.conftest import fresh_postgres_database
from tests.services.audit.conftest import FakeAuditRepository

SIGNER = Signer.from_text("88" * 32)


@pytest.fixture(scope="module")
async def audit_postgres(postgres_url: str) -> AsyncIterator[str]:
    """One PostgreSQL database for the module's tests (each test has its own tenant)."""
    name = f"calendar_audit_{uuid.uuid4().hex[:10]}"
    async with fresh_postgres_database(postgres_url, name) as url:
        yield url


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def audit_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Where the test's repository keeps the trail (None: the in-memory fake)."""
    if request.param == "fake":
        return None
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.db'}"
    url: str = request.getfixturevalue("audit_postgres")
    return url


@pytest.fixture
async def repository(audit_url: str | None) -> AsyncIterator[Any]:
    if audit_url is None:
        yield FakeAuditRepository()
        return
    store = SqlAuditRepository(audit_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def arriving(tenant: str, at: datetime) -> Incoming:
    """A call event dated ``at``, as the capture consumer admits it from the wire."""
    envelope = wrap(
        LlmCallCompleted(provider="openai", request_model="m", latency_ms=1),
        tenant=tenant,
        source="app://calendar",
        time=at,
    )
    return admit(envelope.subject(), envelope.to_json())


async def stamps(repository: Any, tenant: str) -> list[str]:
    return [r["recorded_at"] async for r in repository.records(tenant)]


async def test_stamps_checkpoints_and_purge_cut_offs_at_the_edge(
    repository: Any, edge: Edge, tenant: str
) -> None:
    clock = FixedClock(edge.at)
    sealer = Sealer(repository, SIGNER, clock=clock)
    service = AuditService(sealer.watch(repository), checkpointer=sealer, clock=clock)
    assert await service.record([arriving(tenant, edge.at)]) == 1
    await service.checkpoint_heads()
    [periodic] = await repository.checkpoints(tenant)
    assert (periodic["kind"], periodic["created_at"]) == ("periodic", edge.stamp)

    # A record stamped exactly at the cut-off is not before it: kept (whatever the zone the
    # cut-off is given in).
    assert await service.purge(tenant, edge.at) == (0, None)
    assert await service.purge(tenant, edge.at.astimezone(timezone(timedelta(hours=-5)))) == (
        0,
        None,
    )

    clock.advance(edge.step)
    assert await service.record([arriving(tenant, edge.next_midnight)]) == 1
    assert await stamps(repository, tenant) == [edge.stamp, edge.next_stamp]

    # A cut-off at the next midnight purges the record of the edge and keeps midnight's.
    purged, checkpoint = await service.purge(tenant, edge.next_midnight)
    assert purged == 1
    assert checkpoint is not None
    assert (checkpoint["kind"], checkpoint["seq"], checkpoint["created_at"]) == (
        "purge",
        1,
        edge.next_stamp,
    )
    assert await stamps(repository, tenant) == [edge.next_stamp]
    report = await service.verify(tenant)
    assert report.ok, report


async def test_queries_select_by_event_time_either_side_of_midnight(
    repository: Any, edge: Edge, tenant: str
) -> None:
    # Both events are recorded after midnight; each is found on its own side of it.
    service = AuditService(repository, clock=FixedClock(edge.next_midnight + timedelta(hours=1)))
    await service.record(
        [
            arriving(tenant, edge.at),
            arriving(tenant, edge.next_midnight),
            arriving(tenant, edge.next_midnight - timedelta(microseconds=1)),
        ]
    )

    async def seqs(**window: datetime) -> list[int]:
        rows, _, _ = await service.query(tenant, AuditQuery(**window))
        return [int(r["seq"]) for r in rows]

    assert await seqs(until=edge.next_midnight) == [1, 3]
    assert await seqs(since=edge.next_midnight) == [2]
    assert await seqs(since=edge.at, until=edge.at + timedelta(microseconds=1)) == [1]
    assert await seqs(since=edge.day[0], until=edge.day[1]) == [1, 3]
