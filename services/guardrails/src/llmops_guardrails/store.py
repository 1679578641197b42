"""Adapters of the guardrails service: policies in a JetStream key-value bucket, and the local
outbox of verdicts in a SQLite file.

**Policies** (:class:`KvPolicyStore`), bucket ``llmops_guardrails_policies``, one key per
version and two pointers per policy::

    <tenant>.<policy>.v.<version>   the YAML document of that version (never rewritten)
    <tenant>.<policy>.enforced      the version in force
    <tenant>.<policy>.shadow        the version run in shadow (absent: none)

Every version stays, so a rollback is a pointer move to any version ever pushed; the bucket's
history keeps the pointers' earlier values too. Every replica watches the pointers and reloads
the policy whose pointer moved (:meth:`KvPolicyStore.watch`).

**Rate windows** (:class:`KvRateWindows`), bucket ``llmops_guardrails_rates``: one key per
tool rate window, ``<tenant>.<hash of policy, version, rule and scope key>``, holding its
allowed calls; every replica reads and compare-and-sets the same keys, so a limit holds
whatever the number of replicas, and a key expires once its window is over.

**Outbox** (:class:`SqliteOutbox`): the verdict events stored before a check is answered (see
:mod:`llmops_guardrails.recorder`). The write is on the check's path, so it uses the standard
library's ``sqlite3`` directly, on the event loop: one small insert and commit, with the WAL
journal and ``synchronous=NORMAL`` — durable across a crash of the process, which is the
failure it is for, without an fsync per check (an async engine would add a thread hop per
write). The schema is still the service's Alembic revisions (``migrations/``), applied at open.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import sqlite3
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from nats.js.api import Header, KeyValueConfig, StorageType
from nats.js.errors import (
    APIError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, Text, create_engine

from llmops_contracts import subjects
from llmops_contracts.headers import Wire
from llmops_guardrails.toolpolicy import RateLimit, RateUnavailable, Window, WindowId, admit
from llmops_shared.db import migrate
from llmops_shared.logging import get_logger

_log = get_logger(__name__)

SLOTS = ("enforced", "shadow")

# --- policies ---------------------------------------------------------------------------------


def _key(tenant: str, policy: str, *rest: str) -> str:
    return ".".join((tenant, policy, *rest))


async def bind_bucket(connection: Callable[[], Any], config: KeyValueConfig, create: bool) -> Any:
    """The key-value bucket ``config`` names, created with ``config`` when it is missing (unless
    ``create`` is off: an operator owns it). The connection must be up."""
    js = connection().jetstream()
    try:
        return await js.key_value(config.bucket)
    except BucketNotFoundError:
        if not create:
            raise
        return await js.create_key_value(config)


class KvPolicyStore:
    """The :class:`~llmops_guardrails.book.PolicyStore` port on a JetStream key-value bucket.

    Args:
        connection: returns the connected nats-py client (read at use: it connects at start).
        bucket: the bucket's name.
        replicas: its replicas, when this store creates it.
        history: values kept per key (the pointers' earlier versions).
        create: create the bucket when it is missing (off where an operator owns it).
    """

    def __init__(
        self,
        connection: Callable[[], Any],
        *,
        bucket: str = subjects.GUARDRAILS_POLICIES_BUCKET,
        replicas: int = 1,
        history: int = 16,
        create: bool = True,
    ) -> None:
        self._connection = connection
        self.bucket = bucket
        self._replicas = replicas
        self._history = history
        self._create = create
        self._kv: Any = None

    async def open(self) -> None:
        """Bind (or create) the bucket; the connection must be up."""
        config = KeyValueConfig(
            bucket=self.bucket,
            description="Guardrail policies: every version, and the enforced and "
            "shadow version of each tenant's policy.",
            history=self._history,
            storage=StorageType.FILE,
            replicas=self._replicas,
        )
        self._kv = await bind_bucket(self._connection, config, self._create)

    @property
    def kv(self) -> Any:
        """The bucket (after :meth:`open`)."""
        if self._kv is None:
            raise RuntimeError("KvPolicyStore is not open")
        return self._kv

    async def create_document(
        self, tenant: str, policy: str, version: str, document: str
    ) -> str | None:
        """Store a version unless it exists; the stored document when it does."""
        try:
            await self.kv.create(_key(tenant, policy, "v", version), document.encode())
            return None
        except KeyWrongLastSequenceError:
            return await self.document(tenant, policy, version)

    async def document(self, tenant: str, policy: str, version: str) -> str | None:
        """A version's document, or None."""
        return await self._get(_key(tenant, policy, "v", version))

    async def versions(self, tenant: str, policy: str) -> list[str]:
        """The policy's versions, in push order (the bucket's revision order)."""
        prefix = _key(tenant, policy, "v", "")
        entries = await self._entries(f"{prefix}>")
        return [key[len(prefix) :] for key, _ in sorted(entries, key=lambda e: e[1])]

    async def pointer(self, tenant: str, policy: str, slot: str) -> str | None:
        """The version in a slot, or None."""
        return await self._get(_key(tenant, policy, slot))

    async def point(self, tenant: str, policy: str, slot: str, version: str | None) -> None:
        """Put a version in a slot; None deletes the pointer (kept in the key's history)."""
        key = _key(tenant, policy, slot)
        if version is None:
            with contextlib.suppress(KeyNotFoundError):
                await self.kv.delete(key)
            return
        await self.kv.put(key, version.encode())

    async def policies(self, tenant: str) -> list[str]:
        """The tenant's policy ids with a stored version (versions are never deleted)."""
        return sorted({key.split(".")[1] for key in await self._keys(f"{tenant}.*.v.>")})

    async def pointed(self) -> list[tuple[str, str]]:
        """Every ``(tenant, policy)`` with a version in a slot, or that had one (reloading a
        policy whose pointers were emptied is harmless)."""
        found = set()
        for slot in SLOTS:
            for key in await self._keys(f"*.*.{slot}"):
                tenant, policy, _slot = key.split(".")
                found.add((tenant, policy))
        return sorted(found)

    async def watch(self, on_change: Callable[[str, str], Awaitable[None]]) -> None:
        """Call ``on_change(tenant, policy)`` whenever a pointer is written or deleted, until
        cancelled. The watch starts with every current pointer, so a replica (re)starting it
        catches up with what changed while it did not watch."""
        watcher = await self.kv.watch(">", meta_only=True)
        try:
            async for entry in watcher:
                if entry is None:  # the current values have all been delivered
                    continue
                parts = entry.key.split(".")
                if len(parts) == 3 and parts[2] in SLOTS:
                    try:
                        await on_change(parts[0], parts[1])
                    except Exception:  # one policy failing to load must not stop the watch
                        _log.exception("reloading a policy failed", key=entry.key)
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()

    async def _get(self, key: str) -> str | None:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:  # absent, or deleted
            return None
        return entry.value.decode() if entry.value is not None else None

    async def _keys(self, pattern: str) -> list[str]:
        """The keys matching ``pattern`` that hold a message (a deleted key's marker included).

        Read from the stream's per-subject counts, one API request: a watcher's "no more
        values" marker can come before values the server has already sent (nats-py), which
        would make a listing miss keys.
        """
        prefix = f"$KV.{self.bucket}."
        info = (
            await self._connection()
            .jetstream()
            .stream_info(f"KV_{self.bucket}", subjects_filter=f"{prefix}{pattern}")
        )
        return [subject[len(prefix) :] for subject in (info.state.subjects or {})]

    async def _entries(self, pattern: str) -> list[tuple[str, int]]:
        """``(key, revision)`` of the live keys matching ``pattern``."""
        found = []
        for key in await self._keys(pattern):
            try:
                entry = await self.kv.get(key)
            except KeyNotFoundError:  # deleted
                continue
            found.append((key, entry.revision))
        return found


# --- rate windows -----------------------------------------------------------------------------

#: Seconds a window's key outlives its period: the TTL runs on the server's clock, the windows
#: on the replicas' (their instants), which may be a little apart.
RATE_KEY_GRACE_S = 60
#: Windows a replica remembers (the most recently used; see :class:`KvRateWindows`).
KNOWN_WINDOWS = 10_000
#: JetStream's "wrong last sequence" error codes: another writer moved the key first.
_WRONG_LAST_SEQUENCE = (10071, 10164)
#: A call waiting for its window: its instant, its rule's rate, and where its answer goes.
_Ask = tuple[float, RateLimit, asyncio.Future[float | None]]


def window_key(window: WindowId) -> str:
    """The bucket key of a window: its tenant, then a hash of the rest (policy versions, apps
    and agents may hold any character, a key may not)."""
    tenant, *rest = window
    digest = hashlib.sha256(json.dumps(rest).encode()).hexdigest()[:32]
    return f"{tenant}.{digest}"


class KvRateWindows:
    """The :class:`~llmops_guardrails.toolpolicy.RateWindows` port on a JetStream key-value
    bucket every replica shares.

    A window is one key holding its allowed calls (JSON). A round reads it, applies
    :func:`~llmops_guardrails.toolpolicy.admit` and, when a call is admitted, writes the window
    back only if the key is still at the revision it read (compare-and-set); when another
    replica wrote first, it reads and decides again. So replicas together never admit more than
    the limit, and a restart forgets nothing. Calls of one replica to one window that arrive
    while a round runs are decided together in the next one (one read, at most one write), so a
    replica has one round in flight per window and contends only with other replicas. Each write
    carries a TTL (the period plus :data:`RATE_KEY_GRACE_S`): a key vanishes once its calls have
    all left the window.

    A replica remembers the windows it last read or wrote. While a window is full no replica
    can add to it (each admits only against the stored window), so a call the remembered window
    refuses is refused at once, without a round trip: a burst past the limit costs the bucket
    nothing. A remembered window that is not full proves nothing, so an admission always reads.

    A call not answered within ``timeout_s`` (NATS away, JetStream slow) raises
    :class:`~llmops_guardrails.toolpolicy.RateUnavailable`. A write that lands after its caller
    gave up spends a slot for a call that was denied: the error is towards denial.

    Args:
        connection: returns the connected nats-py client (read at use: it connects at start).
        bucket: the bucket's name.
        replicas: its replicas, when this store creates it.
        create: create the bucket when it is missing (off where an operator owns it).
        timeout_s: longest a call waits for its answer.
    """

    def __init__(
        self,
        connection: Callable[[], Any],
        *,
        bucket: str = subjects.GUARDRAILS_RATES_BUCKET,
        replicas: int = 1,
        create: bool = True,
        timeout_s: float = 0.5,
    ) -> None:
        self._connection = connection
        self.bucket = bucket
        self._replicas = replicas
        self._create = create
        self._timeout_s = timeout_s
        self._kv: Any = None
        self._js: Any = None
        self._expire = True
        #: Calls waiting for the next round of their window's key (present while rounds run).
        self._waiting: dict[str, list[_Ask]] = {}
        self._known: dict[str, Window] = {}
        self._rounds_running: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        """Bind (or create) the bucket; the connection must be up."""
        config = KeyValueConfig(
            bucket=self.bucket,
            description="Tool-call rate windows: the calls each window allowed, by key.",
            history=1,
            storage=StorageType.FILE,
            replicas=self._replicas,
            direct=True,  # reads served by any replica: a stale one only makes the CAS retry
        )
        self._kv = await bind_bucket(self._connection, config, self._create)
        self._js = self._connection().jetstream()
        info = await self._js.stream_info(f"KV_{self.bucket}")
        self._expire = bool(info.config.allow_msg_ttl)
        if not self._expire:
            _log.warning(
                "the rate bucket does not allow per-message TTLs: window keys stay until deleted",
                bucket=self.bucket,
            )

    async def take(self, window: WindowId, rate: RateLimit, now: float) -> float | None:
        """See :meth:`~llmops_guardrails.toolpolicy.RateWindows.take`."""
        if self._kv is None:
            raise RateUnavailable("the rate bucket is not open")
        key = window_key(window)
        known = self._known.get(key)
        if known is not None:
            wait = admit(known, rate, now)[1]
            if wait is not None:
                return wait
        answer: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
        ask = (now, rate, answer)
        waiting = self._waiting.get(key)
        if waiting is not None:  # a round for this window is running: join the next one
            waiting.append(ask)
            try:
                async with asyncio.timeout(self._timeout_s):
                    return await answer  # a timeout cancels it: the rounds skip it from then on
            except TimeoutError:
                raise RateUnavailable(f"no rate window within {self._timeout_s} s") from None
        # None running: this call runs the first round itself (no task to hand over to and
        # wait for), and leaves the calls that arrived meanwhile to a task of their own.
        waiting = self._waiting[key] = [ask]
        try:
            await self._next_round(key, waiting)
        finally:
            if waiting:
                task = asyncio.create_task(self._rounds(key, waiting))
                self._rounds_running.add(task)
                task.add_done_callback(self._rounds_running.discard)
            else:
                del self._waiting[key]
        return answer.result()

    async def _rounds(self, key: str, waiting: list[_Ask]) -> None:
        """Run rounds for ``key`` until no call waits."""
        try:
            while waiting:
                await self._next_round(key, waiting)
        finally:
            del self._waiting[key]

    async def _next_round(self, key: str, waiting: list[_Ask]) -> None:
        """Decide the calls waiting for ``key`` (those whose callers still wait) in one round."""
        asks = [ask for ask in waiting if not ask[2].done()]
        waiting.clear()
        if not asks:
            return
        try:
            async with asyncio.timeout(self._timeout_s):
                waits = await self._round(key, [(now, rate) for now, rate, _ in asks])
        except Exception as exc:  # unreachable, slow or refused: this round's calls fail
            _log.warning("rate window unavailable", key=key, error=repr(exc))
            for *_, answer in asks:
                if not answer.done():
                    answer.set_exception(RateUnavailable(repr(exc)))
            return
        for (*_, answer), wait in zip(asks, waits, strict=True):
            if not answer.done():
                answer.set_result(wait)

    async def _round(self, key: str, asks: Sequence[tuple[float, RateLimit]]) -> list[float | None]:
        """Admit or refuse ``asks`` in order against the stored window, compare-and-set."""
        ttl = max(rate.per_s for _, rate in asks) + RATE_KEY_GRACE_S
        while True:
            window, revision = await self._read(key)
            waits = []
            for now, rate in asks:
                window, wait = admit(window, rate, now)
                waits.append(wait)
            if all(w is not None for w in waits) or await self._write(key, window, revision, ttl):
                self._remember(key, window)
                return waits
            # Another replica wrote since the read: decide again on what it wrote.

    def _remember(self, key: str, window: Window) -> None:
        """Keep ``window`` as the newest known for ``key`` (the least recently used forgotten)."""
        self._known.pop(key, None)
        self._known[key] = window
        if len(self._known) > KNOWN_WINDOWS:
            del self._known[next(iter(self._known))]

    async def _read(self, key: str) -> tuple[Window, int]:
        """The stored window and its revision (0: never written, or expired)."""
        try:
            entry = await self._kv.get(key)
        except KeyNotFoundError as exc:  # absent, expired, or deleted (its marker's revision)
            return (), exc.entry.revision if exc.entry is not None else 0
        calls = json.loads(entry.value)
        return tuple((float(at), int(n)) for at, n in calls), entry.revision

    async def _write(self, key: str, window: Window, revision: int, ttl: float) -> bool:
        """Store ``window`` if the key is still at ``revision`` (False: someone wrote first)."""
        try:
            await self._js.publish(
                f"$KV.{self.bucket}.{key}",
                json.dumps(window, separators=(",", ":")).encode(),
                headers={Header.EXPECTED_LAST_SUBJECT_SEQUENCE: str(revision)},
                msg_ttl=ttl if self._expire else None,
            )
        except APIError as exc:
            if exc.err_code in _WRONG_LAST_SEQUENCE:
                return False
            raise
        return True


# --- the outbox -------------------------------------------------------------------------------

metadata = MetaData()
outbox = Table(
    "guardrails_outbox",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(512), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    sqlite_autoincrement=True,
)


class SqliteOutbox:
    """The :class:`~llmops_guardrails.recorder.Outbox` port in a local SQLite file.

    The check path pays for one insert. What the publisher reads back comes from memory (the
    rows this process added, up to ``recent_limit``; beyond that, and for a crash's leftovers at
    start, from the file), and published rows are deleted in batches (every ``delete_every``
    rows or ``delete_after_s``): after a crash, rows published but not yet deleted are published
    again with their ``Nats-Msg-Id``, which JetStream's de-duplication and every consumer drop.

    Args:
        path: the database file (its directory is created).
        recent_limit: rows kept in memory for the publisher; more are read back from the file.
        delete_every: published rows deleted together.
        delete_after_s: longest time a published row waits for its deletion.
        timer: a monotonic clock, in seconds.
    """

    migrations = "llmops_guardrails"
    version_table = "guardrails_alembic_version"

    def __init__(
        self,
        path: Path | str,
        *,
        recent_limit: int = 10_000,
        delete_every: int = 1000,
        delete_after_s: float = 1.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self._recent_limit = recent_limit
        self._delete_every = delete_every
        self._delete_after_s = delete_after_s
        self._timer = timer
        #: (position, message) added by this process and not yet published, oldest first.
        self._recent: deque[tuple[int, Wire]] = deque()
        #: Whether unpublished rows are (also) only in the file: a crash's leftovers, or more
        #: than ``recent_limit`` while JetStream was away.
        self._from_file = False
        self._published = 0  # every position up to this one is published
        self._deleted = 0  # every position up to this one is deleted
        self._deleted_at = 0.0

    def open(self) -> None:
        """Create or migrate the schema, then open the connection the checks write through."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{self.path}")
        try:
            with engine.begin() as conn:
                migrate(conn, self.migrations, self.version_table)
        finally:
            engine.dispose()
        # Autocommit: one statement, one transaction; the checks' single insert needs no more.
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        # No checkpoint on a check's commit: a checkpoint syncs the database file to disk, which
        # would land on whichever check happened to fill the journal. :meth:`checkpoint` does
        # it from a thread of its own instead (the recorder calls it between rounds).
        db.execute("PRAGMA wal_autocheckpoint=0")
        self._db = db
        self._checkpointer = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False
        )
        self._checkpointer.execute("PRAGMA busy_timeout=5000")
        self._recent.clear()
        self._from_file = (
            db.execute("SELECT 1 FROM guardrails_outbox LIMIT 1").fetchone() is not None
        )
        self._published = self._deleted = 0
        self._deleted_at = self._timer()

    async def aopen(self) -> None:
        """:meth:`open`, for the app's start hooks."""
        self.open()

    def close(self) -> None:
        """Delete what was published, and close (what is unpublished stays for the next start)."""
        if self._db is not None:
            self._delete(force=True)
            self._db.close()
            self._db = None
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None

    async def aclose(self) -> None:
        """:meth:`close`, for the app's stop hooks."""
        self.close()

    @property
    def db(self) -> sqlite3.Connection:
        """The open connection."""
        if self._db is None:
            raise RuntimeError("SqliteOutbox is not open")
        return self._db

    def add(self, messages: Sequence[Wire]) -> None:
        """Store messages in one transaction (durable across a crash once this returns)."""
        db = self.db
        rows = [(s, b, json.dumps(h, separators=(",", ":"))) for s, b, h in messages]
        if len(rows) == 1:
            positions = [db.execute(_INSERT, rows[0]).lastrowid]
        else:
            db.execute("BEGIN")
            try:
                positions = [db.execute(_INSERT, row).lastrowid for row in rows]
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        if self._from_file:
            return  # the publisher reads the file until it has caught up
        self._recent.extend(zip(positions, messages, strict=True))  # type: ignore[arg-type]
        if len(self._recent) > self._recent_limit:
            self._recent.clear()
            self._from_file = True

    def pending(self, limit: int) -> list[tuple[int, Wire]]:
        """The oldest ``limit`` unpublished messages with their positions."""
        if not self._from_file:
            return list(itertools.islice(self._recent, limit))
        rows = self.db.execute(
            "SELECT pk, subject, body, headers FROM guardrails_outbox WHERE pk > ? "
            "ORDER BY pk LIMIT ?",
            (self._published, limit),
        ).fetchall()
        if len(rows) < limit:  # caught up: what comes next is added to memory as well
            self._from_file = False
        return [(pk, (s, bytes(b), json.loads(h))) for pk, s, b, h in rows]

    def remove(self, upto: int) -> None:
        """Mark the messages at or before position ``upto`` published (deleted in batches)."""
        recent = self._recent
        while recent and recent[0][0] <= upto:
            recent.popleft()
        self._published = max(self._published, upto)
        self._delete()

    def count(self) -> int:
        """How many messages are stored and not yet published."""
        if not self._from_file:
            return len(self._recent)
        found = self.db.execute(
            "SELECT count(*) FROM guardrails_outbox WHERE pk > ?", (self._published,)
        ).fetchone()
        return int(found[0])

    def checkpoint(self) -> None:
        """Copy the journal into the database file (a passive checkpoint: it never waits for
        and never blocks the checks' inserts). Runs in a worker thread, on a connection of its
        own."""
        if self._checkpointer is not None:
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _delete(self, *, force: bool = False) -> None:
        due = self._published - self._deleted >= self._delete_every or (
            self._timer() - self._deleted_at >= self._delete_after_s
        )
        if self._published > self._deleted and (force or due):
            self.db.execute("DELETE FROM guardrails_outbox WHERE pk <= ?", (self._published,))
            self._deleted = self._published
            self._deleted_at = self._timer()


_INSERT = "INSERT INTO guardrails_outbox (subject, body, headers) VALUES (?, ?, ?)"
