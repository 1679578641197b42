"""The shared batch consumer with fakes: every message ends stored, dead-lettered or retried.

The fakes stand for a JetStream message (records what was done to it), a store (one transaction
per call, refusing the items it is told to) and the dead-letterer (publishes, then terminates).
The same rules run against a real nats-server in ``tests/reliability/test_batch_isolation.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import sqlalchemy.exc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmops_contracts.dlq import FailureKind
from llmops_contracts.registry import InvalidMessage
from llmops_shared.batch import BatchConsumer, is_permanent, is_transient
from llmops_shared.jetstream import NotAcknowledged

MAX_DELIVER = 3
ACK_WAIT_S = 30.0


class Message:
    """A JetStream message that records its acknowledgement."""

    def __init__(self, body: str, deliveries: int = 1) -> None:
        self.data = body.encode()
        self.subject = "llmops.evt.llm.call_completed.acme"
        self.headers: dict[str, str] = {}
        self.reply = "$JS.ACK.EVENTS.c.1.1.1.1.0"
        self.deliveries = deliveries
        self.actions: list[Any] = []

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(num_delivered=self.deliveries, sequence=SimpleNamespace(stream=1))

    async def ack(self) -> None:
        self.actions.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.actions.append(("nak", delay))

    async def term(self) -> None:
        self.actions.append("term")


class Letters:
    """The dead-letterer: publishes (or fails to, with NATS away), then terminates."""

    def __init__(self, *, broken: bool = False) -> None:
        self.broken = broken
        self.sent: list[tuple[bytes, FailureKind, str]] = []

    async def send(self, msg: Message, failure: FailureKind, error: str) -> None:
        if self.broken:
            raise TimeoutError("nats: timeout")
        self.sent.append((msg.data, failure, error))
        await msg.term()


def outage() -> Exception:
    return sqlalchemy.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("locked"))


class Store:
    """One transaction per call: all items or none. ``poison`` maps an item to its error."""

    def __init__(self, poison: dict[str, Exception] | None = None, *, away: bool = False) -> None:
        self.poison = poison or {}
        self.away = away
        self.committed: list[str] = []
        self.calls: list[tuple[list[str], bool]] = []

    async def __call__(self, items: Sequence[str], msgs: Sequence[Any], retry: bool) -> None:
        self.calls.append((list(items), retry))
        if self.away:
            raise outage()
        for item in items:
            if item in self.poison:
                raise self.poison[item]
        self.committed += items


def decode(msg: Any) -> str:
    body = msg.data.decode()
    if body.startswith("bad"):
        raise InvalidMessage("(message): not valid JSON")
    if body.startswith("deep"):
        raise RecursionError("maximum recursion depth exceeded")
    return str(body)


class Timer:
    """Monotonic seconds that pass only when a test says so (a store that takes time)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def consumer(store: Store, letters: Letters, timer: Timer | None = None) -> BatchConsumer[str]:
    return BatchConsumer(
        "test",
        decode,
        store,
        lambda: letters,
        MAX_DELIVER,
        ack_wait_s=ACK_WAIT_S,
        backoff=lambda n: float(n),
        timer=timer or Timer(),
    )


def batch(*bodies: str, deliveries: int = 1) -> list[Message]:
    return [Message(b, deliveries) for b in bodies]


def settled_once(msgs: Sequence[Message]) -> None:
    for m in msgs:
        assert len(m.actions) == 1, f"{m.data!r}: {m.actions}"


async def test_a_good_batch_is_stored_in_one_transaction_and_acked() -> None:
    store, letters = Store(), Letters()
    msgs = batch("a", "b", "c")
    outcome = await consumer(store, letters)(msgs)
    assert store.calls == [(["a", "b", "c"], False)]
    assert [m.actions for m in msgs] == [["ack"]] * 3
    assert (outcome.stored, outcome.dead_lettered, outcome.retried) == (3, 0, 0)


