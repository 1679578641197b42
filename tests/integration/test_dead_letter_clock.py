"""Every service dates its dead letters by its own clock, not by the machine's wall clock.

A service on a :class:`FixedClock` (a test, a replay, a backfill) publishes events dated by it;
its dead letters must be too, or the two disagree about when things happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import pytest

from llmops_audit.app import create_app as audit_app
from llmops_audit.config import AuditSettings
from llmops_contracts import subjects
from llmops_costs.app import create_app as costs_app
from llmops_evaluation.app import create_app as evaluation_app
from llmops_evaluation.config import EvaluationSettings
from llmops_guardrails.app import create_app as guardrails_app
from llmops_guardrails.config import GuardrailsSettings
from llmops_ingestion.app import create_app as ingestion_app
from llmops_retrieval.app import create_app as retrieval_app
from llmops_retrieval.config import RetrievalSettings
from llmops_shared.clock import FixedClock
from tests.conftest import eventually, last_on, running
from tests.services.costs.support import settings as costs_settings
from tests.services.ingestion.test_ingestion_nats import settings_for as ingestion_settings

#: A day no test runs on, so a letter dated by the wall clock cannot pass by chance.
THEN = datetime(2031, 2, 28, 23, 59, 59, 250_000, tzinfo=UTC)

#: Settings of a service under test on its own server: no fixed ports, short batch waits.
FAST: dict[str, Any] = {"health_port": 0, "batch_timeout_s": 0.05}

#: service -> (its composition root, its settings on a server URL and a scratch directory, a
#: subject it consumes from a stream)
SERVICES: dict[str, tuple[Callable[..., Any], Callable[[str, Path, str], Any], str]] = {
    "ingestion": (
        ingestion_app,
        lambda url, tmp, uid: ingestion_settings(url, uid),
        subjects.INGESTION_SUBMIT_DOCUMENT,
    ),
    "retrieval": (
        retrieval_app,
        lambda url, tmp, uid: RetrievalSettings(nats_url=url, index_dir=tmp / "index", **FAST),
        subjects.INGESTION_CHUNKS_EMBEDDED,
    ),
    "guardrails": (
        guardrails_app,
        lambda url, tmp, uid: GuardrailsSettings(nats_url=url, **FAST),
        subjects.TOOL_CALL_REQUESTED,
    ),
    "evaluation": (
        evaluation_app,
        lambda url, tmp, uid: EvaluationSettings(
            nats_url=url, golden_sets_dir=tmp, database_url=f"sqlite:///{tmp / 'eval.db'}", **FAST
        ),
        subjects.EVALUATION_RUN_EVAL,
    ),
    "costs": (
        costs_app,
        lambda url, tmp, uid: costs_settings(url, f"sqlite:///{tmp / 'costs.db'}", uid),
        subjects.LLM_CALL_COMPLETED,
    ),
    "audit": (
        audit_app,
        lambda url, tmp, uid: AuditSettings(
            nats_url=url,
            database_url=f"sqlite:///{tmp / 'audit.db'}",
            signing_key="11" * 32,
            **FAST,
        ),
        subjects.LLM_CALL_COMPLETED,
    ),
}


@pytest.mark.parametrize("service", list(SERVICES))
async def test_a_service_on_a_fixed_clock_dates_its_dead_letters_by_it(
    service: str, own_nats: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    create_app, settings, prefix = SERVICES[service]
    subject = subjects.for_tenant(prefix, tenant)
    nc = await nats.connect(own_nats)
    try:
        js = nc.jetstream()
        async with running(create_app(settings(own_nats, tmp_path, uid), FixedClock(THEN))):
            await js.publish(subject, b"{not json")
            letter = await eventually(
                lambda: last_on(js, subjects.DLQ_STREAM, subjects.dlq_for(service, tenant))
            )
    finally:
        await nc.close()
    assert (letter.data.original_subject, letter.data.failure) == (subject, "invalid")
    assert letter.time == THEN
