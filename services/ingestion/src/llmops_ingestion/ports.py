"""The ingestion service's ports: the document state, submitted files and the guardrails screen,
with the values that cross them. Adapters are in :mod:`llmops_ingestion.store`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from llmops_contracts.common import ObjectRef


@dataclass(frozen=True)
class StoredDocument:
    """The indexed version of one document, as the service remembers it."""

    tenant: str
    collection: str
    document_id: str
    chunk_ids: tuple[str, ...]
    content_sha256: str
    #: Hash of what every chunk carries besides its text (ACL, expiry, metadata, model): when it
    #: changes, every chunk is sent again.
    attributes_sha256: str
    embedding_model: str
    simhash: int
    command_id: str
    updated_at: datetime
    version: str | None = None
    expires_at: datetime | None = None
    embedded: int = 0
    unchanged: int = 0
    removed: int = 0


@dataclass(frozen=True)
class Similar:
    """A stored document whose SimHash is close to a new one's."""

    collection: str
    document_id: str
    distance: int


class DocumentStore(Protocol):
    """Port: the current version of every indexed document."""

    async def get(self, tenant: str, collection: str, document_id: str) -> StoredDocument | None:
        """One document's stored version."""
        ...

    async def put(self, document: StoredDocument) -> None:
        """Store (or replace) a document's version and its chunk ids."""
        ...

    async def forget(self, tenant: str, collection: str, document_id: str) -> bool:
        """Drop a document; whether it was there."""
        ...

    async def expired(
        self, tenant: str, collection: str | None, now: datetime
    ) -> list[tuple[str, str]]:
        """``(collection, document_id)`` of the tenant's documents expired at ``now``."""
        ...

    async def expiring_tenants(self, now: datetime) -> list[str]:
        """The tenants holding at least one document expired at ``now``, sorted."""
        ...

    async def similar(self, tenant: str, signature: int, max_distance: int) -> list[Similar]:
        """The tenant's documents within ``max_distance`` SimHash bits, closest first."""
        ...


class FileUnavailable(Exception):
    """A referenced file is missing or not the bytes its reference promises."""


class Files(Protocol):
    """Port: files submitted through the object store."""

    async def get(self, ref: ObjectRef) -> bytes:
        """The bytes, checked against the ref (raises :class:`FileUnavailable`)."""
        ...

    async def delete(self, ref: ObjectRef) -> None:
        """Remove the object (no error when it is already gone)."""
        ...


@dataclass(frozen=True)
class Screening:
    """The guardrails verdict on a document's text."""

    outcome: str  # allow, redact, review, block
    findings: list[str] = field(default_factory=list)
    policy: str = ""


class ScreenUnavailable(RuntimeError):
    """The guardrails service did not answer (or answered with an error)."""


class Screen(Protocol):
    """Port: the guardrails check at the ``retrieved_context`` stage."""

    async def check(self, tenant: str, text: str) -> Screening:
        """The verdict on one piece of text (raises :class:`ScreenUnavailable`)."""
        ...


class WhenScreenDown(StrEnum):
    """What a submission does when the guardrails service does not answer."""

    RETRY = "retry"  # fail the command: it is redelivered with backoff, dead-lettered at the end
    OPEN = "open"  # index without screening
    CLOSED = "closed"  # reject the document