async def test_undecodable_messages_are_dead_lettered_as_invalid_and_the_rest_stored() -> None:
    store, letters = Store(), Letters()
    msgs = batch("a", "bad1", "b", "deep", "c")
    await consumer(store, letters)(msgs)
    assert store.committed == ["a", "b", "c"]
    assert [(body, kind) for body, kind, _ in letters.sent] == [
        (b"bad1", FailureKind.INVALID),
        (b"deep", FailureKind.INVALID),
    ]
    assert "RecursionError" in letters.sent[1][2]
    assert [m.actions[0] for m in msgs] == ["ack", "term", "ack", "term", "ack"]
    settled_once(msgs)


async def test_an_item_that_cannot_be_hashed_is_dead_lettered_at_once_and_the_rest_kept_in_order() -> (
    None
):
    store = Store({"p": RecursionError("maximum recursion depth exceeded while hashing")})
    letters = Letters()
    bodies = [f"e{i}" for i in range(10)]
    bodies.insert(6, "p")
    msgs = batch(*bodies)
    outcome = await consumer(store, letters)(msgs)
    assert store.committed == [b for b in bodies if b != "p"]  # in stream order
    assert letters.sent == [
        (
            b"p",
            FailureKind.INVALID,
            "RecursionError: maximum recursion depth exceeded while hashing",
        )
    ]
    assert outcome.isolated
    # A bisection, not one transaction per item.
    assert len(store.calls) < len(bodies)
    assert all(retry for _, retry in store.calls[1:])
    settled_once(msgs)


async def test_an_item_failing_for_an_unknown_reason_is_retried_then_dead_lettered() -> None:
    store = Store({"p": ValueError("numeric field overflow")})
    letters = Letters()
    for deliveries in range(1, MAX_DELIVER):
        msgs = batch("a", "p", "b", deliveries=deliveries)
        await consumer(store, letters)(msgs)
        assert msgs[1].actions == [("nak", float(deliveries))]  # backoff after this delivery
        assert letters.sent == []
    msgs = batch("p", "c", deliveries=MAX_DELIVER)
    await consumer(store, letters)(msgs)
    assert letters.sent == [(b"p", FailureKind.FAILED, "ValueError: numeric field overflow")]
    assert msgs[0].actions == ["term"]
    assert store.committed == ["a", "b"] * (MAX_DELIVER - 1) + ["c"]


async def test_an_outage_naks_the_whole_batch_with_backoff_and_dead_letters_nothing() -> None:
    store, letters = Store(away=True), Letters()
    msgs = batch("a", "bad", "b", deliveries=2)
    outcome = await consumer(store, letters)(msgs)
    assert len(store.calls) == 1
    assert [m.actions for m in (msgs[0], msgs[2])] == [[("nak", 2.0)]] * 2
    assert msgs[1].actions == ["term"]  # the invalid one is dead-lettered all the same
    assert outcome.retried == 2


async def test_an_outage_outliving_the_delivery_limit_still_loses_nothing() -> None:
    store, letters = Store(away=True), Letters()
    msgs = batch(*[f"e{i}" for i in range(64)], deliveries=MAX_DELIVER + 10)
    outcome = await consumer(store, letters)(msgs)
    # Two probes (the first item, then the rest) tell an outage from a poison item.
    assert len(store.calls) == 3
    assert letters.sent == []
    assert all(m.actions == [("nak", float(MAX_DELIVER + 10))] for m in msgs)
    assert outcome.retried == 64


async def test_an_outage_ending_during_the_probes_dead_letters_nothing() -> None:
    class Recovering(Store):
        async def __call__(self, items: Sequence[str], msgs: Sequence[Any], retry: bool) -> None:
            self.away = len(self.calls) < 2  # the whole batch and the first probe still fail
            await super().__call__(items, msgs, retry)

    store, letters = Recovering(), Letters()
    msgs = batch("a", "b", "c", deliveries=MAX_DELIVER)
    await consumer(store, letters)(msgs)
    assert letters.sent == []
    assert sorted(store.committed) == ["a", "b", "c"]
    assert [m.actions for m in msgs] == [["ack"]] * 3


async def test_a_lone_message_in_an_outage_is_never_dead_lettered() -> None:
    store, letters = Store(away=True), Letters()
    msgs = batch("a", deliveries=50)
    await consumer(store, letters)(msgs)
    assert letters.sent == []
    assert msgs[0].actions == [("nak", 50.0)]


