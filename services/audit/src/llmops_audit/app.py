"""Composition root of the audit service."""

from __future__ import annotations

from faststream import FastStream

from llmops_audit.config import AuditSettings
from llmops_audit.handlers import build_router
from llmops_audit.service import AuditService
from llmops_audit.store import SqlAuditRepository
from llmops_shared.runtime import Wiring, service_app


def create_app(settings: AuditSettings) -> FastStream:
    """Build the audit service: SQL repository, batched capture, health."""
    repository = SqlAuditRepository(settings.database_url)
    service = AuditService(repository)
    wiring = Wiring(settings)
    app = service_app(
        settings,
        build_router(service, settings, wiring.scope),
        wiring=wiring,
        on_start=[repository.open],
        on_stop=[repository.close],
    )
    app.service = service  # type: ignore[attr-defined]
    return app
