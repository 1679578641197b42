"""Costs service settings (env prefix ``LLMOPS_COSTS_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from llmops_shared.settings import CommaList, ServiceSettings


class CostsSettings(ServiceSettings):
    """Settings of the costs service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_COSTS_")
    service: ClassVar[str] = "costs"
    default_health_port: ClassVar[int] = 8105

    batch_size: int = Field(
        default=1000,
        ge=1,
        description="LLM calls fetched per pull and stored per transaction (per-batch costs "
        "dominate smaller batches).",
    )
    database_url: str = Field(
        default="sqlite:///.llmops/costs.db",
        description="SQLAlchemy URL of the cost ledger: a SQLite file (default) or postgresql://...",
    )
    llm_calls_durable: str = Field(
        default="costs-llm-calls", description="Durable consumer name of the LLM-call events."
    )
    rpc_queue: str = Field(
        default="costs",
        description="Queue group of the report, budget, budget_check and prices endpoints.",
    )
    budget_cache_ttl_s: float = Field(
        default=2.0,
        ge=0,
        description="How long a replica trusts its cached budget definitions of a tenant; a "
        "change made through another replica reaches this one's budget checks within this time.",
    )
    prices_refresh_s: float = Field(
        default=60.0,
        gt=0,
        description="How often a replica checks the database for prices loaded elsewhere (the "
        "prices_loaded event is the fast path; this catches one missed while disconnected).",
    )
    anomaly_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="Least time between two spend-spike checks of one tenant.",
    )
    anomaly_threshold: float = Field(
        default=6.0, gt=0, description="Robust z-score at or above which hourly spend is a spike."
    )
    anomaly_min_spend_usd: str = Field(
        default="1",
        pattern=r"^[0-9]+(\.[0-9]+)?$",
        description="Hourly spend below this (USD) never raises a spike.",
    )
    anomaly_history_hours: int = Field(
        default=24,
        ge=6,
        le=24 * 14,
        description="Hourly buckets in the spike baseline (6 at least: fewer cannot tell a spike).",
    )
    outbox_interval_s: float = Field(
        default=10.0,
        gt=0,
        description="How often alerts left unpublished (by a crash) are published again.",
    )
    price_table_tenants: CommaList = Field(
        default=["ops"],
        description="Tenants whose requests may load a whole price table, which prices every "
        "tenant's calls (any tenant may load its own overrides); comma-separated. Grant these "
        "tenants' llmops.rpc.costs.prices.<tenant> subjects to operators only.",
    )
    reprice_chunk: int = Field(
        default=1000, ge=1, description="Waiting calls re-priced per database transaction."
    )
