"""Composition root of the audit service."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from faststream import FastStream
from nats.js.errors import NotFoundError
from prometheus_client import Counter, Gauge

from llmops_audit.config import AuditSettings
from llmops_audit.handlers import SOURCES, build_router
from llmops_audit.service import AuditService, Checkpointer, Redactor, Republisher
from llmops_audit.store import SqlAuditRepository
from llmops_shared.blobs import BlobStore
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.jetstream import JetStreamSink
from llmops_shared.logging import get_logger
from llmops_shared.runtime import Wiring, service_app

VERIFY_FAILURES = Counter(
    "llmops_audit_verify_failures_total", "Chain verifications that found a break.", ["tenant"]
)
LAG = Gauge("llmops_audit_lag_messages", "Messages in a stream not yet recorded.", ["stream"])

_log = get_logger(__name__)

#: Beyond the ack wait, how long the server may take to move expired messages back in line.
REDELIVERY_SLACK_S = 1.0


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


def create_app(settings: AuditSettings, clock: Clock = SYSTEM_CLOCK) -> FastStream:
    """Build the audit service: chained SQL trail, capture, endpoints, republisher, checkpoints.

    ``clock`` stamps ``recorded_at`` and checkpoints (tests pass their own).
    """
    repository = SqlAuditRepository(settings.database_url)
    salt = settings.redaction_salt.get_secret_value().encode() if settings.redaction_salt else None
    policies = str(settings.redaction_policies_file) if settings.redaction_policies_file else None
    wiring = Wiring(settings)

    def connection() -> Any:
        return wiring.broker.connection  # read at use: the broker connects at start

    republisher = Republisher(
        repository, JetStreamSink(connection), settings.publish_batch, BlobStore(connection)
    )
    service = AuditService(
        repository,
        Redactor.from_file(policies, salt),
        Checkpointer(checkpoint_key(settings), settings.checkpoint_key_id),
        on_verify_failure=lambda tenant: VERIFY_FAILURES.labels(tenant).inc(),
        on_recorded=republisher.wake.set,
        clock=clock,
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

    async def settle_redeliveries() -> None:
        """After an unclean stop, fetch nothing new until the dead process's messages are back.

        A process killed with a batch fetched but not committed leaves it unacknowledged; the
        server redelivers it only after the ack wait, and a new process fetching at once would
        chain later events first. So, when a capture consumer holds unacknowledged messages, wait
        until the last of them can have expired (its last delivery + the ack wait): the first
        fetch then gets them, in stream order, before anything new, and the chains keep publish
        order across a crash. With another replica running, its own in-flight batch makes a new
        replica wait at most one ack wait, which costs nothing but start-up time.
        """
        js = wiring.broker.connection.jetstream()
        until = None
        for stream, _, suffix in SOURCES:
            with contextlib.suppress(NotFoundError):  # a first start: no consumer yet
                info = await js.consumer_info(stream, f"{settings.durable_prefix}-{suffix}")
                held = info.num_ack_pending or 0
                last = info.delivered.last_active
                if held and last is not None:
                    expiry = last + timedelta(
                        seconds=(info.config.ack_wait or 0) + REDELIVERY_SLACK_S
                    )
                    until = expiry if until is None else max(until, expiry)
        # Not business time: the expiry is in nats-server's wall-clock timestamps, so it is
        # compared with this machine's wall clock, whatever clock stamps the records.
        now = datetime.now(UTC)  # clock-ok: compared with nats-server's own timestamps
        wait = (until - now).total_seconds() if until is not None else 0
        if wait > 0:
            _log.warning(
                "waiting for unacknowledged messages to be redelivered", seconds=round(wait, 1)
            )
            await asyncio.sleep(wait)

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
        on_connected=[settle_redeliveries],
        on_stop=[repository.close],
        background=[republish, checkpoints],
    )
    app.service = service  # type: ignore[attr-defined]
    app.republisher = republisher  # type: ignore[attr-defined]
    return app
