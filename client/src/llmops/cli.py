"""The ``llmops`` command line: run the dev stack, publish and tail events, export contracts."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from llmops_contracts import subjects
from llmops_contracts.dlq import DeadLetter
from llmops_contracts.llm import LlmCallCompleted
from llmops_contracts.registry import InvalidMessage, parse

app = typer.Typer(help="llmops: the LLMOps control plane on NATS.", no_args_is_help=True)
contracts_app = typer.Typer(
    help="Published contracts (JSON Schema, AsyncAPI).", no_args_is_help=True
)
app.add_typer(contracts_app, name="contracts")

out = Console()
err = Console(stderr=True)

NatsUrl = Annotated[
    str,
    typer.Option("--nats-url", envvar="NATS_URL", help="NATS server URL."),
]


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
        except (OSError, ValueError) as exc:
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
    if stream in ("audit", "dlq"):
        return f"{base}.{tenant or '*'}" if stream == "audit" else f"{base}.>"
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
        except ValueError:
            out.print(f"[red]{subject}[/red] (not JSON) {body[:120]!r}")
            return
        data = msg.get("data") or {}
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


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("LLMOPS_CLI", "1")
    app()
