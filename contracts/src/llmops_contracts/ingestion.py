"""Ingestion: documents in, chunks and index events out."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, model_validator

from llmops_contracts import subjects
from llmops_contracts.common import Metadata, ObjectRef, Part, Sha256Hex
from llmops_contracts.envelope import Kind, MessageSpec, Payload

#: An access-control label on a document (a group, a role): a query sees a labelled chunk only
#: when it carries one of the chunk's labels; a chunk without labels is visible tenant-wide.
AclLabel = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]

#: Most bytes of a file carried inside its command (base64 adds a third); larger files go
#: through the :data:`~llmops_contracts.subjects.INGESTION_FILES_BUCKET` object store.
MAX_INLINE_FILE_BYTES = 512 * 1024


class Chunking(StrEnum):
    """How a document is cut into chunks."""

    TOKENS = "tokens"  # windows of words with overlap, whatever the format
    STRUCTURE = "structure"  # headings and paragraphs first (Markdown, HTML), then windows
    SENTENCES = "sentences"  # whole sentences packed up to the window size


class SubmittedFile(Part):
    """A file submitted for ingestion: its bytes inline (small) or in the object store (large)."""

    name: str = Field(min_length=1, max_length=1024, description="File name, for the record.")
    media_type: str = Field(
        max_length=128,
        description="MIME type that selects the parser: text/plain, text/markdown, text/html, "
        "application/pdf, application/jsonl.",
    )
    inline: str | None = Field(
        default=None,
        max_length=(MAX_INLINE_FILE_BYTES * 4) // 3 + 4,
        description="The file's bytes, base64.",
    )
    object: ObjectRef | None = Field(
        default=None, description="Where the bytes are when they did not fit in the command."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.inline is None) == (self.object is None):
            raise ValueError("a file has exactly one of 'inline' and 'object'")
        return self


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
        default=None, description="The document text; one of 'text', 'file' or 'uri' is required."
    )
    file: SubmittedFile | None = Field(
        default=None, description="The document as a file to parse, instead of 'text'."
    )
    language: str | None = Field(default=None, max_length=16, description="BCP 47 language tag.")
    version: str | None = Field(
        default=None, max_length=128, description="Caller's version label of this document."
    )
    source: str | None = Field(
        default=None,
        max_length=256,
        description="Where it comes from (e.g. 'cli', 'wiki'): source rules and chunking key on it.",
    )
    acl: list[AclLabel] = Field(
        default_factory=list, max_length=64, description="Access labels; empty: tenant-wide."
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the document stops being served and is removed."
    )
    chunking: Chunking | None = Field(
        default=None, description="Chunking strategy; none: the service's choice for the source."
    )
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_content(self) -> Self:
        if self.text is None and self.uri is None and self.file is None:
            raise ValueError("one of 'text', 'file' or 'uri' is required")
        if self.text is not None and self.file is not None:
            raise ValueError("'text' and 'file' are exclusive")
        return self


class DeleteDocument(Payload):
    """Command: remove a document and its chunks from the index."""

    SPEC = MessageSpec(
        type="llmops.ingestion.delete_document.v1",
        kind=Kind.COMMAND,
        subject=subjects.INGESTION_DELETE_DOCUMENT,
        summary="Remove a document from the index.",
        producers=("application",),
        consumers=("ingestion",),
    )

    document_id: str = Field(min_length=1, max_length=256, description="The document id.")
    collection: str = Field(
        default="default", min_length=1, max_length=128, description="Its index collection."
    )


class ExpireDocuments(Payload):
    """Command: remove every document whose ``expires_at`` has passed (by the service clock)."""

    SPEC = MessageSpec(
        type="llmops.ingestion.expire_documents.v1",
        kind=Kind.COMMAND,
        subject=subjects.INGESTION_EXPIRE_DOCUMENTS,
        summary="Remove the tenant's expired documents from the index.",
        producers=("application", "ingestion"),
        consumers=("ingestion",),
    )

    collection: str | None = Field(
        default=None, max_length=128, description="Only this collection; none: all of them."
    )


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
    chunk_count: int = Field(ge=0, description="How many chunks the document has now.")
    content_sha256: Sha256Hex
    embedding_model: str = Field(description="Model that embedded the chunks.")
    version: str | None = Field(default=None, description="The document's version label.")
    embedded: int = Field(default=0, ge=0, description="Chunks embedded for this version.")
    unchanged: int = Field(default=0, ge=0, description="Chunks kept from the previous version.")
    removed: int = Field(default=0, ge=0, description="Chunks of the previous version dropped.")


class DocumentProgress(Payload):
    """Event: progress of a long document through embedding."""

    SPEC = MessageSpec(
        type="llmops.ingestion.document_progress.v1",
        kind=Kind.EVENT,
        subject=subjects.INGESTION_DOCUMENT_PROGRESS,
        summary="Chunks of a long document embedded so far.",
        producers=("ingestion",),
        consumers=("application",),
    )

    document_id: str = Field(description="The document id.")
    collection: str = Field(description="Index collection.")
    done: int = Field(ge=0, description="Chunks embedded so far.")
    total: int = Field(ge=0, description="Chunks to embed in all.")


class DocumentDeleted(Payload):
    """Event: a document left the index (deleted or expired)."""

    SPEC = MessageSpec(
        type="llmops.ingestion.document_deleted.v1",
        kind=Kind.EVENT,
        subject=subjects.INGESTION_DOCUMENT_DELETED,
        summary="A document and its chunks are removed from the index.",
        producers=("ingestion",),
        consumers=("retrieval", "audit"),
    )

    document_id: str = Field(description="The document id.")
    collection: str = Field(description="Index collection.")
    reason: str = Field(description="'deleted' or 'expired'.")


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


class SparseVector(Part):
    """Term weights by hashed term id: strictly increasing indices, one finite value each."""

    indices: list[Annotated[int, Field(ge=0, lt=2**32)]] = Field(description="Term ids.")
    values: list[float] = Field(description="Weight of each term id.")

    @model_validator(mode="after")
    def _aligned(self) -> Self:
        if len(self.indices) != len(self.values):
            raise ValueError("indices and values differ in length")
        if any(b <= a for a, b in zip(self.indices, self.indices[1:], strict=False)):
            raise ValueError("indices must be strictly increasing")
        return self


class Chunk(Part):
    """One embedded chunk of a document."""

    chunk_id: str = Field(
        description="Stable id: uuid5 of the document id and the SHA-256 of the chunk's text."
    )
    ordinal: int = Field(ge=0, description="Position in the document.")
    text: str = Field(description="Chunk text.")
    vector: list[float] | None = Field(default=None, description="Dense embedding, if computed.")
    sparse: SparseVector | None = Field(
        default=None, description="Sparse (BM25-style) term weights, if computed."
    )
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
    chunks: list[Chunk] = Field(
        description="Chunks to write: new or changed ones, in document order (one part of them "
        "when a document is split over several events)."
    )
    version: str | None = Field(default=None, description="The document's version label.")
    acl: list[AclLabel] = Field(default_factory=list, description="Access labels of the chunks.")
    expires_at: AwareDatetime | None = Field(default=None, description="When the chunks expire.")
    keep: list[str] | None = Field(
        default=None,
        description="On the last part: every chunk id of this version. The index writes the "
        "chunks first and only then drops the document's chunks not listed here. None: the "
        "chunks of this event are the whole document.",
    )
    final: bool = Field(default=True, description="Whether this is the document's last part.")

    @model_validator(mode="after")
    def _keeps_its_chunks(self) -> Self:
        # A keep list without the part's own chunks makes the index write them and drop them
        # at once: no sender means that (ingestion's keep is every chunk id of the version).
        if self.keep is not None:
            kept = set(self.keep)
            missing = [c.chunk_id for c in self.chunks if c.chunk_id not in kept]
            if missing:
                raise ValueError(
                    f"keep must list every chunk of this part; {len(missing)} missing, "
                    f"first {missing[0]!r}"
                )
        return self
