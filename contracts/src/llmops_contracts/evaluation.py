"""Evaluation: golden-set runs, scores, release gates and human review."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from llmops_contracts import subjects
from llmops_contracts.common import Metadata, PromptRef
from llmops_contracts.envelope import Kind, MessageSpec, Payload


class RunEval(Payload):
    """Command: run a golden set against a target (the 'eval run requested' message)."""

    SPEC = MessageSpec(
        type="llmops.evaluation.run_eval.v1",
        kind=Kind.COMMAND,
        subject=subjects.EVALUATION_RUN_EVAL,
        summary="Run a golden set against a target and decide the release gate.",
        producers=("application", "ci"),
        consumers=("evaluation",),
    )

    run_id: str = Field(min_length=1, max_length=128, description="Caller-chosen run id.")
    golden_set: str = Field(min_length=1, description="Golden set name.")
    golden_set_version: str | None = Field(default=None, description="Version; latest if absent.")
    target_model: str | None = Field(default=None, description="Model under test.")
    prompt: PromptRef | None = Field(default=None, description="Prompt version under test.")
    scorers: list[str] = Field(
        default_factory=list, description="Scorers to run; the set's default if empty."
    )
    gate: dict[str, float] = Field(
        default_factory=dict, description="Minimum mean score per scorer for the gate to pass."
    )
    metadata: Metadata = Field(default_factory=dict)


class CaseScored(Payload):
    """Event: one golden-set case was scored."""

    SPEC = MessageSpec(
        type="llmops.evaluation.case_scored.v1",
        kind=Kind.EVENT,
        subject=subjects.EVALUATION_CASE_SCORED,
        summary="One case of an eval run was scored.",
        producers=("evaluation",),
        consumers=("audit",),
    )

    run_id: str = Field(description="Eval run id.")
    case_id: str = Field(description="Golden-set case id.")
    scores: dict[str, float] = Field(description="Score per scorer, 0..1.")
    passed: bool = Field(description="Whether the case met every scorer's threshold.")


class GateDecision(StrEnum):
    """Release-gate outcome."""

    PASSED = "passed"
    FAILED = "failed"
    NO_GATE = "no_gate"


class RunCompleted(Payload):
    """Event: an eval run finished and the gate was decided."""

    SPEC = MessageSpec(
        type="llmops.evaluation.run_completed.v1",
        kind=Kind.EVENT,
        subject=subjects.EVALUATION_RUN_COMPLETED,
        summary="An eval run finished with its gate decision.",
        producers=("evaluation",),
        consumers=("audit",),
    )

    run_id: str = Field(description="Eval run id.")
    cases: int = Field(ge=0, description="Cases run.")
    passed: int = Field(ge=0, description="Cases passed.")
    mean_scores: dict[str, float] = Field(
        default_factory=dict, description="Mean score per scorer."
    )
    gate: GateDecision = Field(description="Release-gate decision.")
    reason: str | None = Field(
        default=None, description="Why the run could not be scored (missing golden set, ...)."
    )


class ReviewRequested(Payload):
    """Event: an item needs a human reviewer."""

    SPEC = MessageSpec(
        type="llmops.evaluation.review_requested.v1",
        kind=Kind.EVENT,
        subject=subjects.EVALUATION_REVIEW_REQUESTED,
        summary="An item was queued for human review.",
        producers=("evaluation", "guardrails"),
        consumers=("evaluation", "audit"),
    )

    review_id: str = Field(description="Review id.")
    item_event_id: str = Field(description="Event id of the item to review.")
    queue: str = Field(default="default", description="Review queue.")
    reason: str = Field(description="Why a human must look.")


class ReviewCompleted(Payload):
    """Event: a human reviewer decided."""

    SPEC = MessageSpec(
        type="llmops.evaluation.review_completed.v1",
        kind=Kind.EVENT,
        subject=subjects.EVALUATION_REVIEW_COMPLETED,
        summary="A human review was completed.",
        producers=("evaluation",),
        consumers=("audit",),
    )

    review_id: str = Field(description="Review id.")
    reviewer: str = Field(description="Reviewer id.")
    decision: str = Field(description="'approve', 'reject' or a queue-specific label.")
    score: float | None = Field(default=None, ge=0, le=1, description="Optional score, 0..1.")
    comment: str | None = Field(default=None, description="Free text.")
