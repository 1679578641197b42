"""`llmops audit ...` run as real processes against an audit service running in this event loop.

The CLI runs in a thread (``asyncio.to_thread``) so the in-process service keeps answering it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import llmops.audit
from llmops import Client
from llmops_audit.app import create_app
from llmops_audit.checkpoints import Signer
from llmops_audit.config import AuditSettings
from llmops_contracts.auditchain import record_hash
from llmops_contracts.common import Actor
from llmops_contracts.envelope import Envelope, Payload
from llmops_contracts.llm import Content, LlmCallCompleted, Message, Usage
from llmops_contracts.tools import ToolCallRequested
from tests.conftest import eventually, running

LLMOPS = str(Path(sys.executable).parent / "llmops")
KEY = "44" * 32  # the service's signing key (a hex seed)
PUBLIC_KEY = Signer.from_text(KEY).public_key.hex()
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
NO_SERVER = "nats://127.0.0.1:1"


async def cli(
    *args: str, nats_url: str = NO_SERVER, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `llmops` in a thread, so this loop keeps serving the in-process audit service."""
    environ = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "NATS_URL": nats_url, **env}
    if "LLMOPS_AUDIT_PUBLIC_KEY" not in env:
        environ.pop("LLMOPS_AUDIT_PUBLIC_KEY", None)
    return await asyncio.to_thread(
        subprocess.run,
        [LLMOPS, *args],
        capture_output=True,
        text=True,
        env=environ,
        input=stdin,
        timeout=60,
        check=False,
    )


@pytest.fixture
async def audit(nats_url: str, tmp_path: Path, uid: str) -> AsyncIterator[Any]:
    """An audit service with its own SQLite file and durables, running in this loop."""
    settings = AuditSettings(
        nats_url=nats_url,
        database_url=f"sqlite:///{tmp_path / 'audit.db'}",
        durable_prefix=f"audit-{uid}",
        health_port=0,
        signing_key=KEY,
        batch_timeout_s=0.05,
    )
    app = create_app(settings)
    async with running(app):
        yield app


def _call(tokens: int, user: str | None = None, app: str | None = None) -> LlmCallCompleted:
    return LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o",
        latency_ms=12.5,
        usage=Usage(input_tokens=tokens, output_tokens=3),
        actor=Actor(user=user, app=app),
    )


async def _publish(
    nats_url: str, tenant: str, payloads: list[Payload], **attributes: Any
) -> list[Envelope[Any]]:
    async with await Client.connect(nats_url, source="app://audit-cli", tenant=tenant) as client:
        return [await client.publish(p, **attributes) for p in payloads]


