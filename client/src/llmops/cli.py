"""The ``llmops`` command line: run the dev stack, publish and tail events, export contracts,
query, export, verify and purge the audit trail, report costs and manage budgets, and check
text and tool calls against guardrail policies."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from llmops.costs import costs_app
from llmops.guard import guard_app
from llmops.ingest import documents_app, ingest
from llmops.retrieval import retrieval_app
from llmops.terminal import NatsUrl, Timeout, err, out, show
from llmops.terminal import connect as _connect
from llmops.terminal import fail as _fail
from llmops.terminal import moment as _moment
from llmops.terminal import say as _say
from llmops.terminal import talk as _talk
from llmops.terminal import valid_tenant as _tenant
from llmops_contracts import subjects
from llmops_contracts.dlq import DeadLetter, FailureKind
from llmops_contracts.llm import LlmCallCompleted
from llmops_contracts.registry import InvalidMessage, parse

app = typer.Typer(help="llmops: the LLMOps control plane on NATS.", no_args_is_help=True)
contracts_app = typer.Typer(
    help="Published contracts (JSON Schema, AsyncAPI).", no_args_is_help=True
)
app.add_typer(contracts_app, name="contracts")
audit_app = typer.Typer(
    help="The audit trail: query, export, verify and purge a tenant's hash-chained records.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")
app.add_typer(costs_app, name="costs")
app.add_typer(guard_app, name="guard")
app.add_typer(retrieval_app, name="retrieval")
app.command()(ingest)
app.add_typer(documents_app, name="documents")
dlq_app = typer.Typer(
    help="The dead-letter queue: list dead letters and replay them to their original subjects.",
    no_args_is_help=True,
)
app.add_typer(dlq_app, name="dlq")


@app.command()
def dev(
    data_dir: Annotated[Path, typer.Option(help="Where NATS and the services keep data.")] = Path(
        ".llmops"
    ),
    nats_port: Annotated[
        int | None, typer.Option(help="Port for the embedded nats-server (default: a free one).")
    ] = None,
    services: Annotated[str, typer.Option(help="Comma-separated services to run.")] = ",".join(
        ("ingestion", "retrieval", "guardrails", "evaluation", "costs", "audit")
    ),
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for readiness.")] = 60.0,
) -> None:
    """Start nats-server and every service locally; Ctrl-C stops them all."""
    from llmops.dev import SERVICES, run_dev

    chosen = tuple(s.strip() for s in services.split(",") if s.strip())
    unknown = sorted(set(chosen) - set(SERVICES))
    if unknown:
        err.print(f"[red]unknown service(s): {', '.join(unknown)}[/red]")
        raise typer.Exit(2)

    def ready(url: str) -> None:
        # One plain line, so scripts (and `make run`) can wait for it.
        print(f"llmops dev ready: {len(chosen)} services on {url}", flush=True)
        print(f"  see events: NATS_URL={url} llmops tail --follow", flush=True)

    code = asyncio.run(run_dev(data_dir, nats_port, chosen, ready_timeout, ready))
    raise typer.Exit(code)


def _read_messages(path: Path) -> list[Any]:
    text = path.read_text()
    stripped = text.lstrip()
    if stripped.startswith("["):
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError("expected a JSON array")
        return items
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


@app.command()
def publish(
    files: Annotated[
        list[Path], typer.Argument(help="JSON envelope files, JSON arrays of them, or .jsonl.")
    ],
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
    dry_run: Annotated[bool, typer.Option(help="Validate only; publish nothing.")] = False,
) -> None:
    """Validate messages against the contracts, then publish them (all or nothing)."""
    messages = []
    failed = False
    for file in files:
        try:
            items = _read_messages(file)
        except (OSError, ValueError, RecursionError) as exc:
            err.print(f"[red]{file}: cannot read: {exc}[/red]")
            raise typer.Exit(2) from None
        for i, item in enumerate(items, 1):
            try:
                messages.append(parse(item))
            except InvalidMessage as exc:
                failed = True
                err.print(f"[red]{file}: message {i}: {exc.reason}[/red]")
    if failed:
        raise typer.Exit(2)
    if dry_run:
        out.print(f"{len(messages)} valid message(s)")
        return

    async def send() -> int:
        from llmops.client import Client

        async with await Client.connect(nats_url, source="cli://llmops") as client:
            for message in messages:
                await client.publish(message)
        return len(messages)

    try:
        count = asyncio.run(send())
    except Exception as exc:  # connection refused, no stream, ...
        err.print(f"[red]publish failed: {exc}[/red]")
        raise typer.Exit(1) from None
    out.print(f"published {count} message(s)")


_STREAMS = {
    "events": (subjects.EVENTS_STREAM, subjects.EVENTS),
    "commands": (subjects.COMMANDS_STREAM, subjects.COMMANDS),
    "audit": (subjects.AUDIT_STREAM, subjects.AUDIT_RECORDS),
    "dlq": (subjects.DLQ_STREAM, subjects.DLQ),
}


def _filter_subject(stream: str, tenant: str | None, type_id: str | None) -> str:
    _, base = _STREAMS[stream]
    if stream == "audit":
        return f"{base}.{tenant or '*'}"
    if stream == "dlq":  # llmops.dlq.<service>.<tenant>, and old tenant-less letters
        return subjects.dlq_filter(tenant=tenant)[0] if tenant else subjects.DLQ_ALL
    if type_id:
        from llmops_contracts.registry import payload_class

        prefix = payload_class(type_id).SPEC.subject
        return f"{prefix}.{tenant or '*'}"
    return f"{base}.*.*.{tenant or '*'}"


@app.command()
def tail(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    type_: Annotated[
        str | None,
        typer.Option("--type", help="Only this type id, e.g. llmops.llm.call_completed.v1."),
    ] = None,
    count: Annotated[int | None, typer.Option(help="Stop after N messages.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    follow: Annotated[bool, typer.Option(help="Keep waiting for new messages.")] = False,
    new: Annotated[bool, typer.Option("--new", help="Only messages from now on.")] = False,
    stream: Annotated[str, typer.Option(help="events, commands, audit or dlq.")] = "events",
    timeout: Annotated[
        float, typer.Option(help="With --count: give up after this many seconds.")
    ] = 30.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Print messages from a stream: from the start (or --new), then exit or --follow."""
    if stream not in _STREAMS:
        err.print(f"[red]unknown stream {stream!r}: use {', '.join(_STREAMS)}[/red]")
        raise typer.Exit(2)
    if tenant is not None and not subjects.is_token(tenant):
        err.print(f"[red]tenant {tenant!r} is not a valid subject token[/red]")
        raise typer.Exit(2)
    try:
        subject = _filter_subject(stream, tenant, type_)
    except InvalidMessage as exc:
        err.print(f"[red]{exc.reason}[/red]")
        raise typer.Exit(2) from None
    from llmops.tail import tail_stream

    table = None if as_json else _TailPrinter()

    def show(subject: str, body: bytes) -> None:
        if as_json:
            sys.stdout.write(body.decode(errors="replace") + "\n")
            sys.stdout.flush()
        else:
            assert table is not None
            table.row(subject, body)

    try:
        seen = asyncio.run(
            tail_stream(
                nats_url,
                _STREAMS[stream][0],
                subject,
                show,
                count=count,
                follow=follow or count is not None,
                new=new,
                timeout=timeout if count is not None else None,
            )
        )
    except KeyboardInterrupt:
        return
    except Exception as exc:
        err.print(f"[red]tail failed: {exc}[/red]")
        raise typer.Exit(1) from None
    if count is not None and seen < count:
        err.print(f"[yellow]only {seen} of {count} message(s) within {timeout:.0f} s[/yellow]")
        raise typer.Exit(1)


