"""Costs: priced calls and budget alerts. Money is USD as a decimal (a JSON string or number)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, Field

from llmops_contracts import subjects
from llmops_contracts.common import Actor, PromptRef
from llmops_contracts.envelope import Kind, MessageSpec, Payload
from llmops_contracts.llm import Usage


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


class BudgetScope(StrEnum):
    """What a budget limits."""

    TENANT = "tenant"
    APP = "app"
    USER = "user"
    MODEL = "model"


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
    "BudgetAlert",
    "BudgetExceeded",
    "BudgetScope",
    "BudgetThresholdCrossed",
    "CostRecorded",
]
