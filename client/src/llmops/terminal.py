"""What the service commands of the CLI share: consoles, common options, and one conversation.

``llmops audit ...`` and ``llmops costs ...`` both validate a tenant and a time option, connect
to NATS as ``cli://llmops``, ask a service over request/reply and turn every way that can fail
(an error reply, no server, no responder, a timeout) into one red line on stderr and an exit code.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from llmops_contracts import subjects

T = TypeVar("T")

#: Standard output (tables, results).
out = Console()
#: Standard error (notes, warnings, errors).
err = Console(stderr=True)

NatsUrl = Annotated[
    str,
    typer.Option("--nats-url", envvar="NATS_URL", help="NATS server URL."),
]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for each answer of the service.")]


def show(table: Table, console: Console = out) -> None:
    """Print a table; into a pipe or a log at its natural width, every cell whole.

    Rich squeezes a table to the console width, which is 80 columns when the output is not a
    terminal: cells of a report would end in an ellipsis in exactly the places (CI logs, files)
    where nobody can widen the window.
    """
    if console.is_terminal:
        console.print(table, soft_wrap=True)
        return
    natural = Measurement.get(console, console.options.update_width(100_000), table).maximum
    narrow = console.width
    console.width = max(narrow, natural)  # print() caps its own width at the console's
    try:
        console.print(table, soft_wrap=True)
    finally:
        console.width = narrow


def say(text: str, console: Console = out) -> None:
    """Print a plain line: no markup (data may hold brackets) and never wrapped (scripts grep)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def fail(text: str) -> None:
    """Print an error line in red on stderr (the text is taken literally)."""
    err.print(Text(text, style="red"), soft_wrap=True)


def valid_tenant(tenant: str) -> str:
    """The tenant, when it is a valid subject token.

    Raises:
        typer.BadParameter: naming ``--tenant`` (exit code 2).
    """
    if not subjects.is_token(tenant):
        raise typer.BadParameter(f"{tenant!r} is not a valid subject token", param_hint="--tenant")
    return tenant


def moment(value: str | None, option: str) -> datetime | None:
    """The instant an option names (``7d``, ``12h``, ``now`` or ISO 8601), None when not given.

    Raises:
        typer.BadParameter: naming ``option`` and what is accepted (exit code 2).
    """
    from llmops.audit import parse_moment

    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def talk(
    what: str,
    work: Coroutine[Any, Any, T],
    timeout: float,
    *,
    service: str,
    code: int = 1,
) -> T:
    """Run one conversation with a service; turn every failure into an error line and exit.

    Args:
        what: the command, for the error line ('costs report').
        work: the coroutine that connects and asks.
        timeout: the seconds each request waited (named in the timeout message).
        service: the service asked ('audit', 'costs').
        code: the exit code on failure (a command whose 1 means something else picks another).
    """
    import nats.errors

    from llmops.client import RequestError

    try:
        return asyncio.run(work)
    except RequestError as exc:
        fail(f"{what} refused by the {service} service: {exc}")
    except nats.errors.NoServersError:
        fail(f"{what} failed: no NATS server reachable (check --nats-url or NATS_URL)")
    except nats.errors.NoRespondersError:
        fail(
            f"{what} failed: no {service} service answers on this NATS server "
            "(is it running? is NATS_URL right?)"
        )
    except (TimeoutError, nats.errors.TimeoutError):
        fail(f"{what} failed: the {service} service did not answer within {timeout:g} s")
    except nats.errors.MaxPayloadError:
        fail(f"{what} failed: the request is larger than the NATS server's max_payload")
    except BrokenPipeError:
        raise typer.Exit(0) from None  # the reader (e.g. `| head`) is gone: stop quietly
    except Exception as exc:  # no server, connection lost, ...
        fail(f"{what} failed: {type(exc).__name__}: {exc}")
    raise typer.Exit(code)


async def connect(nats_url: str, tenant: str) -> Any:
    """A :class:`llmops.client.Client` for one short command: fails fast when no server answers."""
    from llmops.client import Client

    async def quiet(exc: Exception) -> None:
        """Connection errors surface as the command's own error message."""

    # nats-py's defaults retry for two minutes (and 0 means "for ever"); a command is short,
    # so one retry is enough.
    return await Client.connect(
        nats_url,
        source="cli://llmops",
        tenant=tenant,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.2,
        error_cb=quiet,
    )


def print_json(data: Any) -> None:
    """``--json`` output: indented, non-ASCII kept, on standard output."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def ask(
    service: str,
    what: str,
    request: Any,
    tenant: str,
    timeout: float,
    nats_url: str,
    *,
    code: int = 1,
) -> Any:
    """Send one request to ``service`` and return its reply payload (or exit, see ``talk``)."""

    async def work() -> Any:
        async with await connect(nats_url, tenant) as client:
            answer = await client.request(request, timeout=timeout)
        return answer.data

    return talk(what, work(), timeout, service=service, code=code)
