"""Costs: priced calls and budget alerts. Money is USD as a decimal (a JSON string or number)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from llmops_contracts import subjects
from llmops_contracts.common import Actor, Money, Part, PromptRef
from llmops_contracts.envelope import Kind, MessageSpec, Payload
from llmops_contracts.llm import Usage
from llmops_contracts.prices import PriceDocument, PriceOverrideSpec


class CostRecorded(Payload):
    """Event: an LLM call was priced."""

    SPEC = MessageSpec(
        type="llmops.costs.cost_recorded.v1",
        kind=Kind.EVENT,
        subject=subjects.COSTS_COST_RECORDED,
        summary="An LLM call was priced.",
        producers=("costs",),
        consumers=("audit",),
    )

    call_id: str = Field(description="Event id of the LLM call.")
    provider: str = Field(description="Provider.")
    model: str = Field(description="Model the price was looked up for.")
    usage: Usage = Field(description="Usage that was priced.")
    computed_cost: Decimal = Field(ge=0, description="Our price for the call, in USD.")
    provided_cost: Decimal | None = Field(default=None, description="Cost the caller reported.")
    currency: str = Field(default="USD", description="ISO 4217 currency code.")
    price_table_version: str = Field(description="Version of the price table used.")
    tier: str = Field(default="standard", description="Price tier that applied.")
    estimated: bool = Field(
        default=False, description="True when usage was estimated, not reported."
    )
    prompt: PromptRef | None = Field(default=None, description="Prompt used by the call.")
    actor: Actor = Field(default_factory=Actor, description="App, user and session of the call.")
    price_key: str | None = Field(
        default=None, description="Price-table entry (or override model) that priced the call."
    )
    breakdown: dict[str, Decimal] = Field(
        default_factory=dict,
        description="Cost per usage bucket in USD: input, cache_read, cache_write_5m, "
        "cache_write_1h, output, reasoning, per_request (they sum to computed_cost).",
    )
    repriced: bool = Field(
        default=False,
        description="True when the call was priced later, after its price_missing event.",
    )


class PriceMissing(Payload):
    """Event: an LLM call could not be priced. It is never counted as $0; it is re-priced later."""

    SPEC = MessageSpec(
        type="llmops.costs.price_missing.v1",
        kind=Kind.EVENT,
        subject=subjects.COSTS_PRICE_MISSING,
        summary="An LLM call has no price yet; it waits to be re-priced when one is loaded.",
        producers=("costs",),
        consumers=("audit",),
    )

    call_id: str = Field(description="Event id of the LLM call.")
    provider: str = Field(description="Provider of the call.")
    model: str = Field(description="Model the price was looked up for.")
    reason: str = Field(
        description="unknown_model, ambiguous_model, not_priced_per_token, tier_not_priced, "
        "bucket_not_priced or timezone_unavailable."
    )
    detail: str = Field(description="What is missing, in one sentence.")
    price_table_version: str = Field(description="Version of the price table consulted.")
    usage: Usage = Field(description="Usage waiting to be priced.")
    estimated: bool = Field(default=False, description="True when the usage is an estimate.")
    actor: Actor = Field(default_factory=Actor, description="App, user and session of the call.")


class UsageMissing(Payload):
    """Event: an LLM call reported no usage (it is estimated when its content allows)."""

    SPEC = MessageSpec(
        type="llmops.costs.usage_missing.v1",
        kind=Kind.EVENT,
        subject=subjects.COSTS_USAGE_MISSING,
        summary="An LLM call reported no token usage.",
        producers=("costs",),
        consumers=("audit",),
    )

    call_id: str = Field(description="Event id of the LLM call.")
    provider: str = Field(description="Provider of the call.")
    model: str = Field(description="Model of the call.")
    estimated: bool = Field(
        description="True when usage was estimated with an offline tokenizer and the call priced "
        "from the estimate; false when nothing could be estimated (no content captured)."
    )
    tokenizer: str | None = Field(default=None, description="Encoding used for the estimate.")
    actor: Actor = Field(default_factory=Actor, description="App, user and session of the call.")


class AnomalyScope(StrEnum):
    """Whose spend an anomaly is about."""

    TENANT = "tenant"
    APP = "app"


class CostAnomaly(Payload):
    """Event: spend in a period is far above its rolling baseline."""

    SPEC = MessageSpec(
        type="llmops.costs.anomaly.v1",
        kind=Kind.EVENT,
        subject=subjects.COSTS_ANOMALY,
        summary="A spend spike against the rolling baseline of a tenant or app.",
        producers=("costs",),
        consumers=("audit",),
    )

    scope: AnomalyScope = Field(description="tenant or app.")
    scope_value: str = Field(description="The tenant or app id.")
    period_start: AwareDatetime = Field(description="Start of the period that spiked.")
    period_end: AwareDatetime = Field(description="End of the period that spiked.")
    spend: Decimal = Field(ge=0, description="Spend in the period, in USD.")
    baseline: Decimal = Field(ge=0, description="Baseline spend per period (median), in USD.")
    spread: Decimal = Field(ge=0, description="Baseline spread (scaled MAD), in USD.")
    score: float = Field(description="Robust z-score of the period's spend.")
    threshold: float = Field(description="Score at or above which spend is anomalous.")
    method: str = Field(description="Detector, e.g. 'median_mad'.")
    history: list[Decimal] = Field(
        default_factory=list, description="Spend of the baseline periods, oldest first."
    )


class PricesLoaded(Payload):
    """Event: prices were loaded without a restart; every replica reloads them."""

    SPEC = MessageSpec(
        type="llmops.costs.prices_loaded.v1",
        kind=Kind.EVENT,
        subject=subjects.COSTS_PRICES_LOADED,
        summary="A price table or tenant price overrides were loaded.",
        producers=("costs",),
        consumers=("costs", "audit"),
    )

    price_table_version: str = Field(description="Version of the default price table now in use.")
    models: int = Field(ge=0, description="Models in the default table.")
    overrides: int = Field(ge=0, description="Tenant overrides loaded by this request.")
    repriced: int = Field(ge=0, description="Waiting calls priced thanks to the new prices.")


class PricesLoad(Payload):
    """Request: load a price table and/or the tenant's own prices (``llmops costs prices load``)."""

    SPEC = MessageSpec(
        type="llmops.costs.prices_load.v1",
        kind=Kind.REQUEST,
        subject=subjects.COSTS_PRICES,
        summary="Load prices without a restart; calls waiting for a price are re-priced.",
        producers=("cli",),
        consumers=("costs",),
        reply="llmops.costs.prices_loaded.v1",
    )

    table: PriceDocument | None = Field(
        default=None,
        description="A whole price table in the snapshot format (format, version, models): "
        "replaces the default table for every tenant (grant this subject to operators only).",
    )
    overrides: list[PriceOverrideSpec] = Field(
        default_factory=list,
        description="The tenant's custom or negotiated prices: objects with provider, model, "
        "effective_from, optional effective_until and version, and prices in the model format.",
    )


