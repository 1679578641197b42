"""Prometheus metrics of the costs service (served on ``/metrics``): what it accounted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter, Histogram

from llmops_costs.entries import PRICE_MISSING, PRICED, CallEntry

CALLS = Counter(
    "llmops_costs_llm_calls_total",
    "LLM calls accounted, by tenant, provider, model and status.",
    ["tenant", "provider", "model", "status"],
)
TOKENS = Counter(
    "llmops_costs_tokens_total",
    "Tokens accounted, by tenant, provider, model and kind (OpenTelemetry GenAI buckets; cache and "
    "reasoning kinds are subsets of input and output).",
    ["tenant", "provider", "model", "kind"],
)
USAGE_MISSING_TOTAL = Counter(
    "llmops_costs_usage_missing_total",
    "LLM calls that reported no usage, by tenant, provider, model and whether it was estimated.",
    ["tenant", "provider", "model", "estimated"],
)
PRICE_MISSING_TOTAL = Counter(
    "llmops_costs_price_missing_total",
    "LLM calls stored without a price (waiting to be re-priced), by provider and model.",
    ["provider", "model"],
)
COST = Counter(
    "llmops_costs_cost_usd_total",
    "Computed cost in USD (a float view of the exact ledger), by tenant, provider and model.",
    ["tenant", "provider", "model"],
)
REPRICED = Counter(
    "llmops_costs_repriced_total", "Waiting calls priced after their price was loaded."
)
PROVIDED_DIFFERENCE = Histogram(
    "llmops_costs_provided_cost_relative_difference",
    "(computed - provided) / provided, for calls that reported a cost.",
    buckets=(-1, -0.5, -0.1, -0.01, -0.001, 0, 0.001, 0.01, 0.1, 0.5, 1, float("inf")),
)

TOKEN_KINDS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation_input_tokens": "cache_creation",
    "reasoning_tokens": "reasoning",
}


class PrometheusCostMetrics:
    """Cost counters in the process's Prometheus registry (served on /metrics).

    Sums are gathered per label set first, so a batch costs one increment per label set rather
    than several per call.
    """

    def recorded(self, entries: Sequence[CallEntry]) -> None:
        """Count newly stored calls."""
        counts: dict[tuple[Any, ...], float] = {}

        def add(key: tuple[Any, ...], value: float) -> None:
            counts[key] = counts.get(key, 0) + value

        for e in entries:
            add(("calls", e.tenant, e.provider, e.model, e.status), 1)
            if e.usage is None or e.estimated:
                add(("usage_missing", e.tenant, e.provider, e.model, str(e.estimated).lower()), 1)
            if e.state == PRICE_MISSING:
                add(("price_missing", e.provider, e.model), 1)
            if e.usage is not None and not e.estimated:
                for name, kind in TOKEN_KINDS.items():
                    tokens = getattr(e.usage, name)
                    if tokens:
                        add(("tokens", e.tenant, e.provider, e.model, kind), tokens)
            if e.state == PRICED and e.cost is not None:
                add(("cost", e.tenant, e.provider, e.model), float(e.cost))
                if e.provided_cost:
                    PROVIDED_DIFFERENCE.observe(float((e.cost - e.provided_cost) / e.provided_cost))
        metric = {
            "calls": CALLS,
            "usage_missing": USAGE_MISSING_TOTAL,
            "price_missing": PRICE_MISSING_TOTAL,
            "tokens": TOKENS,
            "cost": COST,
        }
        for (name, *labels), value in counts.items():
            metric[name].labels(*labels).inc(value)

    def repriced(self, entries: Sequence[CallEntry]) -> None:
        """Count re-priced calls and their cost."""
        REPRICED.inc(len(entries))
        for e in entries:
            if e.cost is not None:
                COST.labels(e.tenant, e.provider, e.model).inc(float(e.cost))
