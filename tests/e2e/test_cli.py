"""The `llmops` command line, run as a real process against the test nats-server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmops_contracts import wrap
from llmops_contracts.llm import LlmCallCompleted, Usage
from tests.conftest import NatsServer

LLMOPS = str(Path(sys.executable).parent / "llmops")
GOLDEN = Path(__file__).parents[1] / "contracts" / "golden"


def cli(
    *args: str, nats_url: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    if nats_url:
        env["NATS_URL"] = nats_url
    return subprocess.run(
        [LLMOPS, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def _event(tenant: str, tokens: int = 10) -> dict:
    call = LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o",
        latency_ms=5,
        usage=Usage(input_tokens=tokens, output_tokens=1),
    )
    return json.loads(wrap(call, tenant=tenant, source="app://cli-test").to_json())


def test_publish_rejects_a_schema_invalid_file_naming_the_field(
    tmp_path: Path, tenant: str
) -> None:
    bad = _event(tenant)
    bad["data"]["usage"]["output_tokens"] = -3
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    # No server is needed: validation happens before connecting.
    result = cli("publish", str(path), nats_url="nats://127.0.0.1:1")
    assert result.returncode != 0
    assert "data.usage.output_tokens" in result.stderr
    assert "message 1" in result.stderr


def test_publish_rejects_malformed_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{ not json")
    result = cli("publish", str(path), nats_url="nats://127.0.0.1:1")
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_publish_then_tail_shows_the_events(
    nats_server: NatsServer, tmp_path: Path, tenant: str
) -> None:
    events = [_event(tenant, tokens=n) for n in (11, 22, 33)]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    published = cli("publish", str(path), nats_url=nats_server.url)
    assert published.returncode == 0, published.stderr
    assert "published 3" in published.stdout

    tailed = cli("tail", "--tenant", tenant, "--count", "3", "--json", nats_url=nats_server.url)
    assert tailed.returncode == 0, tailed.stderr
    lines = [json.loads(line) for line in tailed.stdout.splitlines()]
    assert [line["id"] for line in lines] == [e["id"] for e in events]

    table = cli("tail", "--tenant", tenant, nats_url=nats_server.url)
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("llmops.llm.call_completed.v1") == 3
    assert "in=22" in table.stdout

    other = cli(
        "tail",
        "--tenant",
        tenant,
        "--type",
        "llmops.tool.call_requested.v1",
        "--count",
        "1",
        "--timeout",
        "1",
        nats_url=nats_server.url,
    )
    assert other.returncode == 1  # nothing of that type for this tenant
    assert "only 0 of 1" in other.stderr


def test_publish_accepts_every_golden_payload_in_dry_run() -> None:
    paths = sorted(GOLDEN.glob("*.json"))
    result = cli("publish", "--dry-run", *map(str, paths))
    assert result.returncode == 0, result.stderr
    assert f"{len(paths)} valid message(s)" in result.stdout


@pytest.mark.parametrize("bad", ["a.b", "*"])
def test_tail_rejects_a_bad_tenant(bad: str) -> None:
    result = cli("tail", "--tenant", bad, nats_url="nats://127.0.0.1:1")
    assert result.returncode == 2
    assert "subject token" in result.stderr


def test_contracts_check_reports_drift(tmp_path: Path) -> None:
    assert cli("contracts", "export", str(tmp_path)).returncode == 0
    assert cli("contracts", "check", str(tmp_path)).returncode == 0
    target = tmp_path / "schemas" / "llm" / "v1" / "call_completed.json"
    target.write_text(target.read_text().replace("Model asked for.", "Edited by hand."))
    drifted = cli("contracts", "check", str(tmp_path))
    assert drifted.returncode == 1
    assert "schemas/llm/v1/call_completed.json" in drifted.stderr
    assert "make contracts" in drifted.stderr


def test_tail_shows_hostile_messages_without_crashing(nats_server: NatsServer, tenant: str) -> None:
    import asyncio

    import nats

    subject = f"llmops.evt.llm.call_completed.{tenant}"
    good = _event(tenant)

    async def publish() -> None:
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        for body in (b"[" * 5_000 + b"]" * 5_000, b"[1, 2]", b'{"data": [1]}', json.dumps(good)):
            await js.publish(subject, body if isinstance(body, bytes) else body.encode())
        await nc.close()

    asyncio.run(publish())
    table = cli("tail", "--tenant", tenant, nats_url=nats_server.url)
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("(not a JSON envelope)") == 2
    assert table.stdout.count("llmops.llm.call_completed.v1") == 1
