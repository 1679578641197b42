"""``llmops retrieval ...``: query a tenant's index, list the queries that missed, rebuild it.

``query`` and ``rebuild`` are one request/reply each to the retrieval service on the tenant's
subjects (``llmops.rpc.retrieval.{query,rebuild}.<tenant>``); ``misses`` reads the tenant's
``retrieval.performed`` events from the EVENTS stream. See docs/retrieval.md.

Exit codes: 0 done, 1 refused or no answer, 2 bad options.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from llmops.terminal import (
    NatsUrl,
    Timeout,
    ask,
    connect,
    err,
    moment,
    print_json,
    say,
    show,
    talk,
    valid_tenant,
)
from llmops_contracts import subjects
from llmops_contracts.retrieval import (
    IndexRebuilt,
    RebuildIndex,
    RetrievalPerformed,
    RetrievalQuery,
    RetrievalResult,
    SearchMode,
)

retrieval_app = typer.Typer(
    help="Retrieval: query a tenant's index, list missed queries, rebuild the index.",
    no_args_is_help=True,
)

Tenant = Annotated[str, typer.Option(help="Tenant whose index is searched.")]
Collection = Annotated[str, typer.Option(help="Index collection.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
#: Events read from the stream per pull.
BATCH = 500


def parse_filters(items: list[str]) -> dict[str, Any]:
    """``key=value`` options to query filters: a value that reads as JSON (a number, true,
    false, a list) is taken as such, anything else as a string; a repeated key collects a list.

    Raises:
        typer.BadParameter: an item without ``=``.
    """
    filters: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r} is not key=value", param_hint="--filter")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if isinstance(value, float | dict) or value is None:
            value = raw  # the index matches strings, integers and booleans exactly
        if key in filters:
            old = filters[key]
            filters[key] = [*(old if isinstance(old, list) else [old]), value]
        else:
            filters[key] = value
    return filters


def hit_rows(result: RetrievalResult) -> list[dict[str, Any]]:
    """The hits of a result as plain objects (the ``--json`` output)."""
    return [
        {
            "document_id": h.document_id,
            "chunk_id": h.chunk_id,
            "score": h.score,
            "text": h.text,
            "metadata": h.metadata,
        }
        for h in result.hits
    ]


@retrieval_app.command("query")
def query(
    text: Annotated[str, typer.Argument(help="The search text.")],
    tenant: Tenant,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100, help="Hits to return.")] = 10,
    mode: Annotated[SearchMode, typer.Option(help="sparse, dense or hybrid.")] = SearchMode.HYBRID,
    collection: Collection = "default",
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", help="key=value on chunk metadata; repeat a key for any-of."),
    ] = None,
    acl: Annotated[
        list[str] | None, typer.Option("--acl", help="An access label of the caller (repeat).")
    ] = None,
    threshold: Annotated[float | None, typer.Option(help="Drop hits scoring below this.")] = None,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Search the tenant's index and print the hits (document, chunk, score, text, metadata)."""
    tenant = valid_tenant(tenant)
    try:
        request = RetrievalQuery(
            query=text,
            collection=collection,
            top_k=top_k,
            mode=mode,
            filters=parse_filters(filters or []),
            acl=acl or [],
            score_threshold=threshold,
        )
    except ValueError as exc:  # pydantic's ValidationError: a filter key or label refused
        raise typer.BadParameter(str(exc)) from None
    result: RetrievalResult = ask(
        "retrieval", "retrieval query", request, tenant, timeout, nats_url
    )
    if as_json:
        print_json({"hits": hit_rows(result)})
        return
    if not result.hits:
        say(f"no hits ({result.mode or mode} search, {result.took_ms:.2f} ms)", err)
        return
    table = Table("document_id", "chunk_id", "score", "text", "metadata", box=None)
    for h in result.hits:
        table.add_row(
            Text(h.document_id),
            Text(h.chunk_id),
            f"{h.score:.4f}",
            Text(h.text),
            Text(json.dumps(h.metadata, ensure_ascii=False) if h.metadata else ""),
        )
    show(table)
    say(f"{len(result.hits)} hit(s), {result.mode} search, {result.took_ms:.2f} ms", err)


