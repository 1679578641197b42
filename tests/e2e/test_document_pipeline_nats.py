"""The document pipeline end to end, as a user drives it: `llmops ingest` and `llmops retrieval
query` as processes of their own against the ingestion and retrieval services on a real
nats-server, with the Python standard library's pydoc topics as the corpus.

One story: ingest every topic, get the right topic back; change one file and re-ingest, and see
only its chunks re-embedded and its vanished chunks gone from the index; restart the retrieval
service on its index directory and get the same answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nats
import pytest

from bench.bench_retrieval import until_consumed
from bench.pydoc_corpus import write_pydoc_topics
from llmops_contracts.ingestion import ChunksEmbedded, DocumentIndexed
from llmops_ingestion.app import create_app as create_ingestion
from llmops_retrieval.app import create_app as create_retrieval
from llmops_retrieval.config import RetrievalSettings
from tests.conftest import running
from tests.services.ingestion.test_ingestion_nats import events_of, run_cli, settings_for

pytestmark = pytest.mark.slow

#: Questions (not the topics' own wording) and a topic that must be among the documents of the
#: hits (ranking quality is measured by `make bench`, on labelled queries).
QUESTIONS = {
    "how do __enter__ and __exit__ make a context manager work": "context-managers",
    "what order do try except else finally clauses run in": "try",
    "the global statement and nonlocal names": "global",
}
CHANGED = "pass"
ADDED = "\nRemember the llamas: a llama grazing in the garden never raises an exception.\n"


def retrieval_settings(nats_url: str, uid: str, index: Path) -> RetrievalSettings:
    return RetrievalSettings(
        nats_url=nats_url,
        health_port=0,
        chunks_durable=f"retrieval-{uid}",
        query_queue=f"retrieval-{uid}",
        batch_timeout_s=0.05,
        index_dir=index,
    )


async def query(nats_url: str, tenant: str, text: str) -> list[dict[str, Any]]:
    """`llmops retrieval query --json` with no other options: its hits."""
    code, stdout, stderr = await run_cli(
        "retrieval", "query", "--tenant", tenant, "--json", "--nats-url", nats_url, text
    )
    assert code == 0, stderr
    hits: list[dict[str, Any]] = json.loads(stdout)["hits"]
    return hits


async def answers(nats_url: str, tenant: str) -> dict[str, list[tuple[str, str]]]:
    """Each question's hits as (document, chunk) pairs."""
    out = {}
    for text in [*QUESTIONS, "llama grazing in the garden"]:
        out[text] = [(h["document_id"], h["chunk_id"]) for h in await query(nats_url, tenant, text)]
    return out


async def ingest(nats_url: str, tenant: str, corpus: Path) -> None:
    code, stdout, stderr = await run_cli(
        "ingest", str(corpus), "--tenant", tenant, "--wait", "--nats-url", nats_url
    )
    assert code == 0, stderr
    assert "rejected 0" in stdout, stdout
    await until_consumed(nats_url)


async def test_ingest_query_reingest_one_file_and_restart_nats(
    nats_url: str, uid: str, tenant: str, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    files = write_pydoc_topics(corpus)
    index = tmp_path / "index"
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        async with (
            running(create_ingestion(settings_for(nats_url, uid, tmp_path))),
            running(create_retrieval(retrieval_settings(nats_url, uid, index))),
        ):
            await ingest(nats_url, tenant, corpus)
            first = await events_of(js, tenant)
            indexed = {e.data.document_id for e in first if isinstance(e.data, DocumentIndexed)}
            assert indexed == {f.stem for f in files}
            for text, topic in QUESTIONS.items():
                hits = await query(nats_url, tenant, text)
                assert len(hits) == 10
                documents = [h["document_id"] for h in hits]
                assert topic in documents, (text, documents)
                assert {"document_id", "chunk_id", "score", "text", "metadata"} <= set(hits[0])

            # One file changes: only its chunks are embedded again; its vanished ones go.
            before = {
                c.chunk_id
                for e in first
                if isinstance(e.data, ChunksEmbedded) and e.data.document_id == CHANGED
                for c in e.data.chunks
            }
            path = corpus / f"{CHANGED}.txt"
            path.write_text(path.read_text(encoding="utf-8") + ADDED, encoding="utf-8")
            await ingest(nats_url, tenant, corpus)
            second = (await events_of(js, tenant))[len(first) :]
            again = [e.data for e in second if isinstance(e.data, ChunksEmbedded)]
            assert [c.document_id for c in again] == [CHANGED]
            keep = set(again[-1].keep or ())
            vanished = before - keep
            assert vanished, "the old last chunk of the changed file must be replaced"
            reindexed = {
                e.data.document_id: e.data for e in second if isinstance(e.data, DocumentIndexed)
            }
            assert sum(i.embedded for i in reindexed.values()) == reindexed[CHANGED].embedded > 0

            hits = await query(nats_url, tenant, "llama grazing in the garden")
            assert hits[0]["document_id"] == CHANGED
            assert "llamas" in hits[0]["text"]
            for text in ("llama grazing in the garden", "pass statement null operation"):
                returned = {h["chunk_id"] for h in await query(nats_url, tenant, text)}
                assert not returned & vanished
            before_restart = await answers(nats_url, tenant)

        # A new retrieval process on the same index directory answers the same.
        async with running(create_retrieval(retrieval_settings(nats_url, uid, index))):
            assert await answers(nats_url, tenant) == before_restart
    finally:
        await nc.close()
