"""One abstract suite for the policy-store port, run against the in-memory fake and the
JetStream key-value bucket on a real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest

from llmops_guardrails.store import KvPolicyStore
from tests.services.guardrails.conftest import MemoryPolicyStore


class PolicyStoreContract:
    """What the service relies on from wherever policies are kept."""

    @pytest.fixture
    async def store(self) -> Any:  # overridden per adapter
        raise NotImplementedError

    async def test_an_empty_tenant_has_nothing(self, store: Any, tenant: str) -> None:
        assert await store.policies(tenant) == []
        assert await store.versions(tenant, "default") == []
        assert await store.document(tenant, "default", "1") is None
        assert await store.pointer(tenant, "default", "enforced") is None

    async def test_a_version_is_created_once_and_never_rewritten(
        self, store: Any, tenant: str
    ) -> None:
        assert await store.create_document(tenant, "bot", "1", "first") is None
        assert await store.create_document(tenant, "bot", "1", "second") == "first"
        assert await store.document(tenant, "bot", "1") == "first"

    async def test_versions_keep_push_order_and_policies_are_listed(
        self, store: Any, tenant: str
    ) -> None:
        for version in ("10", "2", "1.5"):
            await store.create_document(tenant, "bot", version, f"doc {version}")
        await store.create_document(tenant, "alpha", "1", "a")
        assert await store.versions(tenant, "bot") == ["10", "2", "1.5"]
        assert await store.policies(tenant) == ["alpha", "bot"]

    async def test_pointers_move_and_empty(self, store: Any, tenant: str) -> None:
        await store.create_document(tenant, "bot", "1", "one")
        await store.point(tenant, "bot", "enforced", "1")
        await store.point(tenant, "bot", "shadow", "1")
        assert await store.pointer(tenant, "bot", "enforced") == "1"
        assert (tenant, "bot") in await store.pointed()
        await store.point(tenant, "bot", "shadow", None)
        await store.point(tenant, "bot", "shadow", None)  # emptying an empty slot is fine
        assert await store.pointer(tenant, "bot", "shadow") is None
        assert await store.pointer(tenant, "bot", "enforced") == "1"

    async def test_tenants_do_not_see_each_other(self, store: Any, tenant: str) -> None:
        await store.create_document(tenant, "bot", "1", "mine")
        await store.point(tenant, "bot", "enforced", "1")
        other = f"{tenant}x"
        assert await store.policies(other) == []
        assert await store.document(other, "bot", "1") is None
        assert await store.pointer(other, "bot", "enforced") is None


class TestInMemoryFake(PolicyStoreContract):
    @pytest.fixture
    async def store(self) -> MemoryPolicyStore:
        return MemoryPolicyStore()


class TestKeyValueBucket(PolicyStoreContract):
    @pytest.fixture
    async def store(self, nats_url: str, uid: str) -> AsyncIterator[KvPolicyStore]:
        nc = await nats.connect(nats_url)
        store = KvPolicyStore(lambda: nc, bucket=f"policies_{uid}")
        await store.open()
        try:
            yield store
        finally:
            await nc.jetstream().delete_key_value(store.bucket)
            await nc.drain()

    async def test_the_watch_reports_pointer_moves_not_versions(
        self, store: KvPolicyStore, tenant: str
    ) -> None:
        import asyncio

        seen: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

        async def on_change(t: str, p: str) -> None:
            await seen.put((t, p))

        watching = asyncio.create_task(store.watch(on_change))
        try:
            await store.create_document(tenant, "bot", "1", "one")
            await store.point(tenant, "bot", "enforced", "1")
            assert await asyncio.wait_for(seen.get(), 5) == (tenant, "bot")
            await store.point(tenant, "bot", "enforced", None)
            assert await asyncio.wait_for(seen.get(), 5) == (tenant, "bot")
            assert seen.empty()
        finally:
            watching.cancel()
            with pytest.raises(asyncio.CancelledError):
                await watching

    async def test_an_existing_bucket_is_bound_and_a_missing_one_not_created_when_told(
        self, nats_url: str, uid: str
    ) -> None:
        from nats.js.errors import BucketNotFoundError

        nc = await nats.connect(nats_url)
        try:
            with pytest.raises(BucketNotFoundError):
                await KvPolicyStore(lambda: nc, bucket=f"absent_{uid}", create=False).open()
        finally:
            await nc.drain()
