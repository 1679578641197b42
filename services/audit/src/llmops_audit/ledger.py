"""The published ledger of checkpoints: the AUDIT stream, and the bucket of public keys.

Adapters of :class:`llmops_audit.checkpoints.CheckpointLedger` on NATS. Each checkpoint is
published on ``llmops.audit.checkpoint.<tenant>`` (stream ``AUDIT``), so a tenant's checkpoints
are its subject's messages, read in order from any stream sequence. Public keys live in the
key-value bucket ``llmops_audit_keys`` under their ``key_id``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from nats.js.api import ConsumerConfig, DeliverPolicy, KeyValueConfig, StorageType
from nats.js.errors import (
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoKeysError,
    NotFoundError,
)

from llmops_audit.service import SOURCE
from llmops_contracts import subjects, wrap
from llmops_contracts.audit import AuditCheckpoint, AuditSigningKey
from llmops_contracts.auditchain import key_id_for, published_checkpoint
from llmops_contracts.envelope import stable_id
from llmops_contracts.headers import MSG_ID, TYPE
from llmops_shared.logging import get_logger

_log = get_logger(__name__)


def checkpoint_message(checkpoint: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    """The AUDIT-stream message of a signed checkpoint: subject, envelope bytes, headers."""
    tenant = str(checkpoint["tenant"])
    moment = datetime.strptime(checkpoint["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=UTC
    )
    signature = str(checkpoint["signature"])
    envelope = wrap(
        AuditCheckpoint.model_validate(checkpoint),
        tenant=tenant,
        source=SOURCE,
        id=stable_id(moment, tenant, "checkpoint", signature),
        time=checkpoint["created_at"],
    )
    # The same signed checkpoint published twice (a retry) is stored once.
    headers = {MSG_ID: f"audit-checkpoint:{signature[:32]}", TYPE: AuditCheckpoint.SPEC.type}
    return subjects.for_tenant(subjects.AUDIT_CHECKPOINTS, tenant), envelope.to_json(), headers


class JetStreamLedger:
    """Checkpoints on the AUDIT stream and public keys in a key-value bucket.

    Args:
        connection: returns the live NATS connection (it exists once the service started).
        replicas: replicas of the key bucket when this creates it.
        create_bucket: create the key bucket when missing (off where an operator owns the
            streams, ``LLMOPS_MANAGE_STREAMS=false``).
        timeout_s: how long a publish waits for the stream's acknowledgement.
    """

    def __init__(
        self,
        connection: Callable[[], Any],
        *,
        replicas: int = 1,
        create_bucket: bool = True,
        timeout_s: float = 10.0,
    ) -> None:
        self._connection = connection
        self._replicas = replicas
        self._create_bucket = create_bucket
        self._timeout_s = timeout_s

    def _js(self) -> Any:
        return self._connection().jetstream(timeout=self._timeout_s)

    async def publish(self, checkpoint: dict[str, Any]) -> None:
        """Publish a signed checkpoint and wait for the AUDIT stream to store it."""
        subject, body, headers = checkpoint_message(checkpoint)
        await self._js().publish(subject, body, headers=headers, stream=subjects.AUDIT_STREAM)

    async def checkpoints(self, tenant: str, after: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The data of every message on the tenant's checkpoint subject after stream sequence
        ``after``, oldest first, and the stream sequence to read on from.

        Returned as published and unchecked (a malformed one as an empty dict), so the caller
        reports what is wrong with them instead of passing over them. Read with an ordered
        consumer up to the last message stored when reading began.
        """
        js = self._js()
        subject = subjects.for_tenant(subjects.AUDIT_CHECKPOINTS, tenant)
        try:
            last = (await js.get_last_msg(subjects.AUDIT_STREAM, subject)).seq
        except NotFoundError:
            return [], after
        if last <= after:
            return [], after
        start = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1
        )
        sub = await js.subscribe(
            subject, stream=subjects.AUDIT_STREAM, ordered_consumer=True, config=start
        )
        found: list[dict[str, Any]] = []
        try:
            while after < last:
                msg = await sub.next_msg(timeout=self._timeout_s)
                after = msg.metadata.sequence.stream
                found.append(published_checkpoint(msg.data))
        finally:
            await sub.unsubscribe()
        return found, after

    async def tenants(self) -> list[str]:
        """Tenants with a checkpoint subject on the AUDIT stream."""
        prefix = f"{subjects.AUDIT_CHECKPOINTS}."
        info = await self._js().stream_info(subjects.AUDIT_STREAM, subjects_filter=f"{prefix}*")
        found = info.state.subjects or {}
        return sorted(s[len(prefix) :] for s in found if s.startswith(prefix))

    async def _bucket(self, *, create: bool) -> Any:
        js = self._js()
        try:
            return await js.key_value(subjects.AUDIT_KEYS_BUCKET)
        except BucketNotFoundError:
            if not create:
                return None
        return await js.create_key_value(
            KeyValueConfig(
                bucket=subjects.AUDIT_KEYS_BUCKET,
                description="Public keys that check audit checkpoint signatures, by key_id.",
                history=1,
                storage=StorageType.FILE,
                replicas=self._replicas,
            )
        )

    async def publish_key(self, key: dict[str, Any]) -> None:
        """Publish a public key under its ``key_id``; an existing entry is never overwritten.

        Raises:
            RuntimeError: another key is already filed under that id.
        """
        record = AuditSigningKey.model_validate(key)
        bucket = await self._bucket(create=self._create_bucket)
        if bucket is None:
            _log.error(
                "the key bucket does not exist, so nobody can find the public key: create it",
                bucket=subjects.AUDIT_KEYS_BUCKET,
                key_id=record.key_id,
                public_key=record.public_key,
            )
            return
        try:
            await bucket.create(record.key_id, record.model_dump_json().encode())
            _log.info("published the audit signing key", key_id=record.key_id)
        except KeyWrongLastSequenceError:
            entry = await bucket.get(record.key_id)
            stored = json.loads(entry.value or b"{}")
            if stored.get("public_key") != record.public_key:
                raise RuntimeError(
                    f"the key bucket holds another key under {record.key_id!r}"
                ) from None

    async def public_keys(self) -> list[bytes]:
        """Every well-formed published key whose id matches it (others are skipped, logged)."""
        bucket = await self._bucket(create=False)
        if bucket is None:
            return []
        try:
            names = await bucket.keys()
        except NoKeysError:
            return []
        found = []
        for name in names:
            try:
                entry = await bucket.get(name)
                record = AuditSigningKey.model_validate_json(entry.value or b"")
                public = bytes.fromhex(record.public_key)
            except (KeyNotFoundError, ValueError) as exc:
                _log.warning("skipping an unreadable published key", key_id=name, error=str(exc))
                continue
            if key_id_for(public) != name:
                _log.warning("skipping a published key filed under another id", key_id=name)
                continue
            found.append(public)
        return found
