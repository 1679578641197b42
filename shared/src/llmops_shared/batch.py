"""Batch consumers that never lose a batch: every message is stored, dead-lettered or retried.

A service's batch handler (audit's capture, costs' LLM calls, and any to come) hands the raw
JetStream messages of a pull to a :class:`BatchConsumer`, with two callbacks: ``decode`` (one
message to one item; pure) and ``store`` (a list of items in one transaction). The consumer
decides what happens to each message, and it alone acknowledges them (the subscriber runs with
FastStream's ``AckPolicy.MANUAL``, so FastStream never acks, naks or terminates a batch):

- a message that does not decode is dead-lettered as ``invalid`` at once;
- the decoded items are stored together; on success each message is acked;
- a failure that looks like an outage (:func:`is_transient`: the database or NATS away or
  locked) naks the batch with backoff (:func:`~llmops_shared.broker.backoff_s`), with no
  delivery limit: an outage of any length loses nothing;
- any other failure *isolates* the batch: it is stored in halves, in stream order, down to
  single items where needed (iterative, so isolation adds no stack depth to an item that hashes
  close to the recursion limit). What stores is acked; an item that fails alone is the poison:
  dead-lettered at once when the error is the item's for certain (:func:`is_permanent`:
  invalid, or too deeply nested to process), after ``max_deliver`` deliveries otherwise (nak'ed
  with backoff until then);
- a transient failure during isolation is an outage too, whether or not a part stored before
  it (a database lock released for a moment, then taken again): isolation stops and every
  unsettled message is nak'ed with backoff. A transient error is never the reason a message is
  dead-lettered;
- an "outage" that outlives ``max_deliver`` deliveries probes the batch's first item alone,
  then the rest: redelivered messages lead their pull, so an item that fails like an outage on
  its own (a poison that looks like one) would otherwise hold its neighbours back for good. In
  an outage both fail (two more attempts, then everything is nak'ed); else the neighbours store
  and that item alone is nak'ed, to be retried for as long as it fails;
- one delivery's isolation stops starting store attempts once half of the consumer's ack wait
  has passed since the batch arrived, and naks what it did not reach: each attempt may wait
  out a lock timeout, and a batch still being isolated when the ack wait ends would be
  redelivered (to another replica, too) while this one still works on it;
- a dead letter that cannot be published (NATS away) leaves its message nak'ed, never
  terminated.

So no path acknowledges or terminates a message that was neither stored nor dead-lettered,
and a poison message costs its batch one isolation per delivery, not its neighbours' place.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import nats.errors
import nats.js.errors
import sqlalchemy.exc
from nats.aio.msg import Msg
from prometheus_client import Counter
from pydantic import ValidationError

from llmops_contracts.dlq import FailureKind
from llmops_contracts.registry import InvalidMessage
from llmops_shared.dlq import DeadLetterer, bounded, delivery_of, reason_of
from llmops_shared.jetstream import NotAcknowledged
from llmops_shared.logging import get_logger

T = TypeVar("T")

BATCH_RETRIES = Counter(
    "llmops_batch_retries_total",
    "Messages of consumed batches nak'ed for a later delivery, by cause.",
    ["service", "cause"],
)
BATCH_ISOLATIONS = Counter(
    "llmops_batch_isolations_total",
    "Batches whose store failed and that were stored in parts to find the failing items.",
    ["service"],
)

_log = get_logger(__name__)

#: Share of the consumer's ack wait one delivery may spend storing before it stops isolating:
#: an attempt started just before may still wait out a lock timeout (5 s on SQLite) and its
#: acks must reach the server before the ack wait ends.
ISOLATION_SHARE = 0.5

#: Failures of the database or NATS rather than of an item.
_TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,  # nats.errors.TimeoutError and asyncio's are ones
    OSError,
    sqlalchemy.exc.OperationalError,  # "database is locked", connection lost, deadlock
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection in time
    nats.errors.ConnectionClosedError,
    nats.errors.NoServersError,
    nats.errors.NoRespondersError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.js.errors.ServiceUnavailableError,
    NotAcknowledged,
)

#: Failures that say the item itself can never be processed.
_PERMANENT: tuple[type[BaseException], ...] = (
    InvalidMessage,
    ValidationError,
    RecursionError,  # nested too deeply to hash or serialise
    UnicodeError,
)


def is_transient(exc: BaseException) -> bool:
    """Whether a failure is of the database or NATS (worth retrying the whole batch)."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _TRANSIENT)