async def test_a_poison_item_that_fails_like_an_outage_cannot_stall_its_neighbours() -> None:
    # Redelivered messages come first in a pull, so a poison keeps leading its batch.
    store, letters = Store({"p": NotAcknowledged("no stream (status 503)")}), Letters()
    msgs = [Message("p", MAX_DELIVER), *batch("a", "b", "c")]
    await consumer(store, letters)(msgs)
    assert store.committed == ["a", "b", "c"]
    # Retried, never dead-lettered: from here it cannot be told from an outage.
    assert letters.sent == []
    assert msgs[0].actions == [("nak", float(MAX_DELIVER))]
    settled_once(msgs)


class Blinking(Store):
    """A store away (locked) on the calls ``down(n)`` says, counted from 0."""

    def __init__(
        self, down: Callable[[int], bool], poison: dict[str, Exception] | None = None
    ) -> None:
        super().__init__(poison)
        self.down = down

    async def __call__(self, items: Sequence[str], msgs: Sequence[Any], retry: bool) -> None:
        self.away = self.down(len(self.calls))
        await super().__call__(items, msgs, retry)


async def test_a_store_back_for_a_moment_in_a_long_outage_dead_letters_nothing() -> None:
    # Past the delivery limit the batch is probed; only the probe (the 2nd call) finds the lock
    # released. The rest fails like an outage again: it is one, though something stored.
    store, letters = Blinking(lambda call: call != 1), Letters()
    msgs = batch(*[f"e{i}" for i in range(16)], deliveries=MAX_DELIVER)
    outcome = await consumer(store, letters)(msgs)
    assert (outcome.stored, outcome.dead_lettered, outcome.retried) == (1, 0, 15)
    assert len(store.calls) == 3  # not 2n - 1 attempts, each waiting out a lock
    assert letters.sent == []
    assert msgs[0].actions == ["ack"]
    assert all(m.actions == [("nak", float(MAX_DELIVER))] for m in msgs[1:])


async def test_an_outage_during_the_search_for_a_poison_blames_no_item() -> None:
    # A poison makes the batch fail; its left half stores, then the database goes away.
    error = ValueError("numeric field overflow")
    store, letters = Blinking(lambda call: call >= 2, {"p": error}), Letters()
    msgs = batch("a", "b", "p", "c", deliveries=MAX_DELIVER)
    outcome = await consumer(store, letters)(msgs)
    assert store.committed == ["a", "b"]
    assert letters.sent == []
    assert [m.actions for m in msgs[2:]] == [[("nak", float(MAX_DELIVER))]] * 2
    assert (outcome.stored, outcome.dead_lettered, outcome.retried) == (2, 0, 2)


async def test_isolation_stops_at_half_the_ack_wait_and_naks_the_rest() -> None:
    timer = Timer()

    class Slow(Store):
        async def __call__(self, items: Sequence[str], msgs: Sequence[Any], retry: bool) -> None:
            timer.now += ACK_WAIT_S / 3  # e.g. each attempt waits out a lock timeout
            await super().__call__(items, msgs, retry)

    store, letters = Slow({"p": ValueError("numeric field overflow")}), Letters()
    msgs = batch(*[f"e{i}" for i in range(7)], "p")
    outcome = await consumer(store, letters, timer)(msgs)
    # The whole batch (10 s), its left half (20 s): past 15 s no attempt starts.
    assert store.calls == [([*store.calls[0][0]], False), (["e0", "e1", "e2", "e3"], True)]
    assert [m.actions for m in msgs[:4]] == [["ack"]] * 4
    assert [m.actions for m in msgs[4:]] == [[("nak", 1.0)]] * 4
    assert (outcome.stored, outcome.retried) == (4, 4)


async def test_a_dead_letter_that_cannot_be_published_leaves_the_message_for_a_retry() -> None:
    store, letters = Store(), Letters(broken=True)
    msgs = batch("a", "bad", "b", "bad2")
    outcome = await consumer(store, letters)(msgs)
    assert store.committed == ["a", "b"]
    assert [m.actions for m in msgs] == [["ack"], [("nak", 1.0)], ["ack"], [("nak", 1.0)]]
    assert outcome.dead_lettered == 0


