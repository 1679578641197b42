"""The pydoc corpus through ingestion and retrieval on a real nats-server: the right topic comes back.

Both services run in this event loop (``create_app``); every topic is written to its own file and
submitted as ``llmops ingest`` submits it, then a handful of tune queries go through the
retrieval RPC with the defaults and ``top_k=10``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.bench_retrieval import ask, ingest, ingestion_app, retrieval_app
from bench.pydoc_corpus import write_pydoc_topics
from bench.retrieval_metrics import rank_documents
from llmops import Client
from tests.conftest import running

#: Tune queries and the topic that must be among the documents of the ten best hits.
EXPECTED = [
    ("__enter__ and __exit__ methods", "with"),
    ("try except else finally order of execution", "try"),
    ("split a string on whitespace with a maximum number of splits", "string-methods"),
    ("pdb post mortem debugging after a crash", "debugger"),
    ("descriptors __get__ __set__ __delete__", "attribute-access"),
    ("merge two dictionaries with the | operator", "typesmapping"),
]


@pytest.fixture
async def client(nats_url: str, tmp_path: Path, tenant: str) -> AsyncIterator[Client]:
    """Ingestion and retrieval running, the corpus indexed for ``tenant``; a client of it."""
    files = write_pydoc_topics(tmp_path / "corpus")
    async with (
        running(ingestion_app(nats_url, tmp_path / "ingest")),
        running(retrieval_app(nats_url, tmp_path / "index")),
        await Client.connect(nats_url, source="cli://test", tenant=tenant) as connected,
    ):
        outcome = await ingest(connected, nats_url, files, tenant=tenant)
        assert len(outcome.chunks) + len(outcome.rejected) == len(files)
        assert sum(outcome.chunks.values()) >= len(outcome.chunks) > len(files) // 2
        yield connected


async def test_the_right_topic_is_among_the_top_hits_nats(client: Client, tenant: str) -> None:
    for query, topic in EXPECTED:
        result = await ask(client, query, tenant=tenant)
        documents = rank_documents(h.document_id for h in result.hits)
        assert topic in documents, f"{query!r}: {topic} not in {documents}"
        assert len(result.hits) <= 10


async def test_another_tenant_sees_none_of_the_corpus_nats(client: Client, uid: str) -> None:
    result = await ask(client, "__enter__ and __exit__ methods", tenant=f"other{uid}")
    assert result.hits == []
