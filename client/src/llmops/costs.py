"""``llmops costs ...``: spend reports, price loading, budgets and budget checks.

Every command is one request/reply to the costs service on a tenant-scoped subject
(``llmops.rpc.costs.{report,prices,budgets,budget_check}.<tenant>``, see
:mod:`llmops_contracts.costs`). The pure parts (rendering a report, its bar chart, checking a
price file) are plain functions, so they are tested without NATS. See docs/costs.md.

Exit codes: 0 done (``budget check``: allowed), 1 the service refused or could not be reached
(``budget check``: denied), 2 bad options or a bad price file, 3 ``budget check`` could not ask.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast, get_args

import typer
from pydantic import ValidationError
from rich import box
from rich.table import Table
from rich.text import Text

from llmops.terminal import (
    NatsUrl,
    Timeout,
    ask,
    err,
    moment,
    print_json,
    say,
    show,
    valid_tenant,
)
from llmops_contracts.costs import (
    Budget,
    BudgetCheck,
    BudgetDecision,
    Budgets,
    BudgetScope,
    BudgetsRequest,
    BudgetStatus,
    BudgetWindow,
    CostReport,
    CostReportQuery,
    CostReportRow,
    PricesLoad,
    PricesLoaded,
    ReportDimension,
)
from llmops_contracts.envelope import Payload
from llmops_contracts.llm import Usage
from llmops_contracts.prices import PriceDocument, PriceOverrideSpec
from llmops_contracts.prices import problems as document_problems

costs_app = typer.Typer(
    help="Costs: spend reports, prices, budgets and budget checks (the costs service).",
    no_args_is_help=True,
)
prices_app = typer.Typer(help="The price table and the tenant's own prices.", no_args_is_help=True)
budget_app = typer.Typer(
    help="Budgets: set, list, delete, and check a planned call against the hard ones.",
    no_args_is_help=True,
)
costs_app.add_typer(prices_app, name="prices")
costs_app.add_typer(budget_app, name="budget")

#: Exit code of ``budget check`` when it could not get an answer (1 means "denied" there).
NO_ANSWER = 3
#: Width of the longest bar of the spend chart, in characters.
CHART_WIDTH = 40
BAR = "█"
DIMENSIONS: tuple[str, ...] = get_args(ReportDimension)

Tenant = Annotated[str, typer.Option(help="Tenant whose costs to use.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the reply's data as JSON.")]


# --- rendering ------------------------------------------------------------------------------


def money(value: Decimal, currency: str = "USD") -> str:
    """An amount for people: cents from $1 up, 4 decimals below, ``<$0.0001`` for dust.

    The exact value is in ``--json``.
    """
    size = abs(value)
    sign = "-" if value < 0 else ""
    if size and size < Decimal("0.0001"):
        sign, size = f"<{sign}", Decimal("0.0001")
    text = f"{size:,.2f}" if not size or size >= 1 else f"{size:.4f}"
    return f"{sign}${text}" if currency == "USD" else f"{sign}{text} {currency}"


def _tokens(value: int) -> str:
    return f"{value:,}"


def period_label(start: datetime | None, granularity: str) -> str:
    """A row's period: ``2026-11-01`` (day), ``2026-11-01 09:00`` (hour, UTC), ``all`` (total)."""
    if start is None:
        return "all"
    start = start.astimezone(UTC)
    return start.strftime("%Y-%m-%d %H:%M") if granularity == "hour" else start.date().isoformat()


