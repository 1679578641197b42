"""Ingestion test fixtures: in-memory fakes of the service's own ports.

``FakeDocumentStore`` keeps the document-store port's promises: it runs the same abstract suite
as the SQL adapter (``test_document_store.py``). The shared ports' fakes (the publisher) are in
``tests/fakes.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from llmops_contracts.common import ObjectRef
from llmops_ingestion.ports import (
    FileUnavailable,
    Screening,
    ScreenUnavailable,
    Similar,
    StoredDocument,
)
from llmops_ingestion.rules import distance


class FakeDocumentStore:
    """Documents in a dict by (tenant, collection, document id)."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, str, str], StoredDocument] = {}

    async def get(self, tenant: str, collection: str, document_id: str) -> StoredDocument | None:
        return self.documents.get((tenant, collection, document_id))

    async def put(self, document: StoredDocument) -> None:
        key = (document.tenant, document.collection, document.document_id)
        self.documents[key] = replace(document, updated_at=document.updated_at.astimezone(UTC))

    async def forget(self, tenant: str, collection: str, document_id: str) -> bool:
        return self.documents.pop((tenant, collection, document_id), None) is not None

    async def expired(
        self, tenant: str, collection: str | None, now: datetime
    ) -> list[tuple[str, str]]:
        return sorted(
            (c, d)
            for (t, c, d), doc in self.documents.items()
            if t == tenant
            and (collection is None or c == collection)
            and doc.expires_at is not None
            and doc.expires_at <= now
        )

    async def expiring_tenants(self, now: datetime) -> list[str]:
        return sorted(
            {
                t
                for (t, _, _), doc in self.documents.items()
                if doc.expires_at is not None and doc.expires_at <= now
            }
        )

    async def similar(self, tenant: str, signature: int, max_distance: int) -> list[Similar]:
        found = [
            Similar(c, d, distance(signature, doc.simhash))
            for (t, c, d), doc in self.documents.items()
            if t == tenant
        ]
        return sorted(
            (s for s in found if s.distance <= max_distance),
            key=lambda s: (s.distance, s.collection, s.document_id),
        )


class FakeFiles:
    """Objects in a dict by name; deletions recorded."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.deleted: list[str] = []

    async def get(self, ref: ObjectRef) -> bytes:
        data = self.objects.get(ref.name)
        if data is None:
            raise FileUnavailable(f"file {ref.bucket}/{ref.name} is not in the object store")
        if not ref.matches(data):
            raise FileUnavailable(f"file {ref.bucket}/{ref.name} does not match its reference")
        return data

    async def delete(self, ref: ObjectRef) -> None:
        self.objects.pop(ref.name, None)
        self.deleted.append(ref.name)


class FakeScreen:
    """Blocks texts containing a marker; ``down`` makes it unavailable."""

    def __init__(self, marker: str = "IGNORE ALL PREVIOUS INSTRUCTIONS") -> None:
        self.marker = marker
        self.down = False
        self.checked: list[tuple[str, str]] = []

    async def check(self, tenant: str, text: str) -> Screening:
        if self.down:
            raise ScreenUnavailable("no guardrails service answers")
        self.checked.append((tenant, text))
        if self.marker in text:
            return Screening("block", ["injection:instruction_override"], "default")
        return Screening("allow", [], "default")


@pytest.fixture
def fake_store() -> FakeDocumentStore:
    return FakeDocumentStore()
