"""Reading payloads kept by reference in the suite's object-store bucket.

A message too large for NATS (a dead letter's original near ``max_payload``, an audit record's
large event) travels as an :class:`~llmops_contracts.common.ObjectRef`; the bytes are in a
JetStream object store (``llmops-blobs``). The services write there (``llmops_shared.blobs``);
the client only reads, so it needs nothing of the services' runtime, only nats-py.
"""

from __future__ import annotations

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from llmops_contracts.common import ObjectRef


class ObjectUnavailable(Exception):
    """A referenced object is missing, unreadable, or not the bytes its reference describes."""


async def read_object(nc: NatsClient, ref: ObjectRef) -> bytes:
    """The bytes ``ref`` points to, checked against its size and SHA-256.

    Args:
        nc: a connected NATS client.
        ref: the reference, from a message.

    Raises:
        ObjectUnavailable: the object (or its bucket) is not there, cannot be read, or does not
            match the reference.
    """
    where = f"object {ref.bucket}/{ref.name}"
    try:
        store = await nc.jetstream().object_store(ref.bucket)
        data = bytes((await store.get(ref.name)).data or b"")
    except NotFoundError:  # the bucket, the object, or a deleted object
        raise ObjectUnavailable(f"{where} is not in the object store") from None
    except nats.errors.Error as exc:
        raise ObjectUnavailable(f"{where} could not be read: {type(exc).__name__} {exc}") from None
    if not ref.matches(data):
        raise ObjectUnavailable(f"{where} does not match its reference (size and SHA-256)")
    return data
