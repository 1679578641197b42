#!/usr/bin/env python3
"""An external audit consumer: follows one tenant's audit chain on NATS and verifies every link.

It needs nothing from llmops: only nats-py, the ``cryptography`` package (for Ed25519), the
standard library, and the formats documented in docs/audit.md ("How a record is hashed",
"Checkpoints"). That is the point of it: a compliance team (or another language) can check the
audit trail without trusting the audit service's code.

    python examples/audit_consumer.py --tenant acme --idle-timeout 5
    python examples/audit_consumer.py --tenant acme --from-seq 1000 --count 50

What it does:
- creates (or reuses) its own durable pull consumer on stream ``AUDIT``, filtered to
  ``llmops.audit.<tenant>``; ``--from-seq N`` re-creates it at the stream position of chain seq N
  (found by a binary search with direct gets) to replay from there;
- recomputes each record's SHA-256 over its RFC 8785 canonical JSON and checks that its
  ``prev_hash`` is the hash of the record before it (64 zeros before seq 1);
- fetches the event of a record published by reference (an event too large for one NATS
  message: the record carries ``event_ref`` instead) from the object-store bucket it names, and
  checks its size and SHA-256 before hashing the record with it;
- skips a seq it has already verified (a redelivery, or a republished copy of the same record);
- follows the tenant's signed checkpoints too (``llmops.audit.checkpoint.<tenant>``, same
  durable): checks each Ed25519 signature with the service's public key (``--public-key``, pinned,
  or else read from the ``llmops_audit_keys`` bucket) and that the record at the checkpoint's seq
  carries the signed hash, so the chain it holds is the one the service signed;
- keeps its last verified ``(seq, hash)`` (and checkpoints still ahead of it) in a state file,
  written before it acks, so a restart continues the chain where it stopped;
- stops after ``--count`` new records or ``--idle-timeout`` seconds without a message, and prints
  ``verified N records of tenant T, chain head seq S hash H``. On a break it prints the first
  broken record (seq and event id) and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import hashlib
import json
import os
import re
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import nats
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NoKeysError, NotFoundError

STREAM = "AUDIT"
RECORD_TYPE = "llmops.audit.record.v1"
CHECKPOINT_TYPE = "llmops.audit.checkpoint.v1"
KEYS_BUCKET = "llmops_audit_keys"
GENESIS = "0" * 64
#: The signed fields of a checkpoint (the signature covers their canonical JSON).
CHECKPOINT_FIELDS = ("tenant", "seq", "hash", "created_at", "kind", "key_id")
#: Hashes of this many recent records are kept, to compare a checkpoint that arrives after them.
WINDOW = 100_000
#: The hashed document of a record: these keys of the record (``hash`` itself is left out).
FIELDS = (
    "tenant",
    "seq",
    "event_id",
    "event_type",
    "event_subject",
    "recorded_at",
    "redaction_policy_version",
    "event",
    "prev_hash",
)

# --- RFC 8785 canonical JSON and the record hash (see docs/audit.md) --------------------------

_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def canonical(value: Any) -> str:
    """The RFC 8785 text of a value decoded by ``json.loads``."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else ("true" if value else "false")
    if isinstance(value, str):
        return '"' + _ESCAPE.sub(lambda m: _SHORT.get(m[0], f"\\u{ord(m[0]):04x}"), value) + '"'
    if isinstance(value, int):  # JSON numbers are IEEE doubles: exact up to 2**53
        return str(value) if abs(value) <= 2**53 else number(float(value))
    if isinstance(value, float):
        return number(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):  # keys in UTF-16 code-unit order
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{canonical(k)}:{canonical(value[k])}" for k in keys) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def number(x: float) -> str:
    """ECMAScript Number.prototype.toString: shortest round-trip digits, exponent outside 1e-6..1e21."""
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinity are not JSON")
    if x == 0:
        return "0"
    sign, (mantissa, _, exp) = ("-" if x < 0 else ""), repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    n = int(exp or 0) + len(whole) - (len(whole + frac) - len(digits))  # x = 0.<digits> * 10**n
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        text = digits[0] + (f".{digits[1:]}" if k > 1 else "") + f"e{n - 1:+d}"
    return sign + text


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of the UTF-8 bytes of the record's canonical document."""
    document = {name: record[name] for name in FIELDS}
    return hashlib.sha256(canonical(document).encode("utf-8")).hexdigest()


# --- checkpoint signatures (Ed25519, see docs/audit.md "Checkpoints") ---------------------------


