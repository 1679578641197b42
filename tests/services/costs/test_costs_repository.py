"""One abstract suite for the costs repository port, run against every adapter.

``CostRepositoryContract`` holds the port's behaviour, written through the service's own write
transactions (``llmops_costs.ledger``) where it was about what they store; ``SqlCostRepository
Contract`` adds what only a database can show (its tables, its migrations). They run against the
in-memory fake (so the service's unit tests rest on a faithful fake), a SQLite file and a fresh
PostgreSQL database per test.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from llmops_contracts.costs import Budget
from llmops_contracts.llm import Usage
from llmops_contracts.prices import PriceDocument, PriceOverrideSpec
from llmops_costs.entries import CallEntry
from llmops_costs.events import call_events
from llmops_costs.ledger import store_anomaly, store_budget, store_calls, store_repriced
from llmops_costs.money import exact
from llmops_costs.ports import Outboxed, Spend
from llmops_costs.schema import VERSION_TABLE, calls, price_loads, row_of, sum_money
from llmops_costs.store import KEPT_TABLES, SqlCostRepository
from llmops_shared.db import create_engine, migrate
from tests.conftest import fresh_postgres_database
from tests.services.costs.fakes import FakeCostRepository
from tests.services.costs.support import TRACEPARENT, call

D = Decimal
NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
HALF = D("0.5")
#: A cost with 24 decimals: a float or a fixed-scale integer would lose it.
TINY = D("0.000000032857142857142855")
#: The month window holding NOW.
WINDOW = datetime(2026, 11, 1, tzinfo=UTC)


def exact_sum(*values: Decimal) -> Decimal:
    """A sum without rounding (the default context keeps 28 digits only)."""
    with exact():
        return sum(values, D(0))


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
        traceparent=TRACEPARENT,
    )


def table(version: str) -> PriceDocument:
    """An empty price table of one version."""
    return PriceDocument(version=version, models={})


async def record(repo: Any, entries: list[CallEntry]) -> tuple[set[Any], list[Outboxed]]:
    """Store a batch as the service does (one unit of work)."""
    return await store_calls(repo, entries, NOW)


async def report_total(repo: Any, tenant: str = "acme") -> list[Any]:
    return list(
        await repo.report(
            tenant, NOW - timedelta(hours=1), NOW + timedelta(hours=1), [], "total", {}
        )
    )


class CostRepositoryContract:
    """What every adapter of the costs repository port promises."""

    @pytest.fixture
    async def repo(self) -> Any:  # overridden per adapter
        raise NotImplementedError

    async def test_money_stays_exact_and_the_ledger_is_idempotent(self, repo: Any) -> None:
        first = [entry(cost=TINY), entry(cost=D("1234567.1")), entry("other", D("2"))]
        new, out = await record(repo, first)
        assert new == {e.key for e in first}
        assert out == []
        again, _ = await record(repo, [*first, entry(cost=D("1"))])
        assert len(again) == 1  # only the new call
        report = await report_total(repo)
        assert len(report) == 1
        assert report[0].cost == exact_sum(D("1234568.1"), TINY)
        assert (report[0].calls, report[0].priced_calls, report[0].input_tokens) == (3, 3, 300)
        (stored,) = await repo.stored([first[0].key])
        assert stored.cost == TINY
        assert stored.breakdown == {"input": TINY}
        assert stored.usage == first[0].usage
        assert stored.time == NOW
        assert stored == first[0]  # every column read back (the call event itself is not kept)
        assert stored.call is None

    async def test_report_groups_by_dimension_and_period(self, repo: Any) -> None:
        day2 = NOW + timedelta(days=1)
        await record(
            repo,
            [
                entry(cost=D("1")),
                entry(cost=D("2"), app=None),
                entry(cost=D("4"), model="gpt-4o-mini", at=NOW + timedelta(hours=1)),
                entry(cost=D("8"), at=day2),
                entry(cost=None, model="mystery"),
            ],
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

    async def test_budget_counters_and_alerts_fire_once(self, repo: Any) -> None:
        budget = Budget(
            id="m",
            scope="app",
            scope_value="bot",
            limit=D("1"),
            hard=True,
            thresholds_pct=[50, 100],
        )
        assert await store_budget(repo, "acme", budget, NOW) == []
        _, out = await record(repo, [entry(cost=D("0.3")), entry(cost=D("0.3"), app="x")])
        assert out == []
        _, out = await record(repo, [entry(cost=D("0.3"))])
        assert [o.subject for o in out] == ["llmops.evt.costs.budget_threshold_crossed.acme"]
        _, out = await record(repo, [entry(cost=D("0.4")), entry(cost=D("0.1"))])
        assert sorted(o.subject.split(".")[3] for o in out) == [
            "budget_exceeded",
            "budget_threshold_crossed",
        ]
        assert await repo.spent("acme", [("m", WINDOW)]) == {("m", WINDOW): D("1.1")}
        # Published alerts leave the outbox; the others stay for the sweeper.
        pending = await repo.outbox_pending(NOW + timedelta(days=1), 10)
        assert len(pending) == 3
        await repo.outbox_done([p.event_id for p in pending[:2]])
        assert len(await repo.outbox_pending(NOW + timedelta(days=1), 10)) == 1

        # Setting the same budget again recomputes its counter from the ledger; fired alerts stay.
        assert await store_budget(repo, "acme", budget, NOW) == []
        assert (await repo.spent("acme", [("m", WINDOW)]))[("m", WINDOW)] == D("1.1")
        # A changed budget starts afresh: the thresholds it has already reached fire again.
        raised = budget.model_copy(update={"limit": D("2")})
        refired = await store_budget(repo, "acme", raised, NOW)
        assert len(refired) == 1  # 50% of $2 is reached by $1.1
        assert [b.limit for b in await repo.budgets("acme")] == [D("2")]
        assert await repo.delete_budget("acme", "m")
        assert not await repo.delete_budget("acme", "m")
        assert await repo.spent("acme", [("m", WINDOW)]) == {}

    async def test_concurrent_batches_keep_counters_exact(self, repo: Any) -> None:
        budget = Budget(id="t", scope="tenant", limit=D("100"), thresholds_pct=[1])
        await store_budget(repo, "acme", budget, NOW)
        batches = [[entry(cost=D("0.01") + TINY) for _ in range(20)] for _ in range(10)]
        results = await asyncio.gather(*(record(repo, b) for b in batches))
        assert sum(len(out) for _, out in results) == 1  # the 1% threshold fired once
        assert (await repo.spent("acme", [("t", WINDOW)]))[("t", WINDOW)] == exact_sum(
            *[D("0.01"), TINY] * 200
        )

    async def test_a_budget_recomputes_only_the_spend_it_applies_to(self, repo: Any) -> None:
        asked = entry(cost=D("1"))._replace(request_model="gpt-4o", model="gpt-4o-2024-08-06")
        await record(
            repo,
            [
                asked,
                entry(cost=D("2"), app="other"),
                entry(cost=D("4"), at=NOW - timedelta(days=40)),  # another month
                entry(cost=None),  # waiting for a price: nothing spent yet
                entry("other", D("8")),
            ],
        )
        scopes = {
            "tenant": (Budget(id="t", scope="tenant", limit=D(100)), D("3")),
            "app": (Budget(id="a", scope="app", scope_value="bot", limit=D(100)), D("1")),
            "model": (Budget(id="m", scope="model", scope_value="gpt-4o", limit=D(100)), D("3")),
            "answered": (
                Budget(id="d", scope="model", scope_value="gpt-4o-2024-08-06", limit=D(100)),
                D("1"),
            ),
            "user": (Budget(id="u", scope="user", scope_value="nobody", limit=D(100)), None),
        }
        for budget, spent in scopes.values():
            await store_budget(repo, "acme", budget, NOW)
            expected = {} if spent is None else {(budget.id, WINDOW): spent}
            assert await repo.spent("acme", [(budget.id, WINDOW)]) == expected, budget.id

    async def test_waiting_calls_are_repriced_once(self, repo: Any) -> None:
        waiting = [entry(cost=None, model="mystery") for _ in range(3)]
        await record(repo, [*waiting, entry(cost=D("1"))])
        found = await repo.waiting(None, 0, 10)
        assert {e.key for _, e in found} == {e.key for e in waiting}
        assert [pk for pk, _ in found] == sorted(pk for pk, _ in found)
        assert await repo.waiting(None, found[0][0], 10) == found[1:]
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
        done, out = await store_repriced(repo, priced[:2], NOW)
        assert len(done) == 2
        assert {o.subject for o in out} == {"llmops.evt.costs.cost_recorded.acme"}
        again, _ = await store_repriced(repo, priced, NOW)
        assert len(again) == 1  # the two already priced are not claimed twice
        total = await report_total(repo)
        assert (total[0].priced_calls, total[0].price_missing_calls) == (4, 0)
        assert total[0].cost == D("1.75")
        assert await repo.waiting(None, 0, 10) == []
        (stored,) = await repo.stored([found[0][1].key])
        assert stored.repriced
        assert stored.cost == D("0.25")

    async def test_prices_and_anomalies_persist(self, repo: Any) -> None:
        assert await repo.prices_generation() == 0
        assert await repo.load_prices() == (0, None, [])
        override = PriceOverrideSpec.model_validate(
            {
                "tenant": "acme",
                "provider": "acme",
                "model": "m",
                "effective_from": NOW.isoformat(),
                "prices": {"tiers": {"standard": [{"input": "0.000001", "output": "0.000002"}]}},
            }
        )
        await repo.save_prices("acme", None, [override], NOW)
        await repo.save_prices("acme", table("v2"), [override], NOW)
        generation, doc, overrides = await repo.load_prices()
        assert generation == await repo.prices_generation() == 2
        assert doc is not None
        assert json.loads(doc) == {"version": "v2", "models": {}}
        assert [PriceOverrideSpec.model_validate_json(o) for o in overrides] == [override]

        event = call_events(entry())[0]
        claimed = await store_anomaly(repo, "acme", "tenant", "acme", NOW, event, NOW)
        assert [o.event_id for o in claimed] == [event.id]
        assert await store_anomaly(repo, "acme", "tenant", "acme", NOW, event, NOW) == []
        assert await store_anomaly(repo, "acme", "app", "acme", NOW, event, NOW) != []

    async def test_a_unit_of_work_that_fails_stores_nothing(self, repo: Any) -> None:
        budget = Budget(id="t", scope="tenant", limit=D("1"))
        await store_budget(repo, "acme", budget, NOW)
        item = Outboxed.of(call_events(entry())[0])

        async def crash() -> None:
            async with repo.batch() as uow:
                await uow.insert_calls([entry()])
                await uow.add_spend([Spend("acme", "t", WINDOW, D("0.5"))])
                await uow.claim_alerts([("acme", "t", WINDOW, "exceeded")], NOW)
                await uow.add_outbox([item], NOW)
                raise RuntimeError("crash")

        with pytest.raises(RuntimeError, match="crash"):
            await crash()
        assert await report_total(repo) == []
        assert await repo.spent("acme", [("t", WINDOW)]) == {}
        assert await repo.outbox_pending(NOW + timedelta(days=1), 10) == []
        async with repo.batch() as uow:  # the alert was not kept either
            assert await uow.claim_alerts([("acme", "t", WINDOW, "exceeded")], NOW) == {
                ("acme", "t", WINDOW, "exceeded")
            }

    async def test_counters_add_atomically_and_say_what_they_held(self, repo: Any) -> None:
        a, b = ("acme", "t", WINDOW), ("acme", "u", WINDOW)
        async with repo.batch() as uow:
            moved = await uow.add_spend([Spend(*a, D("0.1")), Spend(*b, TINY)])
            assert moved == {a: (D(0), D("0.1")), b: (D(0), TINY)}
        async with repo.batch() as uow:
            assert await uow.add_spend([Spend(*a, D("0.2"))]) == {a: (D("0.1"), D("0.3"))}
        assert await repo.spent("acme", [("t", WINDOW), ("u", WINDOW), ("x", WINDOW)]) == {
            ("t", WINDOW): D("0.3"),
            ("u", WINDOW): TINY,
        }

    async def test_alerts_are_claimed_once(self, repo: Any) -> None:
        first = ("acme", "t", WINDOW, "threshold:50.0")
        second = ("acme", "t", WINDOW, "exceeded")
        async with repo.batch() as uow:
            assert await uow.claim_alerts([first], NOW) == {first}
        async with repo.batch() as uow:
            assert await uow.claim_alerts([first, second], NOW) == {second}
            await uow.forget_alerts("acme", "t")
            assert await uow.claim_alerts([first], NOW) == {first}

    async def test_the_outbox_keeps_an_event_once_and_hands_out_the_oldest_first(
        self, repo: Any
    ) -> None:
        items = [Outboxed.of(m) for e in (entry(), entry()) for m in call_events(e)]
        later = NOW + timedelta(seconds=5)
        async with repo.batch() as uow:
            await uow.add_outbox([items[1]], later)
            await uow.add_outbox([items[0]], NOW)
        async with repo.batch() as uow:
            await uow.add_outbox([items[0]], later)  # already there: kept as it was
        assert await repo.outbox_pending(NOW, 10) == []  # created at NOW: not before it
        assert await repo.outbox_pending(later, 10) == [items[0]]
        assert await repo.outbox_pending(later + timedelta(seconds=1), 10) == items
        assert await repo.outbox_pending(later + timedelta(seconds=1), 1) == items[:1]
        await repo.outbox_done([items[0].event_id, "not-there"])
        assert await repo.outbox_pending(later + timedelta(seconds=1), 10) == items[1:]


class SqlCostRepositoryContract(CostRepositoryContract):
    """The SQL adapter: what only its tables show."""

    @pytest.fixture
    def database_url(self) -> str:  # overridden per database
        raise NotImplementedError

    @pytest.fixture
    def empty_database_url(self) -> str:  # overridden per database: one nobody migrated yet
        raise NotImplementedError

    @pytest.fixture
    async def repo(self, database_url: str) -> AsyncIterator[SqlCostRepository]:
        repository = SqlCostRepository(database_url)
        await repository.open()
        try:
            yield repository
        finally:
            await repository.close()

    async def test_revision_0002_keeps_the_calls_stored_before_it(
        self, empty_database_url: str
    ) -> None:
        before = entry()._replace(traceparent=None)
        engine = create_engine(empty_database_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(lambda c: migrate(c, "llmops_costs", VERSION_TABLE, "0001"))
                row = {k: v for k, v in row_of(before).items() if k != "traceparent"}
                await conn.execute(insert(calls), row)
        finally:
            await engine.dispose()
        repository = SqlCostRepository(empty_database_url)
        await repository.open()  # migrates to the latest revision
        try:
            after = entry()
            assert await record(repository, [before, after]) == ({after.key}, [])
            assert await repository.stored([before.key]) == [before]
            assert await repository.stored([after.key]) == [after]
            assert after.traceparent == TRACEPARENT
        finally:
            await repository.close()

    async def test_only_the_newest_whole_price_tables_are_kept(
        self, repo: SqlCostRepository
    ) -> None:
        for i in range(KEPT_TABLES + 2):
            await repo.save_prices("ops", table(f"v{i}"), [], NOW)
        await repo.save_prices("acme", None, [], NOW)  # an overrides-only load keeps every table
        generation, doc, _ = await repo.load_prices()
        assert doc is not None
        assert (generation, json.loads(doc)) == (
            KEPT_TABLES + 3,
            {"version": f"v{KEPT_TABLES + 1}", "models": {}},
        )
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


class TestFakeCostRepository(CostRepositoryContract):
    """The fake the service unit tests use keeps the port's promises."""

    @pytest.fixture
    async def repo(self) -> FakeCostRepository:
        return FakeCostRepository()


