"""The SQL cost repository on SQLite and PostgreSQL: one suite, both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from llmops_contracts.costs import Budget
from llmops_contracts.llm import Usage
from llmops_costs.app import bundled_prices
from llmops_costs.budgets import exact
from llmops_costs.pricing import PriceOverride
from llmops_costs.service import CallEntry, alert_event, call_events
from llmops_costs.store import KEPT_TABLES, SqlCostRepository, price_loads, sum_money
from llmops_shared.clock import FixedClock
from tests.conftest import fresh_postgres_database
from tests.services.costs.support import call

D = Decimal
NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
HALF = D("0.5")
#: A cost with 24 decimals: a float or a fixed-scale integer would lose it.
TINY = D("0.000000032857142857142855")


def exact_sum(*values: Decimal) -> Decimal:
    """A sum without rounding (the default context keeps 28 digits only)."""
    with exact():
        return sum(values, D(0))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def repo(request: pytest.FixtureRequest, tmp_path: Path, uid: str) -> AsyncIterator[Any]:
    if request.param == "sqlite":
        store = SqlCostRepository(f"sqlite:///{tmp_path / 'costs.db'}", clock=FixedClock(NOW))
        await store.open()
        yield store
        await store.close()
        return
    postgres_url = request.getfixturevalue("postgres_url")
    async with fresh_postgres_database(postgres_url, f"costs_store_{uid}") as url:
        store = SqlCostRepository(url, clock=FixedClock(NOW))
        await store.open()
        yield store
        await store.close()


def alerts(fired: Any) -> list[Any]:
    return [alert_event(a, NOW) for a in fired]


def entry(
    tenant: str = "acme",
    cost: Decimal | None = HALF,
    *,
    model: str = "gpt-4o",
    app: str | None = "bot",
    at: datetime = NOW,
    state: str | None = None,
) -> CallEntry:
    e = CallEntry.from_event(
        call(tenant, model, Usage(input_tokens=100, output_tokens=10), time=at, actor={"app": app})
    )
    if state is None:
        state = "priced" if cost is not None else "price_missing"
    return e._replace(
        state=state,
        cost=cost,
        breakdown={"input": cost} if cost is not None else {},
        price_table_version="v1",
        priced_at=at,
    )


async def test_money_stays_exact_and_the_ledger_is_idempotent(repo: Any) -> None:
    first = [entry(cost=TINY), entry(cost=D("1234567.1")), entry("other", D("2"))]
    new, out = await repo.record(first, alerts)
    assert new == {e.key for e in first}
    assert out == []
    again, _ = await repo.record([*first, entry(cost=D("1"))], alerts)
    assert len(again) == 1  # only the new call
    report = await repo.report(
        "acme", NOW - timedelta(hours=1), NOW + timedelta(hours=1), [], "total", {}
    )
    assert len(report) == 1
    assert report[0].cost == exact_sum(D("1234568.1"), TINY)
    assert (report[0].calls, report[0].priced_calls, report[0].input_tokens) == (3, 3, 300)
    (stored,) = await repo.stored([first[0].key])
    assert stored.cost == TINY
    assert stored.breakdown == {"input": TINY}
    assert stored.usage == first[0].usage
    assert stored.time == NOW


async def test_report_groups_by_dimension_and_period(repo: Any) -> None:
    day2 = NOW + timedelta(days=1)
    await repo.record(
        [
            entry(cost=D("1")),
            entry(cost=D("2"), app=None),
            entry(cost=D("4"), model="gpt-4o-mini", at=NOW + timedelta(hours=1)),
            entry(cost=D("8"), at=day2),
            entry(cost=None, model="mystery"),
        ],
        alerts,
    )
    since, until = NOW - timedelta(days=1), NOW + timedelta(days=2)
    daily = await repo.report("acme", since, until, ["model"], "day", {})
    assert [(r.period_start.day, r.group["model"], r.cost, r.calls) for r in daily] == [
        (27, "gpt-4o", D("3"), 2),
        (27, "gpt-4o-mini", D("4"), 1),
        (27, "mystery", D("0"), 1),
        (28, "gpt-4o", D("8"), 1),
    ]
    hourly = await repo.report("acme", since, until, ["app"], "hour", {"model": "gpt-4o"})
    assert [(r.period_start.hour, r.group["app"], r.cost) for r in hourly] == [
        (10, None, D("2")),
        (10, "bot", D("1")),
        (10, "bot", D("8")),
    ]
    missing = await repo.report("acme", since, until, [], "total", {"model": "mystery"})
    assert (missing[0].price_missing_calls, missing[0].priced_calls) == (1, 0)
    assert await repo.report("nobody", since, until, [], "total", {}) == []


async def test_budget_counters_and_alerts_fire_once(repo: Any) -> None:
    budget = Budget(
        id="m", scope="app", scope_value="bot", limit=D("1"), hard=True, thresholds_pct=[50, 100]
    )
    assert await repo.set_budget("acme", budget, NOW, alerts) == []
    _, out = await repo.record([entry(cost=D("0.3")), entry(cost=D("0.3"), app="x")], alerts)
    assert out == []
    _, out = await repo.record([entry(cost=D("0.3"))], alerts)
    assert [o.subject for o in out] == ["llmops.evt.costs.budget_threshold_crossed.acme"]
    _, out = await repo.record([entry(cost=D("0.4")), entry(cost=D("0.1"))], alerts)
    assert sorted(o.subject.split(".")[3] for o in out) == [
        "budget_exceeded",
        "budget_threshold_crossed",
    ]
    window = datetime(2026, 11, 1, tzinfo=UTC)
    assert await repo.spent("acme", [("m", window)]) == {("m", window): D("1.1")}
    # Published alerts leave the outbox; the others stay for the sweeper.
    pending = await repo.outbox_pending(NOW + timedelta(days=1), 10)
    assert len(pending) == 3
    await repo.outbox_done([p.event_id for p in pending[:2]])
    assert len(await repo.outbox_pending(NOW + timedelta(days=1), 10)) == 1

    # Setting the same budget again recomputes its counter from the ledger; fired alerts stay.
    assert await repo.set_budget("acme", budget, NOW, alerts) == []
    assert (await repo.spent("acme", [("m", window)]))[("m", window)] == D("1.1")
    # A changed budget starts afresh: the thresholds it has already reached fire again.
    raised = budget.model_copy(update={"limit": D("2")})
    refired = await repo.set_budget("acme", raised, NOW, alerts)
    assert len(refired) == 1  # 50% of $2 is reached by $1.1
    assert [b.limit for b in await repo.budgets("acme")] == [D("2")]
    assert await repo.delete_budget("acme", "m")
    assert not await repo.delete_budget("acme", "m")
    assert await repo.spent("acme", [("m", window)]) == {}


async def test_concurrent_batches_keep_counters_exact(repo: Any) -> None:
    budget = Budget(id="t", scope="tenant", limit=D("100"), thresholds_pct=[1])
    await repo.set_budget("acme", budget, NOW, alerts)
    batches = [[entry(cost=D("0.01") + TINY) for _ in range(20)] for _ in range(10)]
    results = await asyncio.gather(*(repo.record(b, alerts) for b in batches))
    assert sum(len(out) for _, out in results) == 1  # the 1% threshold fired once
    window = datetime(2026, 11, 1, tzinfo=UTC)
    assert (await repo.spent("acme", [("t", window)]))[("t", window)] == exact_sum(
        *[D("0.01"), TINY] * 200
    )


async def test_waiting_calls_are_repriced_once(repo: Any) -> None:
    waiting = [entry(cost=None, model="mystery") for _ in range(3)]
    await repo.record([*waiting, entry(cost=D("1"))], alerts)
    found = await repo.waiting(None, 0, 10)
    assert {e.key for _, e in found} == {e.key for e in waiting}
    assert await repo.waiting(["other"], 0, 10) == []
    priced = [
        (
            pk,
            e._replace(
                state="priced", cost=D("0.25"), breakdown={"input": D("0.25")}, repriced=True
            ),
        )
        for pk, e in found
    ]
    done, out = await repo.reprice(priced[:2], alerts, call_events)
    assert len(done) == 2
    assert {o.subject for o in out} == {"llmops.evt.costs.cost_recorded.acme"}
    again, _ = await repo.reprice(priced, alerts, call_events)
    assert len(again) == 1  # the two already priced are not claimed twice
    total = await repo.report(
        "acme", NOW - timedelta(hours=1), NOW + timedelta(hours=1), [], "total", {}
    )
    assert (total[0].priced_calls, total[0].price_missing_calls) == (4, 0)
    assert total[0].cost == D("1.75")
    assert await repo.waiting(None, 0, 10) == []
    (stored,) = await repo.stored([found[0][1].key])
    assert stored.repriced
    assert stored.cost == D("0.25")


async def test_prices_and_anomalies_persist(repo: Any) -> None:
    assert await repo.prices_generation() == 0
    assert await repo.load_prices() == (0, None, [])
    override = PriceOverride.from_dict(
        {
            "tenant": "acme",
            "provider": "acme",
            "model": "m",
            "effective_from": NOW.isoformat(),
            "prices": {"tiers": {"standard": [{"input": "0.000001", "output": "0.000002"}]}},
        }
    )
    await repo.save_prices("acme", None, [override])
    await repo.save_prices("acme", {"version": "v2", "models": {}}, [override])
    generation, doc, overrides = await repo.load_prices()
    assert generation == await repo.prices_generation() == 2
    assert doc == {"version": "v2", "models": {}}
    assert [PriceOverride.from_dict(o) for o in overrides] == [override]

    event = call_events(entry())[0]
    assert len(await repo.claim_anomaly("acme", "tenant", "acme", NOW, event)) == 1
    assert await repo.claim_anomaly("acme", "tenant", "acme", NOW, event) == []


async def test_only_the_newest_whole_price_tables_are_kept(repo: Any) -> None:
    for i in range(KEPT_TABLES + 2):
        await repo.save_prices("ops", {"version": f"v{i}", "models": {}}, [])
    await repo.save_prices("acme", None, [])  # an overrides-only load keeps every table
    generation, doc, _ = await repo.load_prices()
    assert (generation, doc) == (KEPT_TABLES + 3, {"version": f"v{KEPT_TABLES + 1}", "models": {}})
    async with repo.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(price_loads.c.version, price_loads.c.table_doc.is_not(None)).order_by(
                    price_loads.c.id
                )
            )
        ).all()
    kept = [version for version, whole in rows if whole]
    assert kept == [f"v{i}" for i in range(2, KEPT_TABLES + 2)]
    assert [version for version, _ in rows][:2] == ["v0", "v1"]  # their rows stay


async def test_the_sqlite_fast_path_stores_what_sqlalchemy_would(tmp_path: Path) -> None:
    # On SQLite the batch's ledger insert and rollup upsert bind their values themselves: the
    # stored text must be what SQLAlchemy's own statements store.
    priced_at = NOW + timedelta(seconds=1, microseconds=5)
    east = timezone(timedelta(hours=2))
    entries = [
        entry(cost=TINY)._replace(priced_at=priced_at),
        entry(cost=D("2"), app=None, at=NOW + timedelta(minutes=7, microseconds=3))._replace(
            priced_at=priced_at, provided_cost=D("0.01")
        ),
        entry(cost=D("4"), at=datetime(2026, 11, 27, 12, 59, tzinfo=east)),
        entry(cost=None, model="mystery")._replace(priced_at=priced_at),
        CallEntry.from_event(call("other", "gpt-4o", prompt={"name": "p", "version": "2"})),
    ]
    tables = {}
    for name in ("fast", "sqlalchemy"):
        store = SqlCostRepository(f"sqlite:///{tmp_path / name}.db")
        await store.open()
        if name == "sqlalchemy":
            store._sqlite = None  # the generic statements, as on PostgreSQL
        assert len((await store.record(entries, alerts))[0]) == len(entries)
        await store.close()
        with sqlite3.connect(tmp_path / f"{name}.db") as db:
            tables[name] = [
                db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4, 5").fetchall()
                for table in ("cost_calls", "cost_hourly")
            ]
    assert tables["fast"] == tables["sqlalchemy"]
    assert len(tables["fast"][1]) == 4  # the call at 12:59+02:00 adds to the first one's row


def test_sqlite_money_sums_are_exact() -> None:
    assert sum_money(None) == 0
    assert sum_money(f"0.1 0.2 {TINY}") == exact_sum(D("0.3"), TINY)


async def test_the_bundled_prices_load_once(repo: Any) -> None:
    assert bundled_prices() is bundled_prices()


@pytest.mark.postgres
async def test_deleting_a_budget_waits_for_the_tenants_running_batch(
    postgres_url: str, uid: str
) -> None:
    # A batch holds the tenant's advisory lock (shared) from reading its budgets to its commit;
    # a delete that did not wait for it let the batch write the deleted budget's counter back.
    async with fresh_postgres_database(postgres_url, f"costs_delete_{uid}") as url:
        store = SqlCostRepository(url, clock=FixedClock(NOW))
        await store.open()
        try:
            budget = Budget(id="b", scope="tenant", limit=D(1), hard=True)
            await store.set_budget("acme", budget, NOW, alerts)
            async with store.engine.begin() as batch:
                await batch.execute(
                    text("SELECT pg_advisory_xact_lock_shared(hashtext('llmops_costs:acme'))")
                )
                deleting = asyncio.create_task(store.delete_budget("acme", "b"))
                await asyncio.sleep(0.3)
                assert not deleting.done()  # waits for the batch's commit
            assert await asyncio.wait_for(deleting, 10)
            assert await store.budgets("acme") == []
        finally:
            await store.close()
