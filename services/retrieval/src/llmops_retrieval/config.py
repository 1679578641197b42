"""Retrieval service settings (env prefix ``LLMOPS_RETRIEVAL_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from llmops_shared.settings import ServiceSettings


class RetrievalSettings(ServiceSettings):
    """Settings of the retrieval service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_RETRIEVAL_")
    service: ClassVar[str] = "retrieval"
    default_health_port: ClassVar[int] = 8102

    chunks_durable: str = Field(
        default="retrieval-chunks",
        description=(
            "Name of the consumer of chunk events. While the index lives in process memory each "
            "process adds a suffix of its own, so that every replica indexes every chunk."
        ),
    )
    chunks_consumer_idle_s: float = Field(
        default=300,
        gt=0,
        description="How long the server keeps a per-process chunk consumer after its process stops.",
    )
    query_queue: str = Field(
        default="retrieval", description="Queue group of the query endpoint, shared by replicas."
    )
    bm25_k1: float = Field(default=1.2, ge=0, description="BM25 term-frequency saturation.")
    bm25_b: float = Field(default=0.75, ge=0, le=1, description="BM25 length normalisation.")
