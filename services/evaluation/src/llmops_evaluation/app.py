"""Composition root of the evaluation service."""

from __future__ import annotations

from faststream import FastStream

from llmops_evaluation.config import EvaluationSettings
from llmops_evaluation.handlers import build_router
from llmops_evaluation.service import EvaluationService
from llmops_evaluation.store import FileGoldenSets, SqlRunStore
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.runtime import Wiring, service_app


def create_app(settings: EvaluationSettings, clock: Clock = SYSTEM_CLOCK) -> FastStream:
    """Build the evaluation service: golden sets from files, run store, RunEval consumer."""
    wiring = Wiring(settings, clock)
    runs = SqlRunStore(settings.database_url)
    service = EvaluationService(
        wiring.publisher, FileGoldenSets(settings.golden_sets_dir), runs, clock
    )
    app = service_app(
        settings,
        build_router(service, settings),
        wiring=wiring,
        on_start=[runs.open],
        on_stop=[runs.close],
    )
    app.service = service  # type: ignore[attr-defined]
    return app
