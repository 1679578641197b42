"""The audit repository port, one suite run against every adapter (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from llmops_audit.service import AuditService, Entry
from llmops_audit.store import SqlAuditRepository
from llmops_contracts import wrap
from llmops_contracts.tools import ToolCallRequested


@pytest.fixture(params=["sqlite", "postgres"])
async def repository(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqlAuditRepository]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    repo = SqlAuditRepository(url)
    await repo.open()
    yield repo
    await repo.close()


def _entry(tenant: str, n: int) -> Entry:
    message = wrap(
        ToolCallRequested(call_id=f"c{n}", tool_name="search", arguments={"n": n}),
        tenant=tenant,
        source="app://t",
    )
    return Entry(message.subject(), message)


async def test_append_is_idempotent_on_the_event_id(
    repository: SqlAuditRepository, tenant: str
) -> None:
    entries = [_entry(tenant, n) for n in range(5)]
    assert await repository.append(entries[:3]) == 3
    assert await repository.append(entries) == 2  # the first three are already stored
    assert await repository.count(tenant) == 5
    stored = await repository.get(entries[4].message.id)
    assert stored is not None
    assert stored.tenant == tenant
    assert stored.envelope["data"]["arguments"] == {"n": 4}
    assert stored.time == entries[4].message.time


async def test_the_service_drops_duplicates_inside_one_batch(
    repository: SqlAuditRepository, tenant: str
) -> None:
    entry = _entry(tenant, 1)
    assert await AuditService(repository).record([entry, entry, entry]) == 1
    assert await repository.count(tenant) == 1
    assert await repository.get("01900000-0000-7000-8000-00000000dead") is None