def key_id_for(public_key: bytes) -> str:
    """A public key's id: ``ed25519-`` and the first 16 hex digits of SHA-256 of its 32 bytes."""
    return "ed25519-" + hashlib.sha256(public_key).hexdigest()[:16]


def public_key_bytes(text: str) -> bytes:
    """A raw Ed25519 public key given as 64 hex digits or base64 of its 32 bytes."""
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        raise SystemExit(f"--public-key {text!r}: give 64 hex digits or base64 of 32 bytes")
    return raw


def signature_problem(checkpoint: dict[str, Any], keys: dict[str, bytes]) -> str | None:
    """Why a checkpoint's signature does not verify with the known public keys, or None."""
    key = keys.get(str(checkpoint.get("key_id")))
    if key is None:
        return f"signed by an unknown key {checkpoint.get('key_id')!r}"
    try:
        message = canonical({name: checkpoint[name] for name in CHECKPOINT_FIELDS}).encode()
        Ed25519PublicKey.from_public_bytes(key).verify(
            bytes.fromhex(str(checkpoint.get("signature"))), message
        )
    except (KeyError, ValueError, TypeError, InvalidSignature):
        return "its signature is invalid"
    return None


# --- the chain as this consumer has verified it -----------------------------------------------


class Broken(Exception):
    """The chain does not verify at a record."""

    def __init__(self, seq: Any, event_id: Any, why: str) -> None:
        super().__init__(f"seq {seq} (event {event_id}): {why}")


class Chain:
    """The last verified (seq, hash) of one tenant's chain, kept in a small JSON state file.

    Also the public keys that check checkpoints, the hashes of the last ``WINDOW`` records (a
    checkpoint usually arrives just after the record it signs), and checkpoints of records not
    reached yet (``pending``, saved with the state).
    """

    def __init__(self, tenant: str, path: Path, keys: dict[str, bytes] | None = None) -> None:
        self.tenant, self.path = tenant, path
        self.seq, self.hash = 0, None  # nothing verified yet: no hash known
        self.verified = self.skipped = 0
        self.keys = keys if keys is not None else {}
        self.recent: OrderedDict[int, str] = OrderedDict()
        self.pending: dict[int, list[dict[str, Any]]] = {}
        self.matched = self.uncompared = 0  # checkpoints compared with a record, or too old to
        if path.exists():
            state = json.loads(path.read_text())
            if state.get("tenant") != tenant:
                raise SystemExit(f"{path} holds the chain of tenant {state.get('tenant')!r}")
            self.seq, self.hash = int(state["seq"]), state["hash"]
            for checkpoint in state.get("pending", []):
                self.pending.setdefault(int(checkpoint["seq"]), []).append(checkpoint)

    def restart_at(self, seq: int) -> None:
        """Replay from chain seq ``seq``: keep the state only if it ends just before it."""
        if self.seq != seq - 1:
            self.seq, self.hash = seq - 1, None

    def save(self) -> None:
        """Write the state atomically (a crash leaves the old or the new file, never half)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        state: dict[str, Any] = {"tenant": self.tenant, "seq": self.seq, "hash": self.hash}
        if self.pending:
            state["pending"] = [cp for cps in self.pending.values() for cp in cps]
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.path)

    def feed(self, body: bytes) -> None:
        """Verify one AUDIT message and advance, or skip it if already verified; raises Broken."""
        try:
            envelope = json.loads(body)
            record = envelope["data"]
            seq, event_id = record["seq"], record.get("event_id")
            if envelope.get("type") == CHECKPOINT_TYPE:
                self.checkpoint(record)
                return
            claimed = record["hash"]
        except (ValueError, TypeError, KeyError) as exc:
            raise Broken("?", "?", f"not an audit record message ({exc!r})") from None
        if envelope.get("type") != RECORD_TYPE or record.get("tenant") != self.tenant:
            raise Broken(seq, event_id, "not a record of this tenant's chain")
        if not isinstance(seq, int) or seq < 1:
            raise Broken(seq, event_id, "seq is not a positive integer")
        if seq < self.seq or (seq == self.seq and self.hash in (None, claimed)):
            self.skipped += 1  # verified before: a redelivery or a republished copy
            return
        if seq == self.seq:
            raise Broken(seq, event_id, "a different record claims an already verified seq")
        try:
            actual = record_hash(record)
        except (KeyError, TypeError, ValueError, UnicodeError) as exc:
            raise Broken(seq, event_id, f"cannot be canonicalized ({exc})") from None
        if actual != claimed:
            raise Broken(seq, event_id, f"modified: content hashes to {actual}, not {claimed}")
        if self.hash is None and seq > 1 and self.seq in (0, seq - 1):
            print(f"note: starts at seq {seq}, not anchored (trusting its prev_hash)")
        elif seq != self.seq + 1:
            raise Broken(seq, event_id, f"missing: records {self.seq + 1}..{seq - 1} never came")
        elif record["prev_hash"] != (self.hash or GENESIS):
            raise Broken(seq, event_id, "does not link to the previous record's hash")
        for signed in self.pending.pop(seq, []):
            self.compare(signed, claimed)
        self.seq, self.hash = seq, claimed
        self.verified += 1
        self.recent[seq] = claimed
        if len(self.recent) > WINDOW:
            self.recent.popitem(last=False)

    def checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Check a signed checkpoint: its signature now, its hash once its record is verified."""
        seq = checkpoint.get("seq")
        if checkpoint.get("tenant") != self.tenant or not isinstance(seq, int):
            raise Broken(seq, "checkpoint", "not a checkpoint of this tenant's chain")
        problem = signature_problem(checkpoint, self.keys)
        if problem is not None:
            raise Broken(seq, "checkpoint", f"checkpoint {problem}")
        if seq > self.seq:
            self.pending.setdefault(seq, []).append(checkpoint)
        elif seq in self.recent:
            self.compare(checkpoint, self.recent[seq])
        else:
            self.uncompared += 1  # signed, but its record passed before this run's window

    def compare(self, checkpoint: dict[str, Any], verified_hash: str) -> None:
        """The record at a checkpoint's seq must carry the hash the service signed."""
        if checkpoint["hash"] != verified_hash:
            raise Broken(checkpoint["seq"], "checkpoint", "differs from the signed checkpoint")
        self.matched += 1


