"""Ingestion logic: read, check, chunk, embed and index documents incrementally.

No framework imports here: the service talks to the world through the ports below (its document
state, the submitted files, the guardrails screen) and the shared publisher.

One submitted document goes: read (text, inline file or object-store file) → parse → source-quality
rules (every failure at once) → chunk → compare the chunk ids with the stored version → embed only
the new chunks, in batches → publish them in ``ChunksEmbedded`` parts under the message size limit,
the last part carrying ``keep`` (every chunk id of this version, so the index drops the vanished
ones only after writing the new ones) → store the version → ``DocumentIndexed``. Every event id is
derived from the command, so a redelivery republishes the same ids and JetStream drops them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from llmops_contracts import subjects, wrap
from llmops_contracts.common import Metadata, ObjectRef
from llmops_contracts.envelope import Envelope, Payload, derived_id, stable_id
from llmops_contracts.ingestion import (
    Chunk,
    Chunking,
    ChunksEmbedded,
    DeleteDocument,
    DocumentDeleted,
    DocumentIndexed,
    DocumentProgress,
    DocumentRejected,
    ExpireDocuments,
    Rejection,
    SparseVector,
    SubmitDocument,
)
from llmops_ingestion import parsers
from llmops_ingestion.chunking import (
    ChunkSizes,
    Piece,
    chunk,
    chunk_id,
    document_namespace,
    sha256_hex,
)
from llmops_ingestion.ports import (
    DocumentStore,
    Files,
    FileUnavailable,
    Screen,
    ScreenUnavailable,
    StoredDocument,
    WhenScreenDown,
)
from llmops_ingestion.rules import (
    LanguageDetector,
    SourceRules,
    TenantRules,
    check_language,
    check_length,
    check_source,
    near_duplicate,
    simhash,
)
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.embedding import DenseEmbedder
from llmops_shared.logging import get_logger
from llmops_shared.publish import Publisher
from llmops_shared.sparse import SparseEncoder

SOURCE = "llmops/ingestion"

_log = get_logger(__name__)

Touch = Callable[[], Awaitable[Any]]

#: Inputs larger than this are parsed and hashed in a worker thread, off the event loop.
_OFF_LOOP_BYTES = 256 * 1024


# --- policy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """How documents are read, chunked, embedded and published."""

    sizes: ChunkSizes = field(default_factory=ChunkSizes)
    #: Chunking strategy by document source (the command's ``source``).
    chunking_by_source: dict[str, Chunking] = field(default_factory=dict)
    #: Texts embedded per call.
    embed_batch: int = 64
    #: A progress event every this many chunks embedded (0: none).
    progress_every: int = 256
    #: Most bytes of one ChunksEmbedded event (NATS refuses messages over its max_payload).
    max_event_bytes: int = 768 * 1024
    #: Most bytes of a submitted file.
    max_file_bytes: int = 64 * 1024 * 1024
    #: Most characters per guardrails request (a longer text is screened in pieces).
    screen_chars: int = 100_000
    when_screen_down: WhenScreenDown = WhenScreenDown.RETRY

    def strategy(self, document: SubmitDocument, media_type: str) -> Chunking:
        """The command's strategy, else the source's, else by format (structure for formats
        that have one)."""
        if document.chunking is not None:
            return document.chunking
        if document.source is not None and document.source in self.chunking_by_source:
            return self.chunking_by_source[document.source]
        structured = {parsers.MARKDOWN, parsers.HTML, parsers.JSONL}
        return Chunking.STRUCTURE if media_type in structured else Chunking.TOKENS


class Embedders:
    """Sparse BM25 vectors always; dense vectors too when a model is configured."""

    def __init__(self, sparse: SparseEncoder, dense: DenseEmbedder | None = None) -> None:
        self.sparse = sparse
        self.dense = dense

    @property
    def model(self) -> str:
        """What the events record: the sparse model, and the dense one when there is one."""
        return (
            self.sparse.model if self.dense is None else f"{self.sparse.model}+{self.dense.model}"
        )

    @property
    def dimensions(self) -> int:
        """Dense vector length (0 without a dense model)."""
        return 0 if self.dense is None else self.dense.dimensions

    async def embed(self, texts: Sequence[str]) -> list[tuple[SparseVector, list[float] | None]]:
        """Both vectors of every text."""
        sparse = [self.sparse.document(t) for t in texts]
        dense: Sequence[list[float] | None] = (
            await self.dense.embed(texts) if self.dense is not None else [None] * len(texts)
        )
        return [
            (SparseVector.model_construct(indices=i, values=v), d)
            for (i, v), d in zip(sparse, dense, strict=True)
        ]


# --- the service ------------------------------------------------------------------------------


class IngestionService:
    """Checks, chunks and embeds submitted documents, and publishes what happened."""

    def __init__(
        self,
        publisher: Publisher,
        store: DocumentStore,
        embedders: Embedders,
        rules: TenantRules,
        pipeline: Pipeline,
        *,
        files: Files | None = None,
        screen: Screen | None = None,
        languages: LanguageDetector | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.publisher = publisher
        self.store = store
        self.embedders = embedders
        self.rules = rules
        self.pipeline = pipeline
        self.files = files
        self.screen = screen
        self.languages = languages or LanguageDetector()
        self.clock = clock
        # The broker hands a fetched batch to concurrent handler calls: two versions of one
        # document in a batch must still be indexed one after the other, in order.
        self._locks: dict[tuple[str, str, str], tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def _document_lock(
        self, tenant: str, collection: str, document_id: str
    ) -> AsyncIterator[None]:
        """Hold one document's lock (dropped once nobody holds or awaits it)."""
        key = (tenant, collection, document_id)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def submit(
        self, command: Envelope[SubmitDocument], touch: Touch | None = None
    ) -> list[Envelope[Any]]:
        """Handle one submit command; publishes and returns its events, in publishing order.

        Args:
            command: the command.
            touch: called between embedding batches, to tell the broker the work goes on.
        """
        run = _Run(self, command, touch)
        document = command.data
        async with self._document_lock(command.tenant, document.collection, document.document_id):
            stored = await self.store.get(command.tenant, document.collection, document.document_id)
            if stored is not None and stored.command_id == command.id:
                # A redelivery of a command already done (the process died before acking it):
                # say so again; the event id is the one published before, so JetStream drops it.
                await run.emit(_indexed(document, stored, self.embedders.model), "indexed")
            else:
                await self._submit(run, stored)
        ref = document.file.object if document.file is not None else None
        if ref is not None and self.files and owns(command.tenant, ref):
            await self.files.delete(ref)
        return run.events

    async def _submit(self, run: _Run, stored: StoredDocument | None) -> None:
        document = run.command.data
        rules = self.rules.for_tenant(run.command.tenant)
        rejections: list[Rejection] = []
        if (failed := check_source(document.source, rules)) is not None:
            rejections.append(failed)
        parsed, media_type = await self._read(run.command.tenant, document, rejections)
        signature = 0
        if parsed is not None and not rejections and stored is not None:
            attributes = self._attributes(document, parsed, media_type)
            if (
                stored.content_sha256 == sha256_hex(parsed.text)
                and stored.attributes_sha256 == attributes
                and stored.version == document.version
            ):
                # Resubmitted as it is (a directory ingested again): nothing to chunk, embed,
                # check or store; the rules judged this content when it was first indexed.
                same = replace(stored, embedded=0, unchanged=len(stored.chunk_ids), removed=0)
                await run.emit(_indexed(document, same, self.embedders.model), "indexed")
                return
        if parsed is not None:
            signature = (
                await asyncio.to_thread(simhash, parsed.text)
                if len(parsed.text) > _OFF_LOOP_BYTES
                else simhash(parsed.text)
            )
            rejections += await self._check(run.command.tenant, document, parsed, rules, signature)
        if rejections or parsed is None:
            rejected = DocumentRejected(
                document_id=document.document_id,
                collection=document.collection,
                reasons=rejections,
            )
            await run.emit(rejected, rejected.SPEC.type)
            return
        await self._index(run, parsed, media_type, stored, signature)

    async def _read(
        self, tenant: str, document: SubmitDocument, rejections: list[Rejection]
    ) -> tuple[parsers.Parsed | None, str]:
        """The parsed document, or None with the reason appended to ``rejections``."""
        media_type = parsers.canonical(document.media_type)
        data: bytes | str
        if document.file is not None:
            media_type = parsers.canonical(document.file.media_type)
            try:
                data = await self._file_bytes(tenant, document.file)
            except FileUnavailable as exc:
                rejections.append(Rejection(rule="file", message=str(exc)))
                return None, media_type
        elif document.text is not None:
            data = document.text
        else:
            rejections.append(
                Rejection(
                    rule="fetch_unsupported",
                    message=f"no text or file given and fetching {document.uri!r} is not supported",
                )
            )
            return None, media_type
        try:
            if len(data) > _OFF_LOOP_BYTES:
                # A large PDF or HTML page parses for long enough to stall the event loop
                # (heartbeats, acks of other messages): parse it in a worker thread.
                parsed = await asyncio.to_thread(parsers.parse, data, media_type)
            else:
                parsed = parsers.parse(data, media_type)
            return parsed, media_type
        except parsers.ParseError as exc:
            rejections.append(Rejection(rule="parse", message=str(exc)))
            return None, media_type

    async def _file_bytes(self, tenant: str, file: Any) -> bytes:
        limit = self.pipeline.max_file_bytes
        if file.inline is not None:
            try:
                data = base64.b64decode(file.inline, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise FileUnavailable(
                    f"file {file.name!r}: inline bytes are not base64: {exc}"
                ) from None
        else:
            ref: ObjectRef = file.object
            if not owns(tenant, ref):
                raise FileUnavailable(
                    f"file {file.name!r}: {ref.bucket}/{ref.name} is not one of the tenant's "
                    f"uploads ({subjects.INGESTION_FILES_BUCKET}/{tenant}/...)"
                )
            if ref.size > limit:
                raise FileUnavailable(f"file {file.name!r}: {ref.size} bytes, at most {limit}")
            if self.files is None:
                raise FileUnavailable("files by reference are not accepted by this service")
            data = await self.files.get(ref)
        if len(data) > limit:
            raise FileUnavailable(f"file {file.name!r}: {len(data)} bytes, at most {limit}")
        return data

    async def _check(
        self,
        tenant: str,
        document: SubmitDocument,
        parsed: parsers.Parsed,
        rules: SourceRules,
        signature: int,
    ) -> list[Rejection]:
        """Every rule the parsed text fails."""
        failed = [
            check_length(parsed.text, rules),
            check_language(parsed.text, rules, self.languages),
        ]
        if rules.near_duplicates:
            for other in await self.store.similar(tenant, signature, rules.max_distance):
                if (other.collection, other.document_id) != (
                    document.collection,
                    document.document_id,
                ):
                    failed.append(near_duplicate(other.document_id, other.distance))
                    break
        if rules.screen and self.screen is not None:
            failed.append(await self._screen(tenant, parsed.text))
        return [f for f in failed if f is not None]

    async def _screen(self, tenant: str, text: str) -> Rejection | None:
        """The guardrails verdict as a rejection (anything but 'allow' rejects)."""
        size = self.pipeline.screen_chars
        try:
            for start in range(0, len(text), size):
                verdict = await self.screen.check(tenant, text[start : start + size])  # type: ignore[union-attr]
                if verdict.outcome != "allow":
                    found = ", ".join(verdict.findings) or "no detail"
                    return Rejection(
                        rule="guardrails",
                        message=f"guardrails policy {verdict.policy!r} says {verdict.outcome}: {found}",
                    )
        except ScreenUnavailable as exc:
            when = self.pipeline.when_screen_down
            if when is WhenScreenDown.RETRY:
                raise
            if when is WhenScreenDown.CLOSED:
                return Rejection(rule="guardrails_unavailable", message=str(exc))
            _log.warning("indexed without guardrails screening", tenant=tenant, error=str(exc))
        return None

    async def _index(
        self,
        run: _Run,
        parsed: parsers.Parsed,
        media_type: str,
        stored: StoredDocument | None,
        signature: int,
    ) -> None:
        document = run.command.data
        pieces = chunk(parsed, self.pipeline.strategy(document, media_type), self.pipeline.sizes)
        namespace = document_namespace(document.document_id)
        ids = [chunk_id(document.document_id, p.text, namespace) for p in pieces]
        base = chunk_metadata(document, parsed)
        attributes = self._attributes(document, parsed, media_type)
        previous = set(stored.chunk_ids) if stored is not None else set()
        known = previous if stored is not None and stored.attributes_sha256 == attributes else set()
        new = [
            (ordinal, ids[ordinal], p)
            for ordinal, p in enumerate(pieces)
            if ids[ordinal] not in known
        ]
        removed = len(previous - set(ids))
        if new or removed or stored is None:
            await self._publish_chunks(run, new, ids, base)
        content = sha256_hex(parsed.text)
        version = StoredDocument(
            tenant=run.command.tenant,
            collection=document.collection,
            document_id=document.document_id,
            chunk_ids=tuple(ids),
            content_sha256=content,
            attributes_sha256=attributes,
            embedding_model=self.embedders.model,
            simhash=signature,
            command_id=run.command.id,
            updated_at=self.clock.now(),
            version=document.version,
            expires_at=document.expires_at,
            embedded=len(new),
            unchanged=len(ids) - len(new),
            removed=removed,
        )
        await self.store.put(version)
        await run.emit(_indexed(document, version, self.embedders.model), "indexed")

    def _attributes(self, document: SubmitDocument, parsed: parsers.Parsed, media_type: str) -> str:
        """Hash of what every chunk carries besides its text, and of how chunks are cut."""
        strategy = self.pipeline.strategy(document, media_type)
        sizes = self.pipeline.sizes
        return attributes_sha256(
            document,
            chunk_metadata(document, parsed),
            f"{self.embedders.model}|{strategy}|{sizes.max_words}|{sizes.overlap_words}",
        )

    async def _publish_chunks(
        self,
        run: _Run,
        new: list[tuple[int, str, Piece]],
        ids: list[str],
        base: Metadata,
    ) -> None:
        """Embed the new chunks batch by batch and publish them in parts under the size limit."""
        document = run.command.data
        budget = self.pipeline.max_event_bytes
        part: list[Chunk] = []
        size = 0
        parts = 0
        done = 0
        every = self.pipeline.progress_every
        base_size = len(json.dumps(base, default=str))

        async def flush(keep: list[str] | None) -> None:
            nonlocal part, size, parts
            event = ChunksEmbedded(
                document_id=document.document_id,
                collection=document.collection,
                embedding_model=self.embedders.model,
                dimensions=self.embedders.dimensions,
                chunks=part,
                version=document.version,
                acl=document.acl,
                expires_at=document.expires_at,
                keep=keep,
                final=keep is not None,
            )
            await run.emit(event, f"chunks:{parts}")
            part, size, parts = [], 0, parts + 1

        batch_size = self.pipeline.embed_batch
        for start in range(0, len(new), batch_size):
            batch = new[start : start + batch_size]
            vectors = await self.embedders.embed([p.text for _, _, p in batch])
            for (ordinal, cid, piece), (sparse, dense) in zip(batch, vectors, strict=True):
                metadata = {**base, **piece.metadata} if piece.metadata else base
                item = Chunk.model_construct(
                    chunk_id=cid,
                    ordinal=ordinal,
                    text=piece.text,
                    vector=dense,
                    sparse=sparse,
                    metadata=metadata,
                )
                weight = _estimate(piece.text, len(sparse.indices), len(dense or ()))
                weight += base_size + (len(json.dumps(piece.metadata)) if piece.metadata else 0)
                if part and size + weight > budget:
                    await flush(None)
                part.append(item)
                size += weight
            before, done = done, done + len(batch)
            if every and len(new) > every and done // every > before // every:
                progress = DocumentProgress(
                    document_id=document.document_id,
                    collection=document.collection,
                    done=done,
                    total=len(new),
                )
                await run.emit(progress, f"progress:{done}")
            if run.touch is not None:
                await run.touch()
        keep_size = 40 * len(ids) + 1024
        if part and size + keep_size > budget:
            await flush(None)
        await flush(list(ids))

    async def delete(self, command: Envelope[DeleteDocument]) -> list[Envelope[Any]]:
        """Remove a document: the deletion event first (the index acts on it), then the state."""
        run = _Run(self, command, None)
        document = command.data
        await run.emit(
            DocumentDeleted(
                document_id=document.document_id,
                collection=document.collection,
                reason="deleted",
            ),
            "deleted",
        )
        await self.store.forget(command.tenant, document.collection, document.document_id)
        return run.events

    async def expire(self, command: Envelope[ExpireDocuments]) -> list[Envelope[Any]]:
        """Remove every document of the tenant whose expiry has passed by the service clock."""
        run = _Run(self, command, None)
        now = self.clock.now()
        for collection, document_id in await self.store.expired(
            command.tenant, command.data.collection, now
        ):
            await run.emit(
                DocumentDeleted(document_id=document_id, collection=collection, reason="expired"),
                f"expired:{collection}/{document_id}",
            )
            await self.store.forget(command.tenant, collection, document_id)
        return run.events

    async def sweep_expired(self, every_s: float) -> list[Envelope[ExpireDocuments]]:
        """Send an :class:`ExpireDocuments` command for every tenant holding expired documents.

        Queries never return an expired chunk (the index filters on expiry), so the sweep only
        frees the index and the document state; it is a command through the work queue, like
        an operator's ``llmops documents expire``, so the removal is retried and dead-lettered
        as any other. Its id is fixed by the tenant and the ``every_s`` window it falls in:
        replicas sweeping in the same window send one command between them (JetStream drops
        the repeats), and a repeat that got through finds nothing left to remove.
        """
        now = self.clock.now()
        window = int(now.timestamp() // every_s)
        opened = datetime.fromtimestamp(window * every_s, UTC)  # the id's time bits: shared too
        commands = []
        for tenant in await self.store.expiring_tenants(now):
            command = wrap(
                ExpireDocuments(),
                tenant=tenant,
                source=SOURCE,
                id=stable_id(opened, tenant, "expiry-sweep", str(window)),
                time=now,
            )
            await self.publisher.publish(command)
            commands.append(command)
        return commands


class _Run:
    """The events of one command: wrapped with ids derived from it, published in order."""

    def __init__(self, service: IngestionService, command: Envelope[Any], touch: Touch | None):
        self.service = service
        self.command = command
        self.touch = touch
        self.events: list[Envelope[Any]] = []

    async def emit(self, payload: Payload, key: str) -> None:
        event = wrap(
            payload,
            tenant=self.command.tenant,
            source=SOURCE,
            causation=self.command,
            id=derived_id(self.command, key),
            time=self.service.clock.now(),
        )
        await self.service.publisher.publish(event)
        self.events.append(event)


def owns(tenant: str, ref: ObjectRef) -> bool:
    """Whether ``ref`` names one of the tenant's uploads, the only objects a command may read
    (and have deleted): the CLI puts them under ``<tenant>/`` in the ingestion bucket. Anything
    else (another tenant's upload, another bucket's object) is not the sender's to touch."""
    return ref.bucket == subjects.INGESTION_FILES_BUCKET and ref.name.startswith(f"{tenant}/")


def _indexed(document: SubmitDocument, stored: StoredDocument, model: str) -> DocumentIndexed:
    return DocumentIndexed(
        document_id=document.document_id,
        collection=document.collection,
        chunk_count=len(stored.chunk_ids),
        content_sha256=stored.content_sha256,
        embedding_model=model,
        version=stored.version,
        embedded=stored.embedded,
        unchanged=stored.unchanged,
        removed=stored.removed,
    )


def _estimate(text: str, sparse_terms: int, dimensions: int) -> int:
    """Bytes a chunk takes in the event's JSON, rounded up (no second serialisation)."""
    # ASCII-escaped JSON is never shorter than the UTF-8 JSON pydantic writes.
    return len(json.dumps(text)) + 34 * sparse_terms + 26 * dimensions + 400


def chunk_metadata(document: SubmitDocument, parsed: parsers.Parsed | None = None) -> Metadata:
    """Labels every chunk carries: title, URI, language, source, then the caller's metadata."""
    # On every chunk, because retrieval filters on chunk metadata and has no document table.
    title = document.title or (parsed.title if parsed is not None else None)
    described = {
        "title": title,
        "uri": document.uri,
        "language": document.language,
        "source": document.source,
    }
    metadata: Metadata = {k: v for k, v in described.items() if v is not None}
    metadata.update(document.metadata)
    return metadata


def attributes_sha256(document: SubmitDocument, metadata: Metadata, model: str) -> str:
    """Hash of everything a chunk carries besides its text."""
    expires = document.expires_at.isoformat() if document.expires_at is not None else None
    blob = json.dumps([sorted(document.acl), expires, metadata, model], sort_keys=True, default=str)
    return sha256_hex(blob)
