"""The audit service's request/reply endpoints (query, verify, purge) against a real nats-server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from sqlalchemy import text

from llmops import Client
from llmops.audit import key_ring, published_checkpoints
from llmops_audit.app import create_app
from llmops_audit.chain import Head
from llmops_audit.checkpoints import Signer
from llmops_audit.config import AuditSettings
from llmops_audit.ledger import JetStreamLedger, checkpoint_message
from llmops_contracts.audit import AuditPurge, AuditQuery, AuditVerify
from llmops_contracts.auditchain import held_checkpoint, verify_chain
from llmops_contracts.common import Actor
from llmops_contracts.llm import Content, LlmCallCompleted, Message
from llmops_shared.clock import FixedClock
from tests.conftest import eventually, running

KEY = "33" * 32
KEYS = key_ring([Signer.from_text(KEY).public_key])


def settings(nats_url: str, tmp_path: Path, uid: str) -> AuditSettings:
    return AuditSettings(
        nats_url=nats_url,
        database_url=f"sqlite:///{tmp_path / 'audit.db'}",
        durable_prefix=f"audit-{uid}",
        health_port=0,
        batch_timeout_s=0.05,
        signing_key=KEY,
    )


def calls(n: int, content: Content | None = None) -> list[LlmCallCompleted]:
    return [
        LlmCallCompleted(
            provider="openai",
            request_model="gpt-4o-mini",
            latency_ms=float(i),
            actor=Actor(user="ana"),
            content=content,
        )
        for i in range(n)
    ]


async def stored_count(app: Any, tenant: str, n: int) -> bool:
    return bool(await app.service.repository.count(tenant) == n)


async def test_query_verify_and_purge_over_nats(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    # Records are stamped by the service's clock: 29 February, then a second later.
    clock = FixedClock(datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC))
    app = create_app(settings(nats_url, tmp_path, uid), clock)
    async with running(app):
        async with await Client.connect(nats_url, source="app://rpc", tenant=tenant) as client:
            await client.publish_many(calls(10))
            await eventually(lambda: stored_count(app, tenant, 10))
            cut = clock.advance(seconds=1)  # 1 March 2028: the first ten are before it
            await client.publish_many(calls(20))
            await eventually(lambda: stored_count(app, tenant, 30))

            verified = (await client.request(AuditVerify())).data
            assert (verified.ok, verified.checked, verified.first_seq, verified.last_seq) == (
                True,
                30,
                1,
                30,
            )

            # Another tenant sees nothing of this one.
            other = await client.request(AuditQuery(), tenant=f"{tenant}-other")
            assert other.data.records == []

            purged = (await client.request(AuditPurge(before=cut))).data
            assert purged.purged == 10
            assert purged.checkpoint is not None
            anchor = purged.checkpoint.model_dump()
            assert (anchor["seq"], anchor["kind"]) == (10, "purge")
            assert KEYS.valid(anchor)

            page = (await client.request(AuditQuery(limit=15))).data
            assert [r.seq for r in page.records] == list(range(11, 26))
            assert page.next_after_seq == 25
            assert page.anchor is not None
            assert page.anchor.model_dump() == anchor
            rest = (await client.request(AuditQuery(after_seq=25, limit=15))).data
            assert [r.seq for r in rest.records] == [26, 27, 28, 29, 30]
            assert (rest.next_after_seq, rest.anchor) == (None, None)
            # What a consumer received verifies from the anchor on, with nothing but the contracts.
            records = [r.model_dump() for r in [*page.records, *rest.records]]
            assert verify_chain(records, anchor=anchor, checkpoints=[anchor], keys=KEYS).ok

            verified = (await client.request(AuditVerify())).data
            assert (verified.ok, verified.first_seq, verified.checked) == (True, 11, 20)

            # Tamper behind the service's back: the endpoint names the record.
            repo = app.service.repository
            async with repo.engine.begin() as conn:
                await conn.execute(text("DROP TRIGGER audit_records_no_update"))
                await conn.execute(
                    text(
                        "UPDATE audit_records SET event_type = 'llmops.llm.call_completed.v9' "
                        "WHERE tenant = :t AND seq IN (14, 17)"
                    ),
                    {"t": tenant},
                )
            verified = (await client.request(AuditVerify())).data
            assert not verified.ok
            assert [(b.seq, b.event_id, b.kind) for b in verified.breaks] == [
                (14, records[3]["event_id"], "modified")
            ]
            every = (await client.request(AuditVerify(all_breaks=True))).data
            assert [(b.seq, b.kind) for b in every.breaks] == [(14, "modified"), (17, "modified")]


async def test_a_page_of_large_records_is_cut_to_fit_a_nats_message(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    text_20k = Content(
        input_messages=[Message(role="user", content="q" * 12_000)],
        output_messages=[Message(role="assistant", content="a" * 8_000)],
    )
    app = create_app(settings(nats_url, tmp_path, uid))
    async with running(app):
        async with await Client.connect(nats_url, source="app://rpc", tenant=tenant) as client:
            await client.publish_many(calls(60, text_20k))  # ~1.2 MB of records in all
            await eventually(lambda: stored_count(app, tenant, 60))
            seqs: list[int] = []
            after = 0
            while True:
                page = (await client.request(AuditQuery(after_seq=after, limit=100))).data
                seqs += [r.seq for r in page.records]
                if page.next_after_seq is None:
                    break
                after = page.next_after_seq
    assert seqs == list(range(1, 61))


async def test_the_ledger_reads_every_published_checkpoint_on_from_a_position(
    nats_url: str, tenant: str
) -> None:
    """The service reads a tenant's checkpoints on from where it stopped; the CLI reads them
    all; both see a republished old one as one more message, not as the only one."""
    signer = Signer.from_text(KEY)
    at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    made = [signer.sign(tenant, Head(seq, f"{seq:064x}"), "periodic", at) for seq in (3, 7)]
    nc = await nats.connect(nats_url)
    try:
        ledger = JetStreamLedger(lambda: nc)
        assert await ledger.checkpoints(tenant) == ([], 0)
        for checkpoint in made:
            await ledger.publish(checkpoint)
        await ledger.publish(signer.sign(f"{tenant}x", Head(1, "a" * 64), "periodic", at))
        found, position = await ledger.checkpoints(tenant)
        assert found == made
        assert await ledger.checkpoints(tenant, position) == ([], position)
        subject, body, _ = checkpoint_message(made[0])
        await nc.jetstream().publish(subject, body)  # the old one again (no Nats-Msg-Id)
        again, later = await ledger.checkpoints(tenant, position)
        assert again == [made[0]]
        assert later > position
        everything = await published_checkpoints(nc, tenant)
        assert everything == [*made, made[0]]
        assert held_checkpoint(tenant, everything, KEYS) == made[1]
    finally:
        await nc.close()
