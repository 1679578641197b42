"""Batch killers against a real nats-server: one bad message never costs its neighbours.

Each case publishes 300 valid LLM calls and one batch killer with a raw nats-py publisher (not
the project's client), *before* costs and audit start, so the killer sits in the middle of the
first batch each service pulls. Then, with exact counts:

- costs keeps all 300 valid calls (ledger rows) and audit records all 300, in publish order;
- the killer is dead-lettered by each service that cannot take it (and audit records the dead
  letters too, as their own records);
- the tenant's chain verifies.

The killers: an item whose processing raises ``RecursionError`` (injected through the services'
ports, independent of parsing), a real call nested 600 deep (valid by contract; audit cannot
hash it), a store error for that item only (dead-lettered after ``max_deliver`` deliveries), an
800 KB invalid-UTF-8 body and a ~1 MiB non-JSON body (both make dead letters larger than the
server takes: kept by reference in the object store).

Then NATS is killed and restarted with invalid messages in flight: no valid message is lost,
each invalid one is dead-lettered once, and the chain verifies. And the costs database is locked
for longer than the retry budget: every call is stored once it is released, none dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
import sqlalchemy.exc
from nats.js import JetStreamContext
from sqlalchemy import text

from llmops.dev import start_nats_server
from llmops_audit.app import create_app as create_audit
from llmops_audit.config import AuditSettings
from llmops_contracts import headers, subjects, wrap
from llmops_contracts.dlq import DeadLetter
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_contracts.registry import parse
from llmops_costs.app import create_app as create_costs
from llmops_shared.blobs import BlobStore
from llmops_shared.db import create_engine
from tests.conftest import NatsServer, _ensure_streams, eventually, free_port, running
from tests.services.costs.support import settings as costs_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

VALID = 300
CALL_TYPE = LlmCallCompleted.SPEC.type


@pytest.fixture
def server(tmp_path: Path) -> Any:
    """A nats-server of this test's own, which the test may kill and restart."""
    port, store = free_port(), tmp_path / "nats"
    server = NatsServer(port=port, store_dir=store, process=start_nats_server(port, store))
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Stack:
    """Costs and audit running in this event loop, each with its own SQLite file."""

    audit: Any
    costs: Any
    costs_db: str

    async def ledger(self, tenant: str) -> set[str]:
        """Event ids of the tenant's ledger rows."""
        engine = create_engine(self.costs_db)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT event_id FROM cost_calls WHERE tenant = :t"), {"t": tenant}
                )
                return {str(r[0]) for r in rows}
        except sqlalchemy.exc.DBAPIError:  # not migrated yet
            return set()
        finally:
            await engine.dispose()

    async def chain(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's audit records, in chain order."""
        return [r async for r in self.audit.service.repository.records(tenant)]


@contextlib.asynccontextmanager
async def stack(
    url: str, tmp_path: Path, uid: str, before: Callable[[Stack], None] | None = None
) -> AsyncIterator[Stack]:
    """Start costs and audit (``before`` may patch their ports first)."""
    costs_db = f"sqlite:///{tmp_path / 'costs.db'}"
    costs = create_costs(costs_settings(url, costs_db, uid, max_deliver=2, manage_streams=True))
    audit = create_audit(
        AuditSettings(
            nats_url=url,
            database_url=f"sqlite:///{tmp_path / 'audit.db'}",
            durable_prefix=f"audit-{uid}",
            health_port=0,
            batch_timeout_s=0.05,
            max_deliver=2,
            signing_key="11" * 32,
        )
    )
    services = Stack(audit, costs, costs_db)
    if before is not None:
        before(services)
    async with running(costs), running(audit):
        yield services


def valid_calls(tenant: str, n: int = VALID) -> list[tuple[str, bytes]]:
    """(event id, body) of ``n`` valid LLM calls."""
    out = []
    for i in range(n):
        call = LlmCallCompleted(
            provider="openai",
            request_model="gpt-4o-mini",
            latency_ms=10.0 + i,
            usage=Usage(input_tokens=100 + i, output_tokens=10),
        )
        event = wrap(call, tenant=tenant, source="app://reliability")
        out.append((event.id, event.to_json()))
    return out


def nested_call(tenant: str, depth: int) -> tuple[str, bytes]:
    """A valid call whose ``raw_usage`` nests ``depth`` objects deep (about 1.6 KB at 600)."""
    call = LlmCallCompleted(provider="openai", request_model="gpt-4o-mini", latency_ms=1.0)
    event = wrap(call, tenant=tenant, source="app://reliability")
    body = json.loads(event.to_json())
    body["data"]["raw_usage"] = "NEST"
    nest = '{"a":' * depth + "1" + "}" * depth
    return event.id, json.dumps(body).replace('"NEST"', nest).encode()


async def publish(js: JetStreamContext, tenant: str, bodies: list[tuple[str, bytes]]) -> None:
    """Publish raw bodies on the tenant's LLM-call subject, as any NATS client can."""
    subject = subjects.for_tenant(subjects.LLM_CALL_COMPLETED, tenant)
    for event_id, body in bodies:
        await js.publish(subject, body, headers={headers.MSG_ID: event_id})


async def dead_letters(js: JetStreamContext) -> list[DeadLetter]:
    """Every dead letter on the DLQ stream (this server is the test's own)."""
    state = (await js.stream_info(subjects.DLQ_STREAM)).state
    letters = []
    for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        msg = await js.get_msg(subjects.DLQ_STREAM, seq)
        letters.append(parse(msg.data, subject=msg.subject).data)
    return letters


def inject(where: str, poison: str, error: Callable[[], Exception]) -> Callable[[Stack], None]:
    """Make processing ``poison`` (an event id) raise, in both services, at ``where``.

    ``hash``: audit's redaction (just before hashing) and costs' pricing of that one call;
    ``store``: each service's repository write of any batch holding it.
    """

    def patch(services: Stack) -> None:
        audit, costs = services.audit.service, services.costs.service
        if where == "hash":
            apply, entry_for = audit.redactor.apply, costs.entry_for

            def failing_apply(tenant: str, envelope: dict[str, Any]) -> Any:
                if envelope.get("id") == poison:
                    raise error()
                return apply(tenant, envelope)

            def failing_entry(event: Any, table: Any) -> Any:
                if event.id == poison:
                    raise error()
                return entry_for(event, table)

            audit.redactor.apply = failing_apply
            costs.entry_for = failing_entry
            return
        append, batch = audit.repository.append, costs.repository.batch

        async def failing_append(records: Any) -> None:
            if any(r.doc["event_id"] == poison for r in records):
                raise error()
            await append(records)

        @contextlib.asynccontextmanager
        async def failing_batch() -> AsyncIterator[Any]:
            async with batch() as uow:
                insert = uow.insert_calls

                async def failing_insert(entries: Any) -> Any:
                    if any(e.event_id == poison for e in entries):
                        raise error()
                    return await insert(entries)

                uow.insert_calls = failing_insert
                yield uow

        audit.repository.append = failing_append
        costs.repository.batch = failing_batch

    return patch


def data_error() -> Exception:
    return sqlalchemy.exc.DataError("INSERT", {}, ValueError("value too long for the column"))


CASES = {
    # name: (killer body maker, port failure, services expected to dead-letter it, kind)
    "recursion_in_processing": ("ok", ("hash", lambda: RecursionError("injected")), 2, "invalid"),
    "nested_600_deep": ("deep", None, None, None),
    "store_error_for_one_item": ("ok", ("store", data_error), 2, "failed"),
    "invalid_utf8_800kb": ("utf8", None, 2, "invalid"),
    "dead_letter_over_max_payload": ("huge", None, 2, "invalid"),
}


def killer(kind: str, tenant: str, max_payload: int) -> tuple[str, bytes]:
    if kind == "ok":
        return valid_calls(tenant, 1)[0]
    if kind == "deep":
        return nested_call(tenant, 600)
    if kind == "utf8":
        return f"utf8-{tenant}", b"\xff\xfe" * 400_000  # 800 KB; base64 makes it 1.07 MB
    return f"huge-{tenant}", b"x" * (max_payload - 200)  # fits NATS; its letter would not


@pytest.mark.parametrize("case", list(CASES))
async def test_one_batch_killer_among_300_valid_calls_costs_its_neighbours_nothing(
    server: NatsServer, tmp_path: Path, uid: str, tenant: str, case: str
) -> None:
    make, failure, dead_by, kind = CASES[case]
    await _ensure_streams(server.url)
    nc = await nats.connect(server.url)
    js = nc.jetstream()
    try:
        valid = valid_calls(tenant)
        poison_id, poison = killer(make, tenant, nc.max_payload)
        await publish(js, tenant, [*valid[:150], (poison_id, poison), *valid[150:]])
        patch = inject(failure[0], poison_id, failure[1]) if failure else None
        async with stack(server.url, tmp_path, uid, patch) as services:
            valid_ids = [event_id for event_id, _ in valid]

            async def settled() -> bool:
                ledger = await services.ledger(tenant)
                recorded = {r["event_id"] for r in await services.chain(tenant)}
                letters = await dead_letters(js)
                mine = [dl for dl in letters if dl.original_subject.endswith(tenant)]
                return (
                    set(valid_ids) <= ledger
                    and set(valid_ids) <= recorded
                    and (poison_id in recorded or any(dl.service == "audit" for dl in mine))
                    and (poison_id in ledger or any(dl.service == "costs" for dl in mine))
                )

            await eventually(settled, timeout=60)
            ledger = await services.ledger(tenant)
            chain = await services.chain(tenant)
            report = await services.audit.service.verify(tenant)
        letters = [dl for dl in await dead_letters(js) if dl.original_subject.endswith(tenant)]
    finally:
        await nc.close()

    # Every valid call kept by both, exactly once.
    assert len(ledger & set(valid_ids)) == VALID
    calls = [r["event_id"] for r in chain if r["event_type"] == CALL_TYPE]
    assert [c for c in calls if c != poison_id] == valid_ids  # publish order, each once
    assert report.ok, report
    # The killer: dead-lettered by each service that could not take it, once.
    by = {dl.service: dl for dl in letters}
    assert len(letters) == len(by)
    if dead_by is not None:
        assert set(by) == {"audit", "costs"}
        assert poison_id not in ledger
        assert poison_id not in calls
        assert {dl.failure for dl in letters} == {kind}
    else:  # the 600-deep call: valid by contract, so costs may price it; audit cannot hash it
        assert "audit" in by
        assert poison_id not in calls
        assert (poison_id in ledger) != ("costs" in by)
    if make in ("utf8", "huge"):  # too large to carry: kept in the object store
        nc = await nats.connect(server.url)
        blobs = BlobStore(lambda: nc)
        try:
            for letter in letters:
                assert letter.payload == ""
                assert letter.payload_encoding == "ref"
                assert letter.payload_ref is not None
                assert await blobs.get(letter.payload_ref) == poison
        finally:
            await nc.close()


async def test_nats_killed_and_restarted_with_invalid_messages_in_flight_loses_nothing(
    server: NatsServer, tmp_path: Path, uid: str, tenant: str
) -> None:
    await _ensure_streams(server.url)
    valid = valid_calls(tenant)
    invalid = [(f"bad-{tenant}-{i}", b'{"not": "an envelope", "i": %d}' % i) for i in range(10)]
    first = [x for i in range(5) for x in (*valid[30 * i : 30 * i + 30], invalid[i])]
    async with stack(server.url, tmp_path, uid) as services:
        nc = await nats.connect(server.url)
        await publish(nc.jetstream(), tenant, first)
        await nc.close()
        # Kill NATS while the first batches are being handled, then bring it back.
        await asyncio.sleep(0.05)
        server.process.kill()
        server.process.wait(timeout=10)
        server.start()
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        try:
            await publish(js, tenant, valid[150:] + invalid[5:])
            valid_ids = {event_id for event_id, _ in valid}

            async def settled() -> bool:
                recorded = {r["event_id"] for r in await services.chain(tenant)}
                return valid_ids <= await services.ledger(tenant) and valid_ids <= recorded

            await eventually(settled, timeout=120)

            async def all_dead_lettered() -> list[DeadLetter]:
                letters = await dead_letters(js)
                mine = [dl for dl in letters if dl.original_subject.endswith(tenant)]
                return mine if len({(dl.service, dl.stream_sequence) for dl in mine}) == 20 else []

            letters = await eventually(all_dead_lettered, timeout=60)
            ledger = await services.ledger(tenant)
            chain = await services.chain(tenant)
            report = await services.audit.service.verify(tenant)
        finally:
            await nc.close()
    assert ledger == valid_ids  # exactly the 300 valid calls
    calls = [r["event_id"] for r in chain if r["event_type"] == CALL_TYPE]
    assert sorted(calls) == sorted(valid_ids)  # each once
    assert {(dl.service, dl.failure) for dl in letters} == {
        ("audit", "invalid"),
        ("costs", "invalid"),
    }
    assert report.ok, report


async def test_a_costs_database_locked_longer_than_the_retry_budget_loses_nothing(
    server: NatsServer, tmp_path: Path, uid: str, tenant: str
) -> None:
    """An exclusive lock held past max_deliver's backoff: retried, not dead-lettered."""
    await _ensure_streams(server.url)
    valid = valid_calls(tenant)
    async with stack(server.url, tmp_path, uid) as services:
        lock = sqlite3.connect(tmp_path / "costs.db", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")  # every writer waits 5 s, then "database is locked"
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        try:
            await publish(js, tenant, valid)

            # Hold the lock until every call was delivered past the retry budget (max_deliver=2),
            # so the consumer has had to tell the outage from a poison call (each store attempt
            # waits out the 5 s busy timeout).
            async def past_the_retry_budget() -> bool:
                info = await js.consumer_info(subjects.EVENTS_STREAM, f"costs-{uid}")
                return info.delivered.consumer_seq >= len(valid) * 3

            await eventually(past_the_retry_budget, timeout=120)
            assert await services.ledger(tenant) == set()
            lock.execute("COMMIT")
            valid_ids = {event_id for event_id, _ in valid}

            async def stored() -> bool:
                return await services.ledger(tenant) == valid_ids

            await eventually(stored, timeout=90)
            letters = await dead_letters(js)
        finally:
            lock.close()
            await nc.close()
    assert [dl for dl in letters if dl.service == "costs"] == []
