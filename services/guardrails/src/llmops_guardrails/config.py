"""Guardrails service settings (env prefix ``LLMOPS_GUARDRAILS_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from llmops_shared.settings import CommaList, ServiceSettings


class GuardrailsSettings(ServiceSettings):
    """Settings of the guardrails service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_GUARDRAILS_")
    service: ClassVar[str] = "guardrails"
    default_health_port: ClassVar[int] = 8103

    denylist: CommaList = Field(
        default_factory=list,
        description="Terms that block content (case-insensitive, whole words); comma-separated.",
    )
    tool_allowlist: CommaList = Field(
        default_factory=list,
        description="Tool names agents may call; empty allows every tool. Comma-separated.",
    )
    tool_calls_durable: str = Field(
        default="guardrails-tool-calls",
        description="Durable consumer name of the tool-call checks.",
    )
    check_queue: str = Field(
        default="guardrails", description="Queue group of the check endpoint, shared by replicas."
    )
