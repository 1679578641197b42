"""Audit test fixtures: an in-memory fake of the repository port, and fresh PostgreSQL databases.

The fake follows the SQL adapter's semantics (it runs the same abstract suite in
``test_audit_repository.py``), so the service's unit tests exercise real behaviour, not mocks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from llmops_audit.chain import ChainConflict, Head, NewRecord
from llmops_audit.checkpoints import Signer
from llmops_contracts.audit import AuditQuery
from llmops_contracts.auditchain import key_id_for
from tests.conftest import fresh_postgres_database

#: The audit service's signing key in unit tests (a fixed seed: reproducible checkpoints).
SIGNER = Signer.from_text("11" * 32)


@dataclass
class StoredRow:
    """One stored record with the filter columns the SQL table keeps beside it."""

    record: dict[str, Any]
    source: str
    time: datetime | None
    trace_id: str | None
    correlation_id: str | None
    user: str | None
    app: str | None

    @property
    def tenant(self) -> str:
        return str(self.record["tenant"])

    @property
    def seq(self) -> int:
        return int(self.record["seq"])


class FakeAuditRepository:
    """The append-only audit port in memory (a fake, not a mock)."""

    def __init__(self) -> None:
        self.rows: list[StoredRow] = []
        self.saved_checkpoints: list[dict[str, Any]] = []
        self.transactions = 0  # committed appends

    async def heads(self, tenants: Sequence[str]) -> dict[str, Head]:
        out: dict[str, Head] = {}
        for row in self.rows:
            if row.tenant in tenants and (row.tenant not in out or row.seq > out[row.tenant].seq):
                out[row.tenant] = Head(row.seq, row.record["hash"])
        return out

    async def known_ids(self, tenant: str, event_ids: Sequence[str]) -> set[str]:
        wanted = set(event_ids)
        return {
            r.record["event_id"]
            for r in self.rows
            if r.tenant == tenant and r.record["event_id"] in wanted
        }

    async def append(self, records: Sequence[NewRecord]) -> None:
        seqs = {(r.tenant, r.seq) for r in self.rows}
        ids = {(r.tenant, r.record["event_id"]) for r in self.rows}
        for new in records:  # all or nothing, like one transaction
            seq_key, id_key = (new.tenant, new.seq), (new.tenant, new.doc["event_id"])
            if seq_key in seqs or id_key in ids:
                raise ChainConflict(f"unique violation on {seq_key} or {id_key}")
            seqs.add(seq_key)
            ids.add(id_key)
        for new in records:
            stored = json.loads(json.dumps(new.doc))  # stored, not shared: like a database
            stored["hash"] = new.hash
            self.rows.append(
                StoredRow(
                    stored,
                    new.source,
                    new.time,
                    new.trace_id,
                    new.correlation_id,
                    new.user,
                    new.app,
                )
            )
        self.transactions += 1

    async def query(self, tenant: str, query: AuditQuery) -> list[dict[str, Any]]:
        def matches(row: StoredRow) -> bool:
            if row.tenant != tenant or row.seq <= query.after_seq:
                return False
            if query.types and row.record["event_type"] not in query.types:
                return False
            if query.since is not None and (row.time is None or row.time < query.since):
                return False
            if query.until is not None and (row.time is None or row.time >= query.until):
                return False
            wanted = (
                (row.trace_id, query.trace_id),
                (row.correlation_id, query.correlation_id),
                (row.user, query.user),
                (row.app, query.app),
                (row.source, query.source),
            )
            return all(want is None or have == want for have, want in wanted)

        found = sorted((r for r in self.rows if matches(r)), key=lambda r: r.seq)
        return [json.loads(json.dumps(r.record)) for r in found[: query.limit]]

    async def records(
        self, tenant: str, after_seq: int = 0, *, columns: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        for row in sorted(self.rows, key=lambda r: r.seq):
            if row.tenant == tenant and row.seq > after_seq:
                record = json.loads(json.dumps(row.record))
                if columns:
                    record["columns"] = {
                        "source": row.source,
                        "time": row.time,
                        "trace_id": row.trace_id,
                        "correlation_id": row.correlation_id,
                        "actor_user": row.user,
                        "actor_app": row.app,
                    }
                yield record

    async def tenants(self) -> list[str]:
        return sorted({r.tenant for r in self.rows})

    async def checkpoints(self, tenant: str) -> list[dict[str, Any]]:
        return [dict(c) for c in self.saved_checkpoints if c["tenant"] == tenant]

    async def add_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.saved_checkpoints.append(dict(checkpoint))

    async def purge(
        self, tenant: str, before: str, sign: Callable[[Head], Awaitable[dict[str, Any]]]
    ) -> tuple[int, dict[str, Any] | None]:
        old = [r for r in self.rows if r.tenant == tenant and r.record["recorded_at"] < before]
        if not old:
            return 0, None
        last = max(old, key=lambda r: r.seq)
        checkpoint = await sign(Head(last.seq, last.record["hash"]))
        self.saved_checkpoints.append(dict(checkpoint))
        keep = [r for r in self.rows if not (r.tenant == tenant and r.seq <= last.seq)]
        purged = len(self.rows) - len(keep)
        self.rows = keep
        return purged, checkpoint


class FakeLedger:
    """The published ledger (AUDIT stream and key bucket) in memory."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []
        self.subjects: list[str] = []  # the tenant token of each one's subject
        self.keys: dict[str, dict[str, Any]] = {}

    async def publish(self, checkpoint: dict[str, Any]) -> None:
        self.inject(checkpoint["tenant"], checkpoint)

    def inject(self, tenant: str, data: dict[str, Any]) -> None:
        """Put any message on the tenant's checkpoint subject (as someone with access could)."""
        self.published.append(dict(data))
        self.subjects.append(tenant)

    async def checkpoints(self, tenant: str, after: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Like the stream: positions are of every tenant's messages, 1 for the first."""
        pairs = list(zip(self.published, self.subjects, strict=True))[after:]
        mine = [dict(c) for c, t in pairs if t == tenant]
        return mine, len(self.published) if mine else after

    async def tenants(self) -> list[str]:
        return sorted(set(self.subjects))

    async def publish_key(self, key: dict[str, Any]) -> None:
        self.keys.setdefault(key["key_id"], dict(key))

    async def public_keys(self) -> list[bytes]:
        found = [bytes.fromhex(k["public_key"]) for k in self.keys.values()]
        return [key for key in found if key_id_for(key) in self.keys]


@pytest.fixture
def fake_ledger() -> FakeLedger:
    """An empty in-memory ledger."""
    return FakeLedger()


@pytest.fixture
def fake_repository() -> FakeAuditRepository:
    """An empty in-memory audit repository."""
    return FakeAuditRepository()


@pytest.fixture
async def postgres_database(postgres_url: str, uid: str) -> AsyncIterator[str]:
    """URL of a fresh PostgreSQL database for one test."""
    async with fresh_postgres_database(postgres_url, f"llmops_test_{uid}") as url:
        yield url


@pytest.fixture(scope="session")
async def shared_postgres_database(postgres_url: str) -> AsyncIterator[str]:
    """URL of a PostgreSQL database migrated from scratch once per session (tests use own tenants)."""
    async with fresh_postgres_database(postgres_url, f"llmops_test_{uuid.uuid4().hex[:10]}") as url:
        yield url