# --- NATS ---------------------------------------------------------------------------------------


async def with_event(js: Any, body: bytes) -> bytes:
    """The message, with the event of a by-reference record fetched and put back in place.

    Raises:
        Broken: the object is missing, or its bytes do not match the reference's size and hash.
    """
    try:
        envelope = json.loads(body)
        record = envelope["data"]
        ref = record.get("event_ref")
    except (ValueError, TypeError, KeyError, AttributeError):
        return body  # not a record message: feed() says so
    if not ref:
        return body
    seq, event_id = record.get("seq"), record.get("event_id")
    try:
        store = await js.object_store(ref["bucket"])
        data = bytes((await store.get(ref["name"])).data or b"")
    except NotFoundError:  # the bucket or the object
        raise Broken(seq, event_id, f"its event {ref['name']} is not in the object store") from None
    if len(data) != ref["size"] or hashlib.sha256(data).hexdigest() != ref["sha256"]:
        raise Broken(seq, event_id, "its event in the object store does not match event_ref")
    record["event"] = json.loads(data)
    del record["event_ref"]
    return json.dumps(envelope).encode()


async def stream_position(js: Any, subject: str, chain_seq: int) -> int:
    """The stream sequence of the first message of ``subject`` with chain seq >= ``chain_seq``.

    Records are republished in chain order, so a binary search with direct gets ("the next
    message on this subject at or after stream sequence p") finds it in O(log n) requests.
    """
    state = (await js.stream_info(STREAM)).state
    lo, hi, found = max(1, state.first_seq), state.last_seq, state.last_seq + 1
    while lo <= hi:
        mid = (lo + hi) // 2
        try:
            msg = await js.get_msg(STREAM, seq=mid, subject=subject, next=True)
        except NotFoundError:
            hi = mid - 1
            continue
        if json.loads(msg.data)["data"]["seq"] >= chain_seq:
            found, hi = msg.seq, mid - 1
        else:
            lo = msg.seq + 1
    return found


async def public_keys(nc: Any) -> dict[str, bytes]:
    """The public keys the audit service published (bucket ``llmops_audit_keys``), by key id."""
    try:
        bucket = await nc.jetstream().key_value(KEYS_BUCKET)
        names = await bucket.keys()
    except (BucketNotFoundError, NoKeysError):
        return {}
    found = {}
    for name in names:
        try:
            public = bytes.fromhex(json.loads((await bucket.get(name)).value)["public_key"])
        except (KeyNotFoundError, ValueError, TypeError, KeyError):
            continue
        if key_id_for(public) == name:  # an entry filed under another key's id proves nothing
            found[name] = public
    return found


