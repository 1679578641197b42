"""``llmops ingest PATH...`` and ``llmops documents delete|expire``: feed the ingestion service.

Each file becomes one ``submit_document`` command. A file's document id is its path relative to
the directory argument it was found under (its file name for a file argument), without the
extension, with ``/`` separators: ``docs/guide/install.md`` given as ``docs`` is
``guide/install``. The media type comes from the extension (see :data:`MEDIA_TYPES`); in a
directory, files of other types and hidden files are skipped.

A file of up to :data:`~llmops_contracts.ingestion.MAX_INLINE_FILE_BYTES` travels inside its
command (base64); a larger one is uploaded to the ``llmops-ingest`` object-store bucket and the
command refers to it (the service deletes it once the document is indexed or rejected).

Exit codes of ``ingest``: 0 every document submitted (and, with ``--wait``, indexed); 1 some
were rejected or dead-lettered (``--wait``: the reasons are printed); 2 bad arguments (no files, an unknown file
type, two files with one id); 3 no answer (no NATS server, or ``--wait`` timed out).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from llmops.client import Client
from llmops.terminal import NatsUrl, err, fail, out, say, valid_tenant
from llmops_contracts import subjects, wrap
from llmops_contracts.common import ObjectRef
from llmops_contracts.dlq import DeadLetter
from llmops_contracts.envelope import Envelope, new_event_id
from llmops_contracts.ingestion import (
    MAX_INLINE_FILE_BYTES,
    AclLabel,
    DeleteDocument,
    DocumentIndexed,
    DocumentRejected,
    ExpireDocuments,
    SubmitDocument,
    SubmittedFile,
)
from llmops_contracts.registry import InvalidMessage, parse

#: Media type by file extension.
MEDIA_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".jsonl": "application/jsonl",
    ".ndjson": "application/jsonl",
}
#: Exit code when nothing answered (no server, or the wait timed out).
NO_ANSWER = 3
#: Seconds an uploaded file stays in the bucket when no service ingests it (as the service's
#: own default, in case the CLI creates the bucket first).
FILES_MAX_AGE_S = 7 * 86400.0

documents_app = typer.Typer(
    help="Documents in the index: delete one, or expire those past their expiry.",
    no_args_is_help=True,
)


class UsageError(ValueError):
    """The arguments name no usable set of files."""


@dataclass(frozen=True)
class Item:
    """One file to submit and the document id it gets."""

    path: Path
    document_id: str
    media_type: str


def collect(paths: list[Path]) -> tuple[list[Item], list[Path]]:
    """The files to submit, and the files skipped in directories (unknown type).

    Raises:
        UsageError: a missing path, a file argument of unknown type, or two files with one id.
    """
    items: list[Item] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(path)
                if any(part.startswith(".") for part in relative.parts):
                    continue
                media = MEDIA_TYPES.get(file.suffix.lower())
                if media is None:
                    skipped.append(file)
                    continue
                items.append(Item(file, relative.with_suffix("").as_posix(), media))
        elif path.is_file():
            media = MEDIA_TYPES.get(path.suffix.lower())
            if media is None:
                known = ", ".join(sorted(MEDIA_TYPES))
                raise UsageError(f"{path}: unknown file type (known: {known})")
            items.append(Item(path, path.stem, media))
        else:
            raise UsageError(f"{path}: no such file or directory")
    seen: dict[str, Path] = {}
    for item in items:
        if item.document_id in seen:
            raise UsageError(
                f"{seen[item.document_id]} and {item.path} would both be document "
                f"{item.document_id!r}"
            )
        seen[item.document_id] = item.path
    return items, skipped


async def _bucket(js: Any) -> Any:
    """The files bucket, created when the service has not created it yet."""
    from nats.js.api import ObjectStoreConfig, StorageType
    from nats.js.errors import BadRequestError, BucketNotFoundError

    try:
        return await js.object_store(subjects.INGESTION_FILES_BUCKET)
    except BucketNotFoundError:
        config = ObjectStoreConfig(
            bucket=subjects.INGESTION_FILES_BUCKET,
            description="Files submitted for ingestion, deleted once indexed or rejected.",
            storage=StorageType.FILE,
            ttl=FILES_MAX_AGE_S,
        )
        try:
            return await js.create_object_store(subjects.INGESTION_FILES_BUCKET, config)
        except BadRequestError:
            return await js.object_store(subjects.INGESTION_FILES_BUCKET)


@dataclass(frozen=True)
class Options:
    """What every command of one ``ingest`` run carries."""

    tenant: str
    collection: str
    source: str | None
    acl: list[str]
    version: str | None


async def command_for(item: Item, options: Options, js: Any) -> Envelope[SubmitDocument]:
    """The submit command of one file: inline when small, through the bucket when large."""
    data = await asyncio.to_thread(item.path.read_bytes)
    command_id = new_event_id()
    if len(data) <= MAX_INLINE_FILE_BYTES:
        file = SubmittedFile(
            name=item.path.name, media_type=item.media_type, inline=base64.b64encode(data).decode()
        )
    else:
        # One object per command: the service deletes it after this command, and another command
        # with the same bytes must not lose its file.
        name = f"{options.tenant}/{command_id}"
        await (await _bucket(js)).put(name, data)
        ref = ObjectRef(
            bucket=subjects.INGESTION_FILES_BUCKET,
            name=name,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        file = SubmittedFile(name=item.path.name, media_type=item.media_type, object=ref)
    document = SubmitDocument(
        document_id=item.document_id,
        collection=options.collection,
        file=file,
        source=options.source,
        acl=options.acl,
        version=options.version,
        uri=item.path.as_posix(),
    )
    return wrap(document, tenant=options.tenant, source="cli://llmops", id=command_id)


@dataclass
class Outcome:
    """What ``--wait`` heard about the submitted documents."""

    indexed: dict[str, DocumentIndexed]
    rejected: dict[str, DocumentRejected]
    #: Commands the service dead-lettered (an outage outlasting its retries, a failure).
    failed: dict[str, DeadLetter] = field(default_factory=dict)

    @property
    def heard(self) -> int:
        """Documents accounted for."""
        return len(self.indexed) + len(self.rejected) + len(self.failed)


async def run_ingest(
    items: list[Item], options: Options, nats_url: str, wait: bool, timeout: float
) -> Outcome | None:
    """Submit every item (and wait for the outcomes); None when not waiting."""
    import nats

    nc = await nats.connect(nats_url, max_reconnect_attempts=1, reconnect_time_wait=0.2)
    try:
        js = nc.jetstream()
        client = Client(nc, source="llmops://cli/ingest")  # commands are built whole already
        pending: dict[str, str] = {}  # command id -> document id
        outcome = Outcome({}, {})
        done = asyncio.Event()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as progress:
            sent_task = progress.add_task("submitted", total=len(items))
            done_task = progress.add_task("indexed", total=len(items), visible=wait)

            async def heard(msg: Any) -> None:
                try:
                    event = parse(msg.data, subject=msg.subject)
                except InvalidMessage:
                    return
                # A dead letter's causation id is the original's Nats-Msg-Id: the command id.
                document_id = pending.get(event.causation_id or "")
                if document_id is None:
                    return
                if isinstance(event.data, DocumentIndexed):
                    outcome.indexed[document_id] = event.data
                elif isinstance(event.data, DocumentRejected):
                    outcome.rejected[document_id] = event.data
                elif isinstance(event.data, DeadLetter):
                    outcome.failed[document_id] = event.data
                else:
                    return
                progress.update(done_task, completed=outcome.heard)
                if outcome.heard == len(items):
                    done.set()

            if wait:
                # Subscribe before publishing, or a fast service answers before anyone listens.
                for subject in (
                    subjects.for_tenant(subjects.INGESTION_DOCUMENT_INDEXED, options.tenant),
                    subjects.for_tenant(subjects.INGESTION_DOCUMENT_REJECTED, options.tenant),
                    subjects.dlq_for("ingestion", options.tenant),
                ):
                    await nc.subscribe(subject, cb=heard)
                await nc.flush()
            for item in items:
                command = await command_for(item, options, js)
                pending[command.id] = item.document_id
                await client.publish(command)
                progress.advance(sent_task)
            if not wait:
                return None
            if items:
                async with asyncio.timeout(timeout):  # wait_for can lose a cancellation
                    await done.wait()
        return outcome
    finally:
        await nc.close()


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and directories to ingest.")],
    tenant: Annotated[str, typer.Option(help="Tenant whose index gets the documents.")],
    collection: Annotated[str, typer.Option(help="Index collection.")] = "default",
    source: Annotated[
        str | None, typer.Option(help="Source label (selects rules and chunking).")
    ] = "cli",
    acl: Annotated[
        list[str] | None,
        typer.Option("--acl", help="Access label (repeatable); none: tenant-wide."),
    ] = None,
    version: Annotated[str | None, typer.Option(help="Version label of these documents.")] = None,
    wait: Annotated[
        bool, typer.Option(help="Wait until every document is indexed or rejected.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="With --wait: give up after this many seconds.")
    ] = 600.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Ingest files: each file is a document, its id its path without the extension."""
    valid_tenant(tenant)
    labels = list(acl or [])
    for label in labels:
        try:
            TypeAdapter(AclLabel).validate_python(label)
        except ValueError:
            raise typer.BadParameter(
                f"{label!r} is not a valid label", param_hint="--acl"
            ) from None
    try:
        items, skipped = collect(paths)
    except UsageError as exc:
        fail(str(exc))
        raise typer.Exit(2) from None
    for path in skipped:
        say(f"skipped {path} (unknown file type)", err)
    if not items:
        fail("no files to ingest")
        raise typer.Exit(2)
    options = Options(tenant, collection, source, labels, version)
    try:
        outcome = asyncio.run(run_ingest(items, options, nats_url, wait, timeout))
    except TimeoutError:
        fail(f"ingest: not every document was indexed or rejected within {timeout:g} s")
        raise typer.Exit(NO_ANSWER) from None
    except Exception as exc:  # no server, connection lost, no stream...
        fail(f"ingest failed: {type(exc).__name__}: {exc}")
        raise typer.Exit(NO_ANSWER) from None
    if outcome is None:
        say(f"submitted {len(items)} documents to tenant {tenant!r}, collection {collection!r}")
        return
    chunks = sum(i.chunk_count for i in outcome.indexed.values())
    embedded = sum(i.embedded for i in outcome.indexed.values())
    failed = f", failed {len(outcome.failed)}" if outcome.failed else ""
    say(
        f"indexed {len(outcome.indexed)} documents ({chunks} chunks, {embedded} embedded), "
        f"rejected {len(outcome.rejected)}{failed}"
    )
    for document_id, rejected in sorted(outcome.rejected.items()):
        reasons = "; ".join(f"{r.rule}: {r.message}" for r in rejected.reasons)
        say(f"rejected {document_id}: {reasons}", out)
    for document_id, letter in sorted(outcome.failed.items()):
        say(f"failed {document_id}: dead-lettered ({letter.failure}): {letter.error}", out)
    if outcome.rejected or outcome.failed:
        raise typer.Exit(1)


