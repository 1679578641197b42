"""The must-show: SIGKILL the audit process mid-stream, restart it, and nothing is lost or doubled.

50,000 LLM-call events over three tenants are published (pipelined) to the session's nats-server
while ``python -m llmops_audit`` consumes them. Once it has stored between 20% and 80% of them it
is killed with SIGKILL, wherever it is: fetching, chaining, inside a transaction, between commit
and ack, or half way through republishing to the AUDIT stream. A new process then resumes from the
same durable consumers and database. The end state must be exactly 50,000 records, each tenant's
chain contiguous from seq 1 and verifying (checkpoints signed before the kill included), and the
AUDIT stream holding every record once.

Publish order holds across the crash: what the killed process had fetched and not committed is
redelivered only after the ack wait, and the new process waits for it before fetching anything
new, so no event is chained after one published later.

Runs on SQLite and, when ``LLMOPS_TEST_POSTGRES_URL`` is reachable, on a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import nats
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from llmops_audit.checkpoints import Sealer, Signer
from llmops_audit.service import AuditService
from llmops_audit.store import SqlAuditRepository
from llmops_contracts import headers, subjects, wrap
from llmops_contracts.common import Actor
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_shared.db import create_engine
from tests.conftest import NatsServer, fresh_postgres_database
from tests.processes import ServiceProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

T = TypeVar("T")

N = 50_000
KEY = "22" * 32  # the signing key's seed (hex)
DEADLINE_S = 600.0  # generous: the CI machines have 2 cores and run other suites beside this one


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, uid: str
) -> AsyncIterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    async with fresh_postgres_database(postgres_url, f"llmops_sigkill_{uid}") as url:
        yield url


async def until(check: Callable[[], Awaitable[T]], what: str, timeout: float = DEADLINE_S) -> T:
    """Poll ``check`` until it returns a truthy value, failing with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    pytest.fail(f"{what}: not within {timeout:.0f} s (last: {last!r})")


def events(tenants: list[str]) -> list[tuple[str, bytes, dict[str, str]]]:
    """N LLM-call events round-robin over the tenants, as the SDK sends them."""
    out = []
    for i in range(N):
        call = LlmCallCompleted(
            provider="openai",
            request_model="gpt-4o-mini",
            latency_ms=200.5 + i % 1000,
            usage=Usage(input_tokens=900 + i % 50, output_tokens=120),
            actor=Actor(app="sigkill", user=f"u{i % 17}"),
        )
        event = wrap(call, tenant=tenants[i % len(tenants)], source="app://sigkill")
        out.append((event.subject(), event.to_json(), headers.headers_for(event)))
    return out


def late(recorded: list[str], published: list[str]) -> int:
    """How many ids were recorded after an id published later than them."""
    position = {event_id: i for i, event_id in enumerate(published)}
    count, highest = 0, -1
    for event_id in recorded:
        if position[event_id] < highest:
            count += 1
        else:
            highest = position[event_id]
    return count


async def stored_counts(
    engine: Any, tenants: list[str], table: str = "audit_records"
) -> dict[str, int]:
    """Rows per tenant, read beside the running service (none before its schema exists)."""
    placeholders = ", ".join(f":t{i}" for i in range(len(tenants)))
    query = text(
        f"SELECT tenant, count(*) FROM {table} WHERE tenant IN ({placeholders}) GROUP BY tenant"
    )
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(query, {f"t{i}": t for i, t in enumerate(tenants)})
            return {t: int(n) for t, n in rows}
    except DBAPIError:  # the service has not migrated the schema yet
        return {}


