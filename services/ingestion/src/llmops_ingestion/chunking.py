"""Cutting a parsed document into chunks, and the chunk ids every service agrees on.

Sizes count words (runs of non-space characters): no tokenizer is needed, which keeps the
service offline and the cut the same on every machine. Chunk texts are spans of the original
text (line breaks kept), except that the structure strategy starts each chunk with its section's
heading path, so a chunk says what it is about even when its own words do not.

- ``tokens``: windows of ``max_words`` words, each starting ``max_words - overlap_words`` words
  after the previous one.
- ``structure``: blocks (paragraphs, list, code, cells) of one section packed whole up to
  ``max_words``; a block longer than that is cut into windows; a new section starts a new chunk.
  Chunks carry ``section`` (and ``page`` for PDF) in their metadata.
- ``sentences``: whole sentences packed up to ``max_words``, the last sentences of a chunk (up to
  ``overlap_words``) repeated at the start of the next; a sentence longer than a chunk is cut
  into windows.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from llmops_contracts.ingestion import Chunking
from llmops_ingestion.parsers import Block, Parsed

_WORD = re.compile(r"\S+")
_SPACE = re.compile(r"(\s+)")
#: A sentence ends at ., ! or ? (and closing quotes or brackets) followed by space, or at a
#: blank line.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+|\n\s*\n")


@dataclass(frozen=True)
class Piece:
    """One chunk before embedding: its text and the metadata the chunker knows."""

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkSizes:
    """Chunk size and overlap, in words."""

    max_words: int = 200
    overlap_words: int = 40

    def __post_init__(self) -> None:
        if self.max_words < 1 or not 0 <= self.overlap_words < self.max_words:
            raise ValueError("need max_words >= 1 and 0 <= overlap_words < max_words")


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 text, lowercase hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def document_namespace(document_id: str) -> uuid.UUID:
    """The uuid5 namespace of one document's chunk ids."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "llmops:" + document_id)


def chunk_id(document_id: str, text: str, namespace: uuid.UUID | None = None) -> str:
    """The id of a chunk: uuid5 of the document's namespace and the SHA-256 of its text."""
    return str(uuid.uuid5(namespace or document_namespace(document_id), sha256_hex(text)))


def windows(text: str, sizes: ChunkSizes) -> list[str]:
    """``text`` cut into windows of ``max_words`` words with ``overlap_words`` shared."""
    stripped = text.strip()
    if not stripped:
        return []
    # Words at even positions, the whitespace between them at odd ones: a window is a slice
    # joined back, so its text is the original's, line breaks and all.
    parts = _SPACE.split(stripped)
    count = (len(parts) + 1) // 2
    step = sizes.max_words - sizes.overlap_words
    out: list[str] = []
    start = 0
    while True:
        end = min(start + sizes.max_words, count)
        out.append("".join(parts[2 * start : 2 * end - 1]))
        if end == count:
            return out
        start += step


def word_count(text: str) -> int:
    """Words in ``text``."""
    return len(_WORD.findall(text))


def chunk_tokens(parsed: Parsed, sizes: ChunkSizes) -> list[Piece]:
    """Word windows over the whole text."""
    return [Piece(t) for t in windows(parsed.text, sizes)]


def chunk_structure(parsed: Parsed, sizes: ChunkSizes) -> list[Piece]:
    """Blocks packed within their section; long blocks cut into windows."""
    pieces: list[Piece] = []
    group: list[Block] = []
    words = 0

    def flush() -> None:
        nonlocal group, words
        if group:
            pieces.append(_piece([b.text for b in group], group[0]))
        group, words = [], 0

    for block in parsed.blocks or [Block(parsed.text)]:
        n = word_count(block.text)
        if group and (block.headings != group[0].headings or words + n > sizes.max_words):
            flush()
        if n > sizes.max_words:
            pieces += [_piece([w], block) for w in windows(block.text, sizes)]
            continue
        group.append(block)
        words += n
    flush()
    return pieces


def _piece(texts: list[str], first: Block) -> Piece:
    metadata: dict[str, Any] = {}
    body = "\n\n".join(texts)
    if first.headings:
        metadata["section"] = first.section
        body = f"{first.section}\n\n{body}"
    if first.page is not None:
        metadata["page"] = first.page
    return Piece(body, metadata)


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, in order."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def chunk_sentences(parsed: Parsed, sizes: ChunkSizes) -> list[Piece]:
    """Whole sentences packed up to the size, the last ones overlapping into the next chunk."""
    units: list[tuple[str, int]] = []
    for sentence in sentences(parsed.text):
        n = word_count(sentence)
        if n > sizes.max_words:
            units += [(w, word_count(w)) for w in windows(sentence, sizes)]
        else:
            units.append((sentence, n))
    pieces: list[Piece] = []
    current: list[tuple[str, int]] = []
    words = 0
    for unit in units:
        if current and words + unit[1] > sizes.max_words:
            pieces.append(Piece(" ".join(t for t, _ in current)))
            current, words = _overlap(current, sizes, unit[1])
        current.append(unit)
        words += unit[1]
    if current:  # it ends with a sentence no chunk holds yet
        pieces.append(Piece(" ".join(t for t, _ in current)))
    return pieces


def _overlap(
    units: list[tuple[str, int]], sizes: ChunkSizes, incoming: int
) -> tuple[list[tuple[str, int]], int]:
    """The trailing sentences of a chunk to repeat: at most ``overlap_words``, and never so many
    that the next sentence would not fit beside them."""
    budget = min(sizes.overlap_words, sizes.max_words - incoming)
    kept: list[tuple[str, int]] = []
    words = 0
    for unit in reversed(units):
        if words + unit[1] > budget:
            break
        kept.insert(0, unit)
        words += unit[1]
    return kept, words


_STRATEGIES = {
    Chunking.TOKENS: chunk_tokens,
    Chunking.STRUCTURE: chunk_structure,
    Chunking.SENTENCES: chunk_sentences,
}


def chunk(parsed: Parsed, strategy: Chunking, sizes: ChunkSizes) -> list[Piece]:
    """The document's chunks by one strategy, identical texts kept once (the first wins)."""
    seen: set[str] = set()
    out: list[Piece] = []
    for piece in _STRATEGIES[strategy](parsed, sizes):
        if piece.text not in seen:
            seen.add(piece.text)
            out.append(piece)
    return out
