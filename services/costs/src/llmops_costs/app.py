"""Composition root of the costs service."""

from __future__ import annotations

from faststream import FastStream

from llmops_costs.config import CostsSettings
from llmops_costs.handlers import build_router
from llmops_costs.service import CostsService
from llmops_costs.store import PrometheusUsageMetrics, SqlUsageRepository
from llmops_shared.runtime import service_app


def create_app(settings: CostsSettings) -> FastStream:
    """Build the costs service: usage ledger, counters, LLM-call consumer."""
    repository = SqlUsageRepository(settings.database_url)
    service = CostsService(repository, PrometheusUsageMetrics())
    app = service_app(
        settings,
        build_router(service, settings),
        on_start=[repository.open],
        on_stop=[repository.close],
    )
    app.service = service  # type: ignore[attr-defined]
    return app
