"""What the ingested chunks are for: every pydoc topic ingested as its own document, the chunks'
sparse vectors scored as the index scores them (BM25: the chunk's saturated term weights times
the index's IDF), and a plain question finds the right topic. (Topics overlap: "compound"
covers if, while, for, try and with all at once, so the questions ask what one topic alone
answers.)"""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from llmops_contracts import wrap
from llmops_contracts.ingestion import ChunksEmbedded, SubmitDocument
from llmops_ingestion.rules import SourceRules, TenantRules
from llmops_ingestion.service import Embedders, IngestionService, Pipeline
from llmops_shared.sparse import SparseEncoder
from tests.fakes import FakePublisher
from tests.services.ingestion.conftest import FakeDocumentStore

QUESTIONS = {
    "delete a name or an item with del": "del",
    "try statement with except and finally clauses": "try",
    "anonymous functions written with lambda": "lambda",
    "loop over the items of a sequence with for": "for",
    "import a module from a package": "import",
    "declare a variable global inside a function": "global",
    "raise an exception": "raise",
    "yield from a generator": "yield",
    "methods of str such as split and join": "string-methods",
    "comparison operators like less than and equal": "comparisons",
}


@pytest.fixture(scope="module")
async def chunks() -> list[tuple[str, dict[int, float]]]:
    from pydoc_data.topics import topics

    publisher = FakePublisher()
    service = IngestionService(
        publisher,
        FakeDocumentStore(),
        Embedders(SparseEncoder()),
        TenantRules(SourceRules(near_duplicates=False)),
        Pipeline(),
    )
    for name, text in sorted(topics.items()):
        await service.submit(
            wrap(SubmitDocument(document_id=name, text=text), tenant="docs", source="t")
        )
    return [
        (event.data.document_id, dict(zip(c.sparse.indices, c.sparse.values, strict=True)))
        for event in publisher.published
        if isinstance(event.data, ChunksEmbedded)
        for c in event.data.chunks
    ]


def best_document(chunks: list[tuple[str, dict[int, float]]], question: str) -> str:
    df: dict[int, int] = defaultdict(int)
    for _, vector in chunks:
        for term in vector:
            df[term] += 1
    n = len(chunks)
    terms, _ = SparseEncoder().query(question)
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in terms if df[t]}
    scored = [(sum(v.get(t, 0.0) * w for t, w in idf.items()), doc) for doc, v in chunks]
    return max(scored)[1]


@pytest.mark.parametrize(("question", "topic"), sorted(QUESTIONS.items()))
def test_a_question_finds_its_topic(
    chunks: list[tuple[str, dict[int, float]]], question: str, topic: str
) -> None:
    assert best_document(chunks, question) == topic