class _TailPrinter:
    """Prints one aligned line per message (a streaming table)."""

    def row(self, subject: str, body: bytes) -> None:
        try:
            msg = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to read
            msg = None
        if not isinstance(msg, dict):
            out.print(f"[red]{subject}[/red] (not a JSON envelope) {body[:120]!r}")
            return
        data = msg.get("data")
        data = data if isinstance(data, dict) else {}
        summary = _summary(msg.get("type", "?"), data)
        out.print(
            f"[dim]{str(msg.get('time', ''))[:23]}[/dim] [cyan]{msg.get('tenant', '?'):<12}[/cyan] "
            f"[bold]{msg.get('type', '?'):<42}[/bold] {summary}",
            highlight=False,
            soft_wrap=True,
        )


def _summary(type_id: str, data: dict[str, Any]) -> str:
    if type_id == LlmCallCompleted.SPEC.type:
        usage = data.get("usage") or {}
        return (
            f"{data.get('provider')}/{data.get('request_model')} "
            f"in={usage.get('input_tokens', '?')} out={usage.get('output_tokens', '?')} "
            f"{data.get('latency_ms')}ms {data.get('status')}"
        )
    if type_id == DeadLetter.SPEC.type:
        return f"[red]{data.get('service')}: {data.get('error')}[/red]"
    keys = [
        k
        for k in ("document_id", "run_id", "outcome", "tool_name", "hit_count", "event_type")
        if k in data
    ]
    return " ".join(f"{k}={data[k]}" for k in keys)


