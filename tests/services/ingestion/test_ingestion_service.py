"""Unit tests of the ingestion service: rules, chunking, events and idempotency, with fakes."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from llmops_contracts import wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.ingestion import (
    ChunksEmbedded,
    DocumentIndexed,
    DocumentRejected,
    SubmitDocument,
)
from llmops_contracts.registry import parse
from llmops_ingestion.service import (
    ChunkingPolicy,
    IngestionService,
    QualityRules,
    chunk_text,
)
from llmops_ingestion.store import NoEmbedder
from llmops_shared.clock import FixedClock
from tests.fakes import FakePublisher

RULES = QualityRules(min_chars=20, max_chars=5000, media_types=frozenset({"text/plain"}))


def make_service(
    publisher: FakePublisher, *, max_chars: int = 200, overlap: int = 40
) -> IngestionService:
    return IngestionService(publisher, NoEmbedder(), RULES, ChunkingPolicy(max_chars, overlap))


def command(
    tenant: str = "acme", correlation_id: str | None = None, **fields: Any
) -> Envelope[SubmitDocument]:
    fields.setdefault("document_id", "doc-1")
    return wrap(
        SubmitDocument(**fields), tenant=tenant, source="app://test", correlation_id=correlation_id
    )


def words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


# --- source-quality rules -------------------------------------------------------------------


async def test_uri_without_text_is_rejected_as_fetch_unsupported() -> None:
    publisher = FakePublisher()
    await make_service(publisher).submit(command(uri="https://example.com/a.txt"))
    [event] = publisher.published
    assert isinstance(event.data, DocumentRejected)
    assert [r.rule for r in event.data.reasons] == ["fetch_unsupported"]


async def test_every_failing_rule_is_reported() -> None:
    publisher = FakePublisher()
    await make_service(publisher).submit(command(text="too short", media_type="application/pdf"))
    [event] = publisher.published
    assert isinstance(event.data, DocumentRejected)
    assert {r.rule for r in event.data.reasons} == {"media_type", "min_length"}
    assert event.data.document_id == "doc-1"
    assert event.data.collection == "default"


async def test_blank_text_is_too_short_and_long_text_too_long() -> None:
    publisher = FakePublisher()
    service = make_service(publisher)
    await service.submit(command(text=" \n\t " * 50))
    await service.submit(command(text="x" * 5001))
    assert [[r.rule for r in e.data.reasons] for e in publisher.published] == [
        ["min_length"],
        ["max_length"],
    ]


async def test_text_at_the_limits_passes() -> None:
    publisher = FakePublisher()
    service = make_service(publisher)
    await service.submit(command(text="a" * 20))
    await service.submit(command(text="a " * 2500))
    assert [type(e.data) for e in publisher.published] == [ChunksEmbedded, DocumentIndexed] * 2


# --- accepted documents ---------------------------------------------------------------------


async def test_accepted_document_publishes_chunks_then_indexed() -> None:
    publisher = FakePublisher()
    text = f"Intro paragraph about llamas.\n\n{words(60)}\n\nClosing remark."
    cmd = command(
        text=text,
        collection="kb",
        title="Llamas",
        metadata={"team": "support"},
        correlation_id="corr-1",
    )
    returned = await make_service(publisher).submit(cmd)

    assert returned == publisher.published
    chunks_event, indexed_event = publisher.published
    chunks = chunks_event.data
    assert isinstance(chunks, ChunksEmbedded)
    assert (chunks.document_id, chunks.collection) == ("doc-1", "kb")
    assert (chunks.embedding_model, chunks.dimensions) == ("none", 0)
    assert [c.chunk_id for c in chunks.chunks] == [f"doc-1:{i}" for i in range(len(chunks.chunks))]
    assert [c.ordinal for c in chunks.chunks] == list(range(len(chunks.chunks)))
    assert all(c.vector is None for c in chunks.chunks)
    assert all(c.metadata == {"title": "Llamas", "team": "support"} for c in chunks.chunks)
    assert [c.text for c in chunks.chunks] == chunk_text(text, 200, 40)

    indexed = indexed_event.data
    assert isinstance(indexed, DocumentIndexed)
    assert indexed.chunk_count == len(chunks.chunks) > 1
    assert indexed.content_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert indexed.embedding_model == "none"

    for event in publisher.published:
        assert event.tenant == "acme"
        assert event.source == "llmops/ingestion"
        assert event.causation_id == cmd.id
        assert event.correlation_id == "corr-1"
        assert parse(event.to_json(), subject=event.subject()).data == event.data


async def test_caller_metadata_wins_over_document_fields() -> None:
    publisher = FakePublisher()
    await make_service(publisher).submit(
        command(text=words(10), title="T", language="en", metadata={"title": "override"})
    )
    meta = publisher.published[0].data.chunks[0].metadata
    assert meta == {"title": "override", "language": "en"}


async def test_redelivered_command_publishes_identical_ids() -> None:
    first, second = FakePublisher(), FakePublisher()
    cmd = command(text=f"{words(80)}\n\n{words(50, 'v')}")
    await make_service(first).submit(cmd)
    await make_service(second).submit(parse(cmd.to_json()))

    assert [e.id for e in first.published] == [e.id for e in second.published]
    assert first.published[0].data == second.published[0].data
    other = FakePublisher()
    await make_service(other).submit(command(text=cmd.data.text))  # a new command, new ids
    assert {e.id for e in other.published}.isdisjoint(e.id for e in first.published)
    same_id_other_tenant = FakePublisher()
    await make_service(same_id_other_tenant).submit(
        wrap(cmd.data, tenant="globex", source="app://test", id=cmd.id)
    )
    assert {e.id for e in same_id_other_tenant.published}.isdisjoint(e.id for e in first.published)


async def test_rejection_id_is_deterministic_too() -> None:
    first, second = FakePublisher(), FakePublisher()
    cmd = command(text="short")
    await make_service(first).submit(cmd)
    await make_service(second).submit(cmd)
    assert first.published[0].id == second.published[0].id


# --- chunking -------------------------------------------------------------------------------


def test_short_text_is_one_chunk() -> None:
    assert chunk_text("  One short paragraph.  ", 100, 20) == ["One short paragraph."]


def test_paragraphs_are_packed_whole_and_never_split_when_they_fit() -> None:
    paragraphs = [f"Paragraph {i}. " + words(8, f"p{i}x") for i in range(6)]  # ~60 chars each
    chunks = chunk_text("\n\n".join(paragraphs), 150, 0)
    assert chunks == [
        "\n\n".join(paragraphs[0:2]),
        "\n\n".join(paragraphs[2:4]),
        "\n\n".join(paragraphs[4:6]),
    ]


def test_blank_lines_with_spaces_and_crlf_separate_paragraphs() -> None:
    assert chunk_text("alpha beta\r\n  \r\ngamma delta\n\n\n\nepsilon", 12, 0) == [
        "alpha beta",
        "gamma delta",
        "epsilon",
    ]


def test_overlap_repeats_the_end_of_the_previous_chunk_from_a_word() -> None:
    text = words(200)
    chunks = chunk_text(text, 100, 30)
    assert len(chunks) > 5
    for previous, current in itertools.pairwise(chunks):
        assert len(current) <= 100
        overlap = _overlap(previous, current)
        assert 0 < len(overlap) <= 30
        # The overlap starts at a word: it is whole words of the previous chunk.
        assert previous.split()[-len(overlap.split()) :] == overlap.split()
    assert _without_overlaps(chunks) == text.split()


def test_chunks_never_exceed_max_and_lose_no_words() -> None:
    text = "\n\n".join(
        [
            "Short one.",
            " ".join(f"Sentence number {i} is here." for i in range(40)),
            words(30, "tail"),
            "A line\nwith a break\nand another line.",
        ]
    )
    for max_chars, overlap in [(64, 0), (64, 16), (200, 50), (1000, 150)]:
        chunks = chunk_text(text, max_chars, overlap)
        assert all(len(c) <= max_chars for c in chunks)
        if overlap == 0:
            assert " ".join(chunks).split() == text.split()


def test_long_paragraph_is_cut_at_sentence_ends() -> None:
    paragraph = " ".join(f"Sentence {i} ends here." for i in range(30))  # 23-24 chars each
    chunks = chunk_text(paragraph, 80, 0)
    assert len(chunks) > 1
    assert all(c.endswith("here.") and c.startswith("Sentence") for c in chunks)
    assert " ".join(chunks) == paragraph


def test_line_breaks_inside_a_long_paragraph_are_kept() -> None:
    lines = [f"- item {i} of the list" for i in range(20)]
    chunks = chunk_text("\n".join(lines), 100, 0)
    assert all(len(c) <= 100 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines


def test_a_word_longer_than_a_chunk_is_cut_without_losing_characters() -> None:
    word = "x" * 250
    chunks = chunk_text(f"before {word} after", 100, 0)
    assert all(len(c) <= 100 for c in chunks)
    assert "".join(c.replace(" ", "") for c in chunks) == f"before{word}after"


def test_overlap_shrinks_so_a_full_size_paragraph_still_fits() -> None:
    first, second = words(15, "a"), "b" * 100
    assert chunk_text(f"{first}\n\n{second}", 100, 30) == [first, second]


@pytest.mark.parametrize(("max_chars", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_invalid_chunking_parameters_are_refused(max_chars: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="max_chars"):
        chunk_text("text", max_chars, overlap)


def _overlap(previous: str, current: str) -> str:
    """The longest suffix of ``previous`` that ``current`` starts with (whole words)."""
    for start in range(len(previous)):
        suffix = previous[start:]
        if (start == 0 or previous[start - 1] == " ") and current.startswith(suffix + " "):
            return suffix
    return ""


def _without_overlaps(chunks: list[str]) -> list[str]:
    out = chunks[0].split()
    for previous, current in itertools.pairwise(chunks):
        out += current.split()[len(_overlap(previous, current).split()) :]
    return out


async def test_events_are_dated_by_the_service_clock() -> None:
    new_year = datetime(2027, 1, 1, tzinfo=UTC)
    publisher = FakePublisher()
    service = IngestionService(
        publisher, NoEmbedder(), RULES, ChunkingPolicy(200, 40), FixedClock(new_year)
    )
    events = await service.submit(command(text=words(80)))
    assert events
    assert [e.time for e in publisher.published] == [new_year] * len(events)
