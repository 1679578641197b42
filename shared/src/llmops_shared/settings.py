"""One settings base for every service: suite-wide values plus a per-service env prefix.

Suite-wide settings (the NATS URL, stream replicas) have one global name each, e.g. ``NATS_URL``
or ``LLMOPS_STREAM_REPLICAS``, so an operator sets them once for all six services. Everything else
is read with the service's own prefix, e.g. ``LLMOPS_AUDIT_HEALTH_PORT``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _suite(name: str) -> AliasChoices:
    return AliasChoices(name.lower(), f"LLMOPS_{name}")


def _split(value: Any) -> Any:
    # Operators write lists in the environment as "a,b,c", not as JSON.
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


#: A list setting written in the environment as comma-separated values (``a,b,c``).
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split)]


class ServiceSettings(BaseSettings):
    """Settings every service shares. Subclasses set ``env_prefix`` and ``service``."""

    model_config = SettingsConfigDict(
        env_prefix="LLMOPS_", extra="ignore", populate_by_name=True, env_file=".env"
    )

    #: The service name: the durable-consumer name, the DLQ subject token and the log field.
    service: ClassVar[str] = "service"
    #: Default health port, distinct per service so they can share a host.
    default_health_port: ClassVar[int] = 8100

    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        validation_alias=AliasChoices("nats_url", "NATS_URL", "LLMOPS_NATS_URL"),
        description="NATS server URL(s), comma-separated for a cluster.",
    )
    nats_user: str | None = Field(
        default=None,
        validation_alias=_suite("NATS_USER"),
        description="NATS user name, with nats_password.",
    )
    nats_password: SecretStr | None = Field(
        default=None, validation_alias=_suite("NATS_PASSWORD"), description="NATS password."
    )
    nats_token: SecretStr | None = Field(
        default=None,
        validation_alias=_suite("NATS_TOKEN"),
        description="NATS authentication token (instead of a user and password).",
    )
    nats_creds_file: str | None = Field(
        default=None,
        validation_alias=_suite("NATS_CREDS_FILE"),
        description="Path of a NATS credentials file (JWT and NKey seed).",
    )

    stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        validation_alias=_suite("STREAM_REPLICAS"),
        description="JetStream replicas for every stream (3 on a cluster).",
    )
    events_max_age_days: float = Field(
        default=30,
        gt=0,
        validation_alias=_suite("EVENTS_MAX_AGE_DAYS"),
        description="How long EVENTS keeps messages (the audit service keeps them for good).",
    )
    dlq_max_age_days: float = Field(
        default=90,
        gt=0,
        validation_alias=_suite("DLQ_MAX_AGE_DAYS"),
        description="How long the DLQ stream keeps dead letters.",
    )
    duplicate_window_s: float = Field(
        default=120,
        gt=0,
        validation_alias=_suite("DUPLICATE_WINDOW_S"),
        description="JetStream de-duplication window on Nats-Msg-Id.",
    )
    manage_streams: bool = Field(
        default=True,
        validation_alias=_suite("MANAGE_STREAMS"),
        description="Create/update streams at start; turn off where an operator owns them.",
    )

    max_deliver: int = Field(
        default=5, ge=1, description="Deliveries of a failing message before it is dead-lettered."
    )
    ack_wait_s: float = Field(
        default=30, gt=0, description="Redelivery timeout of an unacked message."
    )
    batch_size: int = Field(default=256, ge=1, description="Messages fetched per pull.")
    batch_timeout_s: float = Field(
        default=0.2, gt=0, description="Longest wait to fill a pull batch."
    )

    health_host: str = Field(
        default="127.0.0.1", description="Address of the health/metrics server."
    )
    health_port: int | None = Field(
        default=None, ge=0, le=65535, description="Port of the health/metrics server (0: any free)."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        validation_alias=_suite("LOG_FORMAT"),
        description="'auto' prints for humans on a terminal and JSON otherwise.",
    )
    drain_timeout_s: float = Field(
        default=15, gt=0, description="How long shutdown waits for in-flight messages."
    )
    loop_stall_s: float = Field(
        default=5,
        gt=0,
        description="Readiness fails while the event loop has not run for this long (stalled).",
    )
    loop_wedged_s: float = Field(
        default=60,
        gt=0,
        description="Liveness fails while the event loop has not run for this long (wedged): "
        "an orchestrator's liveness probe then restarts the process.",
    )

    @property
    def resolved_health_port(self) -> int:
        """The health port: the configured one or the service's default."""
        return self.default_health_port if self.health_port is None else self.health_port
