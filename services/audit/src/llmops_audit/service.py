"""Audit logic: record every message once, in arrival order. No framework imports here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from llmops_contracts.envelope import Envelope


@dataclass(frozen=True)
class Entry:
    """One message to record."""

    subject: str
    message: Envelope[Any]


@dataclass(frozen=True)
class StoredEvent:
    """One recorded message, as read back."""

    event_id: str
    type: str
    tenant: str
    subject: str
    source: str
    time: datetime
    envelope: dict[str, Any]


class AuditRepository(Protocol):
    """Storage port: append entries idempotently, read them back."""

    async def append(self, entries: Sequence[Entry]) -> int:
        """Store entries in one transaction, skipping ids already stored; returns rows added."""
        ...

    async def count(self, tenant: str | None = None) -> int:
        """Number of stored records, for one tenant or all."""
        ...

    async def get(self, event_id: str) -> StoredEvent | None:
        """One stored record by event id."""
        ...


class AuditService:
    """Records messages through a repository."""

    def __init__(self, repository: AuditRepository) -> None:
        self.repository = repository

    async def record(self, entries: Sequence[Entry]) -> int:
        """Record a batch; duplicates (same id, also within the batch) are stored once."""
        seen: set[str] = set()
        unique = []
        for entry in entries:
            if entry.message.id not in seen:
                seen.add(entry.message.id)
                unique.append(entry)
        return await self.repository.append(unique) if unique else 0