def report_table(report: CostReport) -> Table:
    """The report as a table: one row per period and group, then a totals row.

    Cache-write tokens and the estimated, price-missing and usage-missing call counts get a
    column only when the total has any.
    """
    total, currency = report.total, report.currency

    def count(attr: str) -> Callable[[CostReportRow], str]:
        return lambda row: _tokens(getattr(row, attr))

    columns: list[tuple[str, Callable[[CostReportRow], str]]] = [
        ("calls", count("calls")),
        ("input", count("input_tokens")),
        ("output", count("output_tokens")),
        ("cached", count("cache_read_input_tokens")),
        ("cache write", count("cache_creation_input_tokens")),
        ("reasoning", count("reasoning_tokens")),
        ("cost", lambda row: money(row.cost, currency)),
        ("provided cost", lambda row: money(row.provided_cost, currency)),
        ("estimated", count("estimated_calls")),
        ("price missing", count("price_missing_calls")),
        ("usage missing", count("usage_missing_calls")),
    ]
    optional = {
        "cache write": "cache_creation_input_tokens",
        "estimated": "estimated_calls",
        "price missing": "price_missing_calls",
        "usage missing": "usage_missing_calls",
    }
    columns = [(n, f) for n, f in columns if n not in optional or getattr(total, optional[n])]
    # The totals row is the table's footer, under a rule.
    table = Table(box=box.SIMPLE, show_footer=True, show_edge=False, pad_edge=False)
    table.add_column("period", footer="total")
    for dim in report.by:
        table.add_column(dim)
    for name, cell in columns:
        table.add_column(name, footer=cell(total), justify="right")
    for row in report.rows:
        period = period_label(row.period_start, report.granularity)
        group = [row.group.get(dim) or "-" for dim in report.by]
        # Group values are data: Text keeps brackets from being read as markup.
        table.add_row(*map(Text, [period, *group, *(cell(row) for _, cell in columns)]))
    return table


def daily_spend(report: CostReport) -> list[tuple[date, Decimal]]:
    """Spend per UTC day, every day from the first to the last with calls (gaps as zero).

    Empty for a report without periods (granularity 'total').
    """
    days: dict[date, Decimal] = {}
    for row in report.rows:
        if row.period_start is not None:
            day = row.period_start.astimezone(UTC).date()
            days[day] = days.get(day, Decimal(0)) + row.cost
    if not days:
        return []
    first, last = min(days), max(days)
    span = (last - first).days + 1
    return [(first + timedelta(n), days.get(first + timedelta(n), Decimal(0))) for n in range(span)]


def spend_chart(
    days: Sequence[tuple[date, Decimal]], *, width: int = CHART_WIDTH, currency: str = "USD"
) -> list[str]:
    """A plain-text bar chart, one line per day: the date, a bar scaled to the top day, the amount.

    A day with any spend gets at least one block, so it never looks like a day without.
    """
    top = max((cost for _, cost in days), default=Decimal(0))
    lines = []
    for day, cost in days:
        blocks = 0 if not top else int((cost / top * width).to_integral_value())
        if cost and not blocks:
            blocks = 1
        lines.append(f"{day.isoformat()} {BAR * blocks:<{width}} {money(cost, currency)}")
    return lines


