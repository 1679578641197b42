"""Unit tests of the costs logic with fakes, and of its adapters on a SQLite file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from llmops_contracts import wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_costs.config import CostsSettings
from llmops_costs.service import CostsService, ModelTotals, UsageRecord
from llmops_costs.store import PrometheusUsageMetrics, SqlUsageRepository


class FakeRepository:
    """The ledger in a dict, keyed like the SQL one."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], UsageRecord] = {}

    async def add(self, record: UsageRecord) -> bool:
        key = (record.tenant, record.event_id)
        if key in self.rows:
            return False
        self.rows[key] = record
        return True

    async def totals(self, tenant: str) -> list[ModelTotals]:
        raise NotImplementedError


class FakeMetrics:
    """Remembers observed records."""

    def __init__(self) -> None:
        self.observed: list[UsageRecord] = []

    def observe(self, record: UsageRecord) -> None:
        self.observed.append(record)


def call(tenant: str = "acme", usage: Usage | None = None, **kwargs: Any) -> Envelope[Any]:
    kwargs.setdefault("provider", "openai")
    kwargs.setdefault("request_model", "gpt-4o")
    return wrap(
        LlmCallCompleted(latency_ms=12.5, usage=usage, **kwargs), tenant=tenant, source="app://t"
    )


USAGE = Usage(
    input_tokens=1000,
    output_tokens=200,
    cache_read_input_tokens=600,
    cache_creation_input_tokens=100,
    reasoning_tokens=50,
)


def test_a_record_keeps_the_canonical_usage_and_the_billed_model() -> None:
    event = call(usage=USAGE, response_model="gpt-4o-2024-08-06", actor={"app": "bot"})
    record = UsageRecord.from_event(event)
    assert (record.event_id, record.tenant, record.time) == (event.id, "acme", event.time)
    assert (record.model, record.request_model) == ("gpt-4o-2024-08-06", "gpt-4o")
    assert (record.operation, record.status, record.app) == ("chat", "ok", "bot")
    assert (record.input_tokens, record.output_tokens) == (1000, 200)
    assert (record.cache_read_input_tokens, record.cache_creation_input_tokens) == (600, 100)
    assert record.reasoning_tokens == 50
    assert not record.usage_missing

    missing = UsageRecord.from_event(call())
    assert missing.model == "gpt-4o"
    assert missing.usage_missing
    assert missing.input_tokens is missing.reasoning_tokens is None


async def test_each_event_is_accounted_once() -> None:
    metrics = FakeMetrics()
    service = CostsService(FakeRepository(), metrics)
    event = call(usage=USAGE)
    assert await service.record_call(event)
    assert not await service.record_call(event)
    assert await service.record_call(event.model_copy(update={"tenant": "other"}))
    assert [(r.tenant, r.event_id) for r in metrics.observed] == [
        ("acme", event.id),
        ("other", event.id),
    ]


def test_prometheus_counters(uid: str) -> None:
    tenant = f"t{uid}"

    def value(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"tenant": tenant, "provider": "openai", **labels})

    metrics = PrometheusUsageMetrics()
    metrics.observe(UsageRecord.from_event(call(tenant, USAGE)))
    metrics.observe(UsageRecord.from_event(call(tenant, USAGE)))
    metrics.observe(UsageRecord.from_event(call(tenant, status="error", error={"type": "x"})))

    model = {"model": "gpt-4o"}
    assert value("llmops_costs_llm_calls_total", status="ok", **model) == 2
    assert value("llmops_costs_llm_calls_total", status="error", **model) == 1
    assert value("llmops_costs_usage_missing_total", **model) == 1
    expected = {"input": 2000, "output": 400, "cache_read": 1200, "cache_creation": 200}
    for kind, tokens in {**expected, "reasoning": 100}.items():
        assert value("llmops_costs_tokens_total", kind=kind, **model) == tokens


async def test_sql_ledger_is_idempotent_per_tenant_and_sums_per_model(tmp_path: Path) -> None:
    repo = SqlUsageRepository(f"sqlite:///{tmp_path / 'costs.db'}")
    await repo.open()
    try:
        first = UsageRecord.from_event(call(usage=USAGE))
        assert await repo.add(first)
        assert not await repo.add(first)
        assert not await repo.add(replace(first, input_tokens=5))  # same id: still ignored
        assert await repo.add(replace(first, tenant="other"))
        assert await repo.add(
            UsageRecord.from_event(call(usage=Usage(input_tokens=10, output_tokens=1)))
        )
        assert await repo.add(UsageRecord.from_event(call()))  # no usage
        assert await repo.add(
            UsageRecord.from_event(call(provider="anthropic", request_model="claude", usage=USAGE))
        )

        assert await repo.totals("acme") == [
            ModelTotals("anthropic", "claude", 1, 0, 1000, 200, 600, 100, 50),
            ModelTotals("openai", "gpt-4o", 3, 1, 1010, 201, 600, 100, 50),
        ]
        assert await repo.totals("other") == [
            ModelTotals("openai", "gpt-4o", 1, 0, 1000, 200, 600, 100, 50)
        ]
        assert await repo.totals("nobody") == []
    finally:
        await repo.close()


def test_settings_defaults() -> None:
    settings = CostsSettings()
    assert settings.resolved_health_port == 8105
    assert settings.database_url == "sqlite:///.llmops/costs.db"
    assert settings.llm_calls_durable == "costs-llm-calls"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
async def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="in-memory"):
        await SqlUsageRepository(url).open()
