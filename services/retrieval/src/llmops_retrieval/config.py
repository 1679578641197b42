"""Retrieval service settings (env prefix ``LLMOPS_RETRIEVAL_``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from llmops_shared.settings import ServiceSettings


class RetrievalSettings(ServiceSettings):
    """Settings of the retrieval service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_RETRIEVAL_")
    service: ClassVar[str] = "retrieval"
    default_health_port: ClassVar[int] = 8102

    backend: Literal["edge", "qdrant"] = Field(
        default="edge",
        description="Where the index lives: 'edge' (Qdrant's embedded engine on disk in this "
        "process; one process per index directory) or 'qdrant' (a Qdrant server at qdrant_url, "
        "shared by every replica).",
    )
    data_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("data_dir", "LLMOPS_DATA_DIR"),
        description="The suite's data directory; the embedded index lives in its "
        "'retrieval-index' folder (default: .llmops).",
    )
    index_dir: Path | None = Field(
        default=None,
        description="Directory of the embedded index, when not under the data directory. One "
        "process at a time may open it.",
    )
    qdrant_url: str = Field(
        default="http://127.0.0.1:6333", description="URL of the Qdrant server (backend qdrant)."
    )
    qdrant_api_key: SecretStr | None = Field(
        default=None, description="API key of the Qdrant server, if it requires one."
    )
    qdrant_collection: str = Field(
        default="llmops_chunks",
        min_length=1,
        description="Qdrant collection holding every tenant's chunks (backend qdrant).",
    )
    dense_model: str = Field(
        default="",
        description="Dense embedder spec for queries (llmops_shared.embedding), the same model "
        "ingestion embeds chunks with; empty: sparse (BM25) search only.",
    )
    dense_dimensions: int = Field(
        default=0,
        ge=0,
        description="Length of the dense vectors; 0 takes it from the dense model.",
    )
    scoped_idf: bool = Field(
        default=False,
        description="Compute BM25's IDF over the searched tenant's collection only, so that no "
        "other tenant's documents weigh in a score (needs Qdrant server 1.19 or later); it "
        "costs a scan per query term. False: over the whole index.",
    )
    candidates: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Candidates each of sparse and dense contributes to a hybrid fusion, and "
        "candidates an MMR query diversifies among.",
    )
    optimize_idle_s: float = Field(
        default=10.0,
        ge=0,
        description="Embedded index: build its search indexes once writes have paused this "
        "long (0: never). The engine holds the process while it builds (see docs/retrieval.md).",
    )
    chunks_durable: str = Field(
        default="retrieval-chunks",
        description="Durable consumer of chunk and deletion events, shared by the replicas of "
        "one index.",
    )
    query_queue: str = Field(
        default="retrieval",
        description="Queue group of the query and rebuild endpoints, shared by replicas.",
    )
    query_concurrency: int = Field(
        default=64,
        ge=1,
        description="Queries one replica answers at once; past it the next waits, so a slow "
        "query (embedding it) does not hold the others behind it and memory stays bounded.",
    )
    replay_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="Rebuild: how long one read of the EVENTS stream waits before the replay "
        "counts as complete.",
    )

    @property
    def index_path(self) -> Path:
        """Where the embedded index lives."""
        if self.index_dir is not None:
            return self.index_dir
        return (self.data_dir or Path(".llmops")) / "retrieval-index"
