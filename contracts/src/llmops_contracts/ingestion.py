"""Ingestion: documents in, chunks and index events out."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from llmops_contracts import subjects
from llmops_contracts.common import Metadata, Part, Sha256Hex
from llmops_contracts.envelope import Kind, MessageSpec, Payload


class SubmitDocument(Payload):
    """Command: ingest one document (the 'document submitted' message)."""

    SPEC = MessageSpec(
        type="llmops.ingestion.submit_document.v1",
        kind=Kind.COMMAND,
        subject=subjects.INGESTION_SUBMIT_DOCUMENT,
        summary="Ingest a document: check source quality, chunk, embed and index it.",
        producers=("application",),
        consumers=("ingestion",),
    )

    document_id: str = Field(
        min_length=1, max_length=256, description="Caller's stable document id."
    )
    collection: str = Field(
        default="default",
        min_length=1,
        max_length=128,
        description="Index collection to add it to.",
    )
    title: str | None = Field(default=None, max_length=1000, description="Human title.")
    uri: str | None = Field(
        default=None, max_length=2048, description="Where the document came from."
    )
    media_type: str = Field(default="text/plain", description="MIME type of 'text'.")
    text: str | None = Field(
        default=None, description="The document text; required unless 'uri' is set."
    )
    language: str | None = Field(default=None, max_length=16, description="BCP 47 language tag.")
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_content(self) -> Self:
        if self.text is None and self.uri is None:
            raise ValueError("either 'text' or 'uri' is required")
        return self


class DocumentIndexed(Payload):
    """Event: a document was chunked, embedded and indexed."""

    SPEC = MessageSpec(
        type="llmops.ingestion.document_indexed.v1",
        kind=Kind.EVENT,
        subject=subjects.INGESTION_DOCUMENT_INDEXED,
        summary="A document is searchable.",
        producers=("ingestion",),
        consumers=("audit",),
    )

    document_id: str = Field(description="The document id from the submit command.")
    collection: str = Field(description="Index collection.")
    chunk_count: int = Field(ge=0, description="How many chunks were indexed.")
    content_sha256: Sha256Hex
    embedding_model: str = Field(description="Model that embedded the chunks.")


class Rejection(Part):
    """One failed source-quality rule."""

    rule: str = Field(description="Rule id, e.g. 'min_length'.")
    message: str = Field(description="Why the document failed it.")


class DocumentRejected(Payload):
    """Event: a document failed source-quality rules and was not indexed."""

    SPEC = MessageSpec(
        type="llmops.ingestion.document_rejected.v1",
        kind=Kind.EVENT,
        subject=subjects.INGESTION_DOCUMENT_REJECTED,
        summary="A document was refused by source-quality rules.",
        producers=("ingestion",),
        consumers=("audit",),
    )

    document_id: str = Field(description="The document id from the submit command.")
    collection: str = Field(description="Index collection it was meant for.")
    reasons: list[Rejection] = Field(min_length=1, description="Every rule that failed.")


class Chunk(Part):
    """One embedded chunk of a document."""

    chunk_id: str = Field(description="Stable id: document id plus ordinal.")
    ordinal: int = Field(ge=0, description="Position in the document.")
    text: str = Field(description="Chunk text.")
    vector: list[float] | None = Field(default=None, description="Dense embedding, if computed.")
    metadata: Metadata = Field(default_factory=dict)


class ChunksEmbedded(Payload):
    """Event: chunks of a document are embedded and ready for the index."""

    SPEC = MessageSpec(
        type="llmops.ingestion.chunks_embedded.v1",
        kind=Kind.EVENT,
        subject=subjects.INGESTION_CHUNKS_EMBEDDED,
        summary="Embedded chunks for the retrieval index.",
        producers=("ingestion",),
        consumers=("retrieval", "audit"),
    )

    document_id: str = Field(description="The document the chunks belong to.")
    collection: str = Field(description="Index collection.")
    embedding_model: str = Field(description="Model that produced the vectors.")
    dimensions: int = Field(
        ge=0, description="Vector length (0 when only sparse vectors are used)."
    )
    chunks: list[Chunk] = Field(description="The chunks, in document order.")