@contracts_app.command("export")
def contracts_export(
    directory: Annotated[Path, typer.Argument(help="Target directory (the repo uses contracts/).")],
) -> None:
    """Write JSON Schemas (schemas/<domain>/v<N>/<name>.json) and asyncapi.yaml."""
    from llmops.export import export

    written = export(directory)
    out.print(f"wrote {len(written)} file(s) under {directory}")


@contracts_app.command("check")
def contracts_check(
    directory: Annotated[Path, typer.Argument(help="Directory holding the committed contracts.")],
) -> None:
    """Fail when committed schemas differ from the code (fix: `make contracts`)."""
    from llmops.export import drift

    problems = drift(directory)
    if problems:
        err.print("[red]contracts drifted from the code; run `make contracts` and commit:[/red]")
        for p in problems:
            err.print(f"  {p}")
        raise typer.Exit(1)
    out.print("contracts match the code")


# --- llmops audit ---------------------------------------------------------------------------

Tenant = Annotated[str, typer.Option(help="Tenant whose audit chain to use.")]
Types = Annotated[
    list[str] | None,
    typer.Option("--type", help="Only this event type id (repeatable)."),
]
Since = Annotated[
    str | None,
    typer.Option(help="Event time at or after: 7d, 12h, 30m (ago) or ISO 8601."),
]
Until = Annotated[
    str | None, typer.Option(help="Event time before: 7d, 12h, 30m (ago) or ISO 8601.")
]
TraceId = Annotated[str | None, typer.Option(help="Only this W3C trace id (32 hex).")]
CorrelationId = Annotated[str | None, typer.Option(help="Only this correlation id.")]
User = Annotated[str | None, typer.Option(help="Only this end user (data.actor.user).")]
AppId = Annotated[str | None, typer.Option("--app", help="Only this application (data.actor.app).")]
Source = Annotated[str | None, typer.Option(help="Only this envelope source.")]
AfterSeq = Annotated[int, typer.Option(min=0, help="Start after this chain seq (a cursor).")]


def _audit_query(
    *,
    types: list[str] | None,
    since: str | None,
    until: str | None,
    trace_id: str | None,
    correlation_id: str | None,
    user: str | None,
    app_id: str | None,
    source: str | None,
    after_seq: int,
    page: int,
) -> Any:
    from pydantic import ValidationError

    from llmops_contracts.audit import AuditQuery

    try:
        return AuditQuery(
            types=types or [],
            since=_moment(since, "--since"),
            until=_moment(until, "--until"),
            trace_id=trace_id,
            correlation_id=correlation_id,
            user=user,
            app=app_id,
            source=source,
            after_seq=after_seq,
            limit=page,
        )
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from None


#: Query replies always carry the event itself: the by-reference field stays out of exports.
_BY_REF = {"event_ref"}


def _actor(record: Any) -> str:
    data = (record.event or {}).get("data")
    actor = data.get("actor") if isinstance(data, dict) else None
    if not isinstance(actor, dict):
        return ""
    return " / ".join(str(actor[k]) for k in ("user", "app") if actor.get(k))