async def read_performed(
    nc: Any, tenant: str, since: datetime | None, *, fetch_timeout: float = 1.0
) -> list[RetrievalPerformed]:
    """The tenant's performed-query events stored since ``since`` (all when None), oldest first,
    up to the last one stored when the read began."""
    from nats.errors import TimeoutError as NatsTimeoutError
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    from llmops_contracts.registry import InvalidMessage, parse

    js = nc.jetstream()
    last = (await js.stream_info(subjects.EVENTS_STREAM)).state.last_seq
    subject = subjects.for_tenant(subjects.RETRIEVAL_PERFORMED, tenant)
    config = ConsumerConfig(
        filter_subject=subject,
        deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
        opt_start_time=since,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=30.0,  # the server removes it if this process dies
        mem_storage=True,
    )
    sub = await js.pull_subscribe(subject, stream=subjects.EVENTS_STREAM, config=config)
    found: list[RetrievalPerformed] = []
    try:
        while True:
            try:
                batch = await sub.fetch(BATCH, timeout=fetch_timeout)
            except NatsTimeoutError:
                break  # nothing (more) stored
            for msg in batch:
                meta = msg.metadata
                if meta.sequence.stream > last:
                    return found
                # One we cannot read is not ours to judge here; the audit trail keeps it.
                with contextlib.suppress(InvalidMessage):
                    found.append(parse(msg.data, subject=msg.subject).data)
                if meta.num_pending == 0:
                    return found
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return found


@retrieval_app.command("misses")
def misses(
    tenant: Tenant,
    since: Annotated[
        str, typer.Option(help="Queries answered at or after: 1d, 12h (ago) or ISO 8601.")
    ] = "1d",
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per missed query.")
    ] = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """List the tenant's queries that missed (no hit cleared the threshold), oldest first."""
    tenant = valid_tenant(tenant)
    start = moment(since, "--since")

    async def work() -> list[RetrievalPerformed]:
        async with await connect(nats_url, tenant) as client:
            return await read_performed(client.nc, tenant, start)

    performed = talk("retrieval misses", work(), timeout, service="NATS")
    missed = [p for p in performed if p.miss]
    if as_json:
        for p in missed:
            say(json.dumps(p.model_dump(mode="json"), ensure_ascii=False))
        return
    if not missed:
        say(f"no missed queries for tenant {tenant} since {since} ({len(performed)} answered)", err)
        return
    table = Table("query_id", "collection", "mode", "top score", "threshold", "query", box=None)
    for p in missed:
        table.add_row(
            Text(p.query_id),
            Text(p.collection),
            Text(str(p.mode)),
            f"{p.top_score:.4f}" if p.top_score is not None else "",
            f"{p.score_threshold:g}" if p.score_threshold is not None else "",
            Text(p.query),
        )
    show(table)
    say(f"{len(missed)} of {len(performed)} queries missed", err)


@retrieval_app.command("rebuild")
def rebuild(
    tenant: Tenant,
    collection: Annotated[
        str | None, typer.Option(help="Only this collection (default: all of them).")
    ] = None,
    as_json: AsJson = False,
    timeout: Timeout = 300.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Drop the tenant's index and rebuild it by replaying its events from the EVENTS stream."""
    tenant = valid_tenant(tenant)
    request = RebuildIndex(collection=collection)
    rebuilt: IndexRebuilt = ask(
        "retrieval", "retrieval rebuild", request, tenant, timeout, nats_url
    )
    if as_json:
        print_json(rebuilt.model_dump(mode="json"))
        return
    say(
        f"rebuilt {tenant}'s index: {rebuilt.events} event(s) replayed, "
        f"{rebuilt.chunks} chunk(s) in {rebuilt.documents} document(s)"
    )
