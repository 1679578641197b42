"""Audit service settings (env prefix ``LLMOPS_AUDIT_``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr
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
        "services': see docs/decisions.md, 'Audit batches of 1000').",
    )
    redaction_policies_file: Path | None = Field(
        default=None,
        description="JSON file of per-tenant redaction policies (see docs/audit.md); none: keep all.",
    )
    redaction_salt: SecretStr | None = Field(
        default=None, description="Secret salt for hashed fields; required when a policy hashes."
    )
    signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key that signs checkpoints: PEM (PKCS#8), or its 32-byte "
        "seed in hex or base64. From a secret store, never kept beside the database.",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="File holding the signing key (same formats), when signing_key is not set. "
        "Refused inside the data directory (the SQLite database's directory, LLMOPS_DATA_DIR).",
    )
    development_key: bool = Field(
        default=False,
        description="Development only (set by `llmops dev`): accept a key file inside the data "
        "directory, and create one there when no key is given.",
    )
    data_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("data_dir", "LLMOPS_DATA_DIR"),
        description="The suite's data directory; the signing key may not live in it.",
    )
    checkpoint_interval_s: float = Field(
        default=60.0, gt=0, description="How often chain heads that moved are signed."
    )
    publish_batch: int = Field(
        default=1000, ge=1, description="Records republished to the AUDIT stream per round."
    )