async def _stored(app: Any, tenant: str, n: int) -> None:
    repo = app.service.repository

    async def count_is() -> bool:
        return bool(await repo.count(tenant) == n)

    await eventually(count_is, timeout=20)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_query_shows_a_table_json_lines_and_applies_every_filter(
    audit: Any, nats_url: str, tenant: str, tmp_path: Path
) -> None:
    [e1] = await _publish(nats_url, tenant, [_call(11, "alice", "bot")], correlation_id="corr-1")
    [e2] = await _publish(nats_url, tenant, [_call(22, "bob", "bot")], traceparent=TRACEPARENT)
    tool = ToolCallRequested(call_id="c1", tool_name="search", actor=Actor(user="alice"))
    # "[/]" would be rich markup (and an error) if the CLI did not print data literally.
    [e3, e4] = await _publish(nats_url, tenant, [tool, _call(44, "alice", "other[/]")])
    await _stored(audit, tenant, 4)

    table = await cli("audit", "query", "--tenant", tenant, nats_url=nats_url)
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("llmops.llm.call_completed.v1") == 3
    assert table.stdout.count("llmops.tool.call_requested.v1") == 1
    assert "alice / bot" in table.stdout
    assert "alice / other[/]" in table.stdout
    assert "app://audit-cli" in table.stdout
    assert f"4 record(s) of tenant {tenant}" in table.stderr

    as_json = await cli("audit", "query", "--tenant", tenant, "--json", nats_url=nats_url)
    assert as_json.returncode == 0, as_json.stderr
    records = _lines(as_json.stdout)
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert [r["event_id"] for r in records] == [e.id for e in (e1, e2, e3, e4)]
    assert all(record_hash(r) == r["hash"] for r in records)
    assert records[1]["prev_hash"] == records[0]["hash"]

    async def seqs(*filters: str) -> list[int]:
        result = await cli(
            "audit", "query", "--tenant", tenant, "--json", *filters, nats_url=nats_url
        )
        assert result.returncode == 0, result.stderr
        return [r["seq"] for r in _lines(result.stdout)]

    expected = {
        ("--type", "llmops.tool.call_requested.v1"): [3],
        ("--type", "llmops.tool.call_requested.v1", "--type", e4.type): [1, 2, 3, 4],
        ("--user", "alice"): [1, 3, 4],
        ("--app", "other[/]"): [4],
        ("--correlation-id", "corr-1"): [1],
        ("--trace-id", TRACEPARENT.split("-")[1]): [2],
        ("--source", "app://audit-cli"): [1, 2, 3, 4],
        ("--source", "app://someone-else"): [],
        ("--since", "1h"): [1, 2, 3, 4],
        ("--until", "1h"): [],
        ("--since", "2000-01-01", "--until", "2099-12-31T23:59:59Z"): [1, 2, 3, 4],
        ("--limit", "2", "--after-seq", "1"): [2, 3],
    }
    found = await asyncio.gather(*(seqs(*filters) for filters in expected))
    assert dict(zip(expected, found, strict=True)) == expected

    limited, filtered = await asyncio.gather(
        cli("audit", "query", "--tenant", tenant, "--limit", "2", nats_url=nats_url),
        cli("audit", "export", "--tenant", tenant, "--user", "alice", nats_url=nats_url),
    )
    assert limited.returncode == 0, limited.stderr
    assert "more may follow: --after-seq 2" in limited.stderr

    # A filtered export says so in its header; verify links what is consecutive (1, then 3-4).
    assert filtered.returncode == 0, filtered.stderr
    header, *alices = _lines(filtered.stdout)
    assert header["filters"] == {"user": "alice"}
    assert [r["seq"] for r in alices] == [1, 3, 4]
    path = tmp_path / "alice.jsonl"
    path.write_text(filtered.stdout)
    checked = await cli("audit", "verify", "--file", str(path))
    assert checked.returncode == 0, checked.stdout
    assert "filtered export: links checked between consecutive records (1 gap(s))" in (
        checked.stdout
    )


