"""Guardrails service settings (env prefix ``LLMOPS_GUARDRAILS_``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from llmops_contracts import subjects
from llmops_shared.settings import CommaList, ServiceSettings


class GuardrailsSettings(ServiceSettings):
    """Settings of the guardrails service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_GUARDRAILS_")
    service: ClassVar[str] = "guardrails"
    default_health_port: ClassVar[int] = 8103

    denylist: CommaList = Field(
        default_factory=list,
        description="Terms the built-in policy blocks (case-insensitive, whole words); "
        "comma-separated. A tenant's pushed policy has its own.",
    )
    tool_allowlist: CommaList = Field(
        default_factory=list,
        description="Tools the built-in policy lets agents call; empty allows every tool. "
        "Comma-separated. A pushed policy denies unlisted tools unless it says otherwise.",
    )
    tool_calls_durable: str = Field(
        default="guardrails-tool-calls",
        description="Durable consumer name of the tool-call checks.",
    )
    check_queue: str = Field(
        default="guardrails",
        description="Queue group of the check, stream and policy endpoints, shared by replicas.",
    )
    direct_endpoints: bool = Field(
        default=True,
        description="Serve the check and stream endpoints with nats-py directly rather than "
        "through FastStream (the same edge rules, a fraction of the per-request cost).",
    )
    check_concurrency: int = Field(
        default=64,
        ge=1,
        description="Checks (and, apart, streamed chunks) one replica answers at once when "
        "served directly; past it the next waits, so a slow check (a tool's rate window) does "
        "not hold the others behind it and memory stays bounded.",
    )
    vault_key: SecretStr | None = Field(
        default=None,
        description="Key that seals reversible checks' vault tokens: base64 of 32 random bytes "
        "(e.g. `openssl rand -base64 32`). Every replica needs the same key to open another's "
        "tokens; unset, each process makes its own and tokens die with it.",
    )
    vault_ttl_s: float = Field(
        default=3600, gt=0, description="How long a vault token can be opened, in seconds."
    )
    outbox_path: Path = Field(
        default=Path(".llmops/guardrails-outbox.db"),
        description="SQLite file where verdicts wait for JetStream: written before each reply, "
        "so a verdict survives a crash. One per replica, on a persistent volume.",
    )
    outbox_batch: int = Field(
        default=500, ge=1, description="Most verdict events published per round from the outbox."
    )
    outbox_idle_s: float = Field(
        default=1.0, gt=0, description="How often the outbox is flushed when no check wakes it."
    )
    policies_bucket: str = Field(
        default=subjects.GUARDRAILS_POLICIES_BUCKET,
        description="JetStream key-value bucket of the policies (shared by every replica).",
    )
    rates_bucket: str = Field(
        default=subjects.GUARDRAILS_RATES_BUCKET,
        description="JetStream key-value bucket of the tool-call rate windows (shared by every "
        "replica, so a limit holds whatever the number of replicas).",
    )
    rate_timeout_s: float = Field(
        default=0.5,
        gt=0,
        description="Longest a rate-limited tool check waits for its window in the bucket; "
        "past it the call is denied (`rate_unavailable`), never allowed unchecked.",
    )
    policy_history: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Earlier values the policy bucket keeps per key (pointer moves), when the "
        "service creates it.",
    )
