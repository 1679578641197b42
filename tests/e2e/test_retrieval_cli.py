"""`llmops retrieval ...` against the retrieval service on the real nats-server.

The service runs in this event loop with its index on disk; the CLI runs in a thread (typer's
CliRunner) so the loop keeps answering.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from typer.testing import CliRunner, Result

from llmops.cli import app
from llmops.retrieval import parse_filters
from llmops_contracts import headers, subjects, wrap
from llmops_contracts.ingestion import Chunk, ChunksEmbedded
from llmops_retrieval.app import create_app
from llmops_retrieval.config import RetrievalSettings
from tests.conftest import eventually, running

NO_SERVER = "nats://127.0.0.1:1"


@pytest.fixture
async def retrieval(nats_url: str, uid: str, tmp_path: Path) -> AsyncIterator[Any]:
    settings = RetrievalSettings(
        nats_url=nats_url,
        health_port=0,
        chunks_durable=f"retrieval-{uid}",
        query_queue=f"retrieval-{uid}",
        batch_timeout_s=0.05,
        index_dir=tmp_path / "index",
        replay_timeout_s=0.5,
    )
    async with running(create_app(settings)) as service:
        yield service


async def llmops(*args: str, nats_url: str = NO_SERVER) -> Result:
    """Run `llmops ...` in a thread (this loop keeps serving meanwhile)."""
    env = {"NATS_URL": nats_url, "COLUMNS": "200", "NO_COLOR": "1"}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def index_faq(nats_url: str, service: Any, tenant: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        event = wrap(
            ChunksEmbedded(
                document_id="faq",
                collection="default",
                embedding_model="bm25",
                dimensions=0,
                chunks=[
                    Chunk(
                        chunk_id="c0",
                        ordinal=0,
                        text="refunds take five days",
                        metadata={"lang": "en"},
                    ),
                    Chunk(chunk_id="c1", ordinal=1, text="shipping is free", metadata={}),
                ],
            ),
            tenant=tenant,
            source="llmops/ingestion",
        )
        await nc.jetstream().publish(
            event.subject(), event.to_json(), headers=headers.headers_for(event)
        )
    finally:
        await nc.close()

    async def indexed() -> bool:
        return await service.service.index.count(tenant) == 2

    await eventually(indexed)


async def test_query_prints_hits_as_a_table_or_json(
    retrieval: Any, nats_url: str, tenant: str
) -> None:
    await index_faq(nats_url, retrieval, tenant)
    table = await llmops("retrieval", "query", "--tenant", tenant, "refunds", nats_url=nats_url)
    assert table.exit_code == 0, table.output
    assert "faq" in table.stdout
    assert "c0" in table.stdout
    assert "refunds take five days" in table.stdout
    assert '{"lang": "en"}' in table.stdout
    assert "shipping" not in table.stdout

    result = await llmops(
        "retrieval", "query", "--tenant", tenant, "--top-k", "1", "--mode", "sparse",
        "--json", "refunds shipping", nats_url=nats_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload) == ["hits"]
    [hit] = payload["hits"]
    assert set(hit) == {"document_id", "chunk_id", "score", "text", "metadata"}
    assert hit["score"] > 0

    filtered = await llmops(
        "retrieval", "query", "--tenant", tenant, "--filter", "lang=fr", "--json", "refunds",
        nats_url=nats_url,
    )  # fmt: skip
    assert json.loads(filtered.stdout) == {"hits": []}


async def test_a_refused_query_names_the_reason(retrieval: Any, nats_url: str, tenant: str) -> None:
    result = await llmops(
        "retrieval", "query", "--tenant", tenant, "--mode", "dense", "x", nats_url=nats_url
    )
    assert result.exit_code == 1
    assert "dense search is not available" in result.stderr


async def test_misses_lists_the_queries_that_missed(
    retrieval: Any, nats_url: str, tenant: str
) -> None:
    await index_faq(nats_url, retrieval, tenant)
    for text in ("refunds", "zeppelin schedule", "airship"):
        done = await llmops("retrieval", "query", "--tenant", tenant, text, nats_url=nats_url)
        assert done.exit_code == 0, done.output

    async def listed() -> list[Any] | None:
        result = await llmops(
            "retrieval", "misses", "--tenant", tenant, "--since", "2000-01-01", "--json",
            nats_url=nats_url,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        return rows if len(rows) == 2 else None

    rows = await eventually(listed)
    assert [r["query"] for r in rows] == ["zeppelin schedule", "airship"]
    assert all(r["miss"] and r["hit_count"] == 0 for r in rows)
    table = await llmops(
        "retrieval", "misses", "--tenant", tenant, "--since", "2000-01-01", nats_url=nats_url
    )
    assert "zeppelin schedule" in table.stdout
    assert "2 of 3 queries missed" in table.stderr
    # --since selects by the server's stamp on each event (as `llmops dlq list` does).
    nc = await nats.connect(nats_url)
    try:
        subject = subjects.for_tenant(subjects.RETRIEVAL_PERFORMED, tenant)
        last = await nc.jetstream().get_last_msg(subjects.EVENTS_STREAM, subject)
    finally:
        await nc.close()
    whole, _, fraction = str(last.time).rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(f"{whole}.{(fraction + '000000')[:6]}+00:00")
    after = (stamp + timedelta(seconds=1)).isoformat()
    future = await llmops(
        "retrieval", "misses", "--tenant", tenant, "--since", after, nats_url=nats_url
    )
    assert future.exit_code == 0
    assert "no missed queries" in future.stderr, future.stderr


async def test_rebuild_reports_what_it_replayed(retrieval: Any, nats_url: str, tenant: str) -> None:
    await index_faq(nats_url, retrieval, tenant)
    result = await llmops("retrieval", "rebuild", "--tenant", tenant, "--json", nats_url=nats_url)
    assert result.exit_code == 0, result.output
    # The service, running in this process, logs the rebuild on the same standard output.
    assert json.loads(result.stdout[result.stdout.index("{") :]) == {
        "events": 1,
        "chunks": 2,
        "documents": 1,
    }


async def test_bad_options_and_no_server() -> None:
    bad_tenant = await llmops("retrieval", "query", "--tenant", "a.b", "x")
    assert bad_tenant.exit_code == 2
    bad_filter = await llmops("retrieval", "query", "--tenant", "t", "--filter", "nokey", "x")
    assert bad_filter.exit_code == 2
    crafted = await llmops("retrieval", "query", "--tenant", "t", "--filter", "a.b=1", "x")
    assert crafted.exit_code == 2
    bad_since = await llmops("retrieval", "misses", "--tenant", "t", "--since", "soon")
    assert bad_since.exit_code == 2
    offline = await llmops("retrieval", "query", "--tenant", "t", "x")
    assert offline.exit_code == 1
    assert "no NATS server reachable" in offline.stderr


def test_filters_read_json_scalars_and_repeat_into_lists() -> None:
    assert parse_filters(["lang=en", "year=2024", "public=true", "lang=fr", "v=1.5"]) == {
        "lang": ["en", "fr"],
        "year": 2024,
        "public": True,
        "v": "1.5",
    }
