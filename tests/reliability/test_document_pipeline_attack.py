"""The document pipeline attacked: hostile JSON, forged tenants and faults, counted exactly.

Raw nats-py publishers (not the project's client) send what a careless or hostile application
could, mixed among valid traffic, to a nats-server of each test's own:

- **ingestion**: ``submit_document`` commands nested 600 / 5,000 deep, an inline file over the
  contract's size, invalid UTF-8, NaN / Infinity / ``1e400``, lone surrogates, no ``id``, text and
  file together, a foreign type, a body naming another tenant than its subject (dead-lettered
  on the **subject's** tenant), a subject whose tenant token is not a tenant id (dead-lettered
  as ``unknown``); and well-formed commands the logic refuses (garbage base64, an ``ObjectRef``
  to nothing, to the wrong bytes, to another tenant's upload or another bucket, a bare URI, a
  broken PDF, too short a text). Exactly the valid documents are indexed, each refusal is one
  ``DocumentRejected``, each malformed command one dead letter, and nobody's object is deleted
  but the sender's own.
- **retrieval**: ``chunks_embedded`` events with the same families plus semantic traps (sparse
  indices not increasing, vectors of the wrong dimension for a dense index, a ``keep`` naming
  another document's chunks, a chunk id that is not a UUID, 700 KB of metadata) and a forged
  tenant: every valid document searchable with exactly its chunks, every malformed event
  dead-lettered, and no other document or tenant touched.
- **faults**: retrieval as a real process killed with SIGKILL mid-stream and restarted on its
  index directory (every document, each chunk once); ingestion's SQLite database held under an
  exclusive lock mid-stream (commands retried, none lost); NATS restarted mid-stream under
  ingestion (every document indexed exactly once).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext

from llmops.dev import start_nats_server
from llmops_contracts import subjects, wrap
from llmops_contracts.common import ObjectRef
from llmops_contracts.dlq import DeadLetter
from llmops_contracts.ingestion import (
    Chunk,
    ChunksEmbedded,
    DeleteDocument,
    DocumentIndexed,
    DocumentRejected,
    SparseVector,
    SubmitDocument,
)
from llmops_ingestion.app import create_app as create_ingestion
from llmops_retrieval.app import create_app as create_retrieval
from llmops_retrieval.config import RetrievalSettings
from llmops_retrieval.edge import EdgeIndex
from llmops_shared.sparse import SparseEncoder
from tests.conftest import NatsServer, eventually, free_port, running
from tests.processes import ServiceProcess
from tests.reliability.test_hostile_input import _original, compact, letters, publish_raw
from tests.services.ingestion.test_ingestion_nats import events_of, settings_for

ENCODER = SparseEncoder()
WORDS = [
    "river",
    "glacier",
    "harbour",
    "lantern",
    "meadow",
    "orchard",
    "quarry",
    "saddle",
    "timber",
    "velvet",
    "willow",
    "beacon",
    "canyon",
    "drizzle",
    "ember",
    "falcon",
    "granite",
    "hollow",
    "island",
    "jasmine",
    "kettle",
    "lagoon",
    "marble",
    "nectar",
]


def prose(marker: str, words: int = 60) -> str:
    """English-looking text that holds ``marker`` (a word no other document has)."""
    body = " ".join(WORDS[(i * 7 + len(marker)) % len(WORDS)] for i in range(words))
    return f"The {marker} notes. {body}. The walkers found the {marker} path again."


def envelope(payload: Any, tenant: str) -> dict[str, Any]:
    """A valid envelope as a JSON object (a fresh id)."""
    return json.loads(wrap(payload, tenant=tenant, source="app://attack").to_json())  # type: ignore[no-any-return]


@pytest.fixture
async def raw_js(own_nats: str) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(own_nats)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


async def exactly_letters(js: JetStreamContext, subject: str, n: int) -> list[DeadLetter] | None:
    """The dead letters on ``subject`` once there are ``n``; fails at once on more."""
    found = await letters(js, subject)
    assert len(found) <= n, f"{len(found)} > {n} letters on {subject}: one was dead-lettered twice"
    return found if len(found) == n else None


# --- 1. ingestion: hostile commands among valid ones -------------------------------------------


async def _bucket(js: JetStreamContext, name: str) -> Any:
    """The object-store bucket, created when the services have not yet."""
    try:
        return await js.object_store(name)
    except nats.js.errors.NotFoundError:
        return await js.create_object_store(name)


def submit(tenant: str, document_id: str, **fields: Any) -> dict[str, Any]:
    return envelope(SubmitDocument(document_id=document_id, **fields), tenant)


def malformed_commands(tenant: str, other: str) -> dict[str, tuple[bytes, str]]:
    """Commands the decoder must dead-letter (on ``tenant``'s subject), with their reason's start."""
    text = prose("hostile")

    def nested(depth: int) -> bytes:
        body = compact(submit(tenant, "deep", text=text, metadata={"x": 0}))
        return body.replace(b'{"x":0}', b'{"x":' + b"[" * depth + b"]" * depth + b"}")

    number = compact(submit(tenant, "num", text=text, metadata={"score": 12.5}))
    no_id = submit(tenant, "no-id", text=text)
    del no_id["id"]
    both = submit(tenant, "both", text=text)
    both["data"]["file"] = {"name": "a.txt", "media_type": "text/plain", "inline": "aGk="}
    oversize = submit(tenant, "oversize", text="x")
    del oversize["data"]["text"]
    # valid base64, over the contract's inline limit (512 KiB of bytes), under max_payload
    oversize["data"]["file"] = {
        "name": "big.txt",
        "media_type": "text/plain",
        "inline": base64.b64encode(b"a" * 700_000).decode(),
    }
    wrong_type = envelope(DeleteDocument(document_id="x"), tenant)
    return {
        "600 deep": (nested(600), "(message): nested deeper than 64"),
        "5000 deep": (nested(5_000), "(message): nested deeper than 64"),
        "oversize inline": (compact(oversize), "data.file.inline"),
        "invalid utf-8": (
            compact(submit(tenant, "utf8", text="PLACEHOLDER " + text)).replace(
                b"PLACEHOLDER", b"\xff\xfe" + b"\x80" * 500
            ),
            "(message): not valid JSON",
        ),
        "NaN": (number.replace(b"12.5", b"NaN"), "(message): not valid JSON"),
        "Infinity": (number.replace(b"12.5", b"-Infinity"), "(message): not valid JSON"),
        "1e400": (number.replace(b"12.5", b"1e400"), "(message): not valid JSON"),
        "lone surrogate": (
            compact(submit(tenant, "sur", text="PLACEHOLDER " + text)).replace(
                b"PLACEHOLDER", b"\\ud800"
            ),
            "(message): not valid JSON",
        ),
        "no id": (compact(no_id), "id:"),
        "text and file": (compact(both), "data:"),
        "not an object": (b'["llmops.ingestion.submit_document.v1"]', "(message)"),
        "foreign type": (compact(wrong_type), "type:"),
        "forged tenant": (compact(submit(other, "forged", text=text)), "tenant:"),
    }


@pytest.mark.timeout(300)
async def test_hostile_commands_among_120_valid_ones_are_dead_lettered_or_rejected_exactly(
    own_nats: str, raw_js: JetStreamContext, tmp_path: Path, uid: str
) -> None:
    tenant, other = f"a{uid}", f"b{uid}"
    n = 120
    subject = subjects.for_tenant(subjects.INGESTION_SUBMIT_DOCUMENT, tenant)
    bucket = await _bucket(raw_js, subjects.INGESTION_FILES_BUCKET)
    stored = b"the bytes actually stored, long enough to be a document of their own"
    await bucket.put(f"{tenant}/mine", stored)
    # another tenant's pending upload, and a blob of the dead-letter store: never ours to touch
    await bucket.put(f"{other}/upload", stored)
    blobs = await _bucket(raw_js, "llmops-blobs")
    await blobs.put(f"sha256/{hashlib.sha256(stored).hexdigest()}", stored)

    def ref(bucket_name: str, name: str, data: bytes = stored) -> dict[str, Any]:
        return ObjectRef(
            bucket=bucket_name, name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest()
        ).model_dump()

    def file_command(document_id: str, **file: Any) -> bytes:
        spec = {"name": f"{document_id}.txt", "media_type": "text/plain", **file}
        return compact(submit(tenant, document_id, file=spec))

    sha = hashlib.sha256(stored).hexdigest()
    refused: dict[str, tuple[bytes, str]] = {
        "garbage base64": (file_command("r-b64", inline="!!!not base64!!!"), "file"),
        "object nowhere": (
            file_command("r-nowhere", object=ref(subjects.INGESTION_FILES_BUCKET, f"{tenant}/no")),
            "file",
        ),
        "object wrong sha256": (
            file_command(
                "r-sha",
                object={
                    **ref(subjects.INGESTION_FILES_BUCKET, f"{tenant}/mine"),
                    "sha256": "0" * 64,
                },
            ),
            "file",
        ),
        "other tenant's object": (
            file_command("r-other", object=ref(subjects.INGESTION_FILES_BUCKET, f"{other}/upload")),
            "file",
        ),
        "another bucket": (
            file_command("r-blobs", object=ref("llmops-blobs", f"sha256/{sha}")),
            "file",
        ),
        "no such bucket": (file_command("r-bucket", object=ref("no-such-bucket", "x")), "file"),
        "broken pdf": (
            compact(
                submit(
                    tenant,
                    "r-pdf",
                    file={
                        "name": "a.pdf",
                        "media_type": "application/pdf",
                        "inline": base64.b64encode(b"%PDF-1.7 broken").decode(),
                    },
                )
            ),
            "parse",
        ),
        "bare uri": (
            compact(submit(tenant, "r-uri", uri="http://example.com/x")),
            "fetch_unsupported",
        ),
        "too short": (compact(submit(tenant, "r-short", text="hi")), "min_length"),
    }
    malformed = malformed_commands(tenant, other)
    valid = [submit(tenant, f"doc{i}", text=prose(f"marker{i}q")) for i in range(n)]
    # one valid document near the server's limit: 900 KB of text travels inside its command
    valid[60] = submit(tenant, "doc60", text=(prose("marker60q") + " ") * 1850)
    assert 900_000 < len(compact(valid[60])) < 1_000_000 - 4096
    hostile = [*malformed.values(), *refused.values()]
    every = n // len(hostile)
    bodies: list[bytes] = []
    for i, body in enumerate(valid):
        if i % every == 3 and i // every < len(hostile):
            bodies.append(hostile[i // every][0])
        bodies.append(compact(body))
    assert sum(b in bodies for b, _ in hostile) == len(hostile)
    await publish_raw(raw_js, subject, bodies)
    # a subject whose tenant token is no tenant id (a valid NATS token, though)
    bad_subject = f"{subjects.INGESTION_SUBMIT_DOCUMENT}.-not_a_tenant"
    bad_tenant_body = compact(submit(tenant, "bad-subject", text=prose("bad")))
    await publish_raw(raw_js, bad_subject, [bad_tenant_body])

    settings = settings_for(own_nats, uid, tmp_path, max_deliver=2)
    async with running(create_ingestion(settings)):

        async def outcomes() -> tuple[list[Any], list[Any]] | None:
            events = await events_of(raw_js, tenant)
            indexed = [e for e in events if isinstance(e.data, DocumentIndexed)]
            rejected = [e for e in events if isinstance(e.data, DocumentRejected)]
            done = len(indexed) + len(rejected) >= n + len(refused)
            return (indexed, rejected) if done else None

        indexed, rejected = await eventually(outcomes, timeout=120)
        found = await eventually(
            lambda: exactly_letters(raw_js, subjects.dlq_for("ingestion", tenant), len(malformed)),
            timeout=30,
        )
        unknown = await eventually(
            lambda: exactly_letters(
                raw_js, subjects.dlq_for("ingestion", subjects.UNKNOWN_TENANT), 1
            )
        )
        # settled: nothing more arrives (no late duplicate, no straggler)
        await asyncio.sleep(1.0)
        events = await events_of(raw_js, tenant)
    assert [e.data.document_id for e in events if isinstance(e.data, DocumentIndexed)] == [
        e.data.document_id for e in indexed
    ]
    assert sorted(e.data.document_id for e in indexed) == sorted(f"doc{i}" for i in range(n))
    assert all(e.data.embedded == e.data.chunk_count > 0 for e in indexed)
    by_id = {e.data.document_id: e.data for e in rejected}
    assert len(rejected) == len(by_id) == len(refused)
    for body, rule in refused.values():
        document_id = json.loads(body)["data"]["document_id"]
        assert [r.rule for r in by_id[document_id].reasons] == [rule], by_id[document_id]
    # every malformed command: one letter on the subject's tenant, with its reason
    named = {_original(letter): letter for letter in found}
    assert set(named) == {body for body, _ in malformed.values()}
    for name, (body, reason) in malformed.items():
        assert named[body].failure == "invalid", name
        assert named[body].error.startswith(reason), (name, named[body].error)
    assert [_original(letter) for letter in unknown] == [bad_tenant_body]
    assert unknown[0].original_subject == bad_subject
    # nothing reached the forged tenant: no event, no letter
    assert await events_of(raw_js, other) == []
    assert await letters(raw_js, subjects.dlq_for("ingestion", other)) == []
    # the sender's own objects are cleaned up; nobody else's is touched
    names = {o.name for o in await bucket.list(ignore_deletes=True)}
    assert f"{tenant}/mine" not in names
    assert f"{other}/upload" in names
    assert (await blobs.get(f"sha256/{sha}")).data == stored


# --- 2. retrieval: hostile chunk events among valid ones ---------------------------------------


def chunk_id(document_id: str, i: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"llmops:{document_id}:{i}"))


def chunks_event(
    tenant: str, document_id: str, count: int = 3, *, vectors: int = 0, **fields: Any
) -> dict[str, Any]:
    """A valid chunks event: ``count`` chunks, each holding the document's marker word."""
    chunks = []
    for i in range(count):
        text = f"{document_id}zz part {i} " + prose(f"{document_id}zz", 20)
        indices, values = ENCODER.document(text)
        chunks.append(
            Chunk(
                chunk_id=chunk_id(document_id, i),
                ordinal=i,
                text=text,
                sparse=SparseVector(indices=indices, values=values),
                vector=[0.1 * (i + 1)] * vectors if vectors else None,
            )
        )
    event = ChunksEmbedded(
        document_id=document_id,
        collection="kb",
        embedding_model="bm25",
        dimensions=vectors,
        chunks=chunks,
        **fields,
    )
    return envelope(event, tenant)


def malformed_chunks(tenant: str, other: str, dims: int) -> dict[str, tuple[bytes, str]]:
    """Chunk events the retrieval service must dead-letter, with their reason's start."""

    def nested(depth: int) -> bytes:
        body = chunks_event(tenant, "deep", vectors=dims)
        body["data"]["chunks"][0]["metadata"] = {"x": 0}
        return compact(body).replace(b'{"x":0}', b'{"x":' + b"[" * depth + b"]" * depth + b"}")

    def sparse(indices: list[int], values: list[float]) -> bytes:
        body = chunks_event(tenant, "sparse", vectors=dims)
        body["data"]["chunks"][0]["sparse"] = {"indices": indices, "values": values}
        return compact(body)

    value = chunks_event(tenant, "nan", vectors=dims)
    value["data"]["chunks"][0]["sparse"] = {"indices": [1, 2], "values": [0.5, 12.5]}
    number = compact(value)
    no_id = chunks_event(tenant, "no-id", vectors=dims)
    del no_id["id"]
    wrong_dims = chunks_event(tenant, "dims", vectors=dims + 1)
    thief = chunks_event(tenant, "thief", vectors=dims)
    thief["data"]["keep"] = [chunk_id("v0", 0)]  # another document's chunk, none of its own
    # a sparse-only index ignores dense vectors (documented): only a dense index refuses them
    dense_only = (
        {"dense of the wrong dimension": (compact(wrong_dims), "data.chunks[0].vector")}
        if dims
        else {}
    )
    return {
        **dense_only,
        "600 deep": (nested(600), "(message): nested deeper than 64"),
        "5000 deep": (nested(5_000), "(message): nested deeper than 64"),
        "invalid utf-8": (
            compact(chunks_event(tenant, "utf8", vectors=dims)).replace(
                b"utf8zz part 0", b"\xc3\x28\xa0\xa1 part 0"
            ),
            "(message): not valid JSON",
        ),
        "sparse NaN": (number.replace(b"12.5", b"NaN"), "(message): not valid JSON"),
        "sparse Infinity": (number.replace(b"12.5", b"Infinity"), "(message): not valid JSON"),
        "sparse not increasing": (sparse([5, 3, 9], [0.1, 0.2, 0.3]), "data.chunks.0.sparse"),
        "sparse repeated": (sparse([3, 3], [0.1, 0.2]), "data.chunks.0.sparse"),
        "sparse misaligned": (sparse([1, 2, 3], [0.1]), "data.chunks.0.sparse"),
        "sparse negative": (sparse([-1, 2], [0.1, 0.2]), "data.chunks.0.sparse"),
        "no id": (compact(no_id), "id:"),
        "lone surrogate": (
            compact(chunks_event(tenant, "sur", vectors=dims)).replace(b"surzz part 0", b"\\udfff"),
            "(message): not valid JSON",
        ),
        "forged tenant": (compact(chunks_event(other, "forged", vectors=dims)), "tenant:"),
        "keep naming only other documents": (
            compact(thief),
            "data: Value error, keep must list every chunk of this part",
        ),
    }


async def retrieval_counts(index: Any, tenant: str, documents: list[str]) -> dict[str, int]:
    return {d: await index.count(tenant, "kb", d) for d in documents}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("dims", [0, 4], ids=["sparse-index", "dense-index"])
async def test_hostile_chunk_events_among_60_valid_documents_are_dead_lettered_exactly(
    own_nats: str, raw_js: JetStreamContext, tmp_path: Path, uid: str, dims: int
) -> None:
    tenant, other = f"a{uid}", f"b{uid}"
    n = 60
    subject = subjects.for_tenant(subjects.INGESTION_CHUNKS_EMBEDDED, tenant)
    valid = {f"v{i}": chunks_event(tenant, f"v{i}", vectors=dims) for i in range(n)}
    # accepted traps: a chunk id that is not a UUID (hashed into one), 700 KB of metadata
    odd = chunks_event(tenant, "voddid", vectors=dims)
    odd["data"]["chunks"][0]["chunk_id"] = "not a uuid / at all"
    odd["data"]["keep"] = [c["chunk_id"] for c in odd["data"]["chunks"]]
    valid["voddid"] = odd
    huge = chunks_event(tenant, "vhuge", vectors=dims)
    huge["data"]["chunks"][0]["metadata"] = {f"k{i}": "m" * 7_000 for i in range(100)}
    valid["vhuge"] = huge
    malformed = malformed_chunks(tenant, other, dims)
    order = list(valid.values())
    bodies: list[bytes] = []
    cases = list(malformed.values())
    for i, body in enumerate(order):
        if i % 4 == 1 and i // 4 < len(cases):
            bodies.append(cases[i // 4][0])
        bodies.append(compact(body))
    assert sum(b in bodies for b, _ in cases) == len(cases)
    await publish_raw(raw_js, subject, bodies)
    # the other tenant's own documents, and one event on an invalid tenant token
    await publish_raw(
        raw_js,
        subjects.for_tenant(subjects.INGESTION_CHUNKS_EMBEDDED, other),
        [compact(chunks_event(other, "theirs", vectors=dims))],
    )
    bad_subject = f"{subjects.INGESTION_CHUNKS_EMBEDDED}.-nobody"
    await publish_raw(raw_js, bad_subject, [compact(chunks_event(tenant, "nobody", vectors=dims))])

    settings = RetrievalSettings(
        nats_url=own_nats,
        health_port=0,
        chunks_durable=f"retrieval-{uid}",
        batch_timeout_s=0.05,
        index_dir=tmp_path / "index",
        dense_dimensions=dims,
        optimize_idle_s=0,
    )
    async with running(create_retrieval(settings)) as app:
        index = app.service.index
        documents = list(valid)

        async def applied() -> dict[str, int] | None:
            counts = await retrieval_counts(index, tenant, documents)
            return counts if all(counts.values()) else None

        counts = await eventually(applied, timeout=60)
        found = await eventually(
            lambda: exactly_letters(raw_js, subjects.dlq_for("retrieval", tenant), len(malformed)),
            timeout=30,
        )
        unknown = await eventually(
            lambda: exactly_letters(
                raw_js, subjects.dlq_for("retrieval", subjects.UNKNOWN_TENANT), 1
            )
        )
        await eventually(lambda: _count(index, other, "theirs"))
        await asyncio.sleep(0.5)  # settled: a straggler would land now (absence is not pollable)
        assert await retrieval_counts(index, tenant, documents) == counts
        assert counts == {d: 3 for d in documents}
        assert await index.count(tenant, "kb") == 3 * len(documents)  # nothing else of ours
        assert await index.count(other, "kb") == 3  # nothing forged landed in theirs
        for absent in ("forged", "nobody", "thief", "deep", "dims"):
            assert await index.count(tenant, "kb", absent) == 0
            assert await index.count(other, "kb", absent) == 0
        # searchable through the query endpoint, exactly its chunks
        nc = await nats.connect(own_nats)
        try:
            for document in ("v0", "v30", "voddid", "vhuge"):
                hits = await _hits(nc, tenant, f"{document}zz")
                assert sorted(h["chunk_id"] for h in hits) == sorted(
                    c["chunk_id"] for c in valid[document]["data"]["chunks"]
                )
            assert await _hits(nc, tenant, "forgedzz") == []
            assert await _hits(nc, other, "forgedzz") == []
        finally:
            await nc.close()
    named = {_original(letter): letter for letter in found}
    assert set(named) == {body for body, _ in malformed.values()}
    for name, (body, reason) in malformed.items():
        assert named[body].failure == "invalid", (name, named[body].error)
        assert named[body].error.startswith(reason), (name, named[body].error)
    assert unknown[0].original_subject == bad_subject
    assert await letters(raw_js, subjects.dlq_for("retrieval", other)) == []


async def _count(index: Any, tenant: str, document: str) -> bool:
    return await index.count(tenant, "kb", document) > 0


async def _hits(nc: Any, tenant: str, query: str) -> list[dict[str, Any]]:
    from llmops_contracts.retrieval import RetrievalQuery

    request = wrap(
        RetrievalQuery(query=query, collection="kb", top_k=20), tenant=tenant, source="app://t"
    )
    reply = await nc.request(request.subject(), request.to_json(), timeout=10)
    assert not (reply.headers or {}).get("Llmops-Error"), reply.data
    return json.loads(reply.data)["data"]["hits"]  # type: ignore[no-any-return]


# --- 3a. retrieval killed with SIGKILL mid-stream -----------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_retrieval_killed_mid_stream_then_restarted_indexes_every_chunk_once(
    own_nats: str, raw_js: JetStreamContext, tmp_path: Path, uid: str
) -> None:
    tenant, k = f"k{uid}", 600
    durable = f"retrieval-{uid}"
    index_dir = tmp_path / "index"
    process = ServiceProcess(
        "retrieval",
        {
            **os.environ,
            "NATS_URL": own_nats,
            "LLMOPS_RETRIEVAL_INDEX_DIR": str(index_dir),
            "LLMOPS_RETRIEVAL_CHUNKS_DURABLE": durable,
            "LLMOPS_RETRIEVAL_QUERY_QUEUE": durable,
            "LLMOPS_RETRIEVAL_ACK_WAIT_S": "5",
            "LLMOPS_RETRIEVAL_BATCH_SIZE": "32",
            "LLMOPS_RETRIEVAL_OPTIMIZE_IDLE_S": "0",
            "LLMOPS_RETRIEVAL_LOG_LEVEL": "WARNING",
            "LLMOPS_LOG_FORMAT": "json",
        },
        tmp_path,
    )
    documents = [f"d{i}" for i in range(k)]
    subject = subjects.for_tenant(subjects.INGESTION_CHUNKS_EMBEDDED, tenant)
    # each document once, under its own message id: a point written twice would be a second
    # point only if ids were not deterministic; the count per document says so
    await publish_raw(raw_js, subject, [compact(chunks_event(tenant, d)) for d in documents])
    started = time.monotonic()
    try:
        process.start()

        async def acked(at_least: int) -> int:
            assert process.alive(), process.logs()
            try:
                info = await raw_js.consumer_info(subjects.EVENTS_STREAM, durable)
            except nats.js.errors.NotFoundError:
                return 0
            floor = info.ack_floor.stream_seq if info.ack_floor else 0
            return floor if floor >= at_least else 0

        at_kill = await eventually(lambda: acked(k // 5), timeout=120)
        process.kill()
        info = await raw_js.consumer_info(subjects.EVENTS_STREAM, durable)
        assert info.num_pending > 0, "killed too late to be mid-stream"
        process.start()

        async def settled() -> bool:
            assert process.alive(), process.logs()
            info = await raw_js.consumer_info(subjects.EVENTS_STREAM, durable)
            return not info.num_pending and not info.num_ack_pending

        await eventually(settled, timeout=180)
        nc = await nats.connect(own_nats)
        try:
            for d in documents[:: k // 20]:
                hits = await _hits(nc, tenant, f"{d}zz")
                assert sorted(h["chunk_id"] for h in hits) == sorted(
                    chunk_id(d, i) for i in range(3)
                ), d
        finally:
            await nc.close()
        assert process.stop() == 0, process.logs()
    finally:
        with contextlib.suppress(Exception):
            process.stop()
    elapsed = time.monotonic() - started
    index = EdgeIndex(index_dir)
    await index.open()
    try:
        counts = await retrieval_counts(index, tenant, documents)
        assert Counter(counts.values()) == Counter({3: k}), counts
        assert await index.count(tenant) == 3 * k
    finally:
        await index.close()
    print(
        f"\nretrieval killed after {at_kill}/{k} events acked; all {k} indexed in {elapsed:.1f} s"
    )


# --- 3b. ingestion with its database locked mid-stream -----------------------------------------


async def indexed_ids(js: JetStreamContext, tenant: str) -> list[str]:
    events = await events_of(js, tenant)
    return [e.data.document_id for e in events if isinstance(e.data, DocumentIndexed)]


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_ingestion_database_locked_mid_stream_loses_no_command(
    own_nats: str, raw_js: JetStreamContext, tmp_path: Path, uid: str
) -> None:
    tenant, n = f"l{uid}", 120
    subject = subjects.for_tenant(subjects.INGESTION_SUBMIT_DOCUMENT, tenant)
    settings = settings_for(own_nats, uid, tmp_path, concurrent_documents=4)
    db = tmp_path / "ingestion.db"
    commands = [compact(submit(tenant, f"doc{i}", text=prose(f"m{i}q"))) for i in range(n)]
    first = n // 3
    async with running(create_ingestion(settings)):
        await publish_raw(raw_js, subject, commands[:first])
        await eventually(lambda: _at_least(indexed_ids(raw_js, tenant), first), timeout=60)
        lock = sqlite3.connect(db, timeout=30, isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")  # a writer holding the database, mid-stream
            before = len(await indexed_ids(raw_js, tenant))
            await publish_raw(raw_js, subject, commands[first:])
            await asyncio.sleep(8)  # longer than the service's busy timeout (5 s)
            during = len(await indexed_ids(raw_js, tenant))
            lock.execute("COMMIT")
        finally:
            lock.close()
        assert during < n, "nothing waited for the lock"
        ids = await eventually(lambda: _at_least(indexed_ids(raw_js, tenant), n), timeout=120)
        await asyncio.sleep(1.0)  # a late duplicate would come now: absence is not pollable
        ids = await indexed_ids(raw_js, tenant)
    assert sorted(ids) == sorted(f"doc{i}" for i in range(n))  # every one, once
    assert await letters(raw_js, subjects.dlq_for("ingestion", tenant)) == []
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select count(*) from ingestion_documents where tenant = ?", (tenant,)
        ).fetchone()
    assert rows[0] == n
    print(f"\nlocked with {before} indexed; {during - before} more during the 8 s lock")


async def _at_least(ids: Any, n: int) -> Any:
    found = await ids
    return found if len(found) >= n else None


# --- 3c. NATS restarted mid-stream under ingestion ---------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_nats_restart_mid_stream_indexes_every_document_exactly_once(
    tmp_path: Path, uid: str
) -> None:
    tenant, n = f"r{uid}", 200
    port, store = free_port(), tmp_path / "nats"
    server = NatsServer(port=port, store_dir=store, process=start_nats_server(port, store))
    try:
        nc = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
        js = nc.jetstream()
        settings = settings_for(server.url, uid, tmp_path, ack_wait_s=5)
        async with running(create_ingestion(settings)):
            subject = subjects.for_tenant(subjects.INGESTION_SUBMIT_DOCUMENT, tenant)
            # long enough (8 chunks each) for the restart to land mid-stream
            commands = [submit(tenant, f"doc{i}", text=prose(f"m{i}q", 1500)) for i in range(n)]
            await publish_raw(js, subject, list(map(compact, commands)))
            at_stop = await eventually(lambda: _acked(js, settings.submit_durable, n // 5))
            server.stop()  # mid-stream
            server.start()
            assert at_stop < n, "stopped too late to be mid-stream"
            await eventually(lambda: _safe_at_least(js, tenant, n), timeout=120)
            await asyncio.sleep(1.0)  # a late duplicate would come now: absence is not pollable
            ids = await indexed_ids(js, tenant)
            found = await letters(js, subjects.dlq_for("ingestion", tenant))
        await nc.close()
    finally:
        server.stop()
    counts = Counter(ids)
    assert sorted(counts) == sorted(f"doc{i}" for i in range(n)), "a document was lost"
    # JetStream drops a redelivered command's events (ids derived from the command), so each
    # document is said indexed once
    assert set(counts.values()) == {1}, [d for d, c in counts.items() if c > 1]
    assert found == []
    print(f"\nNATS restarted with {at_stop}/{n} commands acked; {n} indexed once each after")


async def _acked(js: JetStreamContext, durable: str, at_least: int) -> int:
    """Commands the durable has acknowledged, once at least ``at_least`` (else 0)."""
    info = await js.consumer_info(subjects.COMMANDS_STREAM, durable)
    done = info.ack_floor.consumer_seq if info.ack_floor else 0
    return done if done >= at_least else 0


async def _safe_at_least(js: JetStreamContext, tenant: str, n: int) -> list[str] | None:
    try:
        found = await indexed_ids(js, tenant)
    except (nats.errors.Error, OSError):
        return None  # the server is restarting
    return found if len(found) >= n else None
