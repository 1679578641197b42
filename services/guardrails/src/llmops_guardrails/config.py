"""Guardrails service settings (env prefix ``LLMOPS_GUARDRAILS_``)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from llmops_shared.settings import ServiceSettings


class GuardrailsSettings(ServiceSettings):
    """Settings of the guardrails service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_GUARDRAILS_")
    service: ClassVar[str] = "guardrails"
    default_health_port: ClassVar[int] = 8103

    denylist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Terms that block content (case-insensitive, whole words); comma-separated.",
    )
    tool_allowlist: Annotated[list[str], NoDecode] = Field(
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

    @field_validator("denylist", "tool_allowlist", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # Operators write lists in the environment as "a,b,c", not as JSON.
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value
