"""The costs service against a real nats-server: pricing, events, endpoints and dead letters."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import nats
import pytest
from prometheus_client import REGISTRY

from llmops import Client
from llmops.client import RequestError
from llmops_contracts import headers, subjects, wrap
from llmops_contracts.costs import (
    Budget,
    BudgetCheck,
    BudgetsRequest,
    CostRecorded,
    CostReportQuery,
    PriceMissing,
    PricesLoad,
    UsageMissing,
)
from llmops_contracts.llm import Content, Message, Usage
from llmops_contracts.registry import parse
from llmops_costs.app import bundled_prices, create_app
from llmops_costs.entries import CallEntry
from llmops_costs.events import call_events, event_id_for
from llmops_costs.handlers import Redelivered
from llmops_shared.blobs import wire_size
from llmops_shared.clock import ShiftedClock
from tests.conftest import eventually, running
from tests.services.costs.support import NOW, Collector, call, drained, publish_all, settings

RECORDED = CostRecorded.SPEC.type
MISSING = PriceMissing.SPEC.type
NO_USAGE = UsageMissing.SPEC.type


class Delivered:
    """A JetStream message whose metadata counts how often it is parsed."""

    def __init__(self, deliveries: int) -> None:
        self.deliveries = deliveries
        self.parsed = 0

    @property
    def metadata(self) -> Any:
        self.parsed += 1
        return type("Metadata", (), {"num_delivered": self.deliveries})()


def test_redelivery_flags_parse_message_metadata_on_demand() -> None:
    messages = [Delivered(1), Delivered(2), Delivered(3)]
    flags = Redelivered(messages)  # type: ignore[arg-type]
    assert len(flags) == 3
    assert [m.parsed for m in messages] == [0, 0, 0]
    assert flags[1]
    assert [m.parsed for m in messages] == [0, 1, 0]
    assert list(flags) == [False, True, True]
    assert list(flags[1:]) == [True, True]


async def test_calls_are_priced_once_published_and_reported(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    cfg = settings(nats_url, f"sqlite:///{tmp_path / 'costs.db'}", uid)
    app = create_app(cfg, ShiftedClock(NOW))
    async with running(app):
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        events = await Collector().start(nc, f"llmops.evt.costs.*.{tenant}")
        usage = Usage(input_tokens=500, output_tokens=40, cache_read_input_tokens=128)
        priced = call(tenant, usage=usage, actor={"app": "bot", "user": "ana"})
        chatty = call(
            tenant,
            content=Content(
                input_messages=[Message(role="user", content="How many tokens is this?")],
                output_messages=[Message(role="assistant", content="A few.")],
            ),
        )
        silent = call(tenant)  # no usage, no content: nothing to estimate
        unknown = call(tenant, "no-such-model", usage)
        await publish_all(js, [priced, chatty, silent, unknown])
        # The same call again under another Nats-Msg-Id, so JetStream stores it twice.
        dup = await js.publish(
            priced.subject(), priced.to_json(), headers={headers.MSG_ID: f"dup-{priced.id}"}
        )
        assert not dup.duplicate
        # Valid by its contract, but no budget window or hour can hold it.
        doomsday = call(tenant, usage=usage, time=datetime(9999, 12, 31, 12, tzinfo=UTC))
        far_ack = await js.publish(doomsday.subject(), doomsday.to_json())
        bad = json.loads(priced.to_json())
        bad["id"] = "not-a-uuid"
        bad_ack = await js.publish(priced.subject(), json.dumps(bad).encode())
        await eventually(lambda: drained(js, cfg.llm_calls_durable, bad_ack.seq))
        await eventually(lambda: len(events.events) >= 5)
        await asyncio.sleep(0.1)  # nothing more may come

        recorded = {e.data.call_id: e for e in events.of(RECORDED)}
        assert set(recorded) == {priced.id, chatty.id}  # each once, duplicates dropped
        assert len(events.of(RECORDED)) == 2
        table = bundled_prices()
        expected = table.price_call(usage, "gpt-4o-mini", "openai", None, priced.time)
        first = recorded[priced.id]
        assert first.data.computed_cost == expected.cost  # type: ignore[union-attr]
        assert sum(first.data.breakdown.values()) == first.data.computed_cost
        assert first.data.price_table_version == table.version
        assert first.data.tier == "standard"
        assert first.data.actor.app == "bot"
        assert first.id == event_id_for(CallEntry.from_event(priced), RECORDED)
        assert first.causation_id == priced.id
        estimated = recorded[chatty.id].data
        assert estimated.estimated
        assert estimated.usage.input_tokens > 0

        no_usage = {e.data.call_id: e.data for e in events.of(NO_USAGE)}
        assert no_usage[chatty.id].estimated
        assert no_usage[chatty.id].tokenizer
        assert not no_usage[silent.id].estimated
        (missing,) = events.of(MISSING)
        assert (missing.data.call_id, missing.data.reason) == (unknown.id, "unknown_model")

        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            since = NOW - timedelta(hours=1)
            total = (await client.request(CostReportQuery(since=since, granularity="total"))).data
            row = total.total
            assert (row.calls, row.priced_calls, row.estimated_calls) == (4, 2, 1)
            assert (row.price_missing_calls, row.usage_missing_calls) == (1, 1)
            assert row.cost == first.data.computed_cost + estimated.computed_cost
            assert row.input_tokens == 500 + 500 + estimated.usage.input_tokens
            by_model = (
                await client.request(CostReportQuery(since=since, by=["model", "app"]))
            ).data
            groups = {(r.group["model"], r.group["app"]): r for r in by_model.rows}
            assert groups[("gpt-4o-mini", "bot")].cost == first.data.computed_cost
            assert groups[("no-such-model", None)].price_missing_calls == 1
            assert groups[("no-such-model", None)].cost == 0

        dlq = await js.subscribe(subjects.dlq_filter("costs")[0], ordered_consumer=True)

        async def dead_letters() -> list[Any]:
            found: list[Any] = []
            while len(found) < 2:
                letter = parse((await dlq.next_msg(timeout=5)).data)
                if letter.data.original_subject == priced.subject():
                    found.append(letter)
            return found

        far, letter = await asyncio.wait_for(dead_letters(), 10)
        assert (far.data.failure, far.data.stream_sequence) == ("invalid", far_ack.seq)
        assert "time 9999-12-31T12:00:00+00:00 is outside the accounted range" in far.data.error
        assert letter.data.failure == "invalid"
        assert letter.data.stream_sequence == bad_ack.seq
        assert "id: String should match pattern" in letter.data.error
        await nc.drain()


async def test_endpoints_answer_and_refuse_clearly(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    app = create_app(
        settings(nats_url, f"sqlite:///{tmp_path / 'costs.db'}", uid), ShiftedClock(NOW)
    )
    async with running(app):
        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            budget = Budget(id="month", scope="tenant", limit=Decimal("10"), hard=True)
            listed = (await client.request(BudgetsRequest(action="set", budget=budget))).data
            assert [(s.budget.id, s.spent) for s in listed.budgets] == [("month", 0)]

            allowed = (await client.request(BudgetCheck(estimated_cost=Decimal("9.99")))).data
            assert allowed.allow
            assert allowed.reason is None
            denied = (await client.request(BudgetCheck(estimated_cost=Decimal("10")))).data
            assert not denied.allow
            assert "month" in (denied.reason or "")
            # Priced from usage when no estimate is given.
            usage = Usage(input_tokens=10**9, output_tokens=0)
            big = await client.request(BudgetCheck(provider="openai", model="gpt-4o", usage=usage))
            assert big.data.estimated_cost > 10
            assert not big.data.allow

            with pytest.raises(RequestError) as refused:
                await client.request(BudgetsRequest(action="delete", budget_id="nope"))
            assert refused.value.kind == "invalid"
            assert "nope" in str(refused.value)
            with pytest.raises(RequestError, match="budget"):
                await client.request(BudgetsRequest(action="set"))
            # A whole table prices every tenant: only an operator tenant may load one.
            empty = {"version": "v", "models": {}}
            with pytest.raises(RequestError) as not_operator:
                await client.request(PricesLoad(table=empty))
            assert not_operator.value.kind == "invalid"
            assert "operator tenant (ops" in str(not_operator.value)
            # A table without a version (the client's models refuse to build one: sent raw).
            sent = json.loads(wrap(PricesLoad(table=empty), tenant="ops", source="t").to_json())
            del sent["data"]["table"]["version"]
            nc = await nats.connect(nats_url)
            try:
                bad_prices = await nc.request(
                    subjects.for_tenant(subjects.COSTS_PRICES, "ops"),
                    json.dumps(sent).encode(),
                    timeout=10,
                )
            finally:
                await nc.close()
            assert (bad_prices.headers or {}).get(headers.ERROR) == "invalid"
            assert "version" in json.loads(bad_prices.data)["reason"]
            now = NOW
            backwards = CostReportQuery(since=now, until=now - timedelta(days=1))
            with pytest.raises(RequestError, match="until"):
                await client.request(backwards)

            gone = (await client.request(BudgetsRequest(action="delete", budget_id="month"))).data
            assert gone.budgets == []


async def test_a_budget_change_through_one_replica_reaches_every_replicas_checks_at_once(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    # Budget definitions are cached for budget_cache_ttl_s; a change is answered by one
    # replica (queue group) and heard by every replica, whose checks then bypass their cache.
    cfg = settings(nats_url, f"sqlite:///{tmp_path / 'costs.db'}", uid, budget_cache_ttl_s=600)
    apps = [create_app(cfg, ShiftedClock(NOW)) for _ in range(2)]
    async with running(apps[0]), running(apps[1]):
        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            one = Decimal("1")

            async def both_cache_no_budget() -> bool:
                assert (await client.request(BudgetCheck(estimated_cost=one))).data.allow
                return all(tenant in app.service._budget_cache for app in apps)

            await eventually(both_cache_no_budget)
            listed = BudgetsRequest(action="list")
            assert (await client.request(listed)).data.budgets == []
            assert all(tenant not in app.service._budgets_unsettled for app in apps)  # a read

            cap = Budget(id="cap", scope="tenant", limit=Decimal("0.5"), hard=True)
            await client.request(BudgetsRequest(action="set", budget=cap))
            for _ in range(8):  # whichever replica answers, it knows the new budget
                assert not (await client.request(BudgetCheck(estimated_cost=one))).data.allow


async def test_a_stored_call_whose_event_the_stream_refuses_is_acked_not_dead_lettered(
    own_nats: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    # EVENTS (an operator's limit) takes the call but not its cost_recorded: the call is stored,
    # and neither a retry nor a dead letter could publish that event.
    priced = call(tenant, usage=Usage(input_tokens=500, output_tokens=40))
    entry = CallEntry.from_event(priced).priced(bundled_prices(), NOW)
    (recorded,) = call_events(entry)
    fits = wire_size(priced.to_json(), headers.headers_for(priced))
    refused = len(recorded.to_json())
    assert fits < refused
    nc = await nats.connect(own_nats)
    js = nc.jetstream()
    config = (await js.stream_info(subjects.EVENTS_STREAM)).config
    config.max_msg_size = (fits + refused) // 2
    await js.update_stream(config)
    before = _refused()
    cfg = settings(own_nats, f"sqlite:///{tmp_path / 'costs.db'}", uid, max_deliver=2)
    async with running(create_app(cfg, ShiftedClock(NOW))):
        seq = await publish_all(js, [priced])
        await eventually(lambda: drained(js, cfg.llm_calls_durable, seq))
        async with await Client.connect(own_nats, source="app://t", tenant=tenant) as client:
            since = NOW - timedelta(hours=1)
            total = (await client.request(CostReportQuery(since=since, granularity="total"))).data
    assert total.total.calls == 1  # stored, and counted
    assert (await js.stream_info(subjects.DLQ_STREAM)).state.messages == 0
    assert _refused() - before == 1
    await nc.close()


def _refused() -> float:
    """Messages the process's sinks left out because a stream refused them."""
    name = "llmops_unpublishable_messages_total"
    return REGISTRY.get_sample_value(name, {"reason": "refused"}) or 0.0