async def test_export_verifies_and_a_tampered_export_names_the_broken_record(
    audit: Any, nats_url: str, tenant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = await _publish(nats_url, tenant, [_call(n, f"user{n}") for n in range(1, 8)])
    await _stored(audit, tenant, 7)

    exported = await cli(
        "audit", "export", "--tenant", tenant, "--page-size", "3", nats_url=nats_url
    )
    assert exported.returncode == 0, exported.stderr
    assert f"exported 7 record(s) of tenant {tenant} (seq 1..7)" in exported.stderr
    header, *records = _lines(exported.stdout)
    assert header == {"llmops_audit_export": 1, "tenant": tenant, "anchor": None, "filters": {}}
    assert [r["seq"] for r in records] == list(range(1, 8))
    assert [r["event_id"] for r in records] == [e.id for e in sent]
    path = tmp_path / "export.jsonl"
    path.write_text(exported.stdout)

    tampered = json.loads(json.dumps(records))
    tampered[3]["event"]["data"]["usage"]["input_tokens"] = 4000
    cases: dict[str, tuple[list[dict[str, Any]], int, str]] = {
        "intact": (
            [header, *records],
            0,
            f"ok: tenant {tenant}: 7 record(s) (seq 1..7) verified, head {records[-1]['hash']}",
        ),
        "tampered": ([header, *tampered], 1, f"modified at seq 4 (event {sent[3].id})"),
        "deleted": (
            [header, *records[:4], *records[5:]],
            1,
            f"missing at seq 6 (event {sent[5].id})",
        ),
        "swapped": ([header, *records[:2], records[3], records[2], *records[4:]], 1, "at seq 4"),
        # A range without a header (e.g. saved `query --json` output) starting mid-chain.
        "partial": (records[2:], 0, "partial: starts at seq 3, not anchored"),
        # A full export (its header says so) that lost its first records is broken, not partial.
        "cut": ([header, *records[2:]], 1, "missing at seq 3"),
    }

    async def verify(name: str) -> tuple[int, str]:
        lines, _, _ = cases[name]
        target = tmp_path / f"{name}.jsonl"
        target.write_text("".join(json.dumps(line) + "\n" for line in lines))
        result = await cli("audit", "verify", "--file", str(target))
        return result.returncode, result.stdout

    outcomes = dict(zip(cases, await asyncio.gather(*map(verify, cases)), strict=True))
    for name, (_, code, text) in cases.items():
        assert outcomes[name][0] == code, (name, outcomes[name])
        assert text in outcomes[name][1], (name, outcomes[name])
    assert f"BROKEN: tenant {tenant}" in outcomes["tampered"][1]

    # The same files in-process, with a fresh verifier every 2 records (as every 50,000 in
    # real use, to bound memory): the verdicts and the named records do not change.
    monkeypatch.setattr(llmops.audit, "VERIFIER_SPAN", 2)
    for name, (lines, code, _) in cases.items():
        report = llmops.audit.verify_lines(json.dumps(line) for line in lines)
        check = report.tenants[tenant]
        assert report.ok is (code == 0), (name, check)
        if check.breaks:
            assert outcomes[name][1].count(f"at seq {check.breaks[0].seq} ") == 1, name
    intact = llmops.audit.verify_lines(json.dumps(line) for line in [header, *records])
    assert intact.tenants[tenant].checked == 7
    assert intact.tenants[tenant].last_hash == records[-1]["hash"]

    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text(path.read_text() + "{not json\n")
    from_stdin, unreadable, other = await asyncio.gather(
        cli("audit", "verify", "--file", "-", "--tenant", tenant, stdin=path.read_text()),
        cli("audit", "verify", "--file", str(garbage)),
        cli("audit", "verify", "--file", str(path), "--tenant", "someone-else"),
    )
    assert from_stdin.returncode == 0, from_stdin.stdout
    assert unreadable.returncode == 1
    assert "line 9: not JSON" in unreadable.stdout
    assert other.returncode == 1
    assert "no records of tenant 'someone-else'" in other.stdout


async def test_verify_in_the_database_then_purge_keeps_the_chain_and_the_export_verifiable(
    audit: Any, nats_url: str, tenant: str, tmp_path: Path
) -> None:
    await _publish(nats_url, tenant, [_call(n) for n in range(3)])
    await _stored(audit, tenant, 3)
    await _publish(nats_url, tenant, [_call(n) for n in range(3, 5)])
    await _stored(audit, tenant, 5)
    stored = [r async for r in audit.service.repository.records(tenant)]
    assert stored[3]["recorded_at"] > stored[2]["recorded_at"]

    verified = await cli("audit", "verify", "--tenant", tenant, nats_url=nats_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"ok: tenant {tenant}: 5 record(s) (seq 1..5) verified" in verified.stdout

    cut = stored[3]["recorded_at"]  # purge the first batch (recorded strictly before this)
    declined = await cli(
        "audit", "purge", "--tenant", tenant, "--before", cut, nats_url=nats_url, stdin="n\n"
    )
    assert declined.returncode == 1
    assert await audit.service.repository.count(tenant) == 5

    purged = await cli(
        "audit", "purge", "--tenant", tenant, "--before", cut, "--yes", nats_url=nats_url
    )
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert f"purged 3 record(s) of tenant {tenant}; the chain now starts after seq 3" in (
        purged.stdout
    )
    assert f"purge checkpoint: seq 3 hash {stored[2]['hash']}" in purged.stdout

    again = await cli("audit", "verify", "--tenant", tenant, nats_url=nats_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"ok: tenant {tenant}: 2 record(s) (seq 4..5) verified" in again.stdout

    nothing = await cli(
        "audit", "purge", "--tenant", tenant, "--before", "2000-01-01", "-y", nats_url=nats_url
    )
    assert nothing.returncode == 0, nothing.stderr
    assert "nothing to purge" in nothing.stdout

    exported = await cli("audit", "export", "--tenant", tenant, nats_url=nats_url)
    assert exported.returncode == 0, exported.stderr
    header, *records = _lines(exported.stdout)
    assert header["anchor"]["seq"] == 3
    assert header["anchor"]["kind"] == "purge"
    assert header["anchor"]["hash"] == stored[2]["hash"]
    assert [r["seq"] for r in records] == [4, 5]
    path = tmp_path / "after-purge.jsonl"
    path.write_text(exported.stdout)

    unsigned = await cli("audit", "verify", "--file", str(path))
    assert unsigned.returncode == 0, unsigned.stdout
    assert "anchored at purge checkpoint seq 3 (signature unchecked)" in unsigned.stdout
    signed = await cli("audit", "verify", "--file", str(path), LLMOPS_AUDIT_PUBLIC_KEY=PUBLIC_KEY)
    assert signed.returncode == 0, signed.stdout
    assert "(signature valid)" in signed.stdout
    key_file = tmp_path / "other.pub"  # another service's public key, in a file
    key_file.write_text(Signer.generate().public_key.hex() + "\n")
    wrong = await cli("audit", "verify", "--file", str(path), "--public-key", str(key_file))
    assert wrong.returncode == 1
    assert "checkpoint at seq 3" in wrong.stdout
    assert "unknown key" in wrong.stdout
    bad = await cli("audit", "verify", "--file", str(path), "--public-key", "not-a-key")
    assert bad.returncode == 2

    header["anchor"]["hash"] = "ab" * 32  # a forged anchor does not link to the records
    forged = tmp_path / "forged.jsonl"
    forged.write_text("".join(json.dumps(x) + "\n" for x in [header, *records]))
    refused = await cli("audit", "verify", "--file", str(forged))
    assert refused.returncode == 1
    assert f"at seq 4 (event {records[0]['event_id']})" in refused.stdout


async def test_export_asks_again_in_halves_when_a_page_exceeds_the_nats_message_limit(
    audit: Any, nats_url: str, tenant: str
) -> None:
    text = "long prompt " * 25_000  # 300 kB a record: 6 records exceed NATS's default 1 MB
    content = Content(input_messages=[Message(role="user", content=text)])
    calls: list[Payload] = [_call(n).model_copy(update={"content": content}) for n in range(6)]
    await _publish(nats_url, tenant, calls)
    await _stored(audit, tenant, 6)

    exported = await cli(
        "audit", "export", "--tenant", tenant, "--page-size", "6", nats_url=nats_url
    )
    assert exported.returncode == 0, exported.stderr
    _, *records = _lines(exported.stdout)
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[0]["event"]["data"]["content"]["input_messages"][0]["content"] == text


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("query", "--tenant", "acme", "--since", "yesterday"), "--since"),
        (("export", "--tenant", "acme", "--until", "7 parsecs"), "--until"),
        (("purge", "--tenant", "acme", "--before", "2026-13-45", "--yes"), "--before"),
        (("query", "--tenant", "a.b"), "--tenant"),
        (("verify",), "--tenant"),
    ],
)
async def test_bad_arguments_exit_2_naming_the_option(
    args: tuple[str, ...], complaint: str
) -> None:
    result = await cli("audit", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert complaint in result.stderr


async def test_no_audit_service_or_no_server_is_a_clear_error(nats_url: str, tenant: str) -> None:
    no_service, no_server = await asyncio.gather(
        cli("audit", "verify", "--tenant", tenant, nats_url=nats_url),
        cli("audit", "query", "--tenant", tenant, nats_url=NO_SERVER),
    )
    assert no_service.returncode == 1
    assert "no audit service answers" in no_service.stderr
    assert no_server.returncode == 1
    assert "no NATS server reachable" in no_server.stderr