def budget_table(statuses: Iterable[BudgetStatus]) -> Table:
    """Budgets with their spend in the current window."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("id", "scope", "value", "window"):
        table.add_column(name)
    for name in ("limit", "spent", "remaining", "% used"):
        table.add_column(name, justify="right")
    table.add_column("hard")
    for status in statuses:
        b = status.budget
        window = str(b.window)
        if b.window == BudgetWindow.CUSTOM:
            window = (
                f"custom {status.window_start:%Y-%m-%d %H:%M}..{status.window_end:%Y-%m-%d %H:%M}"
            )
        used = status.spent / b.limit * 100
        cells = (
            b.id,
            str(b.scope),
            b.scope_value or "-",
            window,
            money(b.limit),
            money(status.spent),
            money(status.remaining),
            f"{used:.1f}%",
            "yes" if b.hard else "no",
        )
        table.add_row(*map(Text, cells))
    return table


def report_warnings(report: CostReport) -> list[str]:
    """What a reader of the report must know: calls whose cost is missing, rows left out."""
    total = report.total
    notes = []
    if report.rows_left_out:
        notes.append(
            f"warning: {report.rows_left_out} newer rows were left out to fit one reply (the "
            "totals count them): narrow --since/--until, group by fewer dimensions or use a "
            "coarser --granularity"
        )
    if total.price_missing_calls:
        notes.append(
            f"warning: {total.price_missing_calls} calls have no price yet: their cost is not "
            "included; load prices with `llmops costs prices load`"
        )
    if total.usage_missing_calls:
        notes.append(
            f"warning: {total.usage_missing_calls} calls reported no usage and could not be "
            "estimated: their cost is not included"
        )
    return notes


# --- the price file -------------------------------------------------------------------------


class PriceFileError(ValueError):
    """A price file is not JSON or not in a format ``prices load`` sends.

    Attributes:
        problems: one line per problem, naming where it is (``overrides[0].effective_from``).
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_price_file(text: str, tenant: str) -> PricesLoad:
    """The ``prices_load`` request for a price file, checked here before anything is sent.

    A file is a whole price table (an object with ``models``, the snapshot format, sent as
    ``table``), ``{"overrides": [...]}``, or a list of override objects (sent as ``overrides``).
    It is checked against the price documents of :mod:`llmops_contracts.prices`, the models the
    costs service reads, so whatever is refused here is refused there, in the same words.

    Raises:
        PriceFileError: with every problem found.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PriceFileError(
            [f"not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"]
        ) from None
    problems: list[str] = []
    table: PriceDocument | None = None
    listed: list[Any]
    if isinstance(doc, dict) and "models" in doc:
        table = _checked(PriceDocument, doc, "", problems)
        if doc["models"] == {}:  # the service takes one, but it would price nothing at all
            problems.append("models: must be a non-empty object of model prices")
        listed = []
    elif isinstance(doc, dict) and set(doc) == {"overrides"} and isinstance(doc["overrides"], list):
        listed = doc["overrides"]
    elif isinstance(doc, list):
        listed = doc
    else:
        raise PriceFileError(
            [
                "expected a price table (an object with 'models'), an object "
                '{"overrides": [...]} or a list of override objects'
            ]
        )
    overrides: list[PriceOverrideSpec] = []
    for i, item in enumerate(listed):
        override = _checked(PriceOverrideSpec, item, f"overrides[{i}]", problems)
        if override is None:
            continue
        if override.tenant is not None and override.tenant != tenant:
            problems.append(
                f"overrides[{i}].tenant: {override.tenant!r} is not --tenant {tenant!r}"
            )
        overrides.append(override)
    if table is None and not listed:
        problems.append("the file holds no overrides")
    if problems:
        raise PriceFileError(problems)
    return PricesLoad(table=table, overrides=overrides)


DocumentT = TypeVar("DocumentT", PriceDocument, PriceOverrideSpec)


def _checked(
    kind: type[DocumentT], value: object, where: str, problems: list[str]
) -> DocumentT | None:
    try:
        return kind.model_validate(value)
    except ValidationError as exc:
        problems.extend(document_problems(exc, where))
        return None


# --- commands -------------------------------------------------------------------------------


def _dimensions(values: Sequence[str]) -> list[ReportDimension]:
    chosen = [v.strip() for value in values for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in DIMENSIONS]
    if unknown:
        raise typer.BadParameter(
            f"unknown dimension(s) {', '.join(unknown)}: use {', '.join(DIMENSIONS)}",
            param_hint="--by",
        )
    return chosen  # type: ignore[return-value]  # checked against the Literal above


def _decimal(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"not a decimal number: {value!r}", param_hint=option) from None
    if not number.is_finite():
        raise typer.BadParameter(f"not a finite number: {value!r}", param_hint=option)
    return number


def _invalid(exc: ValidationError) -> typer.BadParameter:
    """A pydantic error as a usage error naming each field (exit code 2)."""
    reasons = "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()
    )
    return typer.BadParameter(reasons)


R = TypeVar("R", bound=Payload)


def _ask(
    what: str,
    request: Payload,
    reply: type[R],
    tenant: str,
    timeout: float,
    nats_url: str,
    *,
    code: int = 1,
) -> R:
    """Send one request to the costs service and return its reply (or exit, see ``talk``)."""
    # request() parsed the answer as the request's reply type, which is ``reply``.
    return cast(R, ask("costs", what, request, tenant, timeout, nats_url, code=code))


@costs_app.command("report")
def report(
    tenant: Tenant,
    by: Annotated[
        list[str] | None,
        typer.Option(help=f"Group by: {', '.join(DIMENSIONS)} (comma-separated or repeated)."),
    ] = None,
    since: Annotated[
        str, typer.Option(help="Calls at or after: 7d, 12h (ago), 2026-11-01 or ISO 8601.")
    ] = "30d",
    until: Annotated[
        str | None, typer.Option(help="Calls before: 7d, 12h (ago), 2026-11-30 or ISO 8601.")
    ] = None,
    granularity: Annotated[str, typer.Option(help="One row per day, hour, or total.")] = "day",
    app_id: Annotated[str | None, typer.Option("--app", help="Only this application.")] = None,
    user: Annotated[str | None, typer.Option(help="Only this end user.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
    as_json: AsJson = False,
    chart: Annotated[
        bool, typer.Option("--chart/--no-chart", help="Spend per day as a bar chart.")
    ] = True,
    timeout: Timeout = 30.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Spend and tokens per period and group, with totals and a spend-per-day bar chart."""
    tenant = valid_tenant(tenant)
    try:
        query = CostReportQuery(
            since=moment(since, "--since"),
            until=moment(until, "--until"),
            by=_dimensions(by or []),
            granularity=granularity,  # the model names the accepted values
            app=app_id,
            user=user,
            model=model,
            provider=provider,
        )
    except ValidationError as exc:
        raise _invalid(exc) from None

    result = _ask("costs report", query, CostReport, tenant, timeout, nats_url)
    warnings = report_warnings(result)
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        grouped = f", by {', '.join(result.by)}" if result.by else ""
        say(
            f"costs of tenant {tenant} from {result.since.isoformat()} "
            f"to {result.until.isoformat()}, per {result.granularity}{grouped} ({result.currency})"
        )
        show(report_table(result))
        days = daily_spend(result) if chart else []
        if days:
            say("\nspend per day (UTC):")
            for line in spend_chart(days, currency=result.currency):
                say(line)
    for warning in warnings:
        err.print(Text(warning, style="yellow"), soft_wrap=True)