async def test_a_bug_in_a_callback_never_terminates_or_acks_the_batch() -> None:
    def broken_decode(msg: Any) -> str:
        raise AssertionError("unreachable")  # any exception: treated as the item's

    letters = Letters()
    msgs = batch("a")
    consume = BatchConsumer(
        "test", broken_decode, Store(), lambda: None, MAX_DELIVER, ack_wait_s=ACK_WAIT_S
    )
    await consume(msgs)
    # Not bound yet (no dead-letterer): retried, not terminated.
    assert msgs[0].actions == [("nak", 1.0)]
    assert letters.sent == []


def test_classification() -> None:
    assert is_transient(outage())
    assert is_transient(ConnectionRefusedError())
    assert is_transient(NotAcknowledged("x"))
    assert not is_transient(ValueError("x"))
    assert not is_transient(sqlalchemy.exc.DataError("INSERT", {}, ValueError("too long")))
    assert is_permanent(RecursionError())
    assert is_permanent(InvalidMessage("x"))
    assert not is_permanent(ValueError("x"))


# --- property: no input makes a valid neighbour disappear ---------------------------------------

KINDS = ("ok", "bad", "deep", "perm", "det", "flaky")
ERRORS: dict[str, Exception] = {
    "perm": RecursionError("too deep"),
    "det": ValueError("numeric field overflow"),
    "flaky": NotAcknowledged("no stream"),  # a poison that looks like an outage
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=40),
    deliveries=st.lists(st.integers(1, MAX_DELIVER + 2), min_size=40, max_size=40),
    away=st.booleans(),
    locked=st.sets(st.integers(0, 40), max_size=6),  # store calls that find the database locked
    letters_broken=st.booleans(),
)
async def test_no_input_makes_a_valid_neighbour_disappear(
    kinds: list[str], deliveries: list[int], away: bool, locked: set[int], letters_broken: bool
) -> None:
    bodies = [f"{k}{i}" for i, k in enumerate(kinds)]
    msgs = [Message(b, deliveries[i]) for i, b in enumerate(bodies)]
    poison = {b: ERRORS[k] for b, k in zip(bodies, kinds, strict=True) if k in ERRORS}
    store = Blinking(lambda call: away or call in locked, poison)
    letters = Letters(broken=letters_broken)
    await consumer(store, letters)(msgs)

    settled_once(msgs)  # every message: exactly one of ack, nak, term
    dead = {body for body, _, _ in letters.sent}
    kind_of = dict(zip(bodies, kinds, strict=True))
    for body, failure, reason in letters.sent:
        # Only an item's own failure dead-letters it, never an outage (nor what looks like one).
        expected = ("det",) if failure == FailureKind.FAILED else ("bad", "deep", "perm")
        assert kind_of[body.decode()] in expected, f"{body!r} dead-lettered for {reason}"
    for m, kind in zip(msgs, kinds, strict=True):
        action = m.actions[0]
        body = m.data.decode()
        if action == "ack":
            assert body in store.committed, "acked but not stored"
        elif action == "term":
            assert m.data in dead, "terminated but not dead-lettered"
        if kind == "ok":
            # Stored, or (an outage, or a poison that fails like one and is not yet past its
            # delivery limit) redelivered with the batch: never dropped.
            assert action == "ack" or action[0] == "nak", "a valid neighbour was dropped"
            if not away and not locked and "flaky" not in kinds:
                assert action == "ack", "a valid neighbour was not stored"
    assert len(store.committed) == len(set(store.committed)), "stored twice"
    # In stream order, but for a first item that stored only when tried alone again: the
    # first that decodes ("bad" and "deep" are dead-lettered before the store sees a batch).
    first = next((b for b, k in zip(bodies, kinds, strict=True) if k not in ("bad", "deep")), "")
    in_order = [b for b in store.committed if b != first or not locked]
    assert in_order == [b for b in bodies if b in in_order], "stream order lost"
