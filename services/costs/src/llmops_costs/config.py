"""Costs service settings (env prefix ``LLMOPS_COSTS_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from llmops_shared.settings import ServiceSettings


class CostsSettings(ServiceSettings):
    """Settings of the costs service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_COSTS_")
    service: ClassVar[str] = "costs"
    default_health_port: ClassVar[int] = 8105

    database_url: str = Field(
        default="sqlite:///.llmops/costs.db",
        description="SQLAlchemy URL of the usage ledger: a SQLite file (default) or postgresql://...",
    )
    llm_calls_durable: str = Field(
        default="costs-llm-calls", description="Durable consumer name of the LLM-call events."
    )
