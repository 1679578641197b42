"""Must-show: the same LLM-call events replayed give the same totals, equal to an independent sum.

The events are published, then published again under new Nats-Msg-Ids (so JetStream stores the
copies and only the service's idempotency can drop them). The totals -- the report's spend and
tokens, per model and in all, and a budget counter -- are compared after each pass with sums
computed here from the same price table, call by call.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import nats

from llmops import Client
from llmops_contracts.costs import Budget, BudgetsRequest, CostReportQuery
from llmops_contracts.llm import Usage
from llmops_costs.app import bundled_prices, create_app
from llmops_shared.clock import ShiftedClock
from tests.conftest import eventually, running
from tests.services.costs.support import (
    NOW,
    call,
    drained,
    independent_total,
    publish_all,
    settings,
)

#: (provider, model): chat models across providers, priced per token in the snapshot.
MODELS = (
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o-2024-08-06"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-haiku-4-5"),
    ("deepseek", "deepseek-chat"),
    ("mistral", "mistral-small-latest"),
)


def workload(tenant: str, n: int) -> list[Any]:
    rng = random.Random(n)
    start = NOW - timedelta(hours=30)
    events = []
    for i in range(n):
        provider, model = MODELS[i % len(MODELS)]
        inp = rng.randint(10, 20000)
        cached = rng.randint(0, inp // 2)
        written = rng.randint(0, (inp - cached) // 4) if provider == "anthropic" else 0
        out = rng.randint(1, 2000)
        usage = Usage(
            input_tokens=inp,
            output_tokens=out,
            cache_read_input_tokens=cached,
            cache_creation_input_tokens=written,
            reasoning_tokens=rng.randint(0, out // 2) if provider == "openai" else 0,
        )
        at = start + timedelta(seconds=rng.randint(0, 30 * 3600))
        events.append(
            call(
                tenant,
                model,
                usage,
                provider=provider,
                time=at,
                actor={"app": f"app{i % 5}", "user": f"u{i % 97}"},
            )
        )
    return events


async def test_20000_replayed_events_give_the_same_exact_totals(
    own_nats: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    # A server of its own: its events do not burden other tests' consumers (which read all).
    nats_url = own_nats
    """About 17 s on 2 cores: short of the ~40 s that would move it to the slow suite."""
    n = 20000
    events = workload(tenant, n)
    table = bundled_prices()
    expected = independent_total(table, events)
    per_model = {
        model: independent_total(table, [e for e in events if e.data.request_model == model])
        for _, model in MODELS
    }
    tokens = sum(e.data.usage.input_tokens for e in events)
    cfg = settings(nats_url, f"sqlite:///{tmp_path / 'costs.db'}", uid, batch_size=500)
    app = create_app(cfg, ShiftedClock(NOW))
    since = NOW - timedelta(days=3)
    async with running(app):
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        async with await Client.connect(nats_url, source="cli://t", tenant=tenant) as client:
            budget = Budget(
                id="all",
                scope="tenant",
                limit=Decimal("1e9"),
                window="custom",
                starts_at=since,
                ends_at=since + timedelta(days=4),
            )
            await client.request(BudgetsRequest(action="set", budget=budget))
            for attempt in ("", "replay-"):
                last = await publish_all(js, events, msg_id_prefix=attempt)
                await eventually(
                    lambda last=last: drained(js, cfg.llm_calls_durable, last), timeout=120
                )
                total = (
                    await client.request(
                        CostReportQuery(since=since, granularity="total"), timeout=30
                    )
                ).data.total
                assert (total.calls, total.priced_calls) == (n, n), attempt
                assert total.cost == expected, attempt
                assert total.input_tokens == tokens
                by_model = (
                    await client.request(
                        CostReportQuery(since=since, by=["model"], granularity="total"),
                        timeout=30,
                    )
                ).data
                assert {r.group["model"]: r.cost for r in by_model.rows} == per_model, attempt
                daily = (
                    await client.request(CostReportQuery(since=since, by=["app"]), timeout=30)
                ).data
                assert sum(r.cost for r in daily.rows) == expected
                assert sum(r.calls for r in daily.rows) == n
                listed = (await client.request(BudgetsRequest(action="list"))).data
                assert listed.budgets[0].spent == expected, attempt
        await nc.drain()