async def test_sigkill_mid_stream_then_restart_records_every_event_once(
    nats_server: NatsServer, database_url: str, tmp_path: Path, uid: str
) -> None:
    tenants = [f"k{uid}{suffix}" for suffix in "abc"]
    published = events(tenants)
    durable = f"audit-{uid}"
    audit = ServiceProcess(
        "audit",
        {
            **os.environ,
            "NATS_URL": nats_server.url,
            "LLMOPS_AUDIT_DATABASE_URL": database_url,
            "LLMOPS_AUDIT_DURABLE_PREFIX": durable,
            "LLMOPS_AUDIT_QUERY_QUEUE": durable,
            "LLMOPS_AUDIT_SIGNING_KEY": KEY,
            "LLMOPS_AUDIT_CHECKPOINT_INTERVAL_S": "2",  # signed heads before and after the kill
            # Messages fetched by the killed process are redelivered once this expires.
            "LLMOPS_AUDIT_ACK_WAIT_S": "10",
            "LLMOPS_AUDIT_LOG_LEVEL": "WARNING",
            "LLMOPS_LOG_FORMAT": "json",
        },
        tmp_path,
    )
    engine = create_engine(database_url)
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    started = time.monotonic()
    try:
        audit.start()
        for i in range(0, N, 2000):  # pipelined, acknowledged by the stream
            futures = [
                await js.publish_async(s, b, headers=h) for s, b, h in published[i : i + 2000]
            ]
            await asyncio.gather(*futures)

        async def mid_stream() -> int:
            assert audit.alive(), audit.logs()
            total = sum((await stored_counts(engine, tenants)).values())
            return total if total >= N // 5 else 0

        at_kill = await until(mid_stream, "the first process storing 20% of the events")
        audit.kill()
        stored_at_kill = sum((await stored_counts(engine, tenants)).values())
        assert N // 5 <= stored_at_kill < N * 4 // 5, "killed too late to be mid-stream"

        audit.start()

        async def everything_stored() -> bool:
            assert audit.alive(), audit.logs()
            return sum((await stored_counts(engine, tenants)).values()) >= N

        await until(everything_stored, "all 50,000 events stored after the restart")

        async def consumer_settled() -> bool:
            # Redeliveries of what the killed process fetched arrive after the ack wait; once
            # nothing is pending or unacknowledged they have all been seen (and dropped).
            info = await js.consumer_info(subjects.EVENTS_STREAM, f"{durable}-events")
            return not info.num_pending and not info.num_ack_pending

        await until(consumer_settled, "the capture consumer acknowledging everything")
        counts = await stored_counts(engine, tenants)
        per_tenant = {t: sum(1 for s, _, _ in published if s.endswith(f".{t}")) for t in tenants}
        assert counts == per_tenant, audit.logs()

        async def mirrored() -> bool:
            for tenant in tenants:
                subject = subjects.for_tenant(subjects.AUDIT_RECORDS, tenant)
                info = await js.stream_info(subjects.AUDIT_STREAM, subjects_filter=subject)
                if (info.state.subjects or {}).get(subject, 0) < per_tenant[tenant]:
                    return False
            return True

        await until(mirrored, "the republisher putting every record on the AUDIT stream")

        async def checkpointed() -> bool:
            # A round verifies a chain before it signs its head: on a busy machine the restarted
            # process can store everything before its first round is done.
            return set(await stored_counts(engine, tenants, "audit_checkpoints")) == set(tenants)

        await until(checkpointed, "a signed checkpoint of every tenant's chain")
        assert audit.stop() == 0, audit.logs()
        elapsed = time.monotonic() - started

        # The stored chains, read back with the service's own repository and verifier.
        repository = SqlAuditRepository(database_url)
        await repository.open()
        try:
            service = AuditService(
                repository, checkpointer=Sealer(repository, Signer.from_text(KEY))
            )
            publish_order: dict[str, list[str]] = {t: [] for t in tenants}
            for subject, _, hdrs in published:
                publish_order[subjects.tenant_of(subject)].append(hdrs[headers.MSG_ID])
            recorded_late = 0
            for tenant in tenants:
                records = [r async for r in repository.records(tenant)]
                assert [r["seq"] for r in records] == list(range(1, per_tenant[tenant] + 1))
                ids = [r["event_id"] for r in records]
                assert len(set(ids)) == len(ids) == per_tenant[tenant]
                assert set(ids) == set(publish_order[tenant])
                recorded_late += late(ids, publish_order[tenant])
                report = await service.verify(tenant, all_breaks=True)
                assert report.ok, report.breaks[:5]
                assert report.checked == per_tenant[tenant]
                assert report.checkpoints_checked >= 1  # signatures from both processes hold

                # The AUDIT stream holds each record once (the restart republished from its
                # cursor; a repeat within the de-duplication window is dropped by Nats-Msg-Id).
                subject = subjects.for_tenant(subjects.AUDIT_RECORDS, tenant)
                info = await js.stream_info(subjects.AUDIT_STREAM, subjects_filter=subject)
                assert (info.state.subjects or {}).get(subject) == per_tenant[tenant]
                last = await js.get_last_msg(subjects.AUDIT_STREAM, subject)
                assert last.headers is not None
                assert last.headers[headers.MSG_ID] == f"audit:{tenant}:{per_tenant[tenant]}"
        finally:
            await repository.close()
        # What the killed process had fetched but not committed comes back only after the ack
        # wait; the restarted service waits for it before fetching new events, so every chain is
        # in publish order (without that wait, a whole in-flight batch lands after later events).
        assert recorded_late == 0
        print(
            f"\n{make_url(database_url).get_backend_name()}: killed at {stored_at_kill:,}/{N:,} "
            f"stored (polled {at_kill:,}), {elapsed:.1f} s end to end, "
            f"{recorded_late} events chained after later ones"
        )
    finally:
        with contextlib.suppress(Exception):
            audit.stop()
        await nc.close()
        await engine.dispose()
