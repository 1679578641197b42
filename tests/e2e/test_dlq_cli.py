"""`llmops dlq list/replay` against a real nats-server and a real costs service.

A call the costs service gave up on (dead-lettered as ``failed`` after its retries, as when its
database stayed locked for a minute) is replayed to its original subject and then priced once;
replaying again changes nothing. The letters are published exactly as ``DeadLetterer`` does.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nats
from nats.aio.msg import Msg
from typer.testing import CliRunner, Result

from llmops import Client
from llmops.cli import app
from llmops_contracts import headers, subjects
from llmops_contracts.costs import CostReportQuery
from llmops_contracts.dlq import FailureKind
from llmops_contracts.llm import Usage
from llmops_contracts.registry import parse
from llmops_costs.app import create_app
from llmops_shared.blobs import BlobStore
from llmops_shared.clock import ShiftedClock
from llmops_shared.dlq import DeadLetterer, dead_letter_envelope
from tests.conftest import eventually, running
from tests.services.costs.support import NOW, call, drained, settings


async def cli(*args: str) -> Result:
    # typer's runner in a thread: the CLI runs its own event loop, this one keeps serving.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def dead_letter(
    js: Any, service: str, original_subject: str, body: bytes, failure: FailureKind, seq: int
) -> None:
    """Store a dead letter of ``body`` the way ``DeadLetterer.send`` does."""
    # as received: ids may differ per copy
    msg = received(original_subject, body, {headers.MSG_ID: f"orig-{seq}"})
    letter = dead_letter_envelope(service, msg, failure, "OperationalError: database is locked")
    await js.publish(
        letter.subject(), letter.to_json(), headers={headers.MSG_ID: f"dlq-{service}-{seq}"}
    )


async def stamped(js: Any, seq: int) -> datetime:
    """When the server stored dead letter ``seq`` (its own clock, nanoseconds cut to micro)."""
    raw = await js.get_msg(subjects.DLQ_STREAM, seq)
    stamp = str(raw.time)
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{whole}.{(fraction + '000000')[:6]}+00:00")


async def calls_priced(client: Client, since: datetime) -> int:
    report = await client.request(CostReportQuery(since=since, granularity="total"), timeout=10)
    return int(report.data.total.calls)


async def test_a_failed_call_is_replayed_and_priced_exactly_once(
    own_nats: str, tmp_path: Path, uid: str, tenant: str, monkeypatch: Any
) -> None:
    monkeypatch.setenv("NATS_URL", own_nats)
    since = NOW - timedelta(hours=1)  # the calls are dated NOW, the service's clock starts there
    failed = call(tenant, usage=Usage(input_tokens=1000, output_tokens=10))
    other = call(tenant, usage=Usage(input_tokens=5, output_tokens=5))
    subject = failed.subject()
    nc = await nats.connect(own_nats)
    js = nc.jetstream()
    # the failed call (dead-lettered twice, as after a crash between its two copies), an invalid
    # message, a call of another tenant, and a letter of another service
    await dead_letter(js, "costs", subject, failed.to_json(), FailureKind.FAILED, 1)
    await dead_letter(js, "costs", subject, failed.to_json(), FailureKind.FAILED, 2)
    await dead_letter(js, "costs", subject, b"{not json", FailureKind.INVALID, 3)
    await dead_letter(
        js, "costs", other.subject().replace(tenant, "globex"), b"{}", FailureKind.FAILED, 4
    )
    await dead_letter(js, "evaluation", other.subject(), other.to_json(), FailureKind.FAILED, 5)
    cfg = settings(own_nats, f"sqlite:///{tmp_path / 'costs.db'}", uid)
    app_ = create_app(cfg, ShiftedClock(NOW))
    try:
        async with (
            running(app_),
            await Client.connect(own_nats, source="cli://t", tenant=tenant) as client,
        ):
            listed = await cli("dlq", "list", "--service", "costs", "--tenant", tenant, "--json")
            assert listed.exit_code == 0, listed.output
            rows = [json.loads(line) for line in listed.stdout.splitlines()]
            assert [(r["dlq_seq"], r["failure"], r["tenant"]) for r in rows] == [
                (1, "failed", tenant),
                (2, "failed", tenant),
                (3, "invalid", tenant),
            ]
            assert rows[0]["letter"]["data"]["original_subject"] == subject
            everything = await cli("dlq", "list", "--json")
            assert len(everything.stdout.splitlines()) == 5
            only_invalid = await cli("dlq", "list", "--reason", "invalid", "--json")
            assert [json.loads(x)["dlq_seq"] for x in only_invalid.stdout.splitlines()] == [3]
            # --since selects by the server's stamp on each letter; a relative "1h" would count
            # from this process's clock, which a shifted-clock run moves away from the server's.
            first, last = await stamped(js, 1), await stamped(js, 5)
            before = (first - timedelta(seconds=1)).isoformat()
            recent = await cli("dlq", "list", "--since", before, "--json")
            assert len(recent.stdout.splitlines()) == 5
            after = (last + timedelta(seconds=1)).isoformat()
            none_yet = await cli("dlq", "list", "--since", after, "--json")
            assert none_yet.exit_code == 0, none_yet.output
            assert none_yet.stdout.splitlines() == []

            dry = await cli("dlq", "replay", "--service", "costs", "--tenant", tenant, "--dry-run")
            assert dry.exit_code == 0, dry.output
            assert "would replay 1 dead letter(s) of service costs (failed)" in dry.stdout
            assert await calls_priced(client, since) == 0

            done = await cli("dlq", "replay", "--service", "costs", "--tenant", tenant)
            assert done.exit_code == 0, done.output
            assert "replayed 1 dead letter(s) of service costs (failed)" in done.stdout
            assert f"1 to {subject}" in done.stdout
            assert "skipped 1 letter(s) of an original already replayed" in done.stdout
            await eventually(lambda: calls_priced(client, since), timeout=20)
            assert await calls_priced(client, since) == 1

            # Again: JetStream drops the repeat within its window; the service would anyway.
            again = await cli("dlq", "replay", "--service", "costs", "--tenant", tenant)
            assert again.exit_code == 0, again.output
            assert "replayed 0 dead letter(s)" in again.stdout
            assert "dropped by JetStream as replayed moments ago" in again.stdout
            replayed = await js.get_last_msg(subjects.EVENTS_STREAM, subject)
            assert replayed.headers is not None
            assert replayed.headers[headers.REPLAY_OF] == f"{subjects.DLQ_STREAM}:1"
            assert json.loads(replayed.data)["id"] == failed.id
            # and after the window, the service's own idempotency: the same event once more
            ack = await js.publish(
                subject, failed.to_json(), headers={headers.MSG_ID: "late-replay"}
            )
            await eventually(lambda: drained(js, cfg.llm_calls_durable, ack.seq))
            assert await calls_priced(client, since) == 1
    finally:
        await nc.close()


async def stored(js: Any, subject: str) -> int:
    """How many messages the EVENTS stream holds on ``subject``."""
    info = await js.stream_info(subjects.EVENTS_STREAM, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


async def test_a_letter_is_never_replayed_into_another_tenant(
    own_nats: str, tenant: str, monkeypatch: Any
) -> None:
    monkeypatch.setenv("NATS_URL", own_nats)
    globex = f"globex-{tenant}"
    theirs, ours = call(globex), call(tenant)
    nc = await nats.connect(own_nats)
    try:
        js = nc.jetstream()
        failed = FailureKind.FAILED
        # On our DLQ subject, a body naming globex's subject (a service's bug or a forgery)...
        forged = dead_letter_envelope("costs", _msg(theirs), failed, "x")
        forged = forged.model_copy(update={"tenant": tenant})
        await js.publish(subjects.dlq_for("costs", tenant), forged.to_json())
        # ... a letter of ours on the old tenant-less subject (its tenant is unknown) ...
        legacy = dead_letter_envelope("costs", _msg(ours), failed, "x")
        await js.publish(f"{subjects.DLQ}.costs", legacy.to_json())
        # ... and one of ours on our subject whose body claims globex.
        claims = dead_letter_envelope("costs", _msg(ours), failed, "x")
        claims = claims.model_copy(update={"tenant": globex})
        await js.publish(subjects.dlq_for("costs", tenant), claims.to_json())

        scoped = await cli("dlq", "replay", "--service", "costs", "--tenant", tenant)
        assert scoped.exit_code == 0, scoped.output
        assert "replayed 0 dead letter(s)" in scoped.stdout
        assert "skipped 1 letter(s) naming a subject outside their tenant" in scoped.stdout
        assert "skipped 1 letter(s) that do not parse as dead letters" in scoped.stdout
        assert f"DLQ seq 1: refused: its original subject '{theirs.subject()}'" in scoped.stderr
        assert "DLQ seq 3: unreadable: tenant: " in scoped.stderr
        everyone = await cli("dlq", "replay", "--service", "costs")
        assert "replayed 0 dead letter(s)" in everyone.stdout
        assert "skipped 2 letter(s) naming a subject outside their tenant" in everyone.stdout
        assert "DLQ seq 2: refused" in everyone.stderr
        assert await stored(js, theirs.subject()) == 0
        assert await stored(js, ours.subject()) == 0
    finally:
        await nc.close()


def received(subject: str, body: bytes, with_headers: dict[str, str]) -> Msg:
    """A message as a service received it."""
    return Msg(_client=None, subject=subject, data=body, headers=with_headers)  # type: ignore[arg-type]


def _msg(event: Any) -> Msg:
    """The message a service received ``event`` as."""
    return received(event.subject(), event.to_json(), {headers.MSG_ID: event.id})


async def test_an_originals_nats_headers_are_not_replayed_and_a_failure_stops_nothing(
    own_nats: str, tenant: str, monkeypatch: Any
) -> None:
    monkeypatch.setenv("NATS_URL", own_nats)
    first, second = call(tenant), call(tenant)
    # What JetStream stored with the original: its publisher's conditions and instructions.
    control = {
        "Nats-Expected-Last-Sequence": "1",
        "Nats-Expected-Last-Subject-Sequence": "1",
        "Nats-Expected-Last-Msg-Id": "an-older-one",
        "Nats-Expected-Stream": "ELSEWHERE",
        "Nats-Rollup": "all",
        "Nats-TTL": "1s",
        "Nats-Incr": "1",
        "Nats-Schedule": "@every 1s",
        "nats-batch-id": "b1",
    }
    own = {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01", "X-App": "bot"}
    nc = await nats.connect(own_nats)
    try:
        js = nc.jetstream()
        for msg in (
            received(
                first.subject(), first.to_json(), {headers.MSG_ID: first.id, **control, **own}
            ),
            # a subject no stream answers on: its publish fails, and only it
            received(f"{subjects.LLM_CALL_COMPLETED}..{tenant}", b"{}", {}),
            _msg(second),
        ):
            letter = dead_letter_envelope("costs", msg, FailureKind.FAILED, "x")
            await js.publish(letter.subject(), letter.to_json())

        done = await cli("dlq", "replay", "--service", "costs", "--tenant", tenant)
        assert done.exit_code == 1, done.output
        assert "replayed 2 dead letter(s)" in done.stdout
        assert "DLQ seq 2: failed: publishing to 'llmops.evt.llm.call_completed.." in done.stderr
        assert "failed to replay 1 letter(s)" in done.stderr
        replays = [await js.get_msg(subjects.EVENTS_STREAM, seq) for seq in (1, 2)]
        assert [r.data for r in replays] == [first.to_json(), second.to_json()]
        assert replays[0].headers == {
            **own,
            headers.MSG_ID: "dlq-replay:1",
            headers.REPLAY_OF: f"{subjects.DLQ_STREAM}:1",
        }
    finally:
        await nc.close()


class SmallServer(BlobStore):
    """The suite's object store, as seen by a service connected to a server whose
    ``max_payload`` is 64 KiB."""

    def max_payload(self) -> int:
        return 64 * 1024


async def test_originals_kept_by_reference_are_replayed_byte_for_byte_with_their_headers(
    own_nats: str, tenant: str, monkeypatch: Any
) -> None:
    monkeypatch.setenv("NATS_URL", own_nats)
    subject = subjects.for_tenant(subjects.LLM_CALL_COMPLETED, tenant)
    nc = await nats.connect(own_nats)
    near_limit = nc.max_payload - 200_000  # whole as a message; base64 in a letter would not be
    originals = [
        # binary payloads: kept by reference (without ids of their own, as a bad producer's)
        received(subject, os.urandom(near_limit), {"X-App": "bot", "Nats-Expected-Stream": "E"}),
        received(subject, os.urandom(near_limit), {}),
        # headers that JSON doubles ('"' is escaped): kept by reference too, on a server whose
        # max_payload is 64 KiB (JetStream stores at most 64 KiB of headers, so at the default
        # 1 MiB no stored message has headers that large)
        received(subject, b"{}", {"X-Quote": '"' * 40_000}),
        received(subject, os.urandom(near_limit), {headers.MSG_ID: "to-be-tampered"}),
    ]
    try:
        js = nc.jetstream()
        for n, msg in enumerate(originals):
            blobs = SmallServer(lambda: nc) if n == 2 else None
            await DeadLetterer("costs", nc, blobs).send(msg, FailureKind.FAILED, "locked")
        stored = [parse((await js.get_msg(subjects.DLQ_STREAM, n)).data) for n in (1, 2, 3, 4)]
        assert [x.data.payload_encoding for x in stored] == ["ref"] * 4
        assert [x.data.headers_ref is not None for x in stored] == [False, False, True, False]
        tampered = stored[3].data.payload_ref
        bucket = await js.object_store(tampered.bucket)
        await bucket.put(tampered.name, b"not what the letter says")

        done = await cli("dlq", "replay", "--service", "costs", "--tenant", tenant)
        assert done.exit_code == 1, done.output
        assert "replayed 3 dead letter(s)" in done.stdout, done.stderr
        assert "DLQ seq 4: failed: its original is unavailable: object " in done.stderr
        assert "does not match its reference" in done.stderr
        for seq, msg in enumerate(originals[:3], 1):
            replayed = await js.get_msg(subjects.EVENTS_STREAM, seq)
            assert replayed.data == msg.data
            assert replayed.headers == {
                **{k: v for k, v in (msg.headers or {}).items() if not k.startswith("Nats-")},
                headers.MSG_ID: f"dlq-replay:{seq}",
                headers.REPLAY_OF: f"{subjects.DLQ_STREAM}:{seq}",
            }
    finally:
        await nc.close()


async def test_replay_needs_a_service_and_valid_filters() -> None:
    missing = await cli("dlq", "replay")
    assert missing.exit_code == 2
    bad = await cli("dlq", "list", "--tenant", "a.b")
    assert bad.exit_code == 2
    assert "--tenant" in bad.output
