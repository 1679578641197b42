"""Ingestion logic: source-quality rules, paragraph-aware chunking and the events they produce.

No framework imports here: the service talks to the world through the ports below.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from llmops_contracts import wrap
from llmops_contracts.common import Metadata
from llmops_contracts.envelope import Envelope, Payload, derived_id
from llmops_contracts.ingestion import (
    Chunk,
    ChunksEmbedded,
    DocumentIndexed,
    DocumentRejected,
    Rejection,
    SubmitDocument,
)
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.publish import Publisher

SOURCE = "llmops/ingestion"


PARAGRAPH_SEP = "\n\n"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
#: How a unit longer than a chunk is cut, coarsest first: lines, sentences, words.
_FINER_SPLITS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("\n", re.compile(r"\n")),
    (" ", re.compile(r"(?<=[.!?])\s+")),
    (" ", re.compile(r"\s+")),
)
_WHITESPACE = re.compile(r"\s")


class Embedder(Protocol):
    """Port: turns chunk texts into dense vectors (or declines to)."""

    @property
    def model(self) -> str:
        """Model id recorded on the events."""
        ...

    @property
    def dimensions(self) -> int:
        """Vector length; 0 when no dense vectors are computed."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]] | None:
        """One vector per text, in order; None when this embedder computes none."""
        ...


@dataclass(frozen=True)
class QualityRules:
    """Source-quality limits a document must meet to be indexed."""

    min_chars: int
    max_chars: int
    media_types: frozenset[str]


@dataclass(frozen=True)
class ChunkingPolicy:
    """How documents are cut into chunks."""

    max_chars: int
    overlap_chars: int


def check_source(document: SubmitDocument, rules: QualityRules) -> list[Rejection]:
    """Every source-quality rule the document fails (empty when it may be indexed)."""
    if document.text is None:
        # Nothing is fetched from the network yet, so a bare URI can never be indexed.
        return [
            Rejection(
                rule="fetch_unsupported",
                message=f"no text given and fetching {document.uri!r} is not supported",
            )
        ]
    failed = []
    if document.media_type not in rules.media_types:
        accepted = ", ".join(sorted(rules.media_types))
        failed.append(
            Rejection(
                rule="media_type",
                message=f"media type {document.media_type!r} is not parsed (accepted: {accepted})",
            )
        )
    visible = len(document.text.strip())
    if visible < rules.min_chars:
        failed.append(
            Rejection(
                rule="min_length",
                message=f"{visible} non-blank characters, at least {rules.min_chars} required",
            )
        )
    if len(document.text) > rules.max_chars:
        failed.append(
            Rejection(
                rule="max_length",
                message=f"{len(document.text)} characters, at most {rules.max_chars} allowed",
            )
        )
    return failed


def chunk_text(text: str, max_chars: int, overlap_chars: int = 0) -> list[str]:
    """Cut text into chunks of at most ``max_chars``, breaking between paragraphs where possible.

    Paragraphs (separated by blank lines) are packed whole into chunks; only a paragraph longer
    than a chunk is cut, at line, then sentence, then word boundaries (a single word longer than
    a chunk is cut anywhere). Each chunk after the first starts with up to ``overlap_chars`` of
    the end of the previous one, starting at a word; less when the next unit would not fit beside
    it, so no chunk ever exceeds ``max_chars``.
    """
    if max_chars < 1 or not 0 <= overlap_chars < max_chars:
        raise ValueError("need max_chars >= 1 and 0 <= overlap_chars < max_chars")
    units: list[tuple[str, str]] = []
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    for paragraph in _PARAGRAPH_BREAK.split(normalized):
        for i, (sep, unit) in enumerate(_units(paragraph.strip(), max_chars, 0)):
            units.append((sep if i else PARAGRAPH_SEP, unit))
    chunks: list[str] = []
    current = ""
    for sep, unit in units:
        if not current:
            current = unit
        elif len(current) + len(sep) + len(unit) <= max_chars:
            current += sep + unit
        else:
            chunks.append(current)
            tail = _tail(current, min(overlap_chars, max_chars - len(sep) - len(unit)))
            current = tail + sep + unit if tail else unit
    if current:
        chunks.append(current)
    return chunks


