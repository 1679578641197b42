"""Ingestion service settings (env prefix ``LLMOPS_INGESTION_``)."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from llmops_shared.settings import ServiceSettings


class IngestionSettings(ServiceSettings):
    """Settings of the ingestion service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_INGESTION_")
    service: ClassVar[str] = "ingestion"
    default_health_port: ClassVar[int] = 8101

    submit_durable: str = Field(
        default="ingestion-submit",
        description="Durable consumer of submit-document commands, shared by every replica.",
    )
    min_chars: int = Field(
        default=20, ge=1, description="Fewest non-blank characters a document must have."
    )
    # One ChunksEmbedded event carries every chunk of a document, and NATS refuses messages over
    # its max_payload (1 MiB by default): 200k characters plus overlap and JSON stay well under.
    max_chars: int = Field(
        default=200_000, ge=1, description="Most characters a document may have."
    )
    media_types: list[str] = Field(
        default=["text/plain", "text/markdown"],
        min_length=1,
        description="Media types accepted as text; nothing else is parsed yet.",
    )
    chunk_max_chars: int = Field(
        default=1000, ge=32, description="Most characters in one chunk, overlap included."
    )
    chunk_overlap_chars: int = Field(
        default=150,
        ge=0,
        description="Characters of the previous chunk repeated at the start of the next.",
    )

    @model_validator(mode="after")
    def _overlap_fits(self) -> Self:
        if self.chunk_overlap_chars * 2 > self.chunk_max_chars:
            raise ValueError("chunk_overlap_chars must be at most half of chunk_max_chars")
        if self.min_chars > self.max_chars:
            raise ValueError("min_chars must not exceed max_chars")
        return self
