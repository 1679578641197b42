"""Spend reports from the hourly rollup: their window, their reply, and hourly spend series.

Pure: no I/O, no clock, no framework. The repository aggregates; this turns its lines into what
the report endpoint answers and what the spike check compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from llmops_contracts.costs import CostReport, CostReportQuery, CostReportRow
from llmops_costs.entries import PRICE_MISSING, PRICED, USAGE_MISSING, CallEntry, hour_of
from llmops_costs.money import exact
from llmops_costs.ports import ReportLine

#: The counts of a report line (and of the hourly rollup's columns), summed as integers.
REPORT_COUNTS = (
    "calls",
    "priced_calls",
    "estimated_calls",
    "price_missing_calls",
    "usage_missing_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
)


def call_counts(entry: CallEntry) -> list[int]:
    """What one stored call adds to the counts of its report line, in :data:`REPORT_COUNTS`
    order (an estimated usage counts its tokens too)."""
    usage = entry.usage
    tokens = (
        [
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_input_tokens,
            usage.cache_creation_input_tokens,
            usage.reasoning_tokens,
        ]
        if usage is not None
        else [0, 0, 0, 0, 0]
    )
    return [
        1,
        int(entry.state == PRICED),
        int(entry.estimated),
        int(entry.state == PRICE_MISSING),
        int(entry.state == USAGE_MISSING),
        *tokens,
    ]


def report_window(query: CostReportQuery, now: datetime) -> tuple[datetime, datetime]:
    """Whole UTC hours: ``[hour of since, end of the hour of until)``, until ``now`` if unset."""
    since = hour_of(query.since)
    until_at = query.until or now
    until = hour_of(until_at)
    if until < until_at:
        until += timedelta(hours=1)
    return since, until


def report_filters(query: CostReportQuery) -> dict[str, str]:
    """The dimensions a query pins to one value."""
    return {
        name: value
        for name, value in (
            ("app", query.app),
            ("user", query.user),
            ("model", query.model),
            ("provider", query.provider),
        )
        if value is not None
    }


#: Byte budget of a report reply's rows, well under NATS's default 1 MiB message limit.
REPORT_BYTES = 512 * 1024


def cost_report(
    query: CostReportQuery, since: datetime, until: datetime, lines: Sequence[ReportLine]
) -> CostReport:
    """The reply: every line as a row while they fit one message, and the total of all."""
    rows = [CostReportRow(**vars(line)) for line in lines]
    # A reply is one NATS message (1 MiB by default): rows beyond a byte budget are left
    # out, newest last, and counted, so a wide report says so instead of failing to send.
    size, kept = 0, len(rows)
    for i, row in enumerate(rows):
        size += len(row.model_dump_json())
        if size > REPORT_BYTES:
            kept = i
            break
    return CostReport(
        since=since,
        until=until,
        by=list(query.by),
        granularity=query.granularity,
        rows=rows[:kept],
        total=total_row(lines),
        rows_left_out=len(rows) - kept,
    )


def total_row(lines: Sequence[ReportLine]) -> CostReportRow:
    """Every line summed (exact money)."""
    with exact():
        return CostReportRow(
            period_start=None,
            group={},
            **{name: sum(getattr(line, name) for line in lines) for name in REPORT_COUNTS},
            cost=sum((line.cost for line in lines), Decimal(0)),
            provided_cost=sum((line.provided_cost for line in lines), Decimal(0)),
        )


HourlySpend = dict[datetime, Decimal]


def hourly_spend(lines: Sequence[ReportLine]) -> tuple[HourlySpend, dict[str, HourlySpend]]:
    """Spend per hour of the whole tenant and of each app, from hourly lines grouped by app."""
    per_tenant: HourlySpend = {}
    per_app: dict[str, HourlySpend] = {}
    with exact():
        for line in lines:
            assert line.period_start is not None
            at = line.period_start
            per_tenant[at] = per_tenant.get(at, Decimal(0)) + line.cost
            app = line.group.get("app")
            if app:
                spend = per_app.setdefault(app, {})
                spend[at] = spend.get(at, Decimal(0)) + line.cost
    return per_tenant, per_app
