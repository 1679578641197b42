"""Composition root of the guardrails service."""

from __future__ import annotations

from faststream import FastStream

from llmops_guardrails.config import GuardrailsSettings
from llmops_guardrails.handlers import build_router
from llmops_guardrails.service import GuardrailsService
from llmops_guardrails.store import StaticPolicySource
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.runtime import Wiring, service_app


def create_app(settings: GuardrailsSettings, clock: Clock = SYSTEM_CLOCK) -> FastStream:
    """Build the guardrails service: the built-in policy, its check endpoint and consumers."""
    wiring = Wiring(settings, clock)
    service = GuardrailsService(
        wiring.publisher, StaticPolicySource.from_settings(settings), clock=clock
    )
    app = service_app(settings, build_router(service, settings), wiring=wiring)
    app.service = service  # type: ignore[attr-defined]
    return app
