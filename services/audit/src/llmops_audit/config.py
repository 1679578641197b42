"""Audit service settings (env prefix ``LLMOPS_AUDIT_``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
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
    query_queue: str = Field(default="audit", description="Queue group of the query endpoints.")
    batch_size: int = Field(
        default=1000,
        ge=1,
        description="Messages fetched per pull and stored per transaction (larger than other "
        "services': per-batch costs dominate the capture below ~1000).",
    )
    redaction_policies_file: Path | None = Field(
        default=None,
        description="JSON file of per-tenant redaction policies (see docs/audit.md); none: keep all.",
    )
    redaction_salt: SecretStr | None = Field(
        default=None, description="Secret salt for hashed fields; required when a policy hashes."
    )
    checkpoint_key: SecretStr | None = Field(
        default=None, description="HMAC key that signs checkpoints; else read from the key file."
    )
    checkpoint_key_file: Path = Field(
        default=Path(".llmops/audit-checkpoint.key"),
        description="Where the signing key lives when not given; created (0600) if missing.",
    )
    checkpoint_key_id: str = Field(default="k1", description="Id recorded with each signature.")
    checkpoint_interval_s: float = Field(
        default=60.0, gt=0, description="How often chain heads that moved are signed."
    )
    publish_batch: int = Field(
        default=1000, ge=1, description="Records republished to the AUDIT stream per round."
    )
