"""The costs service against a real nats-server: usage accounted once, bad events dead-lettered."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from llmops_contracts import headers, subjects, wrap
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_contracts.registry import parse
from llmops_costs.app import create_app
from llmops_costs.config import CostsSettings
from llmops_costs.service import ModelTotals
from tests.conftest import eventually, running


async def drained(js: JetStreamContext, durable: str, seq: int) -> bool:
    """Whether the service's consumer has acknowledged everything up to stream sequence ``seq``."""
    info = await js.consumer_info(subjects.EVENTS_STREAM, durable)
    return info.ack_floor.stream_seq >= seq and info.num_ack_pending == 0


async def test_usage_is_accounted_once_and_bad_events_dead_lettered(
    nats_url: str, tmp_path: Path, uid: str, tenant: str
) -> None:
    settings = CostsSettings(
        nats_url=nats_url,
        health_port=0,
        database_url=f"sqlite:///{tmp_path / 'costs.db'}",
        llm_calls_durable=f"costs-{uid}",
        batch_timeout_s=0.05,
    )
    app = create_app(settings)
    async with running(app):
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        subject = subjects.for_tenant(subjects.LLM_CALL_COMPLETED, tenant)

        def event(usage: Usage | None) -> Any:
            call = LlmCallCompleted(
                provider="openai", request_model="gpt-4o-mini", latency_ms=80, usage=usage
            )
            return wrap(call, tenant=tenant, source="app://t")

        counted = event(Usage(input_tokens=500, output_tokens=40, cache_read_input_tokens=128))
        await js.publish(subject, counted.to_json(), headers={headers.MSG_ID: counted.id})
        # The same event again under another Nats-Msg-Id, so JetStream stores it twice.
        dup = await js.publish(
            subject, counted.to_json(), headers={headers.MSG_ID: f"dup-{counted.id}"}
        )
        assert not dup.duplicate

        bad = json.loads(counted.to_json())
        bad["id"] = "not-a-uuid"
        bad["data"]["usage"]["reasoning_tokens"] = 41  # more than output_tokens
        bad_ack = await js.publish(subject, json.dumps(bad).encode())

        no_usage = event(None)
        last = await js.publish(subject, no_usage.to_json(), headers={headers.MSG_ID: no_usage.id})

        await eventually(lambda: drained(js, settings.llm_calls_durable, last.seq))
        assert await app.service.repository.totals(tenant) == [
            ModelTotals(
                provider="openai",
                model="gpt-4o-mini",
                calls=2,
                calls_without_usage=1,
                input_tokens=500,
                output_tokens=40,
                cache_read_input_tokens=128,
                cache_creation_input_tokens=0,
                reasoning_tokens=0,
            )
        ]
        labels = {"tenant": tenant, "provider": "openai", "model": "gpt-4o-mini"}
        sample = REGISTRY.get_sample_value
        assert sample("llmops_costs_llm_calls_total", {**labels, "status": "ok"}) == 2
        assert sample("llmops_costs_usage_missing_total", labels) == 1
        assert sample("llmops_costs_tokens_total", {**labels, "kind": "input"}) == 500
        assert sample("llmops_costs_tokens_total", {**labels, "kind": "cache_read"}) == 128

        # Nothing is priced yet, so nothing is published.
        cost_sub = await js.subscribe(
            subjects.for_tenant(subjects.COSTS_COST_RECORDED, tenant), ordered_consumer=True
        )
        with pytest.raises(nats.errors.TimeoutError):
            await cost_sub.next_msg(timeout=0.1)

        dlq = await js.subscribe(subjects.dlq_for("costs"), ordered_consumer=True)

        async def dead_letter() -> Any:
            while True:
                msg = await dlq.next_msg(timeout=5)
                letter = parse(msg.data)
                if letter.data.original_subject == subject:
                    return letter

        letter = await asyncio.wait_for(dead_letter(), 10)
        assert letter.data.failure == "invalid"
        assert letter.data.stream_sequence == bad_ack.seq
        assert "id: String should match pattern" in letter.data.error
        assert "data.usage" in letter.data.error
        await nc.drain()
