"""The audit service: records admitted messages into per-tenant hash chains, and answers
queries, verification and purges.

The path of a message: the handler admits it (``admission.py``), the service redacts and chains
it (``redaction.py``, ``chain.py``) and stores the batch through :class:`AuditRepository`; the
republisher (``republisher.py``) copies what is stored to the AUDIT stream. No framework imports
here: the NATS edge is ``handlers.py``, storage is ``store.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from llmops_audit.admission import Incoming
from llmops_audit.chain import (
    GENESIS,
    ChainConflict,
    Head,
    NewRecord,
    chain_batch,
    filter_columns,
    record_hash_ok,
)
from llmops_audit.checkpoints import Sealer
from llmops_audit.redaction import Redactor
from llmops_contracts.audit import AuditQuery
from llmops_contracts.auditchain import ChainBreak, ChainReport, ChainVerifier, timestamp
from llmops_shared.clock import SYSTEM_CLOCK, Clock

#: The ``source`` of everything the audit service publishes (replies, records, checkpoints).
SOURCE = "llmops/audit"


class AuditRepository(Protocol):
    """Storage port of the audit trail (append-only)."""

    async def heads(self, tenants: Sequence[str]) -> dict[str, Head]:
        """The chain head of each tenant that has records."""
        ...

    async def known_ids(self, tenant: str, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids the tenant's chain already holds."""
        ...

    async def append(self, records: Sequence[NewRecord]) -> None:
        """Store records in one transaction, or none of them.

        Raises:
            ChainConflict: a (tenant, seq) or a (tenant, event_id) is already stored.
        """
        ...

    async def query(self, tenant: str, query: AuditQuery) -> list[dict[str, Any]]:
        """Records matching a query, oldest first, at most ``query.limit``."""
        ...

    def records(
        self, tenant: str, after_seq: int = 0, *, columns: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a tenant after a seq, in seq order, streamed.

        With ``columns``, each record also carries ``columns``: its stored filter columns.
        """
        ...

    async def tenants(self) -> list[str]:
        """Tenants that have records."""
        ...

    async def checkpoints(self, tenant: str) -> list[dict[str, Any]]:
        """A tenant's checkpoints, oldest first."""
        ...

    async def add_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store a signed checkpoint."""
        ...

    async def purge(
        self, tenant: str, before: str, sign: Callable[[Head], Awaitable[dict[str, Any]]]
    ) -> tuple[int, dict[str, Any] | None]:
        """Delete records recorded before ``before`` with a purge checkpoint, in one transaction.

        ``sign(head)`` gets the last record to delete and returns its signed checkpoint; it is
        awaited inside the transaction, before anything is deleted, and whatever it raises
        aborts the purge.
        """
        ...


#: Budget of one query reply's records, well under NATS's default 1 MiB message limit.
PAGE_BYTES = 512 * 1024


class AuditService:
    """Records messages into per-tenant hash chains and answers questions about them."""

    def __init__(
        self,
        repository: AuditRepository,
        redactor: Redactor | None = None,
        checkpointer: Sealer | None = None,
        clock: Clock = SYSTEM_CLOCK,
        on_verify_failure: Callable[[str], None] | None = None,
        on_recorded: Callable[[], None] | None = None,
    ) -> None:
        self.repository = repository
        self.on_verify_failure = on_verify_failure
        self.on_recorded = on_recorded
        self.redactor = redactor or Redactor()
        #: Signs, publishes and checks checkpoints (by default without a key: hashes, links and
        #: stored checkpoints are checked, nothing is signed and purge is refused).
        self.checkpointer = checkpointer or Sealer(repository)
        self.clock = clock
        self._heads: dict[str, Head] = {}
        # One writer per process: the capture consumers of three streams share the chains.
        self._lock = asyncio.Lock()

    async def record(self, batch: Sequence[Incoming]) -> int:
        """Chain and store a batch in one transaction; returns how many records were added.

        Redeliveries and republished events (an id the tenant's chain already holds, or twice in
        the batch) are skipped, so each event is recorded exactly once.
        """
        async with self._lock:
            by_tenant: dict[str, list[Incoming]] = {}
            for item in batch:
                by_tenant.setdefault(item.tenant, []).append(item)
            missing = [t for t in by_tenant if t not in self._heads]
            if missing:
                found = await self.repository.heads(missing)
                for tenant in missing:
                    self._heads[tenant] = found.get(tenant) or await self._purged_head(tenant)
            recorded_at = timestamp(self.clock.now())
            # Optimistic first (performance): an event is almost always new, and the repository
            # refuses an event id the tenant's chain holds (ChainConflict, nothing stored), so
            # asking storage which ids it knows, one query per tenant per batch, is only needed
            # when that happens. Then the batch is chained again exactly as before.
            records, heads = chain_batch(by_tenant, self._heads, recorded_at, self.redactor, {})
            try:
                if records:
                    await self.repository.append(records)
            except ChainConflict:
                known = {
                    tenant: await self.repository.known_ids(tenant, [i.event_id for i in items])
                    for tenant, items in by_tenant.items()
                }
                records, heads = chain_batch(
                    by_tenant, self._heads, recorded_at, self.redactor, known
                )
                if not records:
                    return 0
                try:
                    await self.repository.append(records)
                except ChainConflict:
                    self._heads.clear()  # another writer moved on: reload heads on the retry
                    raise
            if not records:
                return 0
            self._heads.update(heads)
        if self.on_recorded is not None:
            self.on_recorded()
        return len(records)

    async def query(
        self, tenant: str, query: AuditQuery
    ) -> tuple[list[dict[str, Any]], int | None, dict[str, Any] | None]:
        """A page of records, the next cursor (None at the end) and the purge anchor."""
        rows = await self.repository.query(tenant, query)
        next_after = rows[-1]["seq"] if len(rows) == query.limit else None
        # A reply must fit one NATS message (1 MiB by default): a page of large events (captured
        # prompts) stops early, and the cursor continues from there.
        size = 0
        for i, row in enumerate(rows):
            size += len(json.dumps(row["event"], ensure_ascii=False)) + 600
            if size > PAGE_BYTES and i > 0:
                rows, next_after = rows[:i], rows[i - 1]["seq"]
                break
        anchor = await self.anchor(tenant) if query.after_seq == 0 else None
        return rows, next_after, anchor

    async def _purged_head(self, tenant: str) -> Head:
        """Where a chain without records continues: its purge anchor, else the genesis."""
        anchor = await self.anchor(tenant)
        return Head(int(anchor["seq"]), str(anchor["hash"])) if anchor else GENESIS

    async def anchor(self, tenant: str) -> dict[str, Any] | None:
        """The latest purge checkpoint: where the remaining chain starts."""
        purges = [c for c in await self.repository.checkpoints(tenant) if c["kind"] == "purge"]
        return purges[-1] if purges else None

    async def verify(self, tenant: str, *, all_breaks: bool = False) -> ChainReport:
        """Recompute a tenant's chain from storage against its hashes and signed checkpoints.

        The chain is also held to the newest checkpoint published on the AUDIT stream, outside
        the database: records cut after it, or its row deleted, are breaks.
        """
        checkpoints = await self.repository.checkpoints(tenant)
        published = await self.checkpointer.held_to(tenant, checkpoints)
        # Every checkpoint's signature is checked, the purge anchor's included: a forged anchor
        # would otherwise let a rewritten chain start wherever the forger wanted.
        verifier = ChainVerifier(
            anchor=await self.anchor(tenant),
            checkpoints=[*checkpoints, *published.unstored],
            keys=self.checkpointer.keys,
        )
        async for record in self.repository.records(tenant, columns=True):
            stored = record.pop("columns")
            verifier.feed(record)
            wrong = [k for k, v in filter_columns(record["event"]).items() if stored.get(k) != v]
            if wrong and record_hash_ok(record):
                # The hashed content is intact but a query column was changed (say, a record
                # moved to another user): queries would lie, so it is a modification too.
                verifier.report.breaks.append(
                    ChainBreak(
                        int(record["seq"]),
                        str(record["event_id"]),
                        "modified",
                        f"indexed column(s) {', '.join(wrong)} do not match the hashed event",
                    )
                )
            if verifier.report.breaks and not all_breaks:
                break
        report = verifier.finish() if not verifier.report.breaks else verifier.report
        if all_breaks or not report.breaks:
            report.breaks.extend(published.breaks)
        report.tenant = tenant
        report.published = published.checkpoint
        if self.on_verify_failure is not None and not report.ok:
            self.on_verify_failure(tenant)
        return report

    async def checkpoint_heads(self) -> int:
        """Sign every verified chain head that moved since it was last signed; returns how many."""
        return await self.checkpointer.seal()

    async def purge(self, tenant: str, before: datetime) -> tuple[int, dict[str, Any] | None]:
        """Remove records recorded before ``before`` behind a signed purge checkpoint."""
        async with self._lock:
            return await self.checkpointer.purge(tenant, before)
