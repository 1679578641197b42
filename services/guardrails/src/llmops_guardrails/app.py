"""Composition root of the guardrails service."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import nats
from faststream import FastStream
from prometheus_client import Gauge

from llmops_guardrails import vault_tokens
from llmops_guardrails.config import GuardrailsSettings
from llmops_guardrails.handlers import build_router, direct_endpoints
from llmops_guardrails.policies import builtin_policy
from llmops_guardrails.recorder import Recorder
from llmops_guardrails.service import GuardrailsService
from llmops_guardrails.store import KvPolicyStore, KvRateWindows, SqliteOutbox
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.jetstream import JetStreamSink
from llmops_shared.logging import get_logger
from llmops_shared.runtime import Wiring, service_app

OUTBOX_PENDING = Gauge(
    "llmops_guardrails_outbox_pending",
    "Verdict events stored in the outbox and not yet acknowledged by JetStream.",
)

_log = get_logger(__name__)


def connect_options(settings: GuardrailsSettings) -> dict[str, Any]:
    """nats-py options for a short connection of the service's own (the final flush)."""
    options: dict[str, Any] = {
        "servers": [s.strip() for s in settings.nats_url.split(",")],
        "name": "llmops-guardrails-drain",
        "max_reconnect_attempts": 1,
        "connect_timeout": 2,
    }
    if settings.nats_user:
        options["user"] = settings.nats_user
    if settings.nats_password:
        options["password"] = settings.nats_password.get_secret_value()
    if settings.nats_token:
        options["token"] = settings.nats_token.get_secret_value()
    if settings.nats_creds_file:
        options["user_credentials"] = settings.nats_creds_file
    return options


def create_app(settings: GuardrailsSettings, clock: Clock = SYSTEM_CLOCK) -> FastStream:
    """Build the guardrails service: policies from the key-value bucket, the check, stream and
    policy endpoints, the tool-call consumer, and the outbox that records every verdict."""
    wiring = Wiring(settings, clock)
    outbox = SqliteOutbox(settings.outbox_path)
    recorder = Recorder(
        outbox, wiring.publisher, batch=settings.outbox_batch, on_pending=OUTBOX_PENDING.set
    )
    policies = KvPolicyStore(
        lambda: wiring.broker.connection,
        bucket=settings.policies_bucket,
        replicas=settings.stream_replicas,
        history=settings.policy_history,
        create=settings.manage_streams,
    )
    rates = KvRateWindows(
        lambda: wiring.broker.connection,
        bucket=settings.rates_bucket,
        replicas=settings.stream_replicas,
        create=settings.manage_streams,
        timeout_s=settings.rate_timeout_s,
    )
    service = GuardrailsService(
        recorder,
        policies,
        builtin_policy(settings.denylist, settings.tool_allowlist),
        clock=clock,
        vault_key=(
            vault_tokens.parse_key(settings.vault_key.get_secret_value())
            if settings.vault_key is not None
            else None
        ),
        vault_ttl_s=settings.vault_ttl_s,
        rates=rates,
    )

    async def warm() -> None:
        """Load the detectors' weights before the first check, not during it; then leave what
        start-up allocated out of the garbage collector's passes (as audit does: fewer and
        shorter pauses on the check path)."""
        service.warm()
        gc.freeze()

    async def load_policies() -> None:
        """Every policy in force and the rate windows' bucket (before any endpoint subscribes)."""
        await policies.open()
        await rates.open()
        await service.load_all()

    async def publish_verdicts() -> None:
        """Publish what the outbox holds (a crash's leftovers first), then keep it flushed."""
        await recorder.run(idle_s=settings.outbox_idle_s)

    async def watch_policies() -> None:
        """Reload a policy whenever its pointers move in the bucket (another replica pushed)."""
        while True:
            try:
                await policies.watch(service.refresh)
            except asyncio.CancelledError:
                raise
            except Exception:  # NATS away or the watch reset: watch again (it catches up)
                _log.exception("watching the policy bucket failed; watching again")
            await asyncio.sleep(1)

    async def drain() -> None:
        """After the last check (the broker has closed its connection): shadow work done, then
        what the outbox holds published over a connection of its own, so a replica scaled down
        for good leaves nothing behind. When NATS is away they wait for the next start."""
        await service.settle()
        if outbox.count() == 0:
            return
        try:
            async with asyncio.timeout(settings.drain_timeout_s):
                nc = await nats.connect(**connect_options(settings))
                try:
                    await Recorder(outbox, JetStreamSink(lambda: nc)).flush()
                finally:
                    await nc.close()
        except Exception as exc:
            _log.warning(
                "verdicts left in the outbox for the next start",
                pending=outbox.count(),
                error=str(exc),
            )

    app = service_app(
        settings,
        build_router(service, settings),
        wiring=wiring,
        on_start=[outbox.aopen, warm],
        on_connected=[load_policies],
        on_stop=[drain, outbox.aclose],
        background=[publish_verdicts, watch_policies],
        endpoints=direct_endpoints(service, settings),
    )
    app.service = service  # type: ignore[attr-defined]
    app.recorder = recorder  # type: ignore[attr-defined]
    return app
