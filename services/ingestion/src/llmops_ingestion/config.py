"""Ingestion service settings (env prefix ``LLMOPS_INGESTION_``)."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from llmops_contracts.ingestion import Chunking
from llmops_ingestion.ports import WhenScreenDown
from llmops_ingestion.rules import BANDS, SourceRules, TenantRules
from llmops_shared.settings import CommaList, ServiceSettings


class IngestionSettings(ServiceSettings):
    """Settings of the ingestion service."""

    model_config = SettingsConfigDict(env_prefix="LLMOPS_INGESTION_")
    service: ClassVar[str] = "ingestion"
    default_health_port: ClassVar[int] = 8101

    submit_durable: str = Field(
        default="ingestion-submit",
        description="Durable consumer of submit-document commands, shared by every replica.",
    )
    delete_durable: str = Field(
        default="ingestion-delete",
        description="Durable consumer of delete-document commands, shared by every replica.",
    )
    expire_durable: str = Field(
        default="ingestion-expire",
        description="Durable consumer of expire-documents commands, shared by every replica.",
    )
    expire_every_s: float = Field(
        default=300.0,
        ge=0,
        description="Every this many seconds, send an expire-documents command for each tenant "
        "holding documents past their expiry (0: never; queries skip expired chunks anyway).",
    )
    concurrent_documents: int = Field(
        default=8,
        ge=1,
        description="Submit commands fetched at once and handled concurrently by one replica "
        "(each holds its document, chunks and vectors in memory).",
    )
    database_url: str = Field(
        default="sqlite:///.llmops/ingestion.db",
        description="SQLAlchemy URL of the document state: a SQLite file (default) or "
        "postgresql://...",
    )
    # --- source-quality rules (defaults; TENANT_RULES overrides them per tenant) ---------------
    min_chars: int = Field(
        default=20, ge=1, description="Fewest non-blank characters a parsed document must have."
    )
    max_chars: int = Field(
        default=5_000_000, ge=1, description="Most characters a parsed document may have."
    )
    allowed_sources: CommaList = Field(
        default_factory=list,
        description="Document sources accepted (the command's 'source'), comma-separated; "
        "empty: any.",
    )
    languages: CommaList = Field(
        default_factory=list,
        description="ISO 639-1 languages accepted, comma-separated (e.g. en,de); empty: any.",
    )
    near_duplicates: bool = Field(
        default=False,
        description="Reject a document that is a near-copy of another of the tenant's documents "
        "(off by default: two documents with the same text under two ids are both kept, as a "
        "caller who gave them two ids expects; turn it on per tenant for crawled sources).",
    )
    near_duplicate_bits: int = Field(
        default=3,
        ge=0,
        le=BANDS - 1,
        description="SimHash bits (of 64) two near-duplicate documents may differ in (0-3).",
    )
    screen: bool = Field(
        default=False,
        description="Screen documents with the guardrails service (stage retrieved_context) "
        "for indirect injection, PII and whatever else the tenant's policy detects.",
    )
    screen_policy: str = Field(
        default="default", description="Guardrails policy applied to documents."
    )
    screen_timeout_s: float = Field(
        default=5.0, gt=0, description="Seconds to wait for each guardrails verdict."
    )
    screen_unavailable: WhenScreenDown = Field(
        default=WhenScreenDown.RETRY,
        description="When the guardrails service does not answer: retry (redeliver the command "
        "with backoff, dead-letter it after MAX_DELIVER), open (index unscreened) or closed "
        "(reject).",
    )
    tenant_rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='Per-tenant overrides of the rules above, JSON: {"acme": '
        '{"allowed_sources": ["wiki"], "languages": ["en"], "min_chars": 100, '
        '"max_chars": 100000, "near_duplicates": false, "max_distance": 2, "screen": true}}.',
    )
    # --- chunking and embedding ---------------------------------------------------------------
    chunk_words: int = Field(default=200, ge=8, description="Most words in one chunk.")
    chunk_overlap_words: int = Field(
        default=40, ge=0, description="Words a chunk shares with the next (at most half a chunk)."
    )
    chunking_by_source: dict[str, Chunking] = Field(
        default_factory=dict,
        description='Chunking strategy by document source, JSON: {"wiki": "structure"}; '
        "otherwise structure for Markdown, HTML and JSON lines, tokens for the rest.",
    )
    dense_model: str = Field(
        default="",
        description="Dense embedder: empty (sparse BM25 only), "
        "sentence-transformers:<path or package>, or openai:<base url>#<model>.",
    )
    embed_batch: int = Field(default=64, ge=1, description="Chunks embedded per call.")
    progress_every: int = Field(
        default=256, ge=0, description="A progress event every this many chunks (0: none)."
    )
    max_event_bytes: int = Field(
        default=768 * 1024,
        ge=16 * 1024,
        description="Most bytes of one chunks event; keep it under the NATS max_payload.",
    )
    max_file_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1, description="Most bytes of one submitted file."
    )
    files_max_age_s: float = Field(
        default=7 * 86400.0,
        gt=0,
        description="Seconds an uploaded file stays in the object store if nobody ingests it.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.chunk_overlap_words * 2 > self.chunk_words:
            raise ValueError("chunk_overlap_words must be at most half of chunk_words")
        if self.min_chars > self.max_chars:
            raise ValueError("min_chars must not exceed max_chars")
        self.rules()  # a bad per-tenant override fails at start, not at the first document
        return self

    def rules(self) -> TenantRules:
        """The default source rules and every tenant's."""
        default = SourceRules(
            allowed_sources=frozenset(self.allowed_sources) or None,
            min_chars=self.min_chars,
            max_chars=self.max_chars,
            languages=frozenset(self.languages) or None,
            near_duplicates=self.near_duplicates,
            max_distance=self.near_duplicate_bits,
            screen=self.screen,
        )
        try:
            return TenantRules.build(default, self.tenant_rules)
        except TypeError as exc:
            raise ValueError(f"tenant_rules: {exc}") from None