ReportDimension = Literal["app", "user", "model", "provider", "prompt", "prompt_version"]


class CostReportQuery(Payload):
    """Request: a tenant's spend and tokens grouped by dimensions, per hour or day."""

    SPEC = MessageSpec(
        type="llmops.costs.report_query.v1",
        kind=Kind.REQUEST,
        subject=subjects.COSTS_REPORT,
        summary="Aggregate a tenant's spend and tokens over a time range.",
        producers=("application", "cli"),
        consumers=("costs",),
        reply="llmops.costs.report.v1",
    )

    since: AwareDatetime = Field(description="Calls at or after this instant.")
    until: AwareDatetime | None = Field(default=None, description="Calls before this instant.")
    by: list[ReportDimension] = Field(
        default_factory=list, description="Group by these dimensions, in this order."
    )
    granularity: Literal["hour", "day", "total"] = Field(
        default="day", description="One row per hour, per day, or one for the whole range."
    )
    app: str | None = Field(default=None, description="Only this application.")
    user: str | None = Field(default=None, description="Only this end user.")
    model: str | None = Field(default=None, description="Only this model.")
    provider: str | None = Field(default=None, description="Only this provider.")


class CostReportRow(Part):
    """Spend and tokens of one group in one period."""

    period_start: AwareDatetime | None = Field(
        description="Start of the hour or day (null for granularity 'total')."
    )
    group: dict[str, str | None] = Field(description="The value of each 'by' dimension.")
    calls: int = Field(ge=0, description="Calls.")
    priced_calls: int = Field(ge=0, description="Calls with a computed cost.")
    estimated_calls: int = Field(ge=0, description="Calls priced from estimated usage.")
    price_missing_calls: int = Field(ge=0, description="Calls still waiting for a price.")
    usage_missing_calls: int = Field(ge=0, description="Calls without usage or estimate.")
    input_tokens: int = Field(ge=0, description="Input tokens, cached included.")
    output_tokens: int = Field(ge=0, description="Output tokens, reasoning included.")
    cache_read_input_tokens: int = Field(ge=0, description="Cached input tokens read.")
    cache_creation_input_tokens: int = Field(ge=0, description="Input tokens written to cache.")
    reasoning_tokens: int = Field(ge=0, description="Reasoning tokens.")
    cost: Decimal = Field(ge=0, description="Computed cost in USD.")
    provided_cost: Decimal = Field(
        ge=0, description="Sum of the costs callers reported (where they did), in USD."
    )


