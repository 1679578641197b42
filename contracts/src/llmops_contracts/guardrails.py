"""Guardrails: policy checks on inputs, outputs, retrieved context and tool calls."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from llmops_contracts import subjects
from llmops_contracts.common import Actor, Metadata, Part, Sha256Hex
from llmops_contracts.envelope import Kind, MessageSpec, Payload


class Stage(StrEnum):
    """Where in the LLM interaction the content is checked."""

    INPUT = "input"
    OUTPUT = "output"
    RETRIEVED_CONTEXT = "retrieved_context"
    TOOL_CALL = "tool_call"


class Outcome(StrEnum):
    """What the application should do with the content."""

    ALLOW = "allow"
    REDACT = "redact"
    BLOCK = "block"
    REVIEW = "review"


class GuardrailCheckRequest(Payload):
    """Request: check content against the tenant's policy for a stage."""

    SPEC = MessageSpec(
        type="llmops.guardrails.check.v1",
        kind=Kind.REQUEST,
        subject=subjects.GUARDRAILS_CHECK,
        summary="Check content against a guardrail policy; the reply is a verdict.",
        producers=("application",),
        consumers=("guardrails",),
        reply="llmops.guardrails.verdict.v1",
    )

    stage: Stage = Field(description="Which stage the content belongs to.")
    content: str = Field(max_length=1_000_000, description="The text to check.")
    policy: str = Field(default="default", description="Policy name.")
    policy_version: str | None = Field(
        default=None, description="Pin a policy version; latest if absent."
    )
    actor: Actor = Field(default_factory=Actor, description="Who the content belongs to.")
    metadata: Metadata = Field(default_factory=dict)


class Finding(Part):
    """One detector's finding."""

    detector: str = Field(description="Detector or validator name.")
    severity: str = Field(description="'low', 'medium', 'high' or 'critical'.")
    message: str = Field(description="What was found.")
    start: int | None = Field(default=None, ge=0, description="Start offset of the span, if any.")
    end: int | None = Field(default=None, ge=0, description="End offset of the span, if any.")


class GuardrailVerdict(Payload):
    """Reply: the verdict for a guardrail check."""

    SPEC = MessageSpec(
        type="llmops.guardrails.verdict.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="Verdict of a guardrail check.",
        producers=("guardrails",),
    )

    outcome: Outcome = Field(description="Allow, redact, block or send to review.")
    policy: str = Field(description="Policy applied.")
    policy_version: str = Field(description="Policy version applied.")
    findings: list[Finding] = Field(default_factory=list, description="Everything detected.")
    redacted_content: str | None = Field(default=None, description="Content with spans redacted.")
    took_ms: float = Field(ge=0, description="Server-side time to decide.")


class VerdictRecorded(Payload):
    """Event: a guardrail verdict was issued (content itself is not repeated, only its hash)."""

    SPEC = MessageSpec(
        type="llmops.guardrails.verdict_recorded.v1",
        kind=Kind.EVENT,
        subject=subjects.GUARDRAILS_VERDICT_RECORDED,
        summary="A guardrail verdict, for audit and review.",
        producers=("guardrails",),
        consumers=("evaluation", "audit"),
    )

    check_id: str = Field(description="Id of the check request message.")
    stage: Stage = Field(description="Stage checked.")
    outcome: Outcome = Field(description="The verdict.")
    policy: str = Field(description="Policy applied.")
    policy_version: str = Field(description="Policy version applied.")
    findings: list[Finding] = Field(default_factory=list, description="Everything detected.")
    content_sha256: Sha256Hex
    actor: Actor = Field(default_factory=Actor, description="Who the content belongs to.")
