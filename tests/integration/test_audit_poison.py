"""Well-formed envelopes that the audit trail cannot store must not block the capture path.

Audit records every envelope it admits, so anything admit() lets through should be storable. When
it is not, the batch is isolated (llmops_shared.batch): the neighbours are recorded and the one
that fails alone is dead-lettered, instead of failing its whole batch on every delivery.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest

from llmops_audit.admission import admit
from llmops_audit.app import create_app
from llmops_audit.config import AuditSettings
from llmops_audit.service import AuditService
from llmops_audit.store import SqlAuditRepository
from llmops_contracts import new_event_id, subjects, wrap
from llmops_contracts.headers import MSG_ID
from llmops_contracts.llm import LlmCallCompleted
from llmops_contracts.registry import InvalidMessage
from tests.conftest import (
    eventually,
    fresh_postgres_database,
    running,
)

SUBJECT = "llmops.evt.llm.call_completed.{}"


def envelope(tenant: str, **changes: Any) -> dict[str, Any]:
    call = LlmCallCompleted(provider="openai", request_model="gpt-4o-mini", latency_ms=1.0)
    body = json.loads(wrap(call, tenant=tenant, source="app://poison").to_json())
    body.update(changes)
    return body


@pytest.fixture
async def database_url(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, uid: str
) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    postgres_url = request.getfixturevalue("postgres_url")
    async with fresh_postgres_database(postgres_url, f"llmops_poison_{uid}") as fresh:
        yield fresh


OVERSIZED = {
    "correlation_id": {"correlation_id": "c" * 300},
    "source": {"source": "app://" + "s" * 300},
    "traceparent": {"traceparent": "00-" + "a" * 40 + "-b-01"},
    "type": {"type": "llmops." + "a" * 150 + ".thing.v1"},
    "actor.user": {"data": {"actor": {"user": "u" * 300}}},
}


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
            ],
        ),
    ],
)
@pytest.mark.parametrize("case", list(OVERSIZED))
async def test_oversized_attributes_are_recorded_or_refused_never_a_failed_batch(
    database_url: str, tenant: str, backend: str, case: str
) -> None:
    repo = SqlAuditRepository(database_url)
    await repo.open()
    try:
        service = AuditService(repo)
        body = envelope(tenant, **OVERSIZED[case])
        try:
            item = admit(SUBJECT.format(tenant), json.dumps(body).encode())
        except InvalidMessage:
            return  # refused at the door (then dead-lettered): fine
        neighbour = admit(SUBJECT.format(tenant), json.dumps(envelope(tenant)).encode())
        assert await service.record([item, neighbour]) == 2
        assert (await service.verify(tenant)).ok
    finally:
        await repo.close()


async def test_an_unhashable_event_is_dead_lettered_and_its_neighbours_recorded(
    own_nats: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    good = [envelope(tenant) for _ in range(2)]
    compact = json.dumps(envelope(tenant), separators=(",", ":"))
    poison = compact.replace('"latency_ms":1.0', '"latency_ms":NaN')
    assert "NaN" in poison
    nc = await nats.connect(own_nats)
    js = nc.jetstream()
    for body in (json.dumps(good[0]), poison, json.dumps(good[1])):
        await js.publish(SUBJECT.format(tenant), body.encode(), headers={MSG_ID: new_event_id()})
    app = create_app(
        AuditSettings(
            nats_url=own_nats,
            database_url=f"sqlite:///{tmp_path / 'audit.db'}",
            durable_prefix=f"audit-{uid}",
            health_port=0,
            batch_timeout_s=0.05,
            signing_key="11" * 32,
        )
    )
    try:
        async with running(app):
            repo = app.service.repository

            async def neighbours_recorded() -> bool:
                # The two good events (the poison's dead letter is recorded too, as its own
                # record, so the count alone would race).
                ids = {r["event_id"] async for r in repo.records(tenant)}
                return {good[0]["id"], good[1]["id"]} <= ids

            await eventually(neighbours_recorded, timeout=10)
        info = await js.stream_info(subjects.DLQ_STREAM)
        assert info.state.messages == 1
    finally:
        await nc.close()