class CostReport(Payload):
    """Reply: the rows of a cost report, oldest period first."""

    SPEC = MessageSpec(
        type="llmops.costs.report.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="A tenant's aggregated spend and tokens.",
        producers=("costs",),
    )

    since: AwareDatetime = Field(description="Start of the range.")
    until: AwareDatetime = Field(description="End of the range (exclusive).")
    by: list[ReportDimension] = Field(default_factory=list, description="Grouping dimensions.")
    granularity: Literal["hour", "day", "total"] = Field(description="Period of each row.")
    currency: str = Field(default="USD", description="ISO 4217 currency code.")
    rows: list[CostReportRow] = Field(default_factory=list, description="Oldest period first.")
    total: CostReportRow = Field(description="All rows summed (left-out rows included).")
    rows_left_out: int = Field(
        default=0,
        ge=0,
        description="Newest rows left out so the reply fits one NATS message (the total still "
        "counts them): narrow the range, or group by fewer dimensions or a coarser period.",
    )


class BudgetScope(StrEnum):
    """What a budget limits."""

    TENANT = "tenant"
    APP = "app"
    USER = "user"
    MODEL = "model"


class BudgetWindow(StrEnum):
    """The period a budget counts spend over (UTC calendar days and months)."""

    DAY = "day"
    MONTH = "month"
    CUSTOM = "custom"


class Budget(Part):
    """A spend limit on a scope over a window, with soft thresholds and an optional hard stop."""

    id: str = Field(min_length=1, max_length=64, description="Budget id, unique per tenant.")
    scope: BudgetScope = Field(description="tenant, app, user or model.")
    scope_value: str | None = Field(
        default=None,
        max_length=200,
        description="The app, user or model the budget limits (null for tenant scope).",
    )
    window: BudgetWindow = Field(default=BudgetWindow.MONTH, description="day, month or custom.")
    starts_at: AwareDatetime | None = Field(default=None, description="Custom window start.")
    ends_at: AwareDatetime | None = Field(default=None, description="Custom window end.")
    limit: Money = Field(gt=0, description="Limit in USD.")
    thresholds_pct: list[float] = Field(
        default_factory=lambda: [50.0, 80.0, 100.0],
        description="Soft thresholds in percent of the limit; each fires once per window.",
    )
    hard: bool = Field(default=False, description="Deny calls (budget_check) that would reach it.")

    @model_validator(mode="after")
    def _window_and_scope(self) -> Self:
        custom = self.window == BudgetWindow.CUSTOM
        if custom != (self.starts_at is not None and self.ends_at is not None):
            raise ValueError("a custom window needs starts_at and ends_at; other windows take none")
        if custom and self.ends_at <= self.starts_at:  # type: ignore[operator]
            raise ValueError("ends_at must follow starts_at")
        if (self.scope == BudgetScope.TENANT) != (self.scope_value is None):
            raise ValueError("scope_value names the app, user or model; tenant scope takes none")
        if any(not 0 < t <= 1000 for t in self.thresholds_pct):
            raise ValueError("thresholds_pct must lie in (0, 1000]")
        return self


class BudgetStatus(Part):
    """A budget and its spend in the current window."""

    budget: Budget = Field(description="The budget.")
    window_start: AwareDatetime = Field(description="Start of the current window.")
    window_end: AwareDatetime = Field(description="End of the current window.")
    spent: Decimal = Field(ge=0, description="Spend in the window, in USD.")
    remaining: Decimal = Field(description="limit - spent (negative once overshot).")


class BudgetsRequest(Payload):
    """Request: set, delete or list a tenant's budgets (``llmops costs budget ...``)."""

    SPEC = MessageSpec(
        type="llmops.costs.budgets_request.v1",
        kind=Kind.REQUEST,
        subject=subjects.COSTS_BUDGETS,
        summary="Manage a tenant's budgets; the reply lists them with their spend.",
        producers=("cli", "application"),
        consumers=("costs",),
        reply="llmops.costs.budgets.v1",
    )

    action: Literal["set", "delete", "list"] = Field(description="What to do.")
    budget: Budget | None = Field(default=None, description="The budget to set.")
    budget_id: str | None = Field(default=None, description="The budget to delete.")


class Budgets(Payload):
    """Reply: the tenant's budgets with their current spend."""

    SPEC = MessageSpec(
        type="llmops.costs.budgets.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="A tenant's budgets and their spend in the current window.",
        producers=("costs",),
    )

    budgets: list[BudgetStatus] = Field(default_factory=list, description="By id.")


