"""Must-show: two replicas on one stream and one database keep budget counters exact.

Both replicas share the durable consumer (JetStream splits the batches between them) and the
database (a SQLite file, or PostgreSQL). At the end every counter equals the sum computed here,
each threshold fired exactly once, and a budget check denies the call that would reach the
hard limit while allowing one a micro-dollar cheaper.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import nats
import pytest

from llmops import Client
from llmops_contracts.costs import (
    Budget,
    BudgetCheck,
    BudgetExceeded,
    BudgetsRequest,
    BudgetThresholdCrossed,
)
from llmops_contracts.llm import Usage
from llmops_costs.app import bundled_prices, create_app
from llmops_shared.clock import ShiftedClock
from tests.conftest import eventually, fresh_postgres_database, running
from tests.services.costs.support import (
    NOW,
    Collector,
    call,
    drained,
    independent_total,
    publish_all,
    settings,
)

N = 1500
MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-nano")


@asynccontextmanager
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    yield f"sqlite:///{tmp_path / 'shared.db'}"


def workload(tenant: str, seed: int) -> list[Any]:
    rng = random.Random(seed)
    return [
        call(
            tenant,
            MODELS[i % 3],
            Usage(
                input_tokens=(inp := rng.randint(50, 5000)),
                output_tokens=(out := rng.randint(1, 900)),
                cache_read_input_tokens=rng.randint(0, inp // 2),
                reasoning_tokens=rng.randint(0, out // 3),
            ),
            actor={"app": f"app{i % 3}", "user": f"user{i % 7}"},
        )
        for i in range(N)
    ]


async def run_two_replicas(nats_url: str, db_url: str, uid: str, tenant: str) -> None:
    events = workload(tenant, seed=7)
    table = bundled_prices()
    total = independent_total(table, events)
    app0 = independent_total(table, [e for e in events if e.data.actor.app == "app0"])
    user3 = independent_total(table, [e for e in events if e.data.actor.user == "user3"])
    budgets = [
        # Spend lands at half the limit: 10, 25 and 40% fire, 75% does not; hard.
        Budget(
            id="tenant", scope="tenant", limit=2 * total, thresholds_pct=[10, 25, 40, 75], hard=True
        ),
        # Spend lands exactly on the limit: 100% fires (>=), and so does the hard limit.
        Budget(
            id="app0",
            scope="app",
            scope_value="app0",
            limit=app0,
            thresholds_pct=[50, 100],
            hard=True,
        ),
        Budget(
            id="user3",
            scope="user",
            scope_value="user3",
            limit=user3 * 4,
            thresholds_pct=[20],
            window="day",
        ),
    ]
    cfg = settings(nats_url, db_url, uid, batch_size=40)
    apps = [create_app(cfg, ShiftedClock(NOW)), create_app(cfg, ShiftedClock(NOW))]
    stored = [0, 0]
    for i, app in enumerate(apps):
        batch = app.service.repository.batch

        @asynccontextmanager
        async def counting(i: int = i, batch: Any = batch) -> AsyncIterator[Any]:
            new: set[tuple[str, str]] = set()
            async with batch() as uow:
                insert = uow.insert_calls

                async def insert_calls(entries: Any) -> set[tuple[str, str]]:
                    keys: set[tuple[str, str]] = await insert(entries)
                    new.update(keys)
                    return keys

                uow.insert_calls = insert_calls
                yield uow
            # Committed. The durable reads every tenant's calls (earlier tests' too): count
            # this test's.
            stored[i] += sum(1 for key in new if key[0] == tenant)

        app.service.repository.batch = counting

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    costs = await Collector().start(nc, f"llmops.evt.costs.*.{tenant}")

    class Alerts:
        @property
        def events(self) -> list[Any]:
            return [e for e in costs.events if e.type.startswith("llmops.costs.budget_")]

    alerts = Alerts()
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(running(app))
        async with await Client.connect(nats_url, source="cli://t", tenant=tenant) as client:
            for budget in budgets:
                await client.request(BudgetsRequest(action="set", budget=budget))
            last = await publish_all(js, events)
            await eventually(lambda: drained(js, cfg.llm_calls_durable, last), timeout=60)
            assert sum(stored) == N
            assert all(stored), f"one replica did all the work: {stored}"

            listed = (await client.request(BudgetsRequest(action="list"))).data
            spent = {s.budget.id: s.spent for s in listed.budgets}
            assert spent == {"tenant": total, "app0": app0, "user3": user3}

            await eventually(lambda: len(alerts.events) >= 7)
            fired = Counter(
                (e.data.budget_id, getattr(e.data, "threshold_pct", "exceeded"))
                for e in alerts.events
            )
            assert fired == Counter(
                {
                    ("tenant", 10.0): 1,
                    ("tenant", 25.0): 1,
                    ("tenant", 40.0): 1,
                    ("app0", 50.0): 1,
                    ("app0", 100.0): 1,
                    ("app0", "exceeded"): 1,
                    ("user3", 20.0): 1,
                }
            )
            exceeded = [e for e in alerts.events if e.type == BudgetExceeded.SPEC.type]
            assert exceeded[0].data.spent == app0
            crossed = [e for e in alerts.events if e.type == BudgetThresholdCrossed.SPEC.type]
            assert all(
                e.data.spent >= e.data.limit * Decimal(e.data.threshold_pct) / 100 for e in crossed
            )

            # The hard limit: the call that would reach it is denied, a micro-dollar less passes.
            room = 2 * total - total
            tight = (await client.request(BudgetCheck(estimated_cost=room))).data
            assert not tight.allow
            assert "tenant" in (tight.reason or "")
            fits = (
                await client.request(BudgetCheck(estimated_cost=room - Decimal("0.000001")))
            ).data
            assert fits.allow
            # app0 has reached its limit: every call of app0 is denied, even a free one.
            app_check = (
                await client.request(BudgetCheck(app="app0", estimated_cost=Decimal(0)))
            ).data
            assert not app_check.allow
            assert "app0" in (app_check.reason or "")
            assert {s.budget.id for s in app_check.budgets} == {"tenant", "app0"}
    await nc.drain()


async def test_two_replicas_on_sqlite(own_nats: str, tmp_path: Path, uid: str, tenant: str) -> None:
    await run_two_replicas(own_nats, f"sqlite:///{tmp_path / 'shared.db'}", uid, tenant)


@pytest.mark.postgres
async def test_two_replicas_on_postgres(
    own_nats: str, postgres_url: str, uid: str, tenant: str
) -> None:
    async with fresh_postgres_database(postgres_url, f"costs_{uid}") as db_url:
        await run_two_replicas(own_nats, db_url, uid, tenant)
