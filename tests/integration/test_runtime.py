"""The shared runtime against a real server: retries, dead letters, request errors, health, drain."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from nats.js.api import DeliverPolicy

from llmops import Client, NoStreamError, RequestError
from llmops_contracts import subjects, wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.guardrails import GuardrailCheckRequest, GuardrailVerdict, Stage
from llmops_contracts.tools import ToolCallRequested
from llmops_shared.barrier import server_caught_up
from llmops_shared.broker import consumer_config
from llmops_shared.jetstream import JetStreamSink, MessageTooLarge, NotAcknowledged, Refused
from llmops_shared.runtime import service_app
from llmops_shared.settings import ServiceSettings
from tests.conftest import eventually, running


class ProbeSettings(ServiceSettings):
    service = "probe"


def _probe_app(settings: ProbeSettings, uid: str, *, fail_times: int, seen: list[Any]) -> Any:
    durable = f"probe-{uid}"

    def routes(broker: NatsBroker) -> NatsRouter:
        router = NatsRouter()

        @router.subscriber(
            subjects.any_tenant(subjects.TOOL_CALL_REQUESTED),
            stream=JStream(subjects.EVENTS_STREAM, declare=False),
            durable=durable,
            config=consumer_config(settings, durable, deliver_all=False),
            pull_sub=PullSub(batch_size=10, timeout=0.05),
        )
        async def on_tool_call(event: Envelope[ToolCallRequested]) -> None:
            """Fails the first ``fail_times`` deliveries of each event, like a flaky dependency."""
            seen.append(event.id)
            if seen.count(event.id) <= fail_times:
                raise ConnectionError("dependency unavailable")

        @router.subscriber(subjects.any_tenant(subjects.GUARDRAILS_CHECK), queue="probe")
        async def check(request: Envelope[GuardrailCheckRequest]) -> Envelope[GuardrailVerdict]:
            """Answers every check with allow."""
            if request.data.content == "explode":
                raise RuntimeError("policy store down")
            return wrap(
                GuardrailVerdict(outcome="allow", policy="p", policy_version="1", took_ms=0.1),
                tenant=request.tenant,
                source="llmops/probe",
                causation=request,
            )

        return router

    return service_app(settings, routes)


def _settings(nats_url: str, **overrides: Any) -> ProbeSettings:
    return ProbeSettings(nats_url=nats_url, health_port=0, **overrides)


def _tool_call(tenant: str) -> Envelope[Any]:
    return wrap(
        ToolCallRequested(call_id="c1", tool_name="search", arguments={"q": "x"}),
        tenant=tenant,
        source="app://test",
    )


async def _probe_letters(nats_url: str, event_id: str) -> list[dict]:
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().subscribe(
            subjects.dlq_filter("probe")[0],
            stream=subjects.DLQ_STREAM,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        found = []
        while True:
            try:
                msg = await sub.next_msg(timeout=0.2)
            except nats.errors.TimeoutError:
                break
            letter = json.loads(msg.data)
            if json.loads(letter["data"]["payload"]).get("id") == event_id:
                found.append(letter)
        return found
    finally:
        await nc.close()


async def test_a_transient_failure_is_retried_until_it_succeeds(
    nats_url: str, uid: str, tenant: str
) -> None:
    seen: list[Any] = []
    app = _probe_app(_settings(nats_url, max_deliver=5), uid, fail_times=1, seen=seen)
    async with running(app):
        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            event = await client.publish(_tool_call(tenant))
        # First delivery fails, the redelivery (after a 1 s backoff) succeeds.
        await eventually(lambda: seen.count(event.id) == 2, timeout=10)
        await asyncio.sleep(0.3)
        assert seen.count(event.id) == 2
    assert await _probe_letters(nats_url, event.id) == []


async def test_a_persistent_failure_is_dead_lettered_after_max_deliveries(
    nats_url: str, uid: str, tenant: str
) -> None:
    seen: list[Any] = []
    app = _probe_app(_settings(nats_url, max_deliver=2), uid, fail_times=99, seen=seen)
    async with running(app):
        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            event = await client.publish(_tool_call(tenant))
        letters = await eventually(lambda: _probe_letters(nats_url, event.id), timeout=15)
        assert seen.count(event.id) == 2
    letter = letters[0]["data"]
    assert letter["failure"] == "failed"
    assert letter["deliveries"] == 2
    assert "ConnectionError: dependency unavailable" in letter["error"]
    assert len(letters) == 1


async def test_requests_get_clear_errors_instead_of_timeouts(
    nats_url: str, uid: str, tenant: str
) -> None:
    app = _probe_app(_settings(nats_url), uid, fail_times=0, seen=[])
    async with running(app):
        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            ok = await client.request(GuardrailCheckRequest(stage=Stage.INPUT, content="hi"))
            assert ok.data.outcome == "allow"
            assert ok.causation_id is not None

            with pytest.raises(RequestError) as failed:
                await client.request(GuardrailCheckRequest(stage=Stage.INPUT, content="explode"))
            assert failed.value.kind == "failed"
            assert "policy store down" in failed.value.reason

            bad = json.loads(
                wrap(
                    GuardrailCheckRequest(stage=Stage.INPUT, content="x"), tenant=tenant, source="a"
                ).to_json()
            )
            bad["data"]["stage"] = "sideways"
            reply = await client.nc.request(
                subjects.for_tenant(subjects.GUARDRAILS_CHECK, tenant),
                json.dumps(bad).encode(),
                timeout=5,
            )
            assert reply.headers["Llmops-Error"] == "invalid"
            assert json.loads(reply.data)["reason"].startswith("data.stage:")


async def _http(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_health_readiness_and_metrics(nats_url: str, uid: str) -> None:
    app = _probe_app(_settings(nats_url, loop_stall_s=0.3), uid, fail_times=0, seen=[])
    async with running(app):
        port = app.state.health_port
        assert await _http(port, "/healthz") == (200, b'{"service": "probe", "status": "ok"}')
        status, _ = await _http(port, "/readyz")
        assert status == 200
        status, metrics = await _http(port, "/metrics")
        assert status == 200
        assert b"llmops_dead_letters_total" in metrics
        assert b"faststream_received_messages_total" in metrics
        assert (await _http(port, "/nope"))[0] == 404
        assert app.state.last_beat is not None  # the heartbeat runs with the service
        time.sleep(0.4)  # noqa: ASYNC251 - a stalled event loop, on purpose
        assert not app.state.ready
        await eventually(lambda: app.state.ready)  # it runs again: ready again
        app.state.draining = True  # what SIGTERM sets first: readiness drops before the drain
        assert (await _http(port, "/readyz"))[0] == 503


async def test_streams_are_declared_with_configured_limits(
    nats_url: str, uid: str, tmp_path: Path
) -> None:
    app = _probe_app(_settings(nats_url, dlq_max_age_days=7), uid, fail_times=0, seen=[])
    async with running(app):
        nc = await nats.connect(nats_url)
        info = await nc.jetstream().stream_info(subjects.DLQ_STREAM)
        await nc.close()
    assert info.config.max_age == pytest.approx(7 * 86400)
    assert info.config.duplicate_window == pytest.approx(120)
    # Restore the default for the rest of the session.
    async with running(_probe_app(_settings(nats_url), uid, fail_times=0, seen=[])):
        pass


async def test_the_sink_leaves_out_only_what_the_server_never_takes(
    nats_url: str, uid: str
) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    stream = f"SINK_{uid}"
    await js.add_stream(name=stream, subjects=[f"sink.{uid}.>"], max_msg_size=512)
    try:
        sink = JetStreamSink(lambda: nc)
        small = (f"sink.{uid}.a", b"{}", {})
        over_stream = (f"sink.{uid}.b", b"x" * 600, {})  # the stream refuses it
        over_server = (f"sink.{uid}.c", b"x" * (nc.max_payload + 1), {})  # never sent
        messages = [small, over_stream, over_server, small]
        left_out = await sink.publish_storable(messages)
        assert [i for i, _ in left_out] == [1, 2]
        assert "message size exceeds maximum allowed" in left_out[0][1]
        assert left_out[1][1] == f"{nc.max_payload + 1} bytes; the server takes {nc.max_payload}"
        assert (await js.stream_info(stream)).state.messages == 2  # the two others, stored
        # publish (all or raise) is unchanged.
        with pytest.raises(MessageTooLarge):
            await sink.publish_batch(messages)
        with pytest.raises(Refused, match="message size exceeds maximum allowed"):
            await sink.publish_batch([small, over_stream])
    finally:
        await js.delete_stream(stream)
        await nc.close()


@pytest.mark.parametrize("answer", [b"", b'{"ok": true}', b'{"error": "invalid", "reason": "no"}'])
async def test_the_sink_counts_only_jetstream_answers(
    nats_url: str, uid: str, answer: bytes
) -> None:
    """A plain subscriber that replies to a stored subject is not an acknowledgement.

    JetStream publishes carry the ack inbox as their reply subject, so a plain subscriber of
    the subject (a replica listening to an event) that replies reaches the publisher first; an
    empty answer once read as "no stream" and failed a publish JetStream stored.
    """
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    stream = f"ACKS_{uid}"
    await js.add_stream(name=stream, subjects=[f"acks.{uid}.>"])
    answered: list[str] = []

    async def reply_at_once(msg: Any) -> None:
        answered.append(msg.subject)
        await msg.respond(answer)

    await nc.subscribe(f"acks.{uid}.>", cb=reply_at_once)
    await nc.subscribe(f"bare.{uid}.>", cb=reply_at_once)
    await nc.flush()
    try:
        sink = JetStreamSink(lambda: nc, timeout_s=1.0)
        await sink.publish_batch([(f"acks.{uid}.{i}", b"{}", {}) for i in range(20)])
        assert (await js.stream_info(stream)).state.messages == 20
        assert len(answered) == 20  # every publish was answered by the plain subscriber too
        # With no stream, only the subscriber answers: not acknowledged, never "stored".
        with pytest.raises(NotAcknowledged):
            await sink.publish_batch([(f"bare.{uid}.x", b"{}", {})])
    finally:
        await js.delete_stream(stream)
        await nc.close()


async def test_a_subscription_is_live_for_other_connections_once_the_server_caught_up(
    nats_url: str, uid: str
) -> None:
    """After ``server_caught_up``, a request from another connection always finds the responder.

    nats-py's ``flush()`` alone lets its PING overtake a SUB still in the client's buffer: in
    300 tries like these, 5-20 requests got "no responders".
    """
    serving, asking = await nats.connect(nats_url), await nats.connect(nats_url)
    try:
        for i in range(300):
            subject = f"barrier.{uid}.{i}"

            async def answer(msg: Any) -> None:
                await serving.publish(msg.reply, b"ok")

            sub = await serving.subscribe(subject, queue="q", cb=answer)
            await server_caught_up(serving)
            assert (await asking.request(subject, b"", timeout=5)).data == b"ok"
            await sub.unsubscribe()
    finally:
        await serving.close()
        await asking.close()


@pytest.mark.parametrize("answer", [b"", b'{"ok": true}', b'{"error": "invalid", "reason": "no"}'])
async def test_the_client_takes_only_jetstream_answers_as_acknowledgements(
    nats_url: str, tenant: str, answer: bytes
) -> None:
    """An application's plain subscriber that replies to events does not fail the client's publish.

    nats-py's ``js.publish`` took the first reply as JetStream's: an empty one (FastStream's
    answer to a handler returning None) failed with a JSON error, an error-shaped one as a
    refusal, though JetStream stored the message.
    """
    listener = await nats.connect(nats_url)
    replied: list[str] = []

    async def reply_at_once(msg: Any) -> None:
        replied.append(msg.subject)
        await msg.respond(answer)

    await listener.subscribe(f"{subjects.TOOL_CALL_REQUESTED}.{tenant}", cb=reply_at_once)
    await server_caught_up(listener)
    js = listener.jetstream()
    try:
        async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
            for _ in range(10):
                env = await client.publish(ToolCallRequested(tool_name="search", call_id="c1"))
                stored = await js.get_last_msg(subjects.EVENTS_STREAM, env.subject())
                assert stored.headers
                assert stored.headers["Nats-Msg-Id"] == env.id
            again = [ToolCallRequested(tool_name="search", call_id=f"c{i}") for i in range(30)]
            assert await client.publish_many(again) == 30
            assert await client.publish(env) == env  # a retry: dropped as a duplicate, no error
        await eventually(lambda: len(replied) >= 41, timeout=2)
        assert len(replied) == 41, replied[:3]  # the listener answered every publish
    finally:
        await listener.close()


async def test_publish_many_keeps_at_most_its_window_awaiting_answers(
    nats_url: str, tenant: str
) -> None:
    """A large batch is pipelined in a window: every message stored, never more than ``window``
    acknowledgements awaited at once, and a second run of the same envelopes all duplicates."""
    async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
        answers = client._answers
        publish, most = answers.publish, 0

        async def counting(*args: Any) -> Any:
            nonlocal most
            future = await publish(*args)
            most = max(most, sum(not f.done() for f in answers._waiting.values()))
            return future

        answers.publish = counting  # type: ignore[method-assign]
        batch = [
            client.envelope(ToolCallRequested(tool_name="search", call_id=f"w{i}"))
            for i in range(200)
        ]
        assert await client.publish_many(iter(batch), window=8) == 200
        assert 1 <= most <= 8
        assert await client.publish_many(batch, window=8) == 0  # all duplicates
        assert not answers._waiting
        with pytest.raises(ValueError, match="window"):
            await client.publish_many(batch, window=0)


async def test_publish_many_failing_midway_can_be_retried_with_the_same_envelopes(
    nats_url: str, tenant: str
) -> None:
    """The iterator fails after 20 messages: nothing is left waiting, and publishing the same
    envelopes again stores exactly the ones that had not been stored (their ids dedupe)."""
    async with await Client.connect(nats_url, source="app://t", tenant=tenant) as client:
        batch = [
            client.envelope(ToolCallRequested(tool_name="search", call_id=f"f{i}"))
            for i in range(30)
        ]

        def failing() -> Iterator[Envelope[Any]]:
            yield from batch[:20]
            raise RuntimeError("the source broke")

        with pytest.raises(RuntimeError, match="source broke"):
            await client.publish_many(failing(), window=8)
        await asyncio.sleep(0)  # the futures' done callbacks (which forget them) run next
        assert not client._answers._waiting
        # The first 20 had left (the server stores them in order, before the retry's copies);
        # the last 10 never did.
        assert await client.publish_many(batch, window=8) == 10
        assert await client.publish_many(batch) == 0  # now every one is stored, once


@pytest.mark.parametrize(
    "answer", [None, b"", b'{"ok": true}', b'{"error": "invalid", "reason": "no"}']
)
async def test_without_a_stream_a_listeners_reply_is_not_an_acknowledgement(
    own_nats: str, tenant: str, answer: bytes | None
) -> None:
    """With no stream, ``publish`` names the missing stream; a plain listener's reply (which
    stops the server's "no responders" answer) leaves it waiting, then timing out, never
    "stored" and never a JSON error."""
    nc = await nats.connect(own_nats)
    await nc.jetstream().delete_stream(subjects.EVENTS_STREAM)
    if answer is not None:

        async def reply_at_once(msg: Any) -> None:
            await msg.respond(answer)

        await nc.subscribe(f"{subjects.TOOL_CALL_REQUESTED}.{tenant}", cb=reply_at_once)
        await server_caught_up(nc)
    expected: type[Exception] = NoStreamError if answer is None else nats.errors.TimeoutError
    try:
        async with await Client.connect(own_nats, source="app://t", tenant=tenant) as client:
            with pytest.raises(expected):
                await client.publish(ToolCallRequested(tool_name="s", call_id="c1"), timeout=0.5)
            with pytest.raises(expected):
                await client.publish_many(
                    [ToolCallRequested(tool_name="s", call_id="c2")], timeout=0.5
                )
            assert not client._answers._waiting  # nothing left waiting after the failures
    finally:
        await nc.close()


async def test_a_publish_that_never_left_leaves_nothing_waiting(nats_url: str, tenant: str) -> None:
    nc = await nats.connect(nats_url)
    client = Client(nc, source="app://t", tenant=tenant)
    try:
        too_large = b"x" * (nc.max_payload + 1)
        for _ in range(3):
            with pytest.raises(nats.errors.MaxPayloadError):
                await client.store(f"{subjects.TOOL_CALL_REQUESTED}.{tenant}", too_large, {})
        assert not client._answers._waiting
        await client.publish(ToolCallRequested(tool_name="s", call_id="c1"))
        # A client over a borrowed connection gives its answer inbox back; it can start again.
        await client.release()
        assert not [s for s in nc._subs.values() if s.subject.startswith("_INBOX.")]
        await client.publish(ToolCallRequested(tool_name="s", call_id="c2"))
    finally:
        await nc.close()
