"""Must-show: an unknown model is never $0; loading its price re-prices the waiting calls."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import nats

from llmops import Client
from llmops_contracts.costs import (
    CostRecorded,
    CostReportQuery,
    PriceMissing,
    PricesLoad,
    PricesLoaded,
)
from llmops_contracts.llm import Usage
from llmops_costs.app import create_app
from llmops_shared.clock import ShiftedClock
from tests.conftest import eventually, running
from tests.services.costs.support import NOW, Collector, call, drained, publish_all, settings

MODEL = "acme-private-llm"
PRICES = {"input": "0.000002", "output": "0.000008"}


async def test_unknown_model_waits_for_its_price_then_is_repriced(
    own_nats: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    # A server of its own: its events do not burden other tests' consumers (which read all).
    nats_url = own_nats
    cfg = settings(nats_url, f"sqlite:///{tmp_path / 'costs.db'}", uid)
    app = create_app(cfg, ShiftedClock(NOW))
    async with running(app):
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        events = await Collector().start(nc, f"llmops.evt.costs.*.{tenant}")
        usage = Usage(input_tokens=1000, output_tokens=250)
        calls = [call(tenant, MODEL, usage, provider="acme") for _ in range(3)]
        last = await publish_all(js, calls)
        await eventually(lambda: drained(js, cfg.llm_calls_durable, last))
        await eventually(lambda: len(events.of(PriceMissing.SPEC.type)) == 3)
        assert events.of(CostRecorded.SPEC.type) == []

        since = NOW - timedelta(hours=1)
        async with await Client.connect(nats_url, source="cli://t", tenant=tenant) as client:
            before = (await client.request(CostReportQuery(since=since, granularity="total"))).data
            assert (before.total.calls, before.total.price_missing_calls) == (3, 3)
            assert (before.total.priced_calls, before.total.cost) == (0, 0)

            override = {
                "provider": "acme",
                "model": MODEL,
                "effective_from": "2020-01-01T00:00:00+00:00",
                "version": "acme-contract-2026",
                "prices": {"tiers": {"standard": [PRICES]}},
            }
            loaded = (await client.request(PricesLoad(overrides=[override]))).data
            assert isinstance(loaded, PricesLoaded)
            assert (loaded.overrides, loaded.repriced) == (1, 3)

            await eventually(lambda: len(events.of(CostRecorded.SPEC.type)) == 3)
            each = Decimal(1000) * Decimal("0.000002") + Decimal(250) * Decimal("0.000008")
            for e in events.of(CostRecorded.SPEC.type):
                assert e.data.repriced
                assert e.data.computed_cost == each
                assert e.data.price_table_version == "acme-contract-2026"
            assert {e.data.call_id for e in events.of(CostRecorded.SPEC.type)} == {
                c.id for c in calls
            }
            await eventually(lambda: events.of(PricesLoaded.SPEC.type))

            after = (await client.request(CostReportQuery(since=since, granularity="total"))).data
            assert (after.total.priced_calls, after.total.price_missing_calls) == (3, 0)
            assert after.total.cost == 3 * each

            # Loading again re-prices nothing: each call is priced once.
            again = (await client.request(PricesLoad(overrides=[override]))).data
            assert again.repriced == 0
        await nc.drain()

    # A restart uses the persisted override at once.
    async with running(create_app(cfg, ShiftedClock(NOW))) as restarted:
        later = call(tenant, MODEL, usage, provider="acme")
        entry = restarted.service.entry_for(later, restarted.service.prices)
        assert entry.state == "priced"
        assert entry.price_table_version == "acme-contract-2026"