async def durable_subscription(js: Any, args: argparse.Namespace, subject: str) -> Any:
    """Bind to the durable consumer, creating it (or re-creating it for --from-seq).

    It follows the tenant's records and its signed checkpoints, in stream order.
    """
    wanted = [subject, f"llmops.audit.checkpoint.{args.tenant}"]
    try:
        info = await js.consumer_info(STREAM, args.durable)
    except NotFoundError:
        info = None
    if info is not None and args.from_seq is None:
        follows = info.config.filter_subjects or [info.config.filter_subject]
        if sorted(follows) != sorted(wanted):
            raise SystemExit(f"durable {args.durable!r} follows {follows}, not {wanted}")
    else:
        if info is not None:
            await js.delete_consumer(STREAM, args.durable)
        config = ConsumerConfig(
            durable_name=args.durable,
            filter_subjects=wanted,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=30,
        )
        if args.from_seq is not None:
            config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = await stream_position(js, subject, args.from_seq)
        await js.add_consumer(STREAM, config)
    return await js.pull_subscribe_bind(durable=args.durable, stream=STREAM)


async def run(args: argparse.Namespace) -> int:
    """Consume, verify, persist, ack; returns the exit code."""
    subject = f"llmops.audit.{args.tenant}"
    pinned = {key_id_for(k): k for k in (public_key_bytes(t) for t in args.public_key or [])}
    chain = Chain(
        args.tenant, args.state_file or Path(f".audit-consumer-{args.durable}.json"), pinned
    )
    if args.from_seq is not None:
        chain.restart_at(args.from_seq)
    nc = await nats.connect(args.nats_url, name=f"audit-consumer {args.durable}")
    try:
        if not pinned:  # no key given: trust what the service published (see docs/audit.md)
            chain.keys = await public_keys(nc)
        js = nc.jetstream()
        sub = await durable_subscription(js, args, subject)
        while args.count is None or chain.verified < args.count:
            want = 100 if args.count is None else min(100, args.count - chain.verified)
            try:
                msgs = await sub.fetch(want, timeout=args.idle_timeout or 5.0)
            except TimeoutError:  # nats-py raises its own subclass, or sometimes the bare one
                if args.idle_timeout:
                    break  # idle: nothing new for that long
                continue
            done = 0
            try:
                for msg in msgs:
                    chain.feed(await with_event(js, msg.data))
                    done += 1
            finally:
                chain.save()  # persist what verified, then ack it
                for msg in msgs[:done]:
                    await msg.ack()
                for msg in msgs[done:]:
                    await msg.nak()  # the broken record (and the rest) stay for the next run
    except Broken as exc:
        print(f"BROKEN: tenant {args.tenant}: {exc}")
        print(f"verified {chain.verified} records before it, chain head seq {chain.seq}")
        return 1
    finally:
        # flush: a round trip, so every ack above has reached the server before we leave
        # (drain would also wait out the expiry of an idle pull request).
        await nc.flush()
        await nc.close()
    head = f"chain head seq {chain.seq} hash {chain.hash or '-'}"
    skipped = f" (skipped {chain.skipped} already verified)" if chain.skipped else ""
    print(f"verified {chain.verified} records of tenant {args.tenant}, {head}{skipped}")
    if chain.matched or chain.uncompared or chain.pending:
        print(
            f"signed checkpoints: {chain.matched} matched, {chain.uncompared} signature only "
            f"(record before this run), {sum(map(len, chain.pending.values()))} ahead"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--tenant", required=True, help="Tenant whose chain to follow.")
    parser.add_argument(
        "--durable", help="Durable consumer name (default audit-consumer-<tenant>)."
    )
    parser.add_argument("--state-file", type=Path, help="Default .audit-consumer-<durable>.json.")
    parser.add_argument(
        "--from-seq", type=int, help="Replay from this chain seq (re-creates the durable)."
    )
    parser.add_argument("--count", type=int, help="Stop after verifying this many new records.")
    parser.add_argument(
        "--public-key",
        action="append",
        help="The audit service's Ed25519 public key (hex or base64), pinned; repeat for older "
        "keys. Default: the keys published in the llmops_audit_keys bucket.",
    )
    parser.add_argument("--idle-timeout", type=float, help="Stop after this many idle seconds.")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", args.tenant):
        parser.error("--tenant must be a subject token (letters, digits, _ and -)")
    if args.from_seq is not None and args.from_seq < 1:
        parser.error("--from-seq counts from 1")
    args.durable = args.durable or f"audit-consumer-{args.tenant}"
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
