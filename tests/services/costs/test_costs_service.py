"""Unit tests of the costs logic with fakes (no database, no NATS)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import structlog

from llmops_contracts import headers, wrap
from llmops_contracts.costs import (
    Budget,
    BudgetCheck,
    BudgetsRequest,
    CostReportQuery,
    PricesLoad,
)
from llmops_contracts.headers import headers_for, wire
from llmops_contracts.llm import Usage
from llmops_contracts.registry import parse
from llmops_costs.app import bundled_prices
from llmops_costs.config import CostsSettings
from llmops_costs.entries import CallEntry, dumps_breakdown, hour_of, loads_breakdown
from llmops_costs.events import call_events, event_id_for
from llmops_costs.ports import Outboxed
from llmops_costs.service import CostsService, InvalidRequest
from tests.fakes import FakePublisher
from tests.services.costs.fakes import Clock, FakeCostRepository, on_fakes
from tests.services.costs.support import TRACEPARENT, call

D = Decimal
NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
USAGE = Usage(
    input_tokens=1000, output_tokens=200, cache_read_input_tokens=600, reasoning_tokens=50
)

Parts = tuple[CostsService, FakeCostRepository, FakePublisher, Clock]


@pytest.fixture
def parts() -> Parts:
    fakes = on_fakes(NOW)
    return fakes.service, fakes.repository, fakes.publisher, fakes.clock


def test_a_call_is_priced_estimated_or_marked_missing_never_zero(
    parts: Parts,
) -> None:
    service, *_ = parts
    table = service.prices
    priced = service.entry_for(call("acme", "gpt-4o", USAGE, service_tier="priority"), table)
    expected = table.price_call(USAGE, "gpt-4o", "openai", "priority", NOW)
    assert priced.state == "priced"
    assert priced.cost == expected.cost
    assert priced.tier == expected.tier
    assert priced.tier.startswith("priority")
    assert priced.price_table_version == table.version
    assert priced.price_key
    assert sum(priced.breakdown.values()) == priced.cost

    unknown = service.entry_for(call("acme", "no-such-model", USAGE), table)
    assert (unknown.state, unknown.cost, unknown.missing_reason) == (
        "price_missing",
        None,
        "unknown_model",
    )
    silent = service.entry_for(call("acme", "gpt-4o"), table)
    assert (silent.state, silent.cost, silent.usage) == ("usage_missing", None, None)
    content = {"input_messages": [{"role": "user", "content": "hi"}]}
    guessed = service.entry_for(call("acme", "gpt-4o", content=content), table)
    assert guessed.state == "priced"
    assert guessed.estimated
    assert guessed.tokenizer == "o200k_base"
    assert guessed.cost
    assert guessed.cost > 0


def test_call_events_built_without_validation_are_the_validated_bytes(
    parts: Parts,
) -> None:
    # The hot path builds its events with model_construct: each must be a valid message whose
    # validated form serialises to the very same bytes (and headers) on the wire.
    service, *_ = parts
    table = service.prices
    content = {"input_messages": [{"role": "user", "content": "hi"}]}
    events = [
        call("acme", "gpt-4o", USAGE, service_tier="priority"),
        call("acme", "no-such-model", USAGE, actor={"app": "bot", "user": 'é\n"x"'}),
        call("acme", "gpt-4o"),
        call("acme", "gpt-4o", content=content, prompt={"name": "p", "version": "2"}),
        call("acme", "gpt-4o", USAGE, provided_cost=D("0.0001"), actor={"session": "s"}),
        call("acme", "gpt-4o", USAGE, traceparent=TRACEPARENT),
    ]
    entries = [service.entry_for(e, table) for e in events]
    entries.append(entries[0]._replace(repriced=True, priced_at=None, correlation_id="c-1"))
    messages = [m for e in entries for m in call_events(e)]
    assert len(messages) == 8
    for message in messages:
        subject, body, hdrs = wire(message)
        again = parse(body, subject=subject)
        assert again.to_json() == body
        assert headers_for(again) == hdrs
    # An entry read back from the ledger (no call event to reuse the actor and prompt of)
    # publishes the very same bytes.
    for e in entries:
        assert e.call is not None
        from_ledger = e._replace(call=None)
        assert [wire(m) for m in call_events(from_ledger)] == [wire(m) for m in call_events(e)]


def test_hours_and_stored_breakdowns() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    for at in (NOW, datetime(2026, 11, 27, 23, 59, 59, 999999, tzinfo=india), parse_time()):
        hour = hour_of(at)
        assert hour == at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        assert hour.tzinfo is UTC
    breakdown = {"input": D("0.00375"), "cache_read": D("0E-8"), "output": D("1E-7"), "x": D(3)}
    text = dumps_breakdown(breakdown)
    assert text == json.dumps({k: str(v) for k, v in breakdown.items()}, separators=(",", ":"))
    assert loads_breakdown(text) == breakdown


def parse_time() -> datetime:
    """A call time as parsing hands it over (with pydantic's own UTC tzinfo)."""
    event = call("acme", time=datetime(2026, 11, 27, 7, 59, 1, 5, tzinfo=UTC))
    return parse(event.to_json(), subject=event.subject()).time


def test_an_answering_model_is_what_is_priced() -> None:
    entry = CallEntry.from_event(call("acme", "gpt-4o", USAGE, response_model="gpt-4o-2024-08-06"))
    assert (entry.model, entry.request_model) == ("gpt-4o-2024-08-06", "gpt-4o")
    assert entry.scope.models == ("gpt-4o", "gpt-4o-2024-08-06")


async def test_a_batch_is_stored_once_and_its_events_have_derived_ids(
    parts: Parts,
) -> None:
    service, _repo, sink, _ = parts
    a, b = call("acme", "gpt-4o", USAGE), call("acme", "nope", USAGE)
    assert await service.record_batch([a, b, a]) == 2  # a duplicate inside the batch too
    assert sorted(sink.types()) == ["cost_recorded", "price_missing"]
    recorded = next(m for m in sink.published if m.type.endswith("cost_recorded.v1"))
    assert recorded.id == event_id_for(CallEntry.from_event(a), recorded.type)
    assert (recorded.causation_id, recorded.correlation_id) == (a.id, a.id)

    # Replayed: nothing new, nothing published.
    sink.published.clear()
    assert await service.record_batch([a, b]) == 0
    assert sink.published == []
    # Redelivered (an attempt may have died before publishing): the same events again.
    assert await service.record_batch([a, b], [True, True]) == 0
    assert sorted(sink.types()) == ["cost_recorded", "price_missing"]
    assert recorded.id in {m.id for m in sink.published}


async def test_events_about_a_call_keep_the_callers_trace_context(parts: Parts) -> None:
    service, repo, sink, _ = parts
    traced = call("acme", "gpt-4o", USAGE, traceparent=TRACEPARENT)
    content = {"input_messages": [{"role": "user", "content": "hi"}]}
    guessed = call("acme", "nope", content=content, traceparent=TRACEPARENT)
    await service.record_batch([traced, guessed, call("acme", "gpt-4o", USAGE)])
    kept = [m for m in sink.published if m.causation_id in (traced.id, guessed.id)]
    assert sorted(m.type.split(".")[2] for m in kept) == [
        "cost_recorded",
        "price_missing",
        "usage_missing",
    ]
    assert {m.traceparent for m in kept} == {TRACEPARENT}
    assert [wire(m)[2][headers.TRACEPARENT] for m in kept] == [TRACEPARENT] * 3
    others = [m for m in sink.published if m not in kept]
    assert [m.traceparent for m in others] == [None]
    # Rebuilt from the ledger for a redelivery: the same trace context.
    sink.published.clear()
    await service.record_batch([traced], [True])
    assert [m.traceparent for m in sink.published] == [TRACEPARENT]
    assert repo.ledger[traced.tenant, traced.id].traceparent == TRACEPARENT


class Flags(Sequence[bool]):
    """Redelivery flags that remember which ones were read (the handler's are parsed lazily)."""

    def __init__(self, flags: list[bool]) -> None:
        self.flags = flags
        self.read: list[int] = []

    def __len__(self) -> int:
        return len(self.flags)

    def __getitem__(self, index: Any) -> Any:
        self.read.append(index)
        return self.flags[index]


async def test_redelivery_flags_are_read_only_for_calls_already_stored(
    parts: Parts,
) -> None:
    service, _repo, sink, _ = parts
    a, b, c = (call("acme", "gpt-4o", USAGE) for _ in range(3))
    flags = Flags([True, True])
    assert await service.record_batch([a, b], flags) == 2
    assert flags.read == []  # every call was new: no flag needed
    sink.published.clear()
    flags = Flags([False, True, True, False])
    assert await service.record_batch([c, a, b, a], flags) == 1
    assert sorted(flags.read) == [1, 2, 3]  # a (twice) and b were stored already
    recorded = [m.data.call_id for m in sink.published]
    assert sorted(recorded) == sorted([c.id, a.id, b.id])  # a and b were redelivered


async def test_a_failed_publish_raises_and_the_redelivery_publishes(
    parts: Parts,
) -> None:
    service, repo, sink, _ = parts
    event = call("acme", "gpt-4o", USAGE)
    sink.fail = True
    with pytest.raises(RuntimeError):
        await service.record_batch([event])
    assert len(repo.ledger) == 1  # committed before the publish failed
    sink.fail = False
    await service.record_batch([event], [True])
    assert sink.types() == ["cost_recorded"]


async def test_an_event_the_server_never_takes_leaves_its_stored_call_counted_not_failed(
    parts: Parts,
) -> None:
    service, repo, sink, _ = parts
    a, b = call("acme", "gpt-4o", USAGE), call("acme", "gpt-4o", USAGE)
    refused = event_id_for(CallEntry.from_event(a), "llmops.costs.cost_recorded.v1")
    sink.refuse = {refused}
    with structlog.testing.capture_logs() as logs:
        # Returns, so the batch consumer acks both: a's call is stored, and retrying (or
        # dead-lettering) it could not publish an event the server will never take.
        assert await service.record_batch([a, b]) == 2
        assert await service.record_batch([a], [True]) == 0  # redelivered: the same
    assert set(repo.ledger) == {("acme", a.id), ("acme", b.id)}
    assert [m.data.call_id for m in sink.published] == [b.id]
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [e["event_id"] for e in errors] == [refused, refused]
    assert errors[0]["reason"] == "refused"


async def test_an_outbox_event_the_server_never_takes_does_not_block_the_outbox(
    parts: Parts,
) -> None:
    service, repo, sink, _ = parts
    # Re-priced calls' events go through the outbox (as would budget alerts).
    calls = [call("acme", "gpt-4o", USAGE) for _ in range(2)]
    entries = [CallEntry.from_event(c).priced(service.prices, NOW) for c in calls]
    events = [wire(m) for e in entries for m in call_events(e)]
    async with repo.batch() as uow:  # left behind a minute ago by a replica that died
        left = [Outboxed(m[2][headers.MSG_ID], *m) for m in events]
        await uow.add_outbox(left, NOW - timedelta(minutes=1))
    sink.refuse = {events[0][2][headers.MSG_ID]}
    assert await service.flush_outbox() == 2
    assert repo.outbox == {}  # not published again and again, holding back those behind it
    assert [m.id for m in sink.published] == [events[1][2][headers.MSG_ID]]


async def test_budget_alerts_and_checks(
    parts: Parts,
) -> None:
    service, repo, sink, clock = parts
    one = service.entry_for(call("acme", "gpt-4o", USAGE), service.prices).cost
    assert one is not None
    hard = Budget(
        id="bot", scope="app", scope_value="bot", limit=one * 2, hard=True, thresholds_pct=[50]
    )
    await service.manage_budgets("acme", BudgetsRequest(action="set", budget=hard))
    reads = repo.budget_reads
    ok = await service.check_budget("acme", BudgetCheck(app="bot", estimated_cost=one))
    assert ok.allow
    assert [s.spent for s in ok.budgets] == [0]
    # Other apps have no budget: allowed without reading any counter.
    spent_reads = repo.spent_reads
    other = await service.check_budget("acme", BudgetCheck(app="other", estimated_cost=D(10**6)))
    assert other.allow
    assert other.budgets == []
    assert repo.spent_reads == spent_reads
    assert repo.budget_reads == reads  # cached

    await service.record_batch([call("acme", "gpt-4o", USAGE, actor={"app": "bot"})])
    assert "budget_threshold_crossed" in sink.types()
    denied = await service.check_budget("acme", BudgetCheck(app="bot", estimated_cost=one))
    assert not denied.allow
    assert denied.budgets[0].spent == one
    # Priced from usage when no estimate is given.
    priced = await service.check_budget(
        "acme", BudgetCheck(app="bot", provider="openai", model="gpt-4o", usage=USAGE)
    )
    assert priced.estimated_cost == one
    assert not priced.allow
    # A change made elsewhere is seen once the cache expires.
    repo.defined["acme"] = []
    still = await service.check_budget("acme", BudgetCheck(app="bot", estimated_cost=one))
    assert not still.allow  # cached
    clock.mono += 6
    assert (await service.check_budget("acme", BudgetCheck(app="bot", estimated_cost=one))).allow
    # A change seen on the wire (made through another replica) bypasses the cache at once,
    # and keeps reading the database until it has surely been committed.
    repo.defined["acme"] = [hard]
    service.budgets_changing("acme")
    reads = repo.budget_reads
    for _ in range(2):
        check = await service.check_budget("acme", BudgetCheck(app="bot", estimated_cost=one))
        assert not check.allow
    assert repo.budget_reads == reads + 2
    clock.mono += 3
    await service.check_budget("acme", BudgetCheck(app="bot"))
    await service.check_budget("acme", BudgetCheck(app="bot"))
    assert repo.budget_reads == reads + 3  # settled: cached again

    with pytest.raises(InvalidRequest, match="budget_id"):
        await service.manage_budgets("acme", BudgetsRequest(action="delete", budget_id="x"))


async def test_waiting_calls_are_repriced_when_their_price_arrives(
    parts: Parts,
) -> None:
    service, repo, sink, _ = parts
    event = call("acme", "private-model", USAGE, provider="acme")
    content = {"input_messages": [{"role": "user", "content": "hi"}]}
    guessed = call("acme", "private-model", provider="acme", content=content)
    await service.record_batch([event, guessed])
    assert repo.ledger[(event.tenant, event.id)].state == "price_missing"
    assert repo.ledger[(guessed.tenant, guessed.id)].estimated
    assert sink.types().count("usage_missing") == 1
    assert await service.reprice(None) == 0  # still no price
    prices = {"tiers": {"standard": [{"input": "0.000001", "output": "0.000002"}]}}
    override = {
        "provider": "acme",
        "model": "private-model",
        "effective_from": "2020-01-01T00:00:00+00:00",
        "prices": prices,
    }
    loaded = await service.load_prices("acme", PricesLoad(overrides=[override]))
    assert (loaded.overrides, loaded.repriced) == (1, 2)
    entry = repo.ledger[(event.tenant, event.id)]
    assert entry.state == "priced"
    assert entry.repriced
    assert entry.cost == D(1000) * D("0.000001") + D(200) * D("0.000002")
    recorded = [m for m in sink.published if m.type.endswith("cost_recorded.v1")]
    assert [m.data.repriced for m in recorded] == [True, True]
    assert {m.data.estimated for m in recorded} == {True, False}
    # The estimated call's usage_missing is not published again when it is re-priced.
    assert sink.types().count("usage_missing") == 1

    with pytest.raises(InvalidRequest, match="tenant"):
        await service.load_prices("acme", PricesLoad(overrides=[{**override, "tenant": "evil"}]))
    with pytest.raises(InvalidRequest, match="nothing"):
        await service.load_prices("acme", PricesLoad())


async def test_budget_check_prices_the_tier_and_says_where_its_estimate_comes_from(
    parts: Parts,
) -> None:
    service, _, _, _ = parts

    async def check(**fields: Any) -> tuple[Decimal, str | None]:
        decision = await service.check_budget("acme", BudgetCheck(app="bot", **fields))
        return decision.estimated_cost, decision.estimated_from

    planned = {"provider": "openai", "model": "gpt-4o", "usage": USAGE}
    standard, source = await check(**planned)
    assert source == "usage"
    batch, _ = await check(**planned, service_tier="batch")
    assert 0 < batch < standard  # the batch tier's own (lower) rates
    assert await check(estimated_cost=D("0.5")) == (D("0.5"), "estimated_cost")
    assert await check(**{**planned, "model": "no-such-model"}) == (0, "price_missing")
    assert await check() == (0, "nothing")


async def test_stored_prices_that_no_longer_load_never_stop_pricing(
    parts: Parts,
) -> None:
    service, repo, _, _ = parts

    def override(model: str, rate: str, **extra: Any) -> dict[str, Any]:
        tiers = {"standard": [{"input": rate, "output": rate}]}
        return {
            "tenant": "acme",
            "provider": "openai",
            "model": model,
            "effective_from": "2020-01-01T00:00:00+00:00",
            "prices": {"tiers": tiers},
            **extra,
        }

    # Two replicas loaded one model under two spellings with one start (the later load is last),
    # and a row written before names were bounded.
    stored = [
        override("gpt-4o", "0.001"),
        override("openai/gpt-4o", "0.002"),
        override("other", "1", version="v" * 300),
    ]

    async def load_prices() -> tuple[int, str, list[str]]:
        # A table without models does not load.
        return 7, json.dumps({"version": "broken"}), [json.dumps(o) for o in stored]

    repo.load_prices = load_prices  # type: ignore[assignment]
    assert await service.refresh_prices(force=True)
    assert service.prices_generation == 7
    assert service.prices.version == bundled_prices().version  # kept the bundled table
    [kept] = service.prices.overrides
    assert (kept.model, kept.prices.tiers["standard"][0].input) == ("openai/gpt-4o", D("0.002"))
    priced = service.entry_for(call("acme", "gpt-4o", USAGE), service.prices)
    assert priced.cost == D("0.002") * (USAGE.input_tokens + USAGE.output_tokens)

    table = {"version": "t", "models": {}, "overrides": [override("gpt-4o", "0.003")]}
    with pytest.raises(InvalidRequest, match="a table carries no overrides"):
        await service.load_prices("ops", PricesLoad(table=table))


async def test_only_an_operator_tenant_loads_a_whole_price_table(
    parts: Parts,
) -> None:
    service, repo, _, _ = parts
    table = {"version": "negotiated-2026", "source": "ops", "models": {}}
    with pytest.raises(InvalidRequest, match="may not load a whole price table"):
        await service.load_prices("acme", PricesLoad(table=table))
    assert await repo.prices_generation() == 0  # nothing saved
    loaded = await service.load_prices("ops", PricesLoad(table=table))
    generation, stored, overrides = await repo.load_prices()
    assert stored is not None
    assert (generation, json.loads(stored), overrides) == (1, table, [])
    assert loaded.overrides == 0


async def test_reports_cover_whole_hours(
    parts: Parts,
) -> None:
    service, repo, _, _ = parts
    await seed(repo, *(spent(NOW, D("0.05")) for _ in range(4)))
    report = await service.report(
        "acme", CostReportQuery(since=NOW, until=NOW + timedelta(minutes=1), by=["model"])
    )
    assert (report.since, report.until) == (
        NOW.replace(minute=0),
        NOW.replace(minute=0) + timedelta(hours=1),
    )
    assert (report.total.calls, report.total.cost, report.total.group) == (4, D("0.2"), {})
    with pytest.raises(InvalidRequest):
        await service.report("acme", CostReportQuery(since=NOW, until=NOW - timedelta(hours=2)))


async def test_a_report_too_wide_for_one_reply_leaves_the_newest_rows_out_and_says_so(
    parts: Parts,
) -> None:
    service, repo, _, _ = parts
    hour = NOW.replace(minute=0) - timedelta(hours=5000)  # 5000 hours of spend until now
    user = "u" * 200  # long group values, as a report by user can have
    await seed(
        repo,
        *(spent(hour + timedelta(hours=i), D("0.001"), user=f"{user}{i}") for i in range(5000)),
    )
    report = await service.report(
        "acme", CostReportQuery(since=hour, by=["user"], granularity="hour")
    )
    assert 0 < len(report.rows) < 5000
    assert report.rows_left_out == 5000 - len(report.rows)
    assert report.rows[-1].group == {"user": f"{user}{len(report.rows) - 1}"}  # oldest kept
    assert (report.total.calls, report.total.cost) == (5000, D("5.000"))  # every row counted
    reply = wrap(report, tenant="acme", source="llmops/costs").to_json()
    assert len(reply) < 1024 * 1024  # fits NATS's default max_payload


async def test_spikes_are_published_once_per_scope_and_hour(
    parts: Parts,
) -> None:
    service, repo, sink, clock = parts
    hour = NOW.replace(minute=0)
    await seed(
        repo,
        spent(hour, D(12), app="bot"),
        spent(hour, D(3)),
        spent(hour - timedelta(hours=1), D(1), app="bot"),
    )
    recorded = call("acme", "gpt-4o", USAGE, time=NOW)
    one = service.entry_for(recorded, service.prices).cost
    assert one is not None
    await service.record_batch([recorded])
    assert await service.check_anomalies() == 2  # the tenant ($15 + the call) and the app bot
    anomalies = [m for m in sink.published if m.type.endswith("anomaly.v1")]
    assert {(m.data.scope, m.data.scope_value, m.data.spend) for m in anomalies} == {
        ("tenant", "acme", D(15) + one),
        ("app", "bot", D(12)),
    }
    assert anomalies[0].data.history[-1] in (D(1), D(0))
    assert len(anomalies[0].data.history) == 24
    # New spend in the same hour: throttled first, then checked, but published only once.
    await service.record_batch([call("acme", "gpt-4o", USAGE, time=NOW)])
    assert await service.check_anomalies() == 0
    clock.mono += 61
    assert await service.check_anomalies() == 0
    assert len(repo.anomalies) == 2


def spent(at: datetime, cost: Decimal, **fields: Any) -> CallEntry:
    """A priced call of model ``m`` at ``at`` that cost ``cost``."""
    entry = CallEntry.from_event(call("acme", "m", Usage(input_tokens=10, output_tokens=5)))
    return entry._replace(time=at, state="priced", cost=cost, priced_at=at, **fields)


async def seed(repo: FakeCostRepository, *entries: CallEntry) -> None:
    """Store calls in the ledger as a batch would (no budgets, no events)."""
    async with repo.batch() as uow:
        await uow.insert_calls(entries)


def test_the_bundled_prices_load_once() -> None:
    assert bundled_prices() is bundled_prices()


def test_settings_defaults() -> None:
    settings = CostsSettings()
    assert settings.resolved_health_port == 8105
    assert settings.database_url == "sqlite:///.llmops/costs.db"
    assert settings.llm_calls_durable == "costs-llm-calls"
    assert settings.rpc_queue == "costs"
