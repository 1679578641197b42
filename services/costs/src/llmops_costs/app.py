"""Composition root of the costs service."""

from __future__ import annotations

import functools
import gc
from decimal import Decimal

from faststream import FastStream

from llmops_costs.anomalies import detect_spike
from llmops_costs.config import CostsSettings
from llmops_costs.handlers import build_router
from llmops_costs.metrics import PrometheusCostMetrics
from llmops_costs.prices import load_snapshot
from llmops_costs.pricing import PriceTable
from llmops_costs.service import CostsOptions, CostsService
from llmops_costs.store import SqlCostRepository
from llmops_costs.tokens import TokenEstimator
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.logging import get_logger
from llmops_shared.runtime import Wiring, every, service_app

_log = get_logger(__name__)

#: The cyclic collector's thresholds (see ``freeze_startup_heap``).
GC_THRESHOLDS = (5000, 20, 100)


@functools.cache
def bundled_prices() -> PriceTable:
    """The bundled snapshot, parsed once per process on first use (immutable, so shared)."""
    return load_snapshot()


def create_app(settings: CostsSettings, clock: Clock = SYSTEM_CLOCK) -> FastStream:
    """Build the costs service: ledger, rollup, budgets, prices, anomalies, endpoints.

    ``clock`` is where business time comes from (tests and replays pass their own).
    """
    repository = SqlCostRepository(settings.database_url)
    wiring = Wiring(settings, clock)
    service = CostsService(
        repository,
        wiring.publisher,
        PrometheusCostMetrics(),
        bundled_prices=bundled_prices,
        estimator=TokenEstimator(),
        detect_spike=detect_spike,
        options=CostsOptions(
            budget_cache_ttl_s=settings.budget_cache_ttl_s,
            budget_settle_s=max(2.0, settings.budget_cache_ttl_s),
            anomaly_interval_s=settings.anomaly_interval_s,
            anomaly_threshold=settings.anomaly_threshold,
            anomaly_min_spend=Decimal(settings.anomaly_min_spend_usd),
            anomaly_history_hours=settings.anomaly_history_hours,
            reprice_chunk=settings.reprice_chunk,
            outbox_grace_s=settings.outbox_interval_s,
            table_tenants=frozenset(settings.price_table_tenants),
        ),
        clock=clock,
    )

    async def load_prices() -> None:
        await service.refresh_prices(force=True)

    async def prices_loop() -> None:
        # The first round re-prices calls left waiting (e.g. prices loaded while this replica
        # was down); later rounds catch a prices_loaded event this replica missed.
        await every(settings.prices_refresh_s, service.prices_changed, "prices refresh")()

    async def freeze_startup_heap() -> None:
        # As the audit service: the hot path allocates dozens of objects per call, so the cyclic
        # GC runs often; frozen, its full passes skip everything loaded at start. A batch's
        # objects live until it is stored, so with the default thresholds (700, 10, 10) every
        # batch paid dozens of young collections and a full one every ~70,000 allocations
        # (the cost is in docs/decisions.md, "Costs: no hand-written event JSON").
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    async def first_reprice() -> None:
        try:
            await service.reprice(None)
        except Exception:
            _log.exception("re-pricing waiting calls at start failed")

    app = service_app(
        settings,
        build_router(service, settings, wiring.scope),
        wiring=wiring,
        on_start=[repository.open, load_prices, freeze_startup_heap],
        on_stop=[repository.close],
        background=[
            first_reprice,
            prices_loop,
            every(settings.outbox_interval_s, service.flush_outbox, "outbox flush"),
            every(min(1.0, settings.anomaly_interval_s), service.check_anomalies, "anomaly check"),
        ],
    )
    app.service = service  # type: ignore[attr-defined]
    return app