def is_permanent(exc: BaseException) -> bool:
    """Whether a failure of one item alone means it will never be processed."""
    return isinstance(exc, _PERMANENT)


#: ``decode(message)``: the item, or an exception (any: decoding is pure, so it is the item's).
Decode = Callable[[Msg], T]
#: ``store(items, messages, retry)``: store in one transaction or raise. ``retry`` is True when
#: the items are stored again within the same delivery (an earlier attempt may have committed).
Store = Callable[[Sequence[T], Sequence[Msg], bool], Awaitable[object]]


@dataclass
class Outcome:
    """What one batch came to (message counts)."""

    stored: int = 0
    dead_lettered: int = 0
    retried: int = 0
    isolated: bool = False


class BatchConsumer(Generic[T]):
    """Stores a JetStream batch item by item's fate, never losing one (see the module doc).

    Args:
        service: the service name, for logs and metrics.
        decode: one message to one item.
        store: stores items in one transaction, or raises.
        letters: returns the service's dead-letterer (bound once the broker connects).
        max_deliver: deliveries after which a failing item is dead-lettered.
        ack_wait_s: the consumer's ack wait; isolation starts no store attempt after
            :data:`ISOLATION_SHARE` of it has passed since the batch arrived.
        transient: whether a store failure is an outage (default :func:`is_transient`).
        backoff: the nak delay after a delivery (default
            :func:`llmops_shared.broker.backoff_s`).
        timer: monotonic seconds, for the isolation deadline (default :func:`time.monotonic`).
    """

    def __init__(
        self,
        service: str,
        decode: Decode[T],
        store: Store[T],
        letters: Callable[[], DeadLetterer | None],
        max_deliver: int,
        *,
        ack_wait_s: float,
        transient: Callable[[BaseException], bool] = is_transient,
        backoff: Callable[[int], float] | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.decode = decode
        self.store = store
        self.letters = letters
        self.max_deliver = max_deliver
        self.budget_s = ack_wait_s * ISOLATION_SHARE
        self.transient = transient
        self.timer = timer
        if backoff is None:
            from llmops_shared.broker import backoff_s  # the broker module imports this one

            backoff = backoff_s
        self.backoff = backoff

    async def __call__(self, batch: Sequence[Msg]) -> Outcome:
        """Decode, store, ack, dead-letter or nak every message of ``batch``; never raises
        (except cancellation, which leaves the unsettled messages to the server's ack wait)."""
        run = _Run(self, batch)
        try:
            await run.run()
        except Exception:  # a bug here or in a callback: retry what is not settled
            _log.exception("batch handling failed; unsettled messages will be redelivered")
            await run.nak_unsettled("error")
        return run.outcome


class _Run(Generic[T]):
    """The handling of one batch: which messages are settled, and how."""

    def __init__(self, owner: BatchConsumer[T], batch: Sequence[Msg]) -> None:
        self.owner = owner
        self.batch = batch
        self.done: set[int] = set()  # id() of each settled message
        self.outcome = Outcome()
        self.letters: list[tuple[Msg, FailureKind, str]] = []
        self.started = owner.timer()

    def out_of_time(self) -> bool:
        """Whether this delivery has spent its share of the ack wait (see the module doc)."""
        return self.owner.timer() - self.started >= self.owner.budget_s

    async def run(self) -> None:
        owner = self.owner
        items: list[T] = []
        kept: list[Msg] = []
        for msg in self.batch:
            try:
                items.append(owner.decode(msg))
            except Exception as exc:
                self.letters.append((msg, FailureKind.INVALID, reason_of(exc)))
            else:
                kept.append(msg)
        if items:
            await self.store_all(items, kept)
        await self.dead_letter()

    async def store_all(self, items: list[T], msgs: list[Msg]) -> None:
        owner = self.owner
        try:
            await owner.store(items, msgs, False)
        except Exception as exc:
            deliveries = _most_deliveries(msgs)
            if owner.transient(exc) and (deliveries < owner.max_deliver or len(items) == 1):
                _log.warning(
                    "storing a batch failed; it will be redelivered",
                    error=bounded(reason_of(exc), 500),
                    deliveries=deliveries,
                    messages=len(msgs),
                )
                await self.nak(msgs, owner.backoff(deliveries), "outage")
                return
            await self.isolate(items, msgs, exc)
        else:
            await self.ack(msgs)

    async def isolate(self, items: list[T], msgs: list[Msg], first: Exception) -> None:
        """Store in halves, left first (stream order), down to single items where they fail;
        stop at an outage or at the deadline and nak what is left."""
        owner = self.owner
        self.outcome.isolated = True
        BATCH_ISOLATIONS.labels(owner.service).inc()
        _log.warning(
            "storing a batch failed; storing it in parts to find the failing messages",
            error=bounded(reason_of(first), 500),
            messages=len(msgs),
        )
        failed: list[tuple[int, Exception]] = []
        n = len(items)
        # Explicit stack of [lo, hi) ranges, the left one on top. After an outage-like failure
        # (past the delivery limit) the first item is probed alone, then the rest (see the
        # module doc); else the batch is halved.
        probing = owner.transient(first)
        split = 1 if probing else n // 2
        stack = [(split, n), (0, split)] if n > 1 else []
        if n == 1:  # a lone item failing like an outage is nak'ed before isolation
            failed.append((0, first))
        probe: Exception | None = None  # the first item's outage-like failure alone
        stored_any = False
        stop: str | None = None  # why isolation ended early (then the unsettled are nak'ed)
        while stack:
            if self.out_of_time():
                stop = "deadline"
                _log.warning(
                    "isolating a batch ran out of time; the rest will be redelivered",
                    spent_s=round(owner.timer() - self.started, 3),
                )
                break
            lo, hi = stack.pop()
            try:
                await owner.store(items[lo:hi], msgs[lo:hi], True)
            except Exception as exc:
                if owner.transient(exc):
                    if probing and (lo, hi) == (0, 1):
                        probe = exc
                        continue
                    # An outage, even if a part stored before it (the store came back for a
                    # moment): smaller parts would only blame items for it, each attempt
                    # possibly waiting out a lock timeout.
                    stop = "outage"
                    _log.warning(
                        "storing part of a batch failed like an outage; the rest will be "
                        "redelivered",
                        error=bounded(reason_of(exc), 500),
                    )
                    break
                if hi - lo == 1:
                    failed.append((lo, exc))
                else:
                    mid = (lo + hi) // 2
                    stack += [(mid, hi), (lo, mid)]
            else:
                stored_any = True
                await self.ack(msgs[lo:hi])
        if probe is not None and stop is None:
            await self.retry_first(items, msgs, probe, stored_any, failed)
        await self.give_up_or_retry(msgs, failed)
        if stop is not None:
            await self.nak_unsettled(stop, keep_letters=True)

    async def retry_first(
        self,
        items: list[T],
        msgs: list[Msg],
        error: Exception,
        stored_any: bool,
        failed: list[tuple[int, Exception]],
    ) -> None:
        """Settle the first item, which failed alone like an outage while the rest did not."""
        owner = self.owner
        if stored_any and not self.out_of_time():
            # The store may have come back between the probe and the rest (a lock released):
            # one more try alone tells; a success is chained after its batch, the only
            # reordering isolation makes.
            try:
                await owner.store(items[:1], msgs[:1], True)
            except Exception as again:
                error = again
            else:
                await self.ack(msgs[:1])
                return
        if not owner.transient(error):
            failed.insert(0, (0, error))
            return
        deliveries = delivery_of(msgs[0])[0]
        _log.warning(
            "a message fails alone like an outage while its neighbours do not; it will be "
            "retried, never dead-lettered for it",
            subject=msgs[0].subject,
            error=bounded(reason_of(error), 500),
            deliveries=deliveries,
        )
        await self.nak(msgs[:1], owner.backoff(deliveries), "item")

    async def give_up_or_retry(self, msgs: list[Msg], failed: list[tuple[int, Exception]]) -> None:
        """Items that failed alone, for their own reason: dead-letter (permanent, or past the
        delivery limit) or nak with backoff."""
        owner = self.owner
        for i, error in failed:
            msg = msgs[i]
            if is_permanent(error):
                self.letters.append((msg, FailureKind.INVALID, reason_of(error)))
                continue
            deliveries = delivery_of(msg)[0]
            if deliveries >= owner.max_deliver:
                self.letters.append((msg, FailureKind.FAILED, reason_of(error)))
                continue
            _log.warning(
                "a message failed alone; it will be retried",
                subject=msg.subject,
                error=bounded(reason_of(error), 500),
                deliveries=deliveries,
            )
            await self.nak([msg], owner.backoff(deliveries), "item")

    async def dead_letter(self) -> None:
        """Publish the dead letters; if one cannot be, nak it and the rest (never terminate)."""
        for n, (msg, kind, reason) in enumerate(self.letters):
            if id(msg) in self.done:
                continue
            letters = self.owner.letters()
            try:
                if letters is None:
                    raise RuntimeError("the dead-letterer is not bound (not connected yet)")
                await letters.send(msg, kind, reason)
            except Exception as exc:
                _log.warning(
                    "dead-lettering failed; the message will be redelivered",
                    error=bounded(reason_of(exc), 500),
                )
                rest = [m for m, _, _ in self.letters[n:]]
                await self.nak(rest, self.owner.backoff(_most_deliveries(rest)), "dead_letter")
                return
            self.settle([msg])
            self.outcome.dead_lettered += 1

    def settle(self, msgs: Sequence[Msg]) -> Sequence[Msg]:
        """Mark messages settled; returns those that were not already."""
        done = self.done
        if not done:  # the common case: nothing settled yet (performance)
            done.update(map(id, msgs))
            return msgs
        fresh = [m for m in msgs if id(m) not in done]
        done.update(map(id, fresh))
        return fresh

    async def ack(self, msgs: Sequence[Msg]) -> None:
        fresh = self.settle(msgs)
        self.outcome.stored += len(fresh)
        lost = 0
        for msg in fresh:
            try:
                await msg.ack()
            except Exception:
                lost += 1
        if lost:  # stored anyway: each is redelivered after the ack wait and skipped by its id
            _log.warning("acks lost; the messages will come back and be skipped", messages=lost)

    async def nak(self, msgs: Sequence[Msg], delay: float, cause: str) -> None:
        fresh = self.settle(msgs)
        if not fresh:
            return
        self.outcome.retried += len(fresh)
        BATCH_RETRIES.labels(self.owner.service, cause).inc(len(fresh))
        lost = 0
        for msg in fresh:
            try:
                await msg.nak(delay=delay)
            except Exception:
                lost += 1
        if lost:  # NATS away: the server redelivers them after the ack wait instead
            _log.warning("naks lost; the messages come back after the ack wait", messages=lost)

    async def nak_unsettled(self, cause: str, *, keep_letters: bool = False) -> None:
        """Nak every message not settled yet (``keep_letters``: except those awaiting their
        dead letter, which :meth:`dead_letter` settles next)."""
        waiting = {id(m) for m, _, _ in self.letters} if keep_letters else set()
        rest = [m for m in self.batch if id(m) not in self.done and id(m) not in waiting]
        if rest:
            await self.nak(rest, self.owner.backoff(_most_deliveries(rest)), cause)


def _most_deliveries(msgs: Sequence[Any]) -> int:
    return max((delivery_of(m)[0] for m in msgs), default=1)
