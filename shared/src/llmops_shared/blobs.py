"""Payloads too large for one NATS message, kept in a JetStream object-store bucket.

A dead letter of a message near the server's ``max_payload``, or an AUDIT message of a record
whose event is that large, cannot be published whole: publishing fails every time (nats-py's
``MaxPayloadError``) and the path behind it stalls. Instead the large part is put here and the
message carries an :class:`~llmops_contracts.common.ObjectRef` (bucket, name, size, SHA-256).

Objects are content-addressed (named ``sha256/<hex>``), so storing the same bytes twice (a
redelivery dead-lettered again, a record republished after a crash) writes them once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from nats.js.errors import NotFoundError

from llmops_contracts import subjects
from llmops_contracts.common import ObjectRef

#: What a message needs beyond its payload and header fields on the wire (the header block's
#: ``NATS/1.0`` line and separators), rounded up: the server counts headers in ``max_payload``.
_HEADER_FRAME = 16


def wire_size(body: bytes, headers: Mapping[str, str] | None = None) -> int:
    """Bytes the server counts against ``max_payload`` for a message: payload plus headers."""
    if not headers:
        return len(body)
    return len(body) + _HEADER_FRAME + sum(len(k) + len(v) + 4 for k, v in headers.items())


class BlobCorrupt(Exception):
    """An object's bytes do not match the size or SHA-256 its reference promises."""


class BlobStore:
    """Puts and gets content-addressed objects in the suite's object-store bucket.

    Args:
        connection: returns the connected nats-py client (read at each call, so the store can
            be built before the broker connects).
        bucket: the bucket, created by :func:`llmops_shared.streams.ensure_streams`.
    """

    def __init__(self, connection: Callable[[], Any], bucket: str = subjects.BLOBS_BUCKET) -> None:
        self._connection = connection
        self.bucket = bucket

    def max_payload(self) -> int:
        """The connected server's message size limit (headers included)."""
        return int(self._connection().max_payload)

    async def put(self, data: bytes) -> ObjectRef:
        """Store ``data`` (once: an object with the same digest is reused) and return its ref."""
        digest = hashlib.sha256(data).hexdigest()
        ref = ObjectRef(bucket=self.bucket, name=f"sha256/{digest}", size=len(data), sha256=digest)
        store = await self._connection().jetstream().object_store(self.bucket)
        try:
            info = await store.get_info(ref.name)
        except NotFoundError:  # ObjectNotFoundError is one
            info = None
        if info is None or info.size != len(data):
            await store.put(ref.name, data)
        return ref

    async def get(self, ref: ObjectRef) -> bytes:
        """The object's bytes, checked against the ref's size and SHA-256.

        Raises:
            BlobCorrupt: the bytes are not what the ref describes.
        """
        store = await self._connection().jetstream().object_store(ref.bucket)
        data = bytes((await store.get(ref.name)).data or b"")
        if not ref.matches(data):
            raise BlobCorrupt(f"object {ref.bucket}/{ref.name} does not match its reference")
        return data