class TestSqliteCostRepository(SqlCostRepositoryContract):
    """The embedded default: a SQLite file in WAL mode."""

    @pytest.fixture
    def database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'costs.db'}"

    @pytest.fixture
    def empty_database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'fresh.db'}"

    async def test_the_sqlite_fast_path_stores_what_sqlalchemy_would(self, tmp_path: Path) -> None:
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
                store.sql.sqlite = None  # the generic statements, as on PostgreSQL
            assert len((await record(store, entries))[0]) == len(entries)
            await store.close()
            with sqlite3.connect(tmp_path / f"{name}.db") as db:
                tables[name] = [
                    db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4, 5").fetchall()
                    for table in ("cost_calls", "cost_hourly")
                ]
        assert tables["fast"] == tables["sqlalchemy"]
        assert len(tables["fast"][1]) == 4  # the call at 12:59+02:00 adds to the first one's row


@pytest.mark.postgres
class TestPostgresCostRepository(SqlCostRepositoryContract):
    """Production: PostgreSQL, a database of its own per test (migrated from scratch)."""

    @pytest.fixture
    async def database_url(self, postgres_url: str, uid: str) -> AsyncIterator[str]:
        async with fresh_postgres_database(postgres_url, f"costs_store_{uid}") as url:
            yield url

    @pytest.fixture
    async def empty_database_url(self, postgres_url: str, uid: str) -> AsyncIterator[str]:
        async with fresh_postgres_database(postgres_url, f"costs_fresh_{uid}") as url:
            yield url

    async def test_deleting_a_budget_waits_for_the_tenants_running_batch(
        self, repo: SqlCostRepository
    ) -> None:
        # A batch holds the tenant's advisory lock (shared) from reading its budgets to its
        # commit; a delete that did not wait for it let the batch write the deleted budget's
        # counter back.
        budget = Budget(id="b", scope="tenant", limit=D(1), hard=True)
        await store_budget(repo, "acme", budget, NOW)
        async with repo.engine.begin() as batch:
            await batch.execute(
                text("SELECT pg_advisory_xact_lock_shared(hashtext('llmops_costs:acme'))")
            )
            deleting = asyncio.create_task(repo.delete_budget("acme", "b"))
            await asyncio.sleep(0.3)
            assert not deleting.done()  # waits for the batch's commit
        assert await asyncio.wait_for(deleting, 10)
        assert await repo.budgets("acme") == []


def test_sqlite_money_sums_are_exact() -> None:
    assert sum_money(None) == 0
    assert sum_money(f"0.1 0.2 {TINY}") == exact_sum(D("0.3"), TINY)
