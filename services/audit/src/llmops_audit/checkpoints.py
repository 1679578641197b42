"""Signed checkpoints of the audit chains: Ed25519 signing, the published ledger, and sealing.

Whoever holds the database can change or delete any row: the triggers stop accidents, not a
database administrator. What the service guarantees is that such a change is *detected*:

- checkpoints are signed with an Ed25519 private key kept outside the data directory, so a copy
  of the database (or of the directory holding it) cannot sign a rewritten chain, while anyone
  checks a signature with the public key the service publishes;
- every checkpoint is also published on the AUDIT stream, outside the database, and ``verify``
  holds the database to the published one with the highest signed seq: a cut tail or a deleted
  checkpoint is a break, and republishing an old checkpoint does not lower the bar;
- the service signs only a head it verified from the newest published checkpoint, or chained
  itself from a head it had verified, so a restarted service never signs a truncated or
  re-chained trail: it reports the break and signs nothing more for that tenant.

The logic here knows no framework; the NATS adapter of :class:`CheckpointLedger` is in
``ledger.py``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from llmops_audit.chain import GENESIS, Head, NewRecord
from llmops_contracts.audit import AuditSigningKey
from llmops_contracts.auditchain import (
    CHECKPOINT_FIELDS,
    SIGNATURE_ALGORITHM,
    ChainBreak,
    ChainVerifier,
    KeyRing,
    checkpoint_message,
    checkpoint_seq,
    checkpoint_shape_problem,
    held_checkpoint,
    key_id_for,
    timestamp,
)
from llmops_shared.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:  # the service module imports this one
    from llmops_audit.service import AuditRepository


# --- keys -------------------------------------------------------------------------------------


class Signer:
    """The Ed25519 private key that signs checkpoints, with its public half and ``key_id``."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = key_id_for(self.public_key)

    @classmethod
    def generate(cls) -> Signer:
        """A new random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_text(cls, text: str) -> Signer:
        """A key written as PEM (PKCS#8), or as its 32-byte seed in hex or base64.

        Raises:
            ValueError: the text is none of these, or not an Ed25519 key.
        """
        text = text.strip()
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("the PEM key is not an Ed25519 private key")
            return cls(key)
        seed: bytes | None = None
        if len(text) == 64:
            try:
                seed = bytes.fromhex(text)
            except ValueError:
                seed = None
        if seed is None:
            try:
                seed = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                seed = None
        if seed is None or len(seed) != 32:
            raise ValueError(
                "a signing key is an Ed25519 private key in PEM (PKCS#8), or its 32-byte seed "
                "in hex (64 digits) or base64"
            )
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def pem(self) -> bytes:
        """The private key as unencrypted PEM (PKCS#8), to write a development key file."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign(self, tenant: str, head: Head, kind: str, now: datetime) -> dict[str, Any]:
        """A checkpoint of ``head`` (``kind`` 'periodic' or 'purge'), signed."""
        checkpoint: dict[str, Any] = {
            "tenant": tenant,
            "seq": head.seq,
            "hash": head.hash,
            "created_at": timestamp(now),
            "kind": kind,
            "key_id": self.key_id,
        }
        checkpoint["signature"] = self._key.sign(checkpoint_message(checkpoint)).hex()
        return checkpoint

    def key_record(self, now: datetime) -> dict[str, Any]:
        """The public key as published for verifiers (an ``AuditSigningKey``)."""
        return AuditSigningKey(
            key_id=self.key_id,
            algorithm=SIGNATURE_ALGORITHM,
            public_key=self.public_key.hex(),
            created_at=timestamp(now),
        ).model_dump()


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_ring(public_keys: Sequence[bytes]) -> KeyRing:
    """A ring of Ed25519 public keys checked with ``cryptography``."""
    return KeyRing(public_keys, ed25519_verify)


# --- the published ledger ---------------------------------------------------------------------


class CheckpointLedger(Protocol):
    """Where checkpoints and public keys are published, outside the database (the AUDIT stream)."""

    async def publish(self, checkpoint: dict[str, Any]) -> None:
        """Publish a signed checkpoint and wait until it is stored."""
        ...

    async def checkpoints(self, tenant: str, after: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The messages published for a tenant after position ``after``, oldest first (as
        published, unchecked), and the position to read on from (``after`` when none)."""
        ...

    async def tenants(self) -> list[str]:
        """Tenants that have published checkpoints."""
        ...

    async def publish_key(self, key: dict[str, Any]) -> None:
        """Publish a public key (an ``AuditSigningKey``) under its ``key_id``."""
        ...

    async def public_keys(self) -> list[bytes]:
        """Every published public key (raw bytes)."""
        ...


def published_problem(tenant: str, checkpoint: Mapping[str, Any], keys: KeyRing) -> str | None:
    """Why the newest published message cannot be trusted (malformed, another tenant's, bad
    signature), or None."""
    shape = checkpoint_shape_problem(tenant, checkpoint)
    if shape is not None:
        return f"the newest published checkpoint is {shape}"
    problem = keys.problem(checkpoint)
    return None if problem is None else f"the newest published checkpoint: {problem}"


@dataclass
class Ledgered:
    """What this process has read of a tenant's published checkpoints.

    Attributes:
        position: where reading goes on (the ledger's position after the last message read).
        newest: the last message published, unchecked (None: none yet).
        held: the checkpoint the chain is held to (:func:`held_checkpoint`), if any.
    """

    position: int = 0
    newest: dict[str, Any] | None = None
    held: dict[str, Any] | None = None


@dataclass
class Published:
    """The published checkpoint ``verify`` holds the database to, and what is wrong with the
    published ones.

    Attributes:
        checkpoint: the one the chain is held to, else the newest message (None: none yet),
            for the report.
        unstored: the held one, when the database lacks it: the chain must still agree with it.
        breaks: what is wrong with them that reading the chain does not show.
    """

    checkpoint: dict[str, Any] | None
    unstored: list[dict[str, Any]] = field(default_factory=list)
    breaks: list[ChainBreak] = field(default_factory=list)


def _published_break(checkpoint: Mapping[str, Any], detail: str) -> ChainBreak:
    return ChainBreak(checkpoint_seq(checkpoint), None, "checkpoint", detail)


def same_checkpoint(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two checkpoints are the same signed statement."""
    return all(a.get(k) == b.get(k) for k in (*CHECKPOINT_FIELDS, "signature"))


# --- sealing ----------------------------------------------------------------------------------


class Sealer:
    """Signs chain heads it has verified, publishes every checkpoint, and keys verification.

    A head is *trusted* once verified from the newest published checkpoint (or a valid purge
    anchor, or the genesis), and stays trusted as this process chains records onto it (it
    computed their hashes itself: see :meth:`appended`). Only a trusted head is signed. A head it
    cannot verify (records gone below a signed seq, a re-chained record, a checkpoint whose
    signature fails) is a break: reported once through ``on_break`` and never signed while the
    process runs; after a restart it is verified again, and fails again unless the records came
    back.

    Args:
        repository: the audit trail's storage.
        signer: the private key; None verifies only (nothing is signed, purge is refused).
        ledger: where checkpoints are published; None keeps them in the database only (tests).
        clock: the time checkpoints carry.
        on_break: told of a tenant whose chain it refuses to sign, with the break.
    """

    def __init__(
        self,
        repository: AuditRepository,
        signer: Signer | None = None,
        ledger: CheckpointLedger | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        on_break: Callable[[str, ChainBreak], None] | None = None,
    ) -> None:
        self.repository = repository
        self.signer = signer
        self.ledger = ledger
        self.clock = clock
        self.on_break = on_break
        self.keys = key_ring([signer.public_key] if signer is not None else [])
        #: Tenant -> the chain head this process verified or chained itself.
        self.trusted: dict[str, Head] = {}
        #: Tenant -> the first break found; no checkpoint is signed for it any more.
        self.broken: dict[str, ChainBreak] = {}
        self._signed: dict[str, Head] = {}
        self._unpublished: list[dict[str, Any]] = []
        self._ledger_tenants_read = False
        #: Tenant -> what was read of its published checkpoints (reading goes on from there).
        self._ledgered: dict[str, Ledgered] = {}

    def watch(self, repository: AuditRepository) -> AuditRepository:
        """``repository``, with every append it stores reported to :meth:`appended`."""
        return cast("AuditRepository", _Watched(repository, self))

    async def start(self) -> None:
        """Publish this service's public key and trust every published one (key rotation)."""
        if self.ledger is None:
            return
        if self.signer is not None:
            await self.ledger.publish_key(self.signer.key_record(self.clock.now()))
        own = [self.signer.public_key] if self.signer is not None else []
        self.keys = key_ring([*own, *await self.ledger.public_keys()])
        self._ledgered.clear()  # which checkpoints are valid depends on the keys

    def appended(self, records: Sequence[NewRecord]) -> None:
        """Trust records this process chained onto a trusted head (it hashed them itself).

        Runs once per stored batch (performance: a comparison per record, no read-back): the
        records of a batch follow each other per tenant, so a trusted head moves record by record.
        """
        trusted = self.trusted
        for record in records:
            doc = record.doc
            head = trusted.get(doc["tenant"])
            if head is not None and head.seq + 1 == doc["seq"] and head.hash == doc["prev_hash"]:
                trusted[doc["tenant"]] = Head(doc["seq"], record.hash)

    async def published(self, tenant: str) -> Ledgered:
        """What is published for a tenant: the newest message, and the checkpoint its chain is
        held to (:func:`~llmops_contracts.auditchain.held_checkpoint`).

        The ledger is read on from where this process stopped (performance: verify and every
        restart's first seal would otherwise read a tenant's whole history of checkpoints).
        """
        seen = self._ledgered.setdefault(tenant, Ledgered())
        if self.ledger is None:
            return seen
        new, position = await self.ledger.checkpoints(tenant, seen.position)
        if not new:
            return seen
        # No await from here on: a concurrent reader (verify beside a seal) merges, not races.
        if position > seen.position:
            seen.position, seen.newest = position, new[-1]
        held = held_checkpoint(tenant, [*([seen.held] if seen.held else []), *new], self.keys)
        seen.held = dict(held) if held is not None else None
        return seen

    async def held_to(self, tenant: str, stored: Sequence[Mapping[str, Any]]) -> Published:
        """What ``verify`` holds a chain to, outside the database: the published checkpoint with
        the highest signed seq; and the newest message must be a valid checkpoint too.

        Args:
            tenant: the chain's tenant.
            stored: the checkpoints stored in the database.
        """
        seen = await self.published(tenant)
        newest, held = seen.newest, seen.held
        if newest is None:
            return Published(None)
        breaks = []
        problem = published_problem(tenant, newest, self.keys)
        if problem is not None:
            breaks.append(_published_break(newest, problem))
        if held is None:
            return Published(newest, breaks=breaks)
        if any(same_checkpoint(held, c) for c in stored):
            return Published(held, breaks=breaks)  # checked with the stored ones
        deleted = (
            "the highest published checkpoint is not in the database: checkpoints were deleted"
        )
        return Published(held, unstored=[held], breaks=[*breaks, _published_break(held, deleted)])

    async def seal(self) -> int:
        """Sign and publish every verified chain head that moved; returns how many were signed.

        The first round (at start) also visits tenants known only from published checkpoints,
        so a chain whose records are all gone is reported too.
        """
        if self.signer is None:
            return 0
        await self._publish_pending()
        tenants = set(await self.repository.tenants())
        if self.ledger is not None and not self._ledger_tenants_read:
            tenants.update(await self.ledger.tenants())
            self._ledger_tenants_read = True
        trusted = dict(self.trusted)  # before reading heads: a head only moves forward from these
        heads = await self.repository.heads(sorted(tenants))
        signed = 0
        for tenant in sorted(tenants):
            if tenant not in self.broken:
                signed += await self._seal(tenant, heads.get(tenant), trusted.get(tenant))
        return signed

    async def purge(self, tenant: str, before: datetime) -> tuple[int, dict[str, Any] | None]:
        """Remove records recorded before ``before`` behind a signed, published purge checkpoint.

        The record the purge stops at is verified before its hash is signed: the records from
        it up to a trusted head (or from a trusted head up to it) must re-hash and link, or a
        chain rewritten since the last seal would get a valid signed anchor. The purge
        checkpoint is published once the deletion committed, and the remaining head is signed
        again at once, so the newest published checkpoint still holds the whole chain.

        Raises:
            RuntimeError: no signing key, or the tenant's chain is broken (found before or by
                this purge): a purge would sign records nobody verified. Nothing is deleted.
        """
        signer = self.signer
        if signer is None:
            raise RuntimeError("no signing key: the audit service cannot purge")
        if tenant in self.broken:
            raise RuntimeError(f"the audit chain of {tenant!r} is broken: not purging it")

        async def sign(point: Head) -> dict[str, Any]:
            # Awaited inside the purge's transaction, before anything is deleted.
            problem = await self._verify_point(tenant, point)
            if problem is not None:
                self._report(tenant, problem)
                raise RuntimeError(
                    f"the audit chain of {tenant!r} is broken at seq {problem.seq} "
                    f"({problem.kind}: {problem.detail}): not purging it"
                )
            return signer.sign(tenant, point, "purge", self.clock.now())

        purged, checkpoint = await self.repository.purge(tenant, timestamp(before), sign)
        if checkpoint is not None:
            self._unpublished.append(checkpoint)
            await self._publish_pending()
            self._signed.pop(tenant, None)
            heads = await self.repository.heads([tenant])
            await self._seal(tenant, heads.get(tenant), self.trusted.get(tenant))
        return purged, checkpoint

    async def _publish_pending(self) -> None:
        while self._unpublished and self.ledger is not None:
            await self.ledger.publish(self._unpublished[0])
            self._unpublished.pop(0)

    async def _seal(self, tenant: str, head: Head | None, trusted: Head | None) -> int:
        """Verify one tenant's head from what is trusted, then sign and publish it if it moved."""
        signer = self.signer
        assert signer is not None
        if head is None:
            head = await self._anchor_head(tenant)
        problem = await self._verify(tenant, head, trusted)
        if problem is not None:
            self._report(tenant, problem)
            return 0
        current = self.trusted.get(tenant)
        if current is None or current.seq < head.seq:
            self.trusted[tenant] = head
        if head.seq == 0 or self._signed.get(tenant) == head:
            return 0
        checkpoint = signer.sign(tenant, head, "periodic", self.clock.now())
        # Stored first, then published: a published checkpoint is always in the database too,
        # so one missing there was deleted.
        await self.repository.add_checkpoint(checkpoint)
        if self.ledger is not None:
            await self.ledger.publish(checkpoint)
        self._signed[tenant] = head
        return 1

    async def _anchor_head(self, tenant: str) -> Head:
        """Where a chain without records stands: its newest purge checkpoint, else the genesis."""
        purges = [c for c in await self.repository.checkpoints(tenant) if c["kind"] == "purge"]
        return Head(int(purges[-1]["seq"]), str(purges[-1]["hash"])) if purges else GENESIS

    async def _start(self, tenant: str) -> tuple[Head, ChainBreak | None]:
        """Where verification starts when nothing is trusted yet: the highest signed point.

        That is the published checkpoint with the highest signed seq, or the purge anchor when
        it is higher (a purge whose checkpoint was not published before a restart), or the
        genesis. The newest published message must be a valid checkpoint of the chain.
        """
        start = GENESIS
        seen = await self.published(tenant)
        if seen.newest is not None:
            problem = published_problem(tenant, seen.newest, self.keys)
            if problem is not None:
                return start, _published_break(seen.newest, problem)
        if seen.held is not None:
            start = Head(int(seen.held["seq"]), str(seen.held["hash"]))
            # Signed and published already: a restart does not sign the same head again.
            self._signed.setdefault(tenant, start)
        purges = [c for c in await self.repository.checkpoints(tenant) if c["kind"] == "purge"]
        if purges and int(purges[-1]["seq"]) >= start.seq:
            anchor = purges[-1]
            problem = self.keys.problem(anchor)
            if problem is not None:
                return start, ChainBreak(int(anchor["seq"]), None, "checkpoint", problem)
            start = Head(int(anchor["seq"]), str(anchor["hash"]))
        return start, None

    async def _verify(self, tenant: str, head: Head, trusted: Head | None) -> ChainBreak | None:
        """Check that ``head`` extends the trusted head (or the newest signed point) intact."""
        if trusted is None:
            trusted, problem = await self._start(tenant)
            if problem is not None:
                return problem
        if head.seq < trusted.seq:
            return ChainBreak(
                head.seq + 1,
                None,
                "missing",
                f"records {head.seq + 1}..{trusted.seq} are gone: the chain was signed "
                f"at seq {trusted.seq}",
            )
        if head.seq == trusted.seq:
            if head.hash == trusted.hash:
                return None
            return ChainBreak(head.seq, None, "checkpoint", "differs from the signed checkpoint")
        return await self._links(
            tenant,
            trusted,
            head,
            ChainBreak(head.seq, None, "modified", "the head changed while it was verified"),
        )

    async def _verify_point(self, tenant: str, point: Head) -> ChainBreak | None:
        """Check that ``point``, a stored record below the head or at it, is one of the chain
        a trusted head (or the newest signed point) vouches for.

        At or above the trusted head, as :meth:`_verify`. Below it, the records after the point
        up to the trusted head must re-hash and link from the point's hash to the trusted one:
        through the hash links the trusted head commits to every record before it.
        """
        trusted = self.trusted.get(tenant)
        if trusted is None:
            trusted, problem = await self._start(tenant)
            if problem is not None:
                return problem
        if point.seq >= trusted.seq:
            return await self._verify(tenant, point, trusted)
        return await self._links(
            tenant,
            point,
            trusted,
            ChainBreak(trusted.seq, None, "checkpoint", "differs from the signed checkpoint"),
        )

    async def _links(
        self, tenant: str, start: Head, end: Head, astray: ChainBreak
    ) -> ChainBreak | None:
        """Check that the records after ``start`` up to ``end`` re-hash and link from
        ``start.hash`` to ``end.hash``; ``astray`` when they are intact but end elsewhere."""
        verifier = ChainVerifier(anchor={"seq": start.seq, "hash": start.hash})
        async for record in self.repository.records(tenant, start.seq):
            if int(record["seq"]) > end.seq:
                break
            verifier.feed(record)
            if verifier.report.breaks:
                return verifier.report.breaks[0]
        if verifier.report.last_seq != end.seq:
            # Records vanished between reading the head and reading them back.
            return ChainBreak(
                (verifier.report.last_seq or start.seq) + 1,
                None,
                "missing",
                f"records up to seq {end.seq} are gone",
            )
        if verifier.report.last_hash != end.hash:
            return astray
        return None

    def _report(self, tenant: str, problem: ChainBreak) -> None:
        """Remember a tenant's break (nothing is signed for it any more) and tell ``on_break``."""
        self.broken[tenant] = problem
        if self.on_break is not None:
            self.on_break(tenant, problem)


class _Watched:
    """A repository whose appends are reported to the sealer (everything else passes through)."""

    def __init__(self, inner: AuditRepository, sealer: Sealer) -> None:
        self._inner = inner
        self._sealer = sealer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def append(self, records: Sequence[NewRecord]) -> None:
        """Store, then tell the sealer what this process chained."""
        await self._inner.append(records)
        self._sealer.appended(records)
