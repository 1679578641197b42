"""Replies and published events of running services are dated by their clock, not today.

Each app with endpoints (costs, audit, guardrails, retrieval) runs against the session's
nats-server on a fixed clock at the last millisecond of 2026 (one edge: what is checked is where the time comes from, not calendar
arithmetic, which the rest of the suite covers at every edge).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import nats

from llmops import Client
from llmops_audit.app import create_app as create_audit_app
from llmops_audit.config import AuditSettings
from llmops_contracts.audit import AuditVerify
from llmops_contracts.costs import BudgetCheck, PricesLoad
from llmops_contracts.guardrails import GuardrailCheckRequest
from llmops_contracts.retrieval import RetrievalQuery
from llmops_costs.app import create_app as create_costs_app
from llmops_guardrails.app import create_app as create_guardrails_app
from llmops_guardrails.config import GuardrailsSettings
from llmops_retrieval.app import create_app as create_retrieval_app
from llmops_retrieval.config import RetrievalSettings
from llmops_shared.clock import FixedClock
from tests.calendar.edges import EDGES
from tests.conftest import eventually, running
from tests.services.costs.support import Collector, settings

AT = EDGES[0].at  # 2026-12-31T23:59:59.999Z


async def test_costs_replies_and_prices_loaded_are_dated_by_the_clock(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    app = create_costs_app(
        settings(nats_url, f"sqlite:///{tmp_path / 'costs.db'}", uid), FixedClock(AT)
    )
    nc = await nats.connect(nats_url)
    try:
        loaded = await Collector().start(nc, f"llmops.evt.costs.prices_loaded.{tenant}")
        async with running(app):
            async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
                decision = await client.request(BudgetCheck(estimated_cost=Decimal("0")))
                assert decision.time == AT
                override = {
                    "provider": "openai",
                    "model": "gpt-4o",
                    "effective_from": "2027-01-01T00:00:00+00:00",
                    "prices": {"tiers": {"standard": [{"input": "0.000001", "output": "0"}]}},
                }
                reply = await client.request(PricesLoad(overrides=[override]))
                assert reply.time == AT
                await eventually(lambda: loaded.events)
                assert [e.time for e in loaded.events] == [AT]
    finally:
        await nc.close()


async def test_audit_replies_are_dated_by_the_clock(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    cfg = AuditSettings(
        nats_url=nats_url,
        database_url=f"sqlite:///{tmp_path / 'audit.db'}",
        durable_prefix=f"audit-{uid}",
        health_port=0,
        batch_timeout_s=0.05,
        signing_key="11" * 32,
    )
    async with running(create_audit_app(cfg, FixedClock(AT))):
        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            reply = await client.request(AuditVerify())
            assert reply.time == AT


async def test_guardrails_replies_are_dated_by_the_clock(
    nats_url: str, uid: str, tenant: str
) -> None:
    cfg = GuardrailsSettings(
        nats_url=nats_url, health_port=0, tool_calls_durable=f"guardrails-{uid}"
    )
    async with running(create_guardrails_app(cfg, FixedClock(AT))):
        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            reply = await client.request(GuardrailCheckRequest(stage="input", content="hello"))
            assert reply.time == AT


async def test_retrieval_replies_are_dated_by_the_clock(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    cfg = RetrievalSettings(
        nats_url=nats_url,
        health_port=0,
        chunks_durable=f"retrieval-{uid}",
        index_dir=tmp_path / "index",
    )
    async with running(create_retrieval_app(cfg, FixedClock(AT))):
        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            reply = await client.request(RetrievalQuery(query="anything"))
            assert reply.time == AT
