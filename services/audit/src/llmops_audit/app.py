"""Composition root of the audit service."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from faststream import FastStream
from nats.js.errors import NotFoundError
from prometheus_client import Counter, Gauge
from sqlalchemy.engine import make_url

from llmops_audit.checkpoints import Sealer, Signer
from llmops_audit.config import AuditSettings
from llmops_audit.handlers import SOURCES, build_router
from llmops_audit.ledger import JetStreamLedger
from llmops_audit.redaction import Redactor
from llmops_audit.republisher import Republisher
from llmops_audit.service import AuditService
from llmops_audit.store import SqlAuditRepository
from llmops_contracts.auditchain import ChainBreak
from llmops_shared.blobs import BlobStore
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.jetstream import JetStreamSink
from llmops_shared.logging import get_logger
from llmops_shared.runtime import Wiring, service_app

VERIFY_FAILURES = Counter(
    "llmops_audit_verify_failures_total", "Chain verifications that found a break.", ["tenant"]
)
LAG = Gauge("llmops_audit_lag_messages", "Messages in a stream not yet recorded.", ["stream"])
CHAIN_BROKEN = Gauge(
    "llmops_audit_chain_broken",
    "1 for a tenant whose chain failed verification at signing time: no checkpoint is signed "
    "for it any more.",
    ["tenant"],
)

_log = get_logger(__name__)

#: Beyond the ack wait, how long the server may take to move expired messages back in line.
REDELIVERY_SLACK_S = 1.0


#: Name of the development key file `llmops dev` keeps in its data directory.
DEVELOPMENT_KEY_FILE = "audit-signing-DEVELOPMENT-ONLY.key"


class SigningKeyRefused(ValueError):
    """The configured signing key cannot be used (missing, malformed, or beside the data)."""


def data_directories(settings: AuditSettings) -> list[Path]:
    """Directories the signing key must stay out of: the SQLite database's, and the data dir."""
    dirs = []
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        dirs.append(Path(url.database).parent)
    if settings.data_dir is not None:
        dirs.append(settings.data_dir)
    return [d.resolve() for d in dirs]


def signing_key(settings: AuditSettings) -> Signer:
    """The Ed25519 key that signs checkpoints, from settings or a key file outside the data.

    A key beside the database would let whoever copies the data directory sign a rewritten
    chain, so a key file inside it is refused, except under ``llmops dev``
    (``development_key``), which also creates one there when none is given.

    Raises:
        SigningKeyRefused: no key, an unreadable or malformed one, or a file inside the data.
    """
    development = settings.development_key
    try:
        if settings.signing_key is not None:
            return Signer.from_text(settings.signing_key.get_secret_value())
        path = settings.signing_key_file
        if path is None and development:
            home = ([*data_directories(settings), Path(".llmops")])[0]
            path = home / DEVELOPMENT_KEY_FILE
        if path is None:
            raise SigningKeyRefused(
                "no checkpoint signing key: set LLMOPS_AUDIT_SIGNING_KEY (from a secret) or "
                "LLMOPS_AUDIT_SIGNING_KEY_FILE (outside the data directory); generate one with "
                "`openssl genpkey -algorithm ed25519`"
            )
        inside = [d for d in data_directories(settings) if path.resolve().is_relative_to(d)]
        if inside and not development:
            raise SigningKeyRefused(
                f"the signing key file {path} is inside the data directory {inside[0]}: whoever "
                "copies the data could sign a rewritten audit chain. Keep it elsewhere (a "
                "mounted secret)"
            )
        if not path.exists() and development:
            _create_development_key(path)
        return Signer.from_text(path.read_text())
    except (OSError, ValueError) as exc:
        if isinstance(exc, SigningKeyRefused):
            raise
        raise SigningKeyRefused(f"cannot use the checkpoint signing key: {exc}") from None


def _create_development_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(Signer.generate().pem())
    _log.warning(
        "DEVELOPMENT SIGNING KEY: created an audit checkpoint key inside the data directory. "
        "Anyone who can read that directory can forge the audit trail's checkpoints. Never "
        "use this outside development: give LLMOPS_AUDIT_SIGNING_KEY from a secret instead.",
        path=str(path),
    )


def chain_broken(tenant: str, problem: ChainBreak) -> None:
    """Report a chain the service refuses to sign (metric and log)."""
    CHAIN_BROKEN.labels(tenant).set(1)
    _log.error(
        "audit chain broken: no checkpoint will be signed for this tenant",
        tenant=tenant,
        seq=problem.seq,
        kind=problem.kind,
        detail=problem.detail,
    )


def create_app(settings: AuditSettings, clock: Clock = SYSTEM_CLOCK) -> FastStream:
    """Build the audit service: chained SQL trail, capture, endpoints, republisher, checkpoints.

    ``clock`` stamps ``recorded_at`` and checkpoints (tests pass their own).
    """
    repository = SqlAuditRepository(settings.database_url)
    salt = settings.redaction_salt.get_secret_value().encode() if settings.redaction_salt else None
    policies = str(settings.redaction_policies_file) if settings.redaction_policies_file else None
    wiring = Wiring(settings, clock)

    def connection() -> Any:
        return wiring.broker.connection  # read at use: the broker connects at start

    republisher = Republisher(
        repository, JetStreamSink(connection), settings.publish_batch, BlobStore(connection)
    )
    signer = signing_key(settings)
    if settings.development_key:
        _log.warning("checkpoints are signed with a DEVELOPMENT key", key_id=signer.key_id)
    sealer = Sealer(
        repository,
        signer,
        JetStreamLedger(
            connection, replicas=settings.stream_replicas, create_bucket=settings.manage_streams
        ),
        clock=clock,
        on_break=chain_broken,
    )
    service = AuditService(
        sealer.watch(repository),
        Redactor.from_file(policies, salt),
        sealer,
        on_verify_failure=lambda tenant: VERIFY_FAILURES.labels(tenant).inc(),
        on_recorded=republisher.wake.set,
        clock=clock,
    )

    async def checkpoints() -> None:
        """Sign moved chain heads, and measure the lag: at once (verifying every chain from its
        newest published checkpoint before signing anything), then every interval."""
        while True:
            try:
                await service.checkpoint_heads()
                await measure_lag()
            except Exception:  # a failed round is retried next interval; the loop must live
                _log.exception("checkpoint round failed")
            await asyncio.sleep(settings.checkpoint_interval_s)

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
        each full pass walked every object of the libraries and adapters loaded at start (see
        docs/decisions.md, "Audit batches of 1000, and a frozen start-up heap"). Those live as
        long as the process anyway.
        """
        gc.freeze()

    app = service_app(
        settings,
        build_router(service, settings, wiring.scope),
        wiring=wiring,
        on_start=[repository.open, freeze_startup_heap],
        on_connected=[settle_redeliveries, sealer.start],
        on_stop=[repository.close],
        background=[republish, checkpoints],
    )
    app.service = service  # type: ignore[attr-defined]
    app.sealer = sealer  # type: ignore[attr-defined]
    app.republisher = republisher  # type: ignore[attr-defined]
    return app
