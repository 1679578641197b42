"""The must-show: 10,000 events through a real nats-server, with duplicates and redeliveries.

Three tenants; every 20th event is republished under a new ``Nats-Msg-Id`` (JetStream stores the
copy, audit must drop it), some publisher retries reuse the id (JetStream drops those), and the
audit service is stopped half way. While it is down a "crashed" writer takes 300 messages from its
durable consumer, commits them to the same database and naks them without acking, as a process
killed between commit and ack would leave them: the restarted service gets them redelivered.
The end state must be exactly 10,000 records, per tenant contiguous from seq 1 in publish order,
verifying, mirrored record for record on the AUDIT stream, and queryable page by page.

The test runs its own nats-server, so its 10,500 messages neither slow nor disturb the other tests'
audit services (a new durable consumer replays the whole EVENTS stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError

from llmops import Client
from llmops_audit.admission import admit
from llmops_audit.app import create_app
from llmops_audit.config import AuditSettings
from llmops_audit.service import AuditService
from llmops_audit.store import SqlAuditRepository
from llmops_contracts import new_event_id, subjects, wrap
from llmops_contracts.audit import AuditQuery
from llmops_contracts.auditchain import verify_chain
from llmops_contracts.common import Actor
from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import MSG_ID
from llmops_contracts.llm import LlmCallCompleted
from llmops_contracts.registry import parse
from llmops_contracts.tools import ToolCallRequested
from tests.conftest import eventually, running

N = 10_000
HALF = 5_000
CRASHED = 300  # committed by the "crashed" writer, then redelivered
USERS = ("ana", "ben", "chen", "dee")
TOOL = "llmops.tool.call_requested.v1"


def make_events(tenants: list[str]) -> list[Envelope[Any]]:
    """N events over the tenants (unevenly), two types, four users."""
    events = []
    for i in range(N):
        tenant = tenants[0 if i % 7 < 3 else 1 if i % 7 < 5 else 2]
        actor = Actor(user=USERS[i % 4], app=f"app{i % 2}")
        payload: Any
        if i % 5 == 0:
            payload = ToolCallRequested(call_id=f"c{i}", tool_name="search", actor=actor)
        else:
            payload = LlmCallCompleted(
                provider="openai", request_model="gpt-4o-mini", latency_ms=i / 8, actor=actor
            )
        events.append(wrap(payload, tenant=tenant, source="app://volume", correlation_id=f"c{i}"))
    return events


async def publish(js: Any, events: list[Envelope[Any]], copies: list[Envelope[Any]]) -> int:
    """Publish pipelined: each event (its id as Nats-Msg-Id), every 20th again under a new
    Nats-Msg-Id, every 50th retried with the same one; then ``copies`` under new ids.

    Returns how many messages JetStream stored.
    """
    futures = []
    for i, env in enumerate(events):
        body, subject = env.to_json(), env.subject()
        futures.append(await js.publish_async(subject, body, headers={MSG_ID: env.id}))
        if i % 20 == 7:  # a duplicate JetStream cannot see: audit must drop it
            futures.append(await js.publish_async(subject, body, headers={MSG_ID: new_event_id()}))
        if i % 50 == 11:  # a publisher retry: JetStream drops it
            futures.append(await js.publish_async(subject, body, headers={MSG_ID: env.id}))
    for env in copies:
        headers = {MSG_ID: new_event_id()}
        futures.append(await js.publish_async(env.subject(), env.to_json(), headers=headers))
    acks = await asyncio.gather(*futures)
    return sum(not ack.duplicate for ack in acks)


async def distinct(repo: SqlAuditRepository, tenants: list[str]) -> int:
    return sum([await repo.count(t) for t in tenants])


async def crash_after_commit(url: str, settings: AuditSettings, n: int) -> list[str]:
    """Take ``n`` messages from the audit durable, commit them, and nak them (never ack)."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    psub = await js.pull_subscribe_bind(
        durable=f"{settings.durable_prefix}-events", stream=subjects.EVENTS_STREAM
    )
    messages: list[Any] = []
    while len(messages) < n:
        messages += await psub.fetch(n - len(messages), timeout=5)
    repo = SqlAuditRepository(settings.database_url)
    await repo.open()
    try:
        service = AuditService(repo)
        items = [admit(m.subject, m.data) for m in messages]
        await service.record(items)
    finally:
        await repo.close()
    for msg in messages:
        assert msg.metadata.num_delivered == 1
        await msg.nak()  # "crashed" before the ack: the server redelivers them
    await psub.unsubscribe()
    await nc.close()
    return [item.event_id for item in items]


async def read_audit_stream(js: Any, tenant: str, n: int) -> list[dict[str, Any]]:
    """Every record on ``llmops.audit.<tenant>``, through an ordered consumer."""
    subject = subjects.for_tenant(subjects.AUDIT_RECORDS, tenant)
    sub = await js.subscribe(
        subject,
        stream=subjects.AUDIT_STREAM,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.ALL,
    )
    received = []
    try:
        while len(received) < n:
            msg = await sub.next_msg(timeout=5)
            received.append(
                parse(msg.data, subject=msg.subject).data.model_dump(exclude={"event_ref"})
            )
    finally:
        await sub.unsubscribe()
    info = await js.stream_info(subjects.AUDIT_STREAM, subjects_filter=subject)
    assert info.state.subjects == {subject: n}  # and nothing more
    return received