async def _send(nats_url: str, message: Envelope[Any]) -> None:
    import nats

    nc = await nats.connect(nats_url, max_reconnect_attempts=1, reconnect_time_wait=0.2)
    try:
        await Client(nc, source=message.source).publish(message)
    finally:
        await nc.close()


def _command(what: str, message: Envelope[Any], nats_url: str) -> None:
    try:
        asyncio.run(_send(nats_url, message))
    except Exception as exc:
        fail(f"{what} failed: {type(exc).__name__}: {exc}")
        raise typer.Exit(NO_ANSWER) from None
    say(json.dumps({"command": message.type, "id": message.id}))


@documents_app.command("delete")
def delete(
    document_id: Annotated[str, typer.Argument(help="The document id.")],
    tenant: Annotated[str, typer.Option(help="Tenant of the document.")],
    collection: Annotated[str, typer.Option(help="Index collection.")] = "default",
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Remove a document and its chunks from the index."""
    valid_tenant(tenant)
    command = wrap(
        DeleteDocument(document_id=document_id, collection=collection),
        tenant=tenant,
        source="cli://llmops",
    )
    _command("documents delete", command, nats_url)


@documents_app.command("expire")
def expire(
    tenant: Annotated[str, typer.Option(help="Tenant whose expired documents go.")],
    collection: Annotated[
        str | None, typer.Option(help="Only this collection (default: all).")
    ] = None,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Remove the tenant's documents whose expiry has passed."""
    valid_tenant(tenant)
    command = wrap(ExpireDocuments(collection=collection), tenant=tenant, source="cli://llmops")
    _command("documents expire", command, nats_url)