@audit_app.command("query")
def audit_query(
    tenant: Tenant,
    type_: Types = None,
    since: Since = None,
    until: Until = None,
    trace_id: TraceId = None,
    correlation_id: CorrelationId = None,
    user: User = None,
    app_id: AppId = None,
    source: Source = None,
    limit: Annotated[int, typer.Option(min=1, help="Most records to show (paged).")] = 100,
    after_seq: AfterSeq = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One record per line as JSON.")] = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Show a tenant's audit records matching filters, oldest first (a table, or --json)."""
    from rich.table import Table

    from llmops.audit import DEFAULT_PAGE, pages, record_line

    query = _audit_query(
        types=type_,
        since=since,
        until=until,
        trace_id=trace_id,
        correlation_id=correlation_id,
        user=user,
        app_id=app_id,
        source=source,
        after_seq=after_seq,
        page=min(limit, DEFAULT_PAGE),
    )
    tenant = _tenant(tenant)
    table = Table("seq", "recorded_at", "type", "source", "user / app", "hash", box=None)
    state: dict[str, Any] = {"shown": 0, "more_after": None, "anchor": None}

    async def work() -> None:
        async with await _connect(nats_url, tenant) as client:
            async for page in pages(client, tenant, query, total=limit, timeout=timeout):
                state["anchor"] = state["anchor"] or page.anchor
                state["more_after"] = page.next_after_seq
                for record in page.records:
                    state["shown"] += 1
                    if as_json:
                        sys.stdout.write(
                            record_line(record.model_dump(mode="json", exclude=_BY_REF)) + "\n"
                        )
                        continue
                    table.add_row(
                        *map(
                            Text,
                            (
                                str(record.seq),
                                record.recorded_at,
                                record.event_type,
                                str((record.event or {}).get("source", "")),
                                _actor(record),
                                record.hash[:12],
                            ),
                        )
                    )
                sys.stdout.flush()

    _talk("audit query", work(), timeout, service="audit")
    if as_json:
        return
    if state["shown"]:
        show(table)
    shown, more = state["shown"], state["more_after"]
    if state["anchor"] is not None:
        _say(
            f"records up to seq {state['anchor'].seq} were purged "
            f"(purge checkpoint of {state['anchor'].created_at})",
            err,
        )
    note = f"; more may follow: --after-seq {more}" if more is not None and shown >= limit else ""
    _say(f"{shown} record(s) of tenant {tenant}{note}", err)


@audit_app.command("export")
def audit_export(
    tenant: Tenant,
    type_: Types = None,
    since: Since = None,
    until: Until = None,
    trace_id: TraceId = None,
    correlation_id: CorrelationId = None,
    user: User = None,
    app_id: AppId = None,
    source: Source = None,
    after_seq: AfterSeq = 0,
    page_size: Annotated[
        int, typer.Option(min=1, max=1000, help="Records per request to the service.")
    ] = 200,
    timeout: Timeout = 30.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Stream a tenant's records to stdout as JSON lines after a header line (see docs/audit.md).

    An unfiltered export holds the whole remaining chain and its purge anchor, so
    `llmops audit verify --file` can check it alone.
    """
    from llmops.audit import export_header, pages, query_filters, record_line

    query = _audit_query(
        types=type_,
        since=since,
        until=until,
        trace_id=trace_id,
        correlation_id=correlation_id,
        user=user,
        app_id=app_id,
        source=source,
        after_seq=after_seq,
        page=page_size,
    )
    tenant = _tenant(tenant)
    stats: dict[str, Any] = {"count": 0, "first": None, "last": None}

    async def work() -> None:
        stdout = sys.stdout
        async with await _connect(nats_url, tenant) as client:
            first = True
            async for page in pages(client, tenant, query, timeout=timeout):
                if first:
                    anchor = page.anchor.model_dump(mode="json") if page.anchor else None
                    header = export_header(tenant, anchor, query_filters(query))
                    stdout.write(record_line(header) + "\n")
                    first = False
                for record in page.records:
                    stdout.write(
                        record_line(record.model_dump(mode="json", exclude=_BY_REF)) + "\n"
                    )
                if page.records:
                    stats["first"] = stats["first"] or page.records[0].seq
                    stats["last"] = page.records[-1].seq
                    stats["count"] += len(page.records)
                stdout.flush()

    _talk("audit export", work(), timeout, service="audit")
    span = f" (seq {stats['first']}..{stats['last']})" if stats["count"] else ""
    _say(f"exported {stats['count']} record(s) of tenant {tenant}{span}", err)


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[
        str | None,
        typer.Option(help="Tenant to verify (in the database, or only this one in --file)."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Verify an export file locally instead (JSON lines; '-' reads stdin).",
        ),
    ] = None,
    all_breaks: Annotated[
        bool, typer.Option("--all-breaks", help="List every break, not just the first.")
    ] = False,
    public_key: Annotated[
        list[str] | None,
        typer.Option(
            "--public-key",
            envvar="LLMOPS_AUDIT_PUBLIC_KEY",
            help="The audit service's Ed25519 public key (hex, base64, PEM, or a file), pinned. "
            "Repeat for older keys. Without it: --tenant reads the published keys from NATS, "
            "--file leaves signatures unchecked.",
        ),
    ] = None,
    timeout: Timeout = 120.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Recompute a chain and report the first broken record; exit 1 on a break.

    With --tenant alone the audit service verifies its database (hashes, links, signed
    checkpoints, and the checkpoint with the highest signed seq published on the AUDIT stream);
    this command then reads the published checkpoints itself, checks their signatures with the
    public key, and that the service held the chain to the highest. With --file an export is
    verified here, in one pass, without the service.
    """
    from llmops.audit import key_ring, parse_public_key

    try:
        pinned = [parse_public_key(k) for k in public_key or []]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--public-key") from None
    if file is not None:
        keys = key_ring(pinned) if pinned else None
        _verify_file(file, tenant and _tenant(tenant), keys, all_breaks)
        return
    if tenant is None:
        raise typer.BadParameter("give --tenant (verify the database) or --file (an export)")
    _verify_service(_tenant(tenant), all_breaks, pinned, timeout, nats_url)


def _verify_service(
    tenant: str, all_breaks: bool, pinned: list[bytes], timeout: float, nats_url: str
) -> None:
    from llmops.audit import key_ring, published_checkpoints, published_keys
    from llmops_contracts.audit import AuditVerify, AuditVerifyResult
    from llmops_contracts.auditchain import held_checkpoint

    async def work() -> tuple[AuditVerifyResult, list[dict[str, Any]], list[bytes]]:
        async with await _connect(nats_url, tenant) as client:
            reply = await client.request(AuditVerify(all_breaks=all_breaks), timeout=timeout)
            result: AuditVerifyResult = reply.data
            found = await published_checkpoints(client.nc, tenant)
            keys = pinned or await published_keys(client.nc)
            return result, found, keys

    result, found, keys = _talk("audit verify", work(), timeout, service="audit")
    ring = key_ring(keys)
    published = held_checkpoint(tenant, found, ring)
    span = f" (seq {result.first_seq}..{result.last_seq})" if result.checked else ""
    # The service's verdict is not taken on trust alone: the published checkpoints are checked
    # here with the public key, and the service must have held the chain to the highest.
    problems = _published_problems(tenant, result, found, published, ring)
    if result.ok and not problems:
        signed = ""
        if published is not None:
            signed = (
                f"; published checkpoint seq {published['seq']} signature valid "
                f"(key {published['key_id']})"
            )
        _say(
            f"ok: tenant {tenant}: {result.checked} record(s){span} verified, "
            f"{result.checkpoints_checked} signed checkpoint(s) matched{signed}"
        )
        return
    breaks = result.breaks if all_breaks else result.breaks[:1]
    _say(f"BROKEN: tenant {tenant}: {result.checked} record(s) checked{span}")
    for b in breaks:
        _say(_break_line(b.seq, b.event_id, b.kind, b.detail))
    for problem in problems if all_breaks or not breaks else []:
        _say(f"  {problem}")
    raise typer.Exit(1)


def _published_problems(
    tenant: str, result: Any, found: list[dict[str, Any]], held: Any, keys: Any
) -> list[str]:
    """What is wrong with the published checkpoints (``found``), checked here, against the
    reply: the newest must be a valid checkpoint of the chain, and the service must have held
    the chain to ``held``, the one with the highest signed seq."""
    from llmops_contracts.auditchain import checkpoint_shape_problem

    if not found:
        return []
    problems = []
    newest = found[-1]
    shape = checkpoint_shape_problem(tenant, newest)
    problem = f"is {shape}" if shape is not None else keys.problem(newest)
    if problem is not None:
        how = "no public key was published or given" if not keys.keys else problem
        problems.append(
            f"checkpoint at seq {newest.get('seq')}: the newest published checkpoint: {how}"
        )
    stated = result.published.model_dump() if result.published is not None else None
    # One published after the service looked may be higher than what it states: not a break.
    if (
        held is not None
        and stated is not None
        and held["seq"] > stated.get("seq", 0)
        and str(held["created_at"]) <= str(stated.get("created_at"))
    ):
        problems.append(
            f"checkpoint at seq {held['seq']}: the service held the chain to seq "
            f"{stated.get('seq')}, below the highest published checkpoint"
        )
    return problems


def _break_line(seq: int, event_id: str | None, kind: str, detail: str) -> str:
    return f"  {kind} at seq {seq} (event {event_id or '-'}): {detail}"


def _verify_file(file: Path, tenant: str | None, keys: Any, all_breaks: bool) -> None:
    from llmops.audit import verify_lines

    try:
        if str(file) == "-":
            report = verify_lines(sys.stdin, tenant=tenant, keys=keys)
        else:
            with file.open(encoding="utf-8") as lines:
                report = verify_lines(lines, tenant=tenant, keys=keys)
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {file}: {exc}")
        raise typer.Exit(2) from None
    for problem in report.problems:
        _say(f"BROKEN: {problem}")
    for check in report.tenants.values():
        span = f" (seq {check.first_seq}..{check.last_seq})" if check.checked else ""
        notes = []
        if check.anchor is not None:
            notes.append(
                f"anchored at purge checkpoint seq {check.anchor['seq']} "
                f"(signature {check.anchor_signature})"
            )
        if check.partial_from is not None:
            notes.append(f"partial: starts at seq {check.partial_from}, not anchored")
        if check.filtered:
            notes.append(
                f"filtered export: links checked between consecutive records ({check.gaps} gap(s))"
            )
        tail = "".join(f"; {n}" for n in notes)
        if check.ok:
            head = f", head {check.last_hash}" if check.last_hash else ""
            _say(f"ok: tenant {check.tenant}: {check.checked} record(s){span} verified{head}{tail}")
            continue
        _say(f"BROKEN: tenant {check.tenant}: {check.checked} record(s) checked{span}{tail}")
        for b in check.breaks if all_breaks else check.breaks[:1]:
            _say(_break_line(b.seq, b.event_id, b.kind, b.detail))
        if not all_breaks and len(check.breaks) > 1:
            _say(f"  ... and {len(check.breaks) - 1} more (--all-breaks)")
    if report.skipped:
        _say(f"skipped {report.skipped} record(s) of other tenants")
    if not report.tenants and not report.problems:
        _say("BROKEN: the file holds no audit records")
        raise typer.Exit(1)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("purge")
def audit_purge(
    tenant: Tenant,
    before: Annotated[
        str,
        typer.Option(help="Remove records recorded before this: 90d, 12h (ago) or ISO 8601."),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    timeout: Timeout = 120.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Remove a tenant's old records behind a signed purge checkpoint (the rest stays verifiable)."""
    from llmops_contracts.audit import AuditPurge, AuditPurgeResult

    moment = _moment(before, "--before")
    assert moment is not None
    tenant = _tenant(tenant)
    if not yes:
        typer.confirm(
            f"Purge every audit record of tenant {tenant} recorded before "
            f"{moment.isoformat()}? This cannot be undone",
            abort=True,
        )

    async def work() -> AuditPurgeResult:
        async with await _connect(nats_url, tenant) as client:
            reply = await client.request(AuditPurge(before=moment), timeout=timeout)
            result: AuditPurgeResult = reply.data
            return result

    result = _talk("audit purge", work(), timeout, service="audit")
    cp = result.checkpoint
    if cp is None:
        _say(
            f"nothing to purge: no record of tenant {tenant} was recorded before "
            f"{moment.isoformat()}"
        )
        return
    _say(
        f"purged {result.purged} record(s) of tenant {tenant}; "
        f"the chain now starts after seq {cp.seq}"
    )
    _say(
        f"purge checkpoint: seq {cp.seq} hash {cp.hash} created_at {cp.created_at} "
        f"key_id {cp.key_id} signature {cp.signature}"
    )


# --- llmops dlq -----------------------------------------------------------------------------

DlqService = Annotated[str | None, typer.Option(help="Only this service's dead letters.")]
DlqTenant = Annotated[
    str | None,
    typer.Option(help="Only this tenant's (old tenant-less letters then do not match)."),
]
DlqSince = Annotated[
    str | None,
    typer.Option(help="Dead-lettered at or after: 1h, 7d (ago) or ISO 8601."),
]


def _dlq_filters(
    service: str | None, tenant: str | None, since: str | None
) -> tuple[str | None, str | None, Any]:
    if service is not None and not subjects.is_token(service):
        raise typer.BadParameter(
            f"{service!r} is not a valid subject token", param_hint="--service"
        )
    return service, tenant and _tenant(tenant), _moment(since, "--since")


@dlq_app.command("list")
def dlq_list(
    service: DlqService = None,
    reason: Annotated[
        FailureKind | None, typer.Option(help="Only 'invalid' or only 'failed' letters.")
    ] = None,
    since: DlqSince = None,
    tenant: DlqTenant = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per letter (whole letter included).")
    ] = False,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """List dead letters, oldest first: when, service, tenant, failure, subject and reason."""
    from rich.table import Table

    from llmops.dlq import read_letters

    service, tenant, moment = _dlq_filters(service, tenant, since)
    table = Table("seq", "dead-lettered at", "service", "tenant", "failure", "subject", "error")
    counts = {"shown": 0}

    async def work() -> None:
        nc = await _raw_connect(nats_url)
        try:
            async for letter in read_letters(
                nc, service=service, tenant=tenant, reason=reason, since=moment
            ):
                counts["shown"] += 1
                info = letter.summary()
                if as_json:
                    sys.stdout.write(json.dumps(info, ensure_ascii=False) + "\n")
                    continue
                error = str(info["error"] or "")
                table.add_row(
                    *map(
                        Text,
                        (
                            str(letter.seq),
                            letter.stored_at.isoformat(timespec="seconds"),
                            letter.service,
                            letter.tenant,
                            str(info["failure"] or "unreadable"),
                            str(info["original_subject"] or letter.subject),
                            error if len(error) <= 100 else error[:99] + "…",
                        ),
                    )
                )
        finally:
            await nc.close()

    _talk("dlq list", work(), 10, service="NATS")
    if not as_json:
        if counts["shown"]:
            show(table)
        _say(f"{counts['shown']} dead letter(s)", err)


@dlq_app.command("replay")
def dlq_replay(
    service: Annotated[str, typer.Option(help="Replay this service's dead letters.")],
    reason: Annotated[
        FailureKind,
        typer.Option(help="'failed' (retries exhausted, the default) or 'invalid'."),
    ] = FailureKind.FAILED,
    since: DlqSince = None,
    tenant: DlqTenant = None,
    dry_run: Annotated[bool, typer.Option(help="Count what would be replayed; send nothing.")] = (
        False
    ),
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Publish dead letters' original messages again, to their original subjects.

    Every consumer is idempotent on the event id, so a call already recorded is not counted
    twice; a letter stored during the replay (the message failed again) waits for the next run.
    """
    from llmops.dlq import read_letters
    from llmops.dlq import replay as replay_letters

    checked, tenant, moment = _dlq_filters(service, tenant, since)
    assert checked is not None

    async def work() -> Any:
        nc = await _raw_connect(nats_url)
        try:
            letters = read_letters(nc, service=checked, tenant=tenant, reason=reason, since=moment)
            return await replay_letters(nc, letters, dry_run=dry_run)
        finally:
            await nc.close()

    report = _talk("dlq replay", work(), 10, service="NATS")
    verb = "would replay" if dry_run else "replayed"
    _say(f"{verb} {report.replayed} dead letter(s) of service {service} ({reason.value})")
    for subject, n in sorted(report.subjects.items()):
        _say(f"  {n} to {subject}")
    skipped = {
        "of an original already replayed in this run": report.repeated,
        "of requests or other subjects outside a stream": report.not_replayable,
        "that do not parse as dead letters": report.unreadable,
        "naming a subject outside their tenant": report.refused,
        "dropped by JetStream as replayed moments ago": report.dropped,
    }
    for why, n in skipped.items():
        if n:
            _say(f"skipped {n} letter(s) {why}")
    for problem in report.problems:
        _say(problem, err)
    if report.failed:
        _fail(f"failed to replay {report.failed} letter(s); they stay in the DLQ for a next run")
        raise typer.Exit(1)


async def _raw_connect(nats_url: str) -> Any:
    """A plain nats-py connection that fails fast (the DLQ is read and written directly)."""
    import nats

    async def quiet(exc: Exception) -> None:
        """Connection errors surface as the command's own error message."""

    return await nats.connect(
        nats_url,
        name="llmops dlq",
        max_reconnect_attempts=1,
        reconnect_time_wait=0.2,
        error_cb=quiet,
    )


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("LLMOPS_CLI", "1")
    app()
