"""The evaluation service against a real nats-server: runs, idempotency, dead letters."""

from __future__ import annotations

import json
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.evaluation import RunEval
from llmops_evaluation.app import create_app
from llmops_evaluation.config import EvaluationSettings
from tests.conftest import eventually, first_envelope, next_envelope, running

CASES = [
    {"case_id": "fr", "input": "Capital of France?", "expected": "Paris", "output": "Paris."},
    {"case_id": "de", "input": "Capital of Germany?", "expected": "Berlin", "output": "Bonn"},
]


async def drained(js: JetStreamContext, durable: str, seq: int) -> bool:
    """Whether the service's consumer has acknowledged everything up to stream sequence ``seq``."""
    info = await js.consumer_info(subjects.COMMANDS_STREAM, durable)
    return info.ack_floor.stream_seq >= seq and info.num_ack_pending == 0


async def test_runs_are_scored_once_and_bad_commands_dead_lettered(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    golden = tmp_path / "golden"
    golden.mkdir()
    (golden / "capitals.jsonl").write_text("\n".join(json.dumps(c) for c in CASES) + "\n")
    settings = EvaluationSettings(
        nats_url=nats_url,
        health_port=0,
        golden_sets_dir=golden,
        database_url=f"sqlite:///{tmp_path / 'evaluation.db'}",
        run_eval_durable=f"evaluation-{uid}",
        batch_timeout_s=0.05,
    )
    app = create_app(settings)
    async with running(app):
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        scored = await js.subscribe(
            subjects.for_tenant(subjects.EVALUATION_CASE_SCORED, tenant), ordered_consumer=True
        )
        completed = await js.subscribe(
            subjects.for_tenant(subjects.EVALUATION_RUN_COMPLETED, tenant), ordered_consumer=True
        )
        subject = subjects.for_tenant(subjects.EVALUATION_RUN_EVAL, tenant)

        invalid = {"type": RunEval.SPEC.type, "source": "ci://t", "tenant": tenant, "data": {}}
        bad_ack = await js.publish(subject, json.dumps(invalid).encode())

        cmd = wrap(
            RunEval(run_id=f"run-{uid}", golden_set="capitals", gate={"token_f1": 0.5}),
            tenant=tenant,
            source="ci://t",
        )
        await js.publish(subject, cmd.to_json(), headers={headers.MSG_ID: cmd.id})

        cases = [await next_envelope(scored), await next_envelope(scored)]
        assert [(c.data.case_id, c.data.scores, c.data.passed) for c in cases] == [
            ("fr", {"exact_match": 1.0, "token_f1": 1.0}, True),
            ("de", {"exact_match": 0.0, "token_f1": 0.0}, False),
        ]
        result = await next_envelope(completed)
        assert result.causation_id == cmd.id
        assert (result.data.run_id, result.data.cases, result.data.passed) == (
            cmd.data.run_id,
            2,
            1,
        )
        assert result.data.mean_scores == {"exact_match": 0.5, "token_f1": 0.5}
        assert result.data.gate == "passed"

        # The same command again (a redelivery past the de-duplication window): not re-scored.
        again = await js.publish(
            subject, cmd.to_json(), headers={headers.MSG_ID: f"again-{cmd.id}"}
        )
        missing = wrap(
            RunEval(run_id=f"missing-{uid}", golden_set="nope", gate={"exact_match": 0.0}),
            tenant=tenant,
            source="ci://t",
        )
        last = await js.publish(subject, missing.to_json(), headers={headers.MSG_ID: missing.id})
        await eventually(lambda: drained(js, settings.run_eval_durable, last.seq))
        assert again.seq < last.seq

        rejected = await next_envelope(completed)
        assert rejected.data.run_id == missing.data.run_id  # nothing for the repeated run
        assert (rejected.data.cases, rejected.data.gate) == (0, "failed")
        with pytest.raises(nats.errors.TimeoutError):
            await scored.next_msg(timeout=0.1)
        with pytest.raises(nats.errors.TimeoutError):
            await completed.next_msg(timeout=0.1)

        stored = await app.service.runs.get(tenant, missing.data.run_id)
        assert stored.gate == "failed"
        assert "not found" in stored.reason

        dlq = await js.subscribe(subjects.dlq_filter("evaluation")[0], ordered_consumer=True)

        letter = await first_envelope(dlq, lambda e: e.data.original_subject == subject)
        assert letter.data.failure == "invalid"
        assert letter.data.stream_sequence == bad_ack.seq
        assert "data.run_id" in letter.data.error
        await nc.drain()
