"""Composition root of the audit service."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import secrets
from pathlib import Path

from faststream import FastStream
from prometheus_client import Counter, Gauge

from llmops_audit.config import AuditSettings
from llmops_audit.handlers import SOURCES, build_router
from llmops_audit.service import AuditService, Checkpointer, Redactor, Republisher
from llmops_audit.store import SqlAuditRepository
from llmops_shared.jetstream import JetStreamSink
from llmops_shared.logging import get_logger
from llmops_shared.runtime import Wiring, service_app

VERIFY_FAILURES = Counter(
    "llmops_audit_verify_failures_total", "Chain verifications that found a break.", ["tenant"]
)
LAG = Gauge("llmops_audit_lag_messages", "Messages in a stream not yet recorded.", ["stream"])

_log = get_logger(__name__)


def checkpoint_key(settings: AuditSettings) -> bytes:
    """The signing key: from settings, else from the key file (created, mode 0600, if missing)."""
    if settings.checkpoint_key is not None:
        return settings.checkpoint_key.get_secret_value().encode()
    path = Path(settings.checkpoint_key_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        _log.warning("created a checkpoint signing key", path=str(path))
    return path.read_text().strip().encode()


def create_app(settings: AuditSettings) -> FastStream:
    """Build the audit service: chained SQL trail, capture, endpoints, republisher, checkpoints."""
    repository = SqlAuditRepository(settings.database_url)
    salt = settings.redaction_salt.get_secret_value().encode() if settings.redaction_salt else None
    policies = str(settings.redaction_policies_file) if settings.redaction_policies_file else None
    wiring = Wiring(settings)
    republisher = Republisher(
        repository, JetStreamSink(lambda: wiring.broker.connection), settings.publish_batch
    )
    service = AuditService(
        repository,
        Redactor.from_file(policies, salt),
        Checkpointer(checkpoint_key(settings), settings.checkpoint_key_id),
        on_verify_failure=lambda tenant: VERIFY_FAILURES.labels(tenant).inc(),
        on_recorded=republisher.wake.set,
    )

    async def checkpoints() -> None:
        """Sign moved chain heads, and measure the lag, every interval."""
        while True:
            await asyncio.sleep(settings.checkpoint_interval_s)
            try:
                await service.checkpoint_heads()
                await measure_lag()
            except Exception:  # a failed round is retried next interval; the loop must live
                _log.exception("checkpoint round failed")

    async def measure_lag() -> None:
        js = wiring.broker.connection.jetstream()
        for stream, _, suffix in SOURCES:
            with contextlib.suppress(Exception):  # the consumer may not exist yet
                info = await js.consumer_info(stream, f"{settings.durable_prefix}-{suffix}")
                LAG.labels(stream).set(info.num_pending or 0)

    async def republish() -> None:
        """Keep the AUDIT stream up to date with the database."""
        while True:
            try:
                await republisher.run()
            except Exception:  # NATS away: the cursor did not move, so retry shortly
                _log.exception("republishing to the AUDIT stream failed; retrying")
                await asyncio.sleep(1)

    async def freeze_startup_heap() -> None:
        """Leave what start-up allocated out of the cyclic GC's passes (performance).

        The capture allocates a few dozen objects per event, so the collector runs often, and
        each full pass walked every object of the libraries and adapters loaded at start (about
        10% of the capture's CPU, measured). Those live as long as the process anyway.
        """
        gc.freeze()

    app = service_app(
        settings,
        build_router(service, settings, wiring.scope),
        wiring=wiring,
        on_start=[repository.open, freeze_startup_heap],
        on_stop=[repository.close],
        background=[republish, checkpoints],
    )
    app.service = service  # type: ignore[attr-defined]
    app.republisher = republisher  # type: ignore[attr-defined]
    return app