async def republished_up_to(js: Any, tenant: str, seq: int) -> bool:
    subject = subjects.for_tenant(subjects.AUDIT_RECORDS, tenant)
    with contextlib.suppress(NotFoundError):
        last = await js.get_last_msg(subjects.AUDIT_STREAM, subject)
        return bool(parse(last.data).data.seq == seq)
    return False


async def query_all(client: Client, tenant: str, **filters: Any) -> list[dict[str, Any]]:
    """Page through the query RPC with the cursor."""
    rows: list[dict[str, Any]] = []
    after = 0
    while True:
        reply = await client.request(
            AuditQuery(after_seq=after, **filters), tenant=tenant, timeout=10
        )
        rows += [r.model_dump(exclude={"event_ref"}) for r in reply.data.records]
        if reply.data.next_after_seq is None:
            return rows
        assert reply.data.next_after_seq == rows[-1]["seq"] > after
        after = reply.data.next_after_seq


@pytest.mark.timeout(300)  # ~20 s on an idle 2-core machine; generous for a loaded one
async def test_ten_thousand_events_with_duplicates_and_redeliveries(
    own_nats: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    started = time.monotonic()
    tenants = [f"{tenant}-{i}" for i in range(3)]
    settings = AuditSettings(
        nats_url=own_nats,
        database_url=f"sqlite:///{tmp_path / 'audit.db'}",
        durable_prefix=f"audit-{uid}",
        health_port=0,
        batch_size=500,
        batch_timeout_s=0.05,
        signing_key="11" * 32,
        checkpoint_interval_s=0.25,
        # The restart waits for the "crashed" writer's unacknowledged messages up to one ack
        # wait (see docs/audit.md, publish order across a crash): keep that short here.
        ack_wait_s=5,
    )
    events = make_events(tenants)
    nc = await nats.connect(own_nats)
    js = nc.jetstream()

    # Part one, captured live; then a graceful stop.
    first = create_app(settings)
    async with running(first):
        stored = await publish(js, events[:HALF], [])
        assert stored == HALF + HALF // 20  # the retries were dropped, the new-id copies not
        await eventually(lambda: distinct_is(first, tenants, HALF), timeout=90)

    # While audit is down: part two and copies of part one pile up, and a writer "crashes"
    # between committing 300 of them and acking.
    await publish(js, events[HALF:8_000], events[:HALF:25])
    crashed = list(dict.fromkeys(await crash_after_commit(own_nats, settings, CRASHED)))
    assert crashed == [e.id for e in events[HALF : HALF + len(crashed)]]  # the next in line

    # Restarted on the same database and durable consumers: the nak'd messages come back first.
    second = create_app(settings)
    async with running(second):
        await publish(js, events[8_000:], events[HALF : HALF + 100])  # and live traffic again
        await eventually(lambda: distinct_is(second, tenants, N), timeout=90)
        repo = second.service.repository
        for t in tenants:
            # Wait for a signed checkpoint of the head and for the AUDIT stream to catch up.
            n = await repo.count(t)
            await eventually(lambda t=t, n=n: head_signed(repo, t, n), timeout=10)
            await eventually(lambda t=t, n=n: republished_up_to(js, t, n), timeout=90)

        async with await Client.connect(own_nats, source="app://volume-test") as client:
            queried = {t: await query_all(client, t, limit=500) for t in tenants}
            tools = await query_all(client, tenants[0], types=[TOOL], limit=300)
            ben = await query_all(client, tenants[1], user="ben", limit=250)
            ben_tools = await query_all(client, tenants[2], user="ben", types=[TOOL])

        reports = {t: await second.service.verify(t) for t in tenants}
        db = {t: [r async for r in repo.records(t)] for t in tenants}
        assert await repo.count(f"{tenant}-none") == 0

    # Exactly 10,000 records, contiguous per tenant, in the order events were first published.
    assert sum(len(records) for records in db.values()) == N
    for t in tenants:
        expected = [e.id for e in events if e.tenant == t]
        records = db[t]
        assert [r["seq"] for r in records] == list(range(1, len(expected) + 1))
        assert [r["event_id"] for r in records] == expected
        assert reports[t].ok, reports[t].breaks
        assert reports[t].checked == len(expected)
        assert reports[t].checkpoints_checked >= 1

    # The AUDIT stream holds every record once, in order, and verifies on its own.
    for t in tenants:
        received = await read_audit_stream(js, t, len(db[t]))
        assert received == db[t]
        report = verify_chain(received)
        assert report.ok, report.breaks
        assert report.checked == len(db[t])
    await nc.close()

    # The query RPC pages through everything, and filters by type and user.
    for t in tenants:
        assert queried[t] == db[t]
    assert tools == [r for r in db[tenants[0]] if r["event_type"] == TOOL]
    assert len(tools) > 300  # more than one page
    assert ben == [r for r in db[tenants[1]] if r["event"]["data"]["actor"]["user"] == "ben"]
    assert ben_tools == [
        r
        for r in db[tenants[2]]
        if r["event_type"] == TOOL and r["event"]["data"]["actor"]["user"] == "ben"
    ]
    assert ben_tools, "the filter combination should match something"
    print(f"volume test took {time.monotonic() - started:.1f} s")


async def distinct_is(app: Any, tenants: list[str], n: int) -> bool:
    return await distinct(app.service.repository, tenants) == n


async def head_signed(repo: SqlAuditRepository, tenant: str, seq: int) -> bool:
    return any(c["seq"] == seq for c in await repo.checkpoints(tenant))