class BudgetCheck(Payload):
    """Request: may this call go ahead? Answered allow/deny against the hard budgets."""

    SPEC = MessageSpec(
        type="llmops.costs.budget_check.v1",
        kind=Kind.REQUEST,
        subject=subjects.COSTS_BUDGET_CHECK,
        summary="Ask before spending: allow or deny an estimated call against hard budgets.",
        producers=("application", "gateway"),
        consumers=("costs",),
        reply="llmops.costs.budget_decision.v1",
    )

    provider: str | None = Field(default=None, description="Provider of the planned call.")
    model: str | None = Field(default=None, description="Model of the planned call.")
    app: str | None = Field(default=None, description="Application making the call.")
    user: str | None = Field(default=None, description="End user of the call.")
    estimated_cost: Money | None = Field(
        default=None, ge=0, description="Expected cost in USD; computed from usage when absent."
    )
    usage: Usage | None = Field(
        default=None, description="Expected usage, priced with the model's price when given."
    )
    service_tier: str | None = Field(
        default=None,
        max_length=64,
        description="Provider service tier the usage is priced at ('batch', 'priority', "
        "'flex'...); the standard prices when absent.",
    )


#: Where a budget decision's estimated cost comes from (see ``BudgetDecision.estimated_from``).
EstimateSource = Literal["estimated_cost", "usage", "price_missing", "nothing"]


class BudgetDecision(Payload):
    """Reply: allow or deny, and the budgets that decided it."""

    SPEC = MessageSpec(
        type="llmops.costs.budget_decision.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="Whether a planned call fits the hard budgets that apply to it.",
        producers=("costs",),
    )

    allow: bool = Field(description="False when a hard budget would be reached.")
    estimated_cost: Decimal = Field(ge=0, description="The cost the decision assumed, in USD.")
    estimated_from: EstimateSource | None = Field(
        default=None,
        description="Where estimated_cost comes from: 'estimated_cost' (the request's), 'usage' "
        "(priced), 'price_missing' (the usage's model has no price: $0 assumed) or 'nothing' "
        "(neither given: $0 assumed). None from services older than this field.",
    )
    reason: str | None = Field(default=None, description="Why the call is denied.")
    budgets: list[BudgetStatus] = Field(
        default_factory=list, description="Every budget that applies to the call."
    )


class BudgetAlert(Payload):
    """Fields shared by budget alerts."""

    budget_id: str = Field(description="Budget id.")
    scope: BudgetScope = Field(description="What the budget limits.")
    scope_value: str = Field(description="The app, user or model id (the tenant for tenant scope).")
    window_start: AwareDatetime = Field(description="Start of the budget window.")
    window_end: AwareDatetime = Field(description="End of the budget window.")
    limit: Decimal = Field(ge=0, description="Budget limit in USD.")
    spent: Decimal = Field(ge=0, description="Spend in the window when the alert fired, in USD.")


class BudgetThresholdCrossed(BudgetAlert):
    """Event: spend crossed a soft threshold of a budget (once per threshold and window)."""

    SPEC = MessageSpec(
        type="llmops.costs.budget_threshold_crossed.v1",
        kind=Kind.EVENT,
        subject=subjects.COSTS_BUDGET_THRESHOLD_CROSSED,
        summary="A budget's soft threshold was crossed.",
        producers=("costs",),
        consumers=("audit",),
    )

    threshold_pct: float = Field(gt=0, description="Threshold crossed, in percent of the limit.")


class BudgetExceeded(BudgetAlert):
    """Event: spend reached the hard limit of a budget."""

    SPEC = MessageSpec(
        type="llmops.costs.budget_exceeded.v1",
        kind=Kind.EVENT,
        subject=subjects.COSTS_BUDGET_EXCEEDED,
        summary="A budget's hard limit was reached; further calls are denied.",
        producers=("costs",),
        consumers=("audit",),
    )


__all__ = [
    "AnomalyScope",
    "Budget",
    "BudgetAlert",
    "BudgetCheck",
    "BudgetDecision",
    "BudgetExceeded",
    "BudgetScope",
    "BudgetStatus",
    "BudgetThresholdCrossed",
    "BudgetWindow",
    "Budgets",
    "BudgetsRequest",
    "CostAnomaly",
    "CostRecorded",
    "CostReport",
    "CostReportQuery",
    "CostReportRow",
    "PriceMissing",
    "PricesLoad",
    "PricesLoaded",
    "ReportDimension",
    "UsageMissing",
]