def _units(text: str, limit: int, level: int) -> list[tuple[str, str]]:
    """Pieces of ``text`` of at most ``limit`` characters, each with the separator before it."""
    if not text:
        return []
    if len(text) <= limit:
        return [("", text)]
    if level == len(_FINER_SPLITS):
        return [("", text[i : i + limit]) for i in range(0, len(text), limit)]
    sep, pattern = _FINER_SPLITS[level]
    units: list[tuple[str, str]] = []
    for part in pattern.split(text):
        for i, (inner, unit) in enumerate(_units(part.strip(), limit, level + 1)):
            units.append((inner if i else sep, unit))
    return units


def _tail(text: str, limit: int) -> str:
    """The last ``limit`` characters at most of ``text``, not starting inside a word."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    tail = text[-limit:]
    if not text[-limit - 1].isspace():
        boundary = _WHITESPACE.search(tail)
        if boundary is not None:  # without any, the text has no words to respect (e.g. CJK)
            tail = tail[boundary.end() :]
    return tail.strip()


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 text, lowercase hex."""
    return hashlib.sha256(text.encode()).hexdigest()


class IngestionService:
    """Checks, chunks and embeds submitted documents, and publishes what happened."""

    def __init__(
        self,
        publisher: Publisher,
        embedder: Embedder,
        rules: QualityRules,
        chunking: ChunkingPolicy,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.publisher = publisher
        self.embedder = embedder
        self.rules = rules
        self.chunking = chunking
        self.clock = clock

    async def submit(self, command: Envelope[SubmitDocument]) -> list[Envelope[Any]]:
        """Handle one submit command; publishes and returns its events, in publishing order."""
        document = command.data
        rejections = check_source(document, self.rules)
        if rejections:
            payloads: list[Payload] = [
                DocumentRejected(
                    document_id=document.document_id,
                    collection=document.collection,
                    reasons=rejections,
                )
            ]
        else:
            payloads = await self._index(document)
        now = self.clock.now()
        events = [
            wrap(
                payload,
                tenant=command.tenant,
                source=SOURCE,
                causation=command,
                id=derived_id(command, payload.SPEC.type),
                time=now,
            )
            for payload in payloads
        ]
        for event in events:
            await self.publisher.publish(event)
        return events

    async def _index(self, document: SubmitDocument) -> list[Payload]:
        """The chunks event and the indexed event of a document that passed the rules."""
        assert document.text is not None, "check_source rejects documents without text"
        texts = chunk_text(document.text, self.chunking.max_chars, self.chunking.overlap_chars)
        vectors = await self.embedder.embed(texts)
        metadata = chunk_metadata(document)
        chunks = [
            Chunk(
                chunk_id=f"{document.document_id}:{ordinal}",
                ordinal=ordinal,
                text=text,
                vector=vectors[ordinal] if vectors is not None else None,
                metadata=metadata,
            )
            for ordinal, text in enumerate(texts)
        ]
        return [
            ChunksEmbedded(
                document_id=document.document_id,
                collection=document.collection,
                embedding_model=self.embedder.model,
                dimensions=self.embedder.dimensions,
                chunks=chunks,
            ),
            DocumentIndexed(
                document_id=document.document_id,
                collection=document.collection,
                chunk_count=len(chunks),
                content_sha256=sha256_hex(document.text),
                embedding_model=self.embedder.model,
            ),
        ]


def chunk_metadata(document: SubmitDocument) -> Metadata:
    """Labels every chunk carries: title, URI, language, then the caller's metadata over them."""
    # On every chunk, because retrieval filters on chunk metadata and has no document table.
    described = {"title": document.title, "uri": document.uri, "language": document.language}
    metadata: Metadata = {k: v for k, v in described.items() if v is not None}
    metadata.update(document.metadata)
    return metadata
