"""Audit service settings (env prefix ``LLMOPS_AUDIT_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from llmops_shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    """Settings of the audit service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_AUDIT_")
    service: ClassVar[str] = "audit"
    default_health_port: ClassVar[int] = 8106

    database_url: str = Field(
        default="sqlite:///.llmops/audit.db",
        description="SQLAlchemy URL: a SQLite file (default) or postgresql://...",
    )
    durable_prefix: str = Field(
        default="audit", description="Prefix of the durable consumer names (one per stream)."
    )
