"""Chunking strategies and the shared chunk-id rule."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from llmops_contracts.ingestion import Chunking
from llmops_ingestion.chunking import (
    ChunkSizes,
    chunk,
    chunk_id,
    sentences,
    windows,
    word_count,
)
from llmops_ingestion.parsers import Block, Parsed, parse


def words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def test_chunk_ids_follow_the_shared_rule() -> None:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "llmops:handbook")
    expected = uuid.uuid5(namespace, hashlib.sha256(b"Some text.").hexdigest())
    assert chunk_id("handbook", "Some text.") == str(expected)
    assert chunk_id("other", "Some text.") != chunk_id("handbook", "Some text.")


def test_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="overlap"):
        ChunkSizes(10, 10)
    with pytest.raises(ValueError, match="max_words"):
        ChunkSizes(0, 0)


def test_windows_overlap_and_cover_every_word_keeping_the_original_spacing() -> None:
    text = words(25).replace("w10 ", "w10\n")
    cut = windows(text, ChunkSizes(10, 3))
    assert [word_count(c) for c in cut] == [10, 10, 10, 4]
    assert cut[0].split()[-3:] == cut[1].split()[:3]
    assert "w10\nw11" in cut[1]
    assert cut[-1].split()[-1] == "w24"
    assert windows("   ", ChunkSizes(10, 3)) == []
    assert windows("one two", ChunkSizes(10, 3)) == ["one two"]


def test_structure_packs_blocks_of_a_section_and_starts_a_new_chunk_per_section() -> None:
    blocks = [
        Block(words(4, "a"), ("Guide",)),
        Block(words(4, "b"), ("Guide",)),
        Block(words(4, "c"), ("Guide", "Install")),
        Block(words(25, "d"), ("Guide", "Install")),
        Block(words(3, "e"), ("Guide", "Install")),
    ]
    pieces = chunk(Parsed("", blocks), Chunking.STRUCTURE, ChunkSizes(10, 2))
    assert [p.metadata.get("section") for p in pieces] == ["Guide"] + ["Guide > Install"] * 5
    assert pieces[0].text == f"Guide\n\n{words(4, 'a')}\n\n{words(4, 'b')}"
    assert pieces[1].text == f"Guide > Install\n\n{words(4, 'c')}"
    long_parts = [p.text.split("\n\n", 1)[1] for p in pieces[2:5]]
    assert [word_count(t) for t in long_parts] == [10, 10, 9]
    assert pieces[5].text.endswith(words(3, "e"))


def test_structure_without_headings_or_blocks_still_chunks_the_text() -> None:
    pieces = chunk(parse(words(30), "text/plain"), Chunking.STRUCTURE, ChunkSizes(10, 0))
    assert len(pieces) == 3
    assert all("section" not in p.metadata for p in pieces)
    assert chunk(Parsed(words(5)), Chunking.STRUCTURE, ChunkSizes(10, 0))[0].text == words(5)


def test_pdf_chunks_know_their_page() -> None:
    blocks = [Block("one two", page=1), Block("three", page=2)]
    pieces = chunk(Parsed("", blocks), Chunking.STRUCTURE, ChunkSizes(2, 0))
    assert [(p.text, p.metadata["page"]) for p in pieces] == [("one two", 1), ("three", 2)]


def test_sentences_are_split_at_ends_and_blank_lines() -> None:
    text = 'He said "Stop." Then left! Why? Because.\n\nNew para without end\nSame para.'
    assert sentences(text) == [
        'He said "Stop."',
        "Then left!",
        "Why?",
        "Because.",
        "New para without end\nSame para.",
    ]


def test_sentence_chunks_hold_whole_sentences_and_overlap_by_whole_sentences() -> None:
    text = " ".join(f"Sentence {i} has five words." for i in range(10))
    pieces = chunk(parse(text, "text/plain"), Chunking.SENTENCES, ChunkSizes(12, 5))
    assert all(p.text.endswith(".") and word_count(p.text) <= 12 for p in pieces)
    assert pieces[0].text == "Sentence 0 has five words. Sentence 1 has five words."
    assert pieces[1].text.startswith("Sentence 1 has five words.")  # the overlap
    assert pieces[-1].text.endswith("Sentence 9 has five words.")
    covered = " ".join(p.text for p in pieces)
    assert all(f"Sentence {i} " in covered for i in range(10))


def test_a_sentence_longer_than_a_chunk_is_cut_into_windows() -> None:
    pieces = chunk(parse(words(25) + ".", "text/plain"), Chunking.SENTENCES, ChunkSizes(10, 2))
    assert [word_count(p.text) for p in pieces] == [10, 10, 9]


@pytest.mark.parametrize("strategy", list(Chunking))
def test_identical_chunks_are_kept_once(strategy: Chunking) -> None:
    text = "\n\n".join(["Same paragraph here."] * 3)
    pieces = chunk(parse(text, "text/plain"), strategy, ChunkSizes(3, 0))
    assert [p.text for p in pieces] == ["Same paragraph here."]
