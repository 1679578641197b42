"""A failing audit write never loses a message: the batch comes back after a backoff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nats

from llmops_audit.app import create_app
from llmops_audit.config import AuditSettings
from llmops_contracts import wrap
from llmops_contracts.tools import ToolCallRequested
from tests.conftest import eventually, running


async def test_a_failed_batch_is_redelivered_not_rejected(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    app = create_app(
        AuditSettings(
            nats_url=nats_url,
            database_url=f"sqlite:///{tmp_path / 'audit.db'}",
            durable_prefix=f"audit-{uid}",
            health_port=0,
            batch_timeout_s=0.05,
            signing_key="11" * 32,
        )
    )
    repository = app.service.repository
    real_append = repository.append
    failures: list[int] = []

    async def flaky_append(records: Any) -> None:
        if not failures:  # the database is away for the first write
            failures.append(len(records))
            raise ConnectionError("database unavailable")
        await real_append(records)

    repository.append = flaky_append
    events = [
        wrap(ToolCallRequested(call_id=f"c{i}", tool_name="t"), tenant=tenant, source="app://t")
        for i in range(20)
    ]
    async with running(app):
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        for event in events:
            await js.publish(event.subject(), event.to_json(), headers={"Nats-Msg-Id": event.id})
        await nc.close()

        async def all_stored() -> bool:
            return await repository.count(tenant) == len(events)

        await eventually(all_stored, timeout=20)
        report = await app.service.verify(tenant)
        stored = [r["event_id"] async for r in repository.records(tenant)]
    assert failures, "the first write should have failed"
    assert report.ok
    assert sorted(stored) == sorted(e.id for e in events)
