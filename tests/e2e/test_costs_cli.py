"""`llmops costs ...` against the real nats-server, answered by a stand-in for the costs service.

The stand-in subscribes to the tenant's costs RPC subjects in this event loop, parses every
request with the contracts' registry (so the tests see exactly what the CLI sent), and answers
with a reply envelope (or an error) the test chose. The CLI runs in a thread (typer's CliRunner)
so the loop keeps answering. Nothing here needs the costs service itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import nats
import pytest
from typer.testing import CliRunner, Result

from llmops.cli import app
from llmops_contracts import headers, subjects, wrap
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
)
from llmops_contracts.envelope import Envelope, Payload
from llmops_contracts.registry import parse
from llmops_shared.barrier import server_caught_up

SNAPSHOT = (
    Path(__file__).parents[2] / "services/costs/src/llmops_costs/prices/litellm_snapshot.json"
)
GOLDEN = Path(__file__).parents[1] / "contracts" / "golden"
NO_SERVER = "nats://127.0.0.1:1"
DAY = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class FakeCosts:
    """Answers ``llmops.rpc.costs.*.<tenant>`` with the reply (or error) set per RPC prefix."""

    tenant: str
    nc: Any
    answers: dict[str, Payload | tuple[str, str]] = field(default_factory=dict)
    requests: list[Envelope[Any]] = field(default_factory=list)

    def answer(self, prefix: str, reply: Payload | tuple[str, str]) -> None:
        """Reply to requests on ``prefix`` with ``reply``, or an error (kind, reason)."""
        self.answers[prefix] = reply

    async def handle(self, msg: Any) -> None:
        request = parse(msg.data, subject=msg.subject)
        self.requests.append(request)
        reply = self.answers[msg.subject.rsplit(".", 1)[0]]
        if isinstance(reply, tuple):
            kind, reason = reply
            body = json.dumps({"error": kind, "reason": reason}).encode()
            await self.nc.publish(msg.reply, body, headers={headers.ERROR: kind})
            return
        await msg.respond(
            wrap(reply, tenant=self.tenant, source="llmops/costs", causation=request).to_json()
        )

    def last(self) -> Any:
        """The payload of the last request received."""
        return self.requests[-1].data


@pytest.fixture
async def costs(nats_url: str, tenant: str) -> AsyncIterator[FakeCosts]:
    nc = await nats.connect(nats_url)
    fake = FakeCosts(tenant, nc)
    await nc.subscribe(f"llmops.rpc.costs.*.{tenant}", cb=fake.handle)
    await server_caught_up(nc)
    try:
        yield fake
    finally:
        await nc.close()


async def llmops(*args: str, nats_url: str = NO_SERVER) -> Result:
    """Run `llmops ...` in a thread (this loop keeps serving the stand-in meanwhile)."""
    env = {"NATS_URL": nats_url, "COLUMNS": "200", "NO_COLOR": "1"}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


def _row(day: int | None, group: dict[str, str | None], cost: str, **counts: int) -> CostReportRow:
    calls = counts.pop("calls", 10)
    values = {
        "calls": calls,
        "priced_calls": calls - counts.get("price_missing_calls", 0),
        "estimated_calls": 0,
        "price_missing_calls": 0,
        "usage_missing_calls": 0,
        "input_tokens": calls * 1000,
        "output_tokens": calls * 100,
        "cache_read_input_tokens": calls * 400,
        "cache_creation_input_tokens": 0,
        "reasoning_tokens": calls * 10,
        "provided_cost": Decimal("0"),
        **counts,
    }
    start = None if day is None else DAY + timedelta(days=day - 1)
    return CostReportRow(period_start=start, group=group, cost=Decimal(cost), **values)


def _report(rows: list[CostReportRow], total: CostReportRow, **fields: Any) -> CostReport:
    return CostReport(
        since=DAY,
        until=DAY + timedelta(days=4),
        by=fields.pop("by", ["model"]),
        granularity=fields.pop("granularity", "day"),
        rows=rows,
        total=total,
        **fields,
    )


def _chart(stdout: str) -> dict[str, tuple[int, str]]:
    """The chart lines: date -> (blocks in the bar, amount)."""
    lines = stdout.split("spend per day (UTC):\n", 1)[1].splitlines()
    return {line[:10]: (line.count("█"), line.split()[-1]) for line in lines if line.strip()}


async def test_report_sends_the_query_and_renders_table_totals_chart_and_warning(
    costs: FakeCosts, nats_url: str, tenant: str
) -> None:
    rows = [
        _row(1, {"model": "gpt-4o"}, "3.2", calls=120),
        _row(1, {"model": "claude[x]"}, "0.8", calls=40),  # brackets: data, not markup
        _row(2, {"model": "gpt-4o"}, "8", calls=300, price_missing_calls=4, estimated_calls=2),
        _row(4, {"model": None}, "2", calls=20),
    ]
    total = _row(
        None, {}, "14", calls=480, price_missing_calls=4, estimated_calls=2, provided_cost=3
    )
    costs.answer(subjects.COSTS_REPORT, _report(rows, total))

    result = await llmops(
        "costs", "report", "--tenant", tenant, "--by", "model,app", "--since", "2026-11-01",
        "--until", "2026-11-05T00:00:00Z", "--model", "gpt-4o", "--provider", "openai",
        nats_url=nats_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    query = costs.last()
    assert isinstance(query, CostReportQuery)
    assert query.by == ["model", "app"]
    assert query.since == DAY
    assert query.until == DAY + timedelta(days=4)
    assert query.granularity == "day"
    assert (query.model, query.provider, query.app, query.user) == ("gpt-4o", "openai", None, None)
    assert costs.requests[-1].tenant == tenant
    assert costs.requests[-1].source == "cli://llmops"

    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("period"))
    assert header.split()[:8] == [
        "period", "model", "calls", "input", "output", "cached", "reasoning", "cost"
    ]  # fmt: skip
    assert "estimated" in header
    assert "price missing" in header
    assert "usage missing" not in header  # zero: no column
    assert "cache write" not in header
    assert "2026-11-01   gpt-4o" in result.stdout
    assert "claude[x]" in result.stdout
    assert "2026-11-04   -" in result.stdout  # a null group value
    [totals] = [line for line in lines if line.startswith("total")]
    assert totals.split() == [
        "total", "480", "480,000", "48,000", "192,000", "4,800", "$14.00", "$3.00", "2", "4"
    ]  # fmt: skip

    # One line per day from the first to the last, bars proportional to spend (top = 40).
    assert _chart(result.stdout) == {
        "2026-11-01": (20, "$4.00"),
        "2026-11-02": (40, "$8.00"),
        "2026-11-03": (0, "$0.00"),
        "2026-11-04": (10, "$2.00"),
    }
    assert (
        "4 calls have no price yet: their cost is not included; load prices with "
        "`llmops costs prices load`"
    ) in result.stderr


async def test_report_json_is_the_replys_data_and_hour_rows_chart_per_day(
    costs: FakeCosts, nats_url: str, tenant: str
) -> None:
    rows = [
        _row(1, {}, "0.000123", calls=1),
        _row(1, {}, "1.5", calls=2),
        _row(2, {}, "0.5", calls=3),
    ]
    rows[1] = rows[1].model_copy(update={"period_start": DAY + timedelta(hours=9)})
    reply = _report(rows, _row(None, {}, "2.000123", calls=6), by=[], granularity="hour")
    costs.answer(subjects.COSTS_REPORT, reply)

    as_json = await llmops(
        "costs", "report", "--tenant", tenant, "--granularity", "hour", "--since", "2d",
        "--app", "bot", "--user", "u1", "--json", nats_url=nats_url,
    )  # fmt: skip
    assert as_json.exit_code == 0, as_json.output
    wire = json.loads(wrap(reply, tenant=tenant, source="llmops/costs").to_json())["data"]
    assert json.loads(as_json.stdout) == wire
    assert json.loads(as_json.stdout)["total"]["cost"] == "2.000123"  # a string, exact
    query = costs.last()
    assert (query.granularity, query.by, query.app, query.user) == ("hour", [], "bot", "u1")
    # The CLI reads "2d" against the person's wall clock (client/src/llmops/audit.py).
    wall = datetime.now(UTC)  # clock-ok: checks the CLI's own wall-clock reading
    assert abs(query.since - (wall - timedelta(days=2))) < timedelta(minutes=1)
    assert "no price yet" not in as_json.stderr

    table = await llmops(
        "costs", "report", "--tenant", tenant, "--granularity", "hour", nats_url=nats_url
    )
    assert table.exit_code == 0, table.output
    assert "2026-11-01 00:00" in table.stdout
    assert "2026-11-01 09:00" in table.stdout
    assert _chart(table.stdout) == {"2026-11-01": (40, "$1.50"), "2026-11-02": (13, "$0.5000")}

    no_chart = await llmops("costs", "report", "--tenant", tenant, "--no-chart", nats_url=nats_url)
    assert no_chart.exit_code == 0, no_chart.output
    assert "spend per day" not in no_chart.stdout
    assert "total" in no_chart.stdout
    assert "left out" not in no_chart.stderr

    costs.answer(subjects.COSTS_REPORT, reply.model_copy(update={"rows_left_out": 1234}))
    cut = await llmops("costs", "report", "--tenant", tenant, nats_url=nats_url)
    assert cut.exit_code == 0, cut.output
    assert "1234 newer rows were left out to fit one reply (the totals count them)" in cut.stderr


async def test_report_rejects_bad_options_before_asking(costs: FakeCosts, tenant: str) -> None:
    cases = {
        ("--by", "model,colour"): "unknown dimension(s) colour",
        ("--since", "last tuesday"): "neither a relative time",
        ("--granularity", "week"): "granularity",
    }
    for options, message in cases.items():
        result = await llmops("costs", "report", "--tenant", tenant, *options)
        assert result.exit_code == 2, (options, result.output)
        assert message in result.output, (options, result.output)
    bad_tenant = await llmops("costs", "report", "--tenant", "a.b")
    assert bad_tenant.exit_code == 2
    assert costs.requests == []


async def test_service_errors_and_missing_service_are_one_line_and_non_zero(
    costs: FakeCosts, nats_url: str, tenant: str, uid: str
) -> None:
    costs.answer(subjects.COSTS_REPORT, ("invalid", "since: must precede until"))
    refused = await llmops("costs", "report", "--tenant", tenant, nats_url=nats_url)
    assert refused.exit_code == 1
    assert (
        "costs report refused by the costs service: invalid: since: must precede until"
        in refused.stderr
    )

    nobody = await llmops("costs", "budget", "list", "--tenant", f"x{uid}", nats_url=nats_url)
    assert nobody.exit_code == 1
    assert "no costs service answers on this NATS server" in nobody.stderr

    no_server = await llmops("costs", "budget", "list", "--tenant", tenant)
    assert no_server.exit_code == 1
    assert "no NATS server reachable" in no_server.stderr


async def test_prices_load_sends_overrides_or_a_table_and_prints_the_result(
    costs: FakeCosts, nats_url: str, tenant: str, tmp_path: Path
) -> None:
    golden = json.loads((GOLDEN / "llmops.costs.prices_load.v1.json").read_text())
    overrides = golden["data"]["overrides"]
    costs.answer(
        subjects.COSTS_PRICES,
        PricesLoaded(price_table_version="litellm-1.110.2", models=3963, overrides=1, repriced=7),
    )
    listed, wrapped = tmp_path / "list.json", tmp_path / "wrapped.json"
    listed.write_text(json.dumps(overrides, indent=2))
    wrapped.write_text(json.dumps({"overrides": overrides}))
    for path in (listed, wrapped):
        result = await llmops(
            "costs", "prices", "load", str(path), "--tenant", tenant, nats_url=nats_url
        )
        assert result.exit_code == 0, result.output
        sent = costs.last()
        assert isinstance(sent, PricesLoad)
        assert sent.table is None
        assert [o.model_dump(mode="json") for o in sent.overrides] == overrides  # as written
        assert result.stdout.strip() == (
            f"prices loaded for tenant {tenant}: price table litellm-1.110.2 (3,963 models), "
            "1 override(s), 7 waiting call(s) re-priced"
        )

    table = await llmops(
        "costs", "prices", "load", str(SNAPSHOT), "--tenant", tenant, nats_url=nats_url
    )
    assert table.exit_code == 0, table.output
    sent = costs.last()
    assert sent.overrides == []
    assert sent.table is not None
    assert sent.table.model_dump(mode="json") == json.loads(SNAPSHOT.read_text())


async def test_prices_load_refuses_a_bad_file_locally_with_exit_2(
    costs: FakeCosts, tenant: str, tmp_path: Path
) -> None:
    good = json.loads((GOLDEN / "llmops.costs.prices_load.v1.json").read_text())["data"]
    override = good["overrides"][0]
    files = {
        "broken.json": (
            '[\n  {"provider": "acme",\n   "model": }\n]',
            "not JSON: line 3 column 13: Expecting value",
        ),
        "shape.json": (json.dumps({"prices": []}), "expected a price table"),
        "naive.json": (
            json.dumps([{**override, "effective_from": "2026-11-01T00:00:00"}]),
            "overrides[0].effective_from: an ISO 8601 date-time with a time zone",
        ),
        "rate.json": (
            json.dumps([{**override, "prices": {"tiers": {"standard": [{"input": 0.000002}]}}}]),
            "overrides[0].prices.tiers.standard[0].input: a price is a decimal string",
        ),
        "typo.json": (
            json.dumps([{**override, "efective_until": None}]),
            "overrides[0]: unknown field(s) efective_until",
        ),
        "table.json": (json.dumps({"models": {}, "version": ""}), "version: a price table"),
    }
    for name, (text, message) in files.items():
        path = tmp_path / name
        path.write_text(text)
        result = await llmops("costs", "prices", "load", str(path), "--tenant", tenant)
        assert result.exit_code == 2, (name, result.output)
        assert f"{path}: {message}" in result.stderr, (name, result.stderr)
    missing = await llmops(
        "costs", "prices", "load", str(tmp_path / "nope.json"), "--tenant", tenant
    )
    assert missing.exit_code == 2
    assert costs.requests == []  # nothing was sent


def _status(budget: Budget, spent: str) -> BudgetStatus:
    return BudgetStatus(
        budget=budget,
        window_start=DAY,
        window_end=DAY.replace(month=12),
        spent=Decimal(spent),
        remaining=budget.limit - Decimal(spent),
    )


async def test_budget_set_list_delete(costs: FakeCosts, nats_url: str, tenant: str) -> None:
    monthly = Budget(id="monthly", scope=BudgetScope.TENANT, limit=Decimal("100"), hard=True)
    bot = Budget(
        id="bot-sprint",
        scope=BudgetScope.APP,
        scope_value="support-bot",
        window=BudgetWindow.CUSTOM,
        starts_at=DAY,
        ends_at=DAY + timedelta(days=14),
        limit=Decimal("250.50"),
        thresholds_pct=[25.0, 90.0],
    )
    statuses = [_status(bot, "50.10"), _status(monthly, "112.5")]
    costs.answer(subjects.COSTS_BUDGETS, Budgets(budgets=statuses))

    set_ = await llmops(
        "costs", "budget", "set", "--tenant", tenant, "--id", "bot-sprint", "--scope", "app",
        "--value", "support-bot", "--limit", "250.50", "--window", "custom",
        "--starts", "2026-11-01", "--ends", "2026-11-15T00:00:00Z", "--thresholds", "25,90",
        nats_url=nats_url,
    )  # fmt: skip
    assert set_.exit_code == 0, set_.output
    request = costs.last()
    assert isinstance(request, BudgetsRequest)
    assert (request.action, request.budget_id) == ("set", None)
    assert request.budget == bot
    assert f"budget bot-sprint set for tenant {tenant}" in set_.stderr

    listed = await llmops("costs", "budget", "list", "--tenant", tenant, nats_url=nats_url)
    assert listed.exit_code == 0, listed.output
    assert costs.last() == BudgetsRequest(action="list")
    lines = listed.stdout.splitlines()
    assert lines[0].split() == [
        "id", "scope", "value", "window", "limit", "spent", "remaining", "%", "used", "hard"
    ]  # fmt: skip
    [bot_line] = [line for line in lines if line.startswith("bot-sprint")]
    assert bot_line.split() == [
        "bot-sprint", "app", "support-bot", "custom", "2026-11-01", "00:00..2026-12-01", "00:00",
        "$250.50", "$50.10", "$200.40", "20.0%", "no",
    ]  # fmt: skip
    [monthly_line] = [line for line in lines if line.startswith("monthly")]
    assert monthly_line.split() == [
        "monthly", "tenant", "-", "month", "$100.00", "$112.50", "-$12.50", "112.5%", "yes"
    ]  # fmt: skip
    assert f"2 budget(s) of tenant {tenant}" in listed.stderr

    as_json = await llmops(
        "costs", "budget", "list", "--tenant", tenant, "--json", nats_url=nats_url
    )
    assert json.loads(as_json.stdout) == Budgets(budgets=statuses).model_dump(mode="json")

    hard = await llmops(
        "costs", "budget", "set", "--tenant", tenant, "--id", "monthly", "--scope", "tenant",
        "--limit", "100", "--hard", nats_url=nats_url,
    )  # fmt: skip
    assert hard.exit_code == 0, hard.output
    assert costs.last().budget == monthly  # defaults: month window, 50/80/100 thresholds

    costs.answer(subjects.COSTS_BUDGETS, Budgets(budgets=statuses[1:]))
    deleted = await llmops(
        "costs", "budget", "delete", "--tenant", tenant, "--id", "bot-sprint", nats_url=nats_url
    )
    assert deleted.exit_code == 0, deleted.output
    assert costs.last() == BudgetsRequest(action="delete", budget_id="bot-sprint")
    assert "bot-sprint" not in deleted.stdout
    assert "monthly" in deleted.stdout


async def test_budget_set_refuses_an_invalid_budget_locally(costs: FakeCosts, tenant: str) -> None:
    base = ("costs", "budget", "set", "--tenant", tenant, "--id", "b")
    cases = {
        ("--scope", "app", "--limit", "10"): "scope_value names the app",
        ("--scope", "tenant", "--limit", "ten"): "not a decimal number",
        ("--scope", "tenant", "--limit", "0"): "limit",
        ("--scope", "tenant", "--limit", "5", "--window", "custom"): "a custom window needs",
        ("--scope", "tenant", "--limit", "5", "--thresholds", "50,x"): "--thresholds",
        ("--scope", "team", "--limit", "5"): "--scope",
    }
    for options, message in cases.items():
        result = await llmops(*base, *options)
        assert result.exit_code == 2, (options, result.output)
        assert message in result.output, (options, result.output)
    assert costs.requests == []


async def test_budget_check_allows_with_0_denies_with_1(
    costs: FakeCosts, nats_url: str, tenant: str
) -> None:
    monthly = Budget(id="monthly", scope=BudgetScope.TENANT, limit=Decimal("100"), hard=True)
    costs.answer(
        subjects.COSTS_BUDGET_CHECK,
        BudgetDecision(
            allow=True, estimated_cost=Decimal("0.05"), budgets=[_status(monthly, "12")]
        ),
    )
    allowed = await llmops(
        "costs", "budget", "check", "--tenant", tenant, "--app", "support-bot", "--user", "u1",
        "--cost", "0.05", nats_url=nats_url,
    )  # fmt: skip
    assert allowed.exit_code == 0, allowed.output
    assert costs.last() == BudgetCheck(app="support-bot", user="u1", estimated_cost=Decimal("0.05"))
    assert allowed.stdout.splitlines()[0] == "allow: estimated cost $0.0500"
    assert "monthly" in allowed.stdout

    reason = "budget monthly (tenant): spent 99.99 + estimated 0.0123 reaches the limit 100"
    costs.answer(
        subjects.COSTS_BUDGET_CHECK,
        BudgetDecision(
            allow=False,
            estimated_cost=Decimal("0.0123"),
            reason=reason,
            budgets=[_status(monthly, "99.99")],
        ),
    )
    denied = await llmops(
        "costs", "budget", "check", "--tenant", tenant, "--provider", "anthropic",
        "--model", "claude-sonnet-4-5", "--input-tokens", "2400", "--output-tokens", "350",
        nats_url=nats_url,
    )  # fmt: skip
    assert denied.exit_code == 1, denied.output
    sent = costs.last()
    assert (sent.provider, sent.model, sent.estimated_cost) == (
        "anthropic",
        "claude-sonnet-4-5",
        None,
    )
    assert (sent.usage.input_tokens, sent.usage.output_tokens) == (2400, 350)
    assert denied.stdout.splitlines()[0] == f"deny: {reason} (estimated cost $0.0123)"

    as_json = await llmops(
        "costs", "budget", "check", "--tenant", tenant, "--json", nats_url=nats_url
    )
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["allow"] is False
    assert json.loads(as_json.stdout)["estimated_cost"] == "0.0123"


async def test_budget_check_sends_the_tier_and_warns_when_the_model_has_no_price(
    costs: FakeCosts, nats_url: str, tenant: str
) -> None:
    costs.answer(
        subjects.COSTS_BUDGET_CHECK,
        BudgetDecision(allow=True, estimated_cost=Decimal(0), estimated_from="price_missing"),
    )
    unpriced = await llmops(
        "costs", "budget", "check", "--tenant", tenant, "--provider", "acme-llm",
        "--model", "acme-large-2", "--input-tokens", "900", "--service-tier", "batch",
        nats_url=nats_url,
    )  # fmt: skip
    assert unpriced.exit_code == 0, unpriced.output
    assert costs.last().service_tier == "batch"
    assert "acme-llm/acme-large-2 has no price: the estimate is $0" in unpriced.stderr

    costs.answer(
        subjects.COSTS_BUDGET_CHECK,
        BudgetDecision(allow=True, estimated_cost=Decimal("0.002"), estimated_from="usage"),
    )
    priced = await llmops(
        "costs", "budget", "check", "--tenant", tenant, "--provider", "openai",
        "--model", "gpt-4o", "--input-tokens", "900", nats_url=nats_url,
    )  # fmt: skip
    assert priced.exit_code == 0, priced.output
    assert costs.last().service_tier is None
    assert "no price" not in priced.stderr


async def test_budget_check_usage_errors_are_2_and_no_answer_is_3(
    costs: FakeCosts, tenant: str, uid: str, nats_url: str
) -> None:
    base = ("costs", "budget", "check", "--tenant", tenant)
    both = await llmops(*base, "--cost", "1", "--input-tokens", "5")
    assert both.exit_code == 2
    assert "not both" in both.output
    no_model = await llmops(*base, "--input-tokens", "5")
    assert no_model.exit_code == 2
    assert "--provider and --model" in no_model.output
    negative = await llmops(*base, "--cost", "-1")
    assert negative.exit_code == 2
    assert costs.requests == []

    # A gateway must tell "denied" (1) from "could not ask" (3) to fail open or closed.
    nobody = await llmops(
        "costs", "budget", "check", "--tenant", f"x{uid}", "--cost", "1", nats_url=nats_url
    )
    assert nobody.exit_code == 3
    assert "no costs service answers" in nobody.stderr


async def test_the_installed_command_reads_nats_url_from_the_environment(
    costs: FakeCosts, nats_url: str, tenant: str
) -> None:
    costs.answer(
        subjects.COSTS_BUDGET_CHECK,
        BudgetDecision(allow=False, estimated_cost=Decimal(1), reason="over budget"),
    )
    command = [str(Path(sys.executable).parent / "llmops"), "costs", "budget", "check"]
    done = await asyncio.to_thread(
        subprocess.run,
        [*command, "--tenant", tenant, "--cost", "1"],
        capture_output=True,
        text=True,
        env={**os.environ, "NATS_URL": nats_url, "NO_COLOR": "1"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("deny: over budget (estimated cost $1.00)")
    assert "no budget applies to this call" in done.stderr