@prices_app.command("load")
def prices_load(
    file: Annotated[
        Path, typer.Argument(help="A price table (with 'models'), {'overrides': [...]}, or a list.")
    ],
    tenant: Tenant,
    timeout: Timeout = 60.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Load a price table or the tenant's own prices; calls waiting for a price are re-priced.

    A whole table replaces the default prices of every tenant; overrides apply to --tenant only.
    """
    tenant = valid_tenant(tenant)
    try:
        request = read_price_file(file.read_text(encoding="utf-8"), tenant)
    except (OSError, UnicodeDecodeError) as exc:
        err.print(Text(f"cannot read {file}: {exc}", style="red"), soft_wrap=True)
        raise typer.Exit(2) from None
    except PriceFileError as exc:
        for problem in exc.problems:
            err.print(Text(f"{file}: {problem}", style="red"), soft_wrap=True)
        raise typer.Exit(2) from None

    loaded = _ask("costs prices load", request, PricesLoaded, tenant, timeout, nats_url)
    say(
        f"prices loaded for tenant {tenant}: price table {loaded.price_table_version} "
        f"({loaded.models:,} models), {loaded.overrides} override(s), "
        f"{loaded.repriced} waiting call(s) re-priced"
    )


def _show_budgets(budgets: Budgets, tenant: str) -> None:
    if budgets.budgets:
        show(budget_table(budgets.budgets))
    say(f"{len(budgets.budgets)} budget(s) of tenant {tenant}", err)


BudgetId = Annotated[str, typer.Option("--id", help="Budget id, unique per tenant.")]


@budget_app.command("set")
def budget_set(
    tenant: Tenant,
    budget_id: BudgetId,
    scope: Annotated[BudgetScope, typer.Option(help="What the budget limits.")],
    limit: Annotated[str, typer.Option(help="Limit in USD, e.g. 100 or 99.50.")],
    value: Annotated[
        str | None, typer.Option(help="The app, user or model limited (not for tenant scope).")
    ] = None,
    window: Annotated[
        BudgetWindow, typer.Option(help="UTC calendar day, month, or custom (--starts/--ends).")
    ] = BudgetWindow.MONTH,
    starts: Annotated[str | None, typer.Option(help="Custom window start (ISO 8601).")] = None,
    ends: Annotated[str | None, typer.Option(help="Custom window end (ISO 8601).")] = None,
    thresholds: Annotated[
        str, typer.Option(help="Soft thresholds in percent of the limit, comma-separated.")
    ] = "50,80,100",
    hard: Annotated[
        bool, typer.Option("--hard/--soft", help="--hard: budget check denies calls reaching it.")
    ] = False,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Create or replace a budget; prints the tenant's budgets afterwards."""
    tenant = valid_tenant(tenant)
    try:
        pcts = [float(t) for t in thresholds.split(",") if t.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"numbers separated by commas, got {thresholds!r}", param_hint="--thresholds"
        ) from None
    try:
        budget = Budget(
            id=budget_id,
            scope=scope,
            scope_value=value,
            window=window,
            starts_at=moment(starts, "--starts"),
            ends_at=moment(ends, "--ends"),
            limit=_decimal(limit, "--limit"),
            thresholds_pct=pcts,
            hard=hard,
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    request = BudgetsRequest(action="set", budget=budget)
    budgets = _ask("costs budget set", request, Budgets, tenant, timeout, nats_url)
    if as_json:
        print_json(budgets.model_dump(mode="json"))
        return
    say(f"budget {budget.id} set for tenant {tenant}", err)
    _show_budgets(budgets, tenant)


@budget_app.command("list")
def budget_list(
    tenant: Tenant,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """The tenant's budgets with their spend in the current window."""
    tenant = valid_tenant(tenant)
    budgets = _ask(
        "costs budget list", BudgetsRequest(action="list"), Budgets, tenant, timeout, nats_url
    )
    if as_json:
        print_json(budgets.model_dump(mode="json"))
        return
    _show_budgets(budgets, tenant)


@budget_app.command("delete")
def budget_delete(
    tenant: Tenant,
    budget_id: BudgetId,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Delete a budget; prints the budgets left."""
    tenant = valid_tenant(tenant)
    request = BudgetsRequest(action="delete", budget_id=budget_id)
    budgets = _ask("costs budget delete", request, Budgets, tenant, timeout, nats_url)
    say(f"budget {budget_id} deleted for tenant {tenant}", err)
    _show_budgets(budgets, tenant)


@budget_app.command("check")
def budget_check(
    tenant: Tenant,
    app_id: Annotated[
        str | None, typer.Option("--app", help="Application making the call.")
    ] = None,
    user: Annotated[str | None, typer.Option(help="End user of the call.")] = None,
    provider: Annotated[str | None, typer.Option(help="Provider of the planned call.")] = None,
    model: Annotated[str | None, typer.Option(help="Model of the planned call.")] = None,
    cost: Annotated[
        str | None, typer.Option(help="Expected cost in USD (instead of token counts).")
    ] = None,
    input_tokens: Annotated[
        int | None, typer.Option(min=0, help="Expected input tokens (priced with --model).")
    ] = None,
    output_tokens: Annotated[
        int | None, typer.Option(min=0, help="Expected output tokens (priced with --model).")
    ] = None,
    service_tier: Annotated[
        str | None,
        typer.Option(help="Service tier the tokens are priced at (batch, priority, flex...)."),
    ] = None,
    as_json: AsJson = False,
    timeout: Timeout = 5.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """May this call go ahead? Exit 0 when allowed, 1 when denied, 3 when no answer came."""
    tenant = valid_tenant(tenant)
    tokens = input_tokens is not None or output_tokens is not None
    if tokens and cost is not None:
        raise typer.BadParameter("give --cost or token counts, not both")
    if tokens and not (provider and model):
        raise typer.BadParameter(
            "token counts are priced with the model's price: give --provider and --model"
        )
    try:
        request = BudgetCheck(
            provider=provider,
            model=model,
            app=app_id,
            user=user,
            estimated_cost=_decimal(cost, "--cost"),
            usage=Usage(input_tokens=input_tokens or 0, output_tokens=output_tokens or 0)
            if tokens
            else None,
            service_tier=service_tier,
        )
    except ValidationError as exc:
        raise _invalid(exc) from None

    decision = _ask(
        "costs budget check", request, BudgetDecision, tenant, timeout, nats_url, code=NO_ANSWER
    )
    if as_json:
        print_json(decision.model_dump(mode="json"))
    else:
        estimate = money(decision.estimated_cost)
        if decision.allow:
            say(f"allow: estimated cost {estimate}")
        else:
            say(
                f"deny: {decision.reason or 'a hard budget would be reached'} (estimated cost {estimate})"
            )
        if decision.estimated_from == "price_missing":
            say(
                f"warning: {provider}/{model} has no price: the estimate is $0; load its price "
                "with `llmops costs prices load`",
                err,
            )
        if decision.budgets:
            show(budget_table(decision.budgets))
        else:
            say("no budget applies to this call", err)
    if not decision.allow:
        raise typer.Exit(1)
