"""Guardrails: policy checks on inputs, outputs, retrieved context and tool calls."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from llmops_contracts import subjects
from llmops_contracts.common import Actor, JsonObject, Metadata, Part, Sha256Hex
from llmops_contracts.envelope import Kind, MessageSpec, Payload

#: A policy id or version as policies name them: letters, digits, ``_``, ``-`` (and ``.`` in a
#: version), starting with a letter or digit.
POLICY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
POLICY_VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


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


class Action(StrEnum):
    """What a policy rule does when its detector finds something at or above its threshold."""

    BLOCK = "block"
    REDACT = "redact"
    FLAG = "flag"
    ESCALATE = "escalate"


class ToolCallCheck(Part):
    """A tool call an agent is about to make, checked before it runs."""

    name: str = Field(min_length=1, max_length=256, description="Tool (function) name.")
    arguments: JsonObject = Field(default_factory=dict, description="Arguments as JSON.")
    agent: str | None = Field(
        default=None,
        max_length=200,
        description="The agent making the call, if the app has several.",
    )


class GuardrailCheckRequest(Payload):
    """Request: check content, or a tool call, against the tenant's policy for a stage.

    A text check sends ``content`` (with ``context`` and ``system_prompt`` for the detectors that
    compare against them); a tool-call check sends stage ``tool_call`` and ``tool``, and the
    application as ``actor.app``.
    """

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
    content: str = Field(
        default="", max_length=1_000_000, description="The text to check (empty for a tool call)."
    )
    policy: str = Field(default="default", description="Policy name.")
    policy_version: str | None = Field(
        default=None, description="Pin a policy version; latest if absent."
    )
    actor: Actor = Field(default_factory=Actor, description="Who the content belongs to.")
    metadata: Metadata = Field(default_factory=dict)
    context: list[str] = Field(
        default_factory=list,
        max_length=256,
        description="Retrieved passages the content is judged against (groundedness); not checked themselves.",
    )
    system_prompt: str | None = Field(
        default=None,
        max_length=200_000,
        description="The application's system prompt, for leakage checks of an output; never recorded.",
    )
    tool: ToolCallCheck | None = Field(
        default=None, description="The tool call to check (stage 'tool_call' only)."
    )
    reversible: bool = Field(
        default=False,
        description="Make redaction reversible: the verdict carries a sealed 'vault' token that "
        "a later check (the model's output) sends back to have the placeholders restored.",
    )
    vault: str | None = Field(
        default=None,
        max_length=200_000,
        description="A vault token from an earlier verdict of this tenant: the verdict's "
        "'restored_content' is this content with that verdict's placeholders restored.",
    )

    @model_validator(mode="after")
    def _tool_only_at_tool_stage(self) -> Self:
        if self.tool is not None and self.stage != Stage.TOOL_CALL:
            raise ValueError("tool: only a 'tool_call' check carries a tool call")
        return self


class Finding(Part):
    """One detector's finding."""

    detector: str = Field(description="Detector or validator name.")
    severity: str = Field(description="'low', 'medium', 'high' or 'critical'.")
    message: str = Field(description="What was found.")
    start: int | None = Field(default=None, ge=0, description="Start offset of the span, if any.")
    end: int | None = Field(default=None, ge=0, description="End offset of the span, if any.")
    kind: str | None = Field(
        default=None, description="What was found ('email', 'instruction_override' ...)."
    )
    score: float | None = Field(
        default=None, ge=0, le=1, description="The detector's confidence, 0..1."
    )
    detector_version: str | None = Field(
        default=None, description="Version of the detector that found it."
    )
    action: Action | None = Field(
        default=None, description="What the policy did about it: block, redact, flag or escalate."
    )


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
    vault: str | None = Field(
        default=None,
        description="Sealed token of the placeholders and the values they hide (a 'reversible' "
        "check that redacted): only the guardrails service can open it, for this tenant, until "
        "it expires. Keep it with the conversation; send it with the output's check.",
    )
    restored_content: str | None = Field(
        default=None,
        description="With a 'vault' in the request: the content (redacted where this policy "
        "redacts) with the vault's placeholders replaced by the caller's original values.",
    )
    took_ms: float = Field(ge=0, description="Server-side time to decide.")


class StreamPosition(Part):
    """Where a checked chunk sits in a streamed output."""

    session_id: str = Field(description="The stream's session id, chosen by the application.")
    seq: int = Field(ge=0, description="The chunk's number in the session, from 0.")
    offset: int = Field(ge=0, description="Characters of the stream before this chunk.")


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
    took_ms: float | None = Field(default=None, ge=0, description="Server-side time to decide.")
    tool_name: str | None = Field(
        default=None, description="The tool of a tool-call check (arguments only in the hash)."
    )
    stream: StreamPosition | None = Field(
        default=None, description="For a chunk of a streamed output: where it sits in the stream."
    )


class ShadowVerdictRecorded(Payload):
    """Event: what a shadow (candidate) policy version would have decided about a check.

    Recorded beside the enforced verdict, so a policy change is backtested on real traffic before
    it is enforced (``llmops guard policy diff``). Content only as a hash, like every verdict.
    """

    SPEC = MessageSpec(
        type="llmops.guardrails.shadow_verdict.v1",
        kind=Kind.EVENT,
        subject=subjects.GUARDRAILS_SHADOW_VERDICT,
        summary="A shadow policy's would-have verdict beside the enforced one.",
        producers=("guardrails",),
        consumers=("audit",),
    )

    check_id: str = Field(description="Id of the check request message.")
    stage: Stage = Field(description="Stage checked.")
    policy: str = Field(description="Policy checked.")
    enforced_version: str = Field(description="The version that decided.")
    enforced_outcome: Outcome = Field(description="What the enforced version decided.")
    shadow_version: str = Field(description="The candidate version run in shadow.")
    shadow_outcome: Outcome = Field(description="What the shadow version would have decided.")
    agreed: bool = Field(description="Whether the two outcomes are the same.")
    findings: list[Finding] = Field(
        default_factory=list, description="The shadow version's findings."
    )
    content_sha256: Sha256Hex


class PolicyAction(StrEnum):
    """What a policy request asks of the guardrails service."""

    PUSH = "push"
    LIST = "list"
    SHOW = "show"
    ROLLBACK = "rollback"
    SHADOW = "shadow"


class GuardrailPolicyRequest(Payload):
    """Request: manage the tenant's guardrail policies (push, list, show, rollback, shadow).

    A pushed document is validated by the service; an invalid one is refused with the reason
    (an ``invalid`` error reply) and the version in force stays.
    """

    SPEC = MessageSpec(
        type="llmops.guardrails.policy.v1",
        kind=Kind.REQUEST,
        subject=subjects.GUARDRAILS_POLICY,
        summary="Push, list, show, roll back or shadow a tenant's guardrail policy.",
        producers=("cli",),
        consumers=("guardrails",),
        reply="llmops.guardrails.policy_result.v1",
    )

    action: PolicyAction = Field(description="What to do.")
    policy: str | None = Field(
        default=None,
        pattern=POLICY_ID_PATTERN,
        description="Policy id (show, rollback, shadow; list: only this one).",
    )
    version: str | None = Field(
        default=None,
        pattern=POLICY_VERSION_PATTERN,
        description="show: this version; rollback: the version to enforce; shadow: the "
        "version to run in shadow (absent: stop shadowing).",
    )
    document: str | None = Field(
        default=None, max_length=256_000, description="push: the policy as YAML."
    )
    shadow: bool = Field(
        default=False, description="push: run the new version in shadow instead of enforcing it."
    )


class PolicyState(Part):
    """One policy of a tenant: its versions and which is enforced and shadowed."""

    id: str = Field(description="Policy id.")
    enforced: str | None = Field(default=None, description="The version in force.")
    shadow: str | None = Field(default=None, description="The version running in shadow.")
    versions: list[str] = Field(default_factory=list, description="Every stored version.")
    builtin: bool = Field(
        default=False, description="The service's built-in policy (nothing pushed under its id)."
    )


class GuardrailPolicyResult(Payload):
    """Reply: the result of a policy request."""

    SPEC = MessageSpec(
        type="llmops.guardrails.policy_result.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="Result of a guardrail policy request.",
        producers=("guardrails",),
    )

    policies: list[PolicyState] = Field(
        default_factory=list, description="The policies concerned, after the request."
    )
    version: str | None = Field(default=None, description="The version pushed or shown.")
    document: str | None = Field(default=None, description="show: the policy as YAML.")
    changed: bool = Field(
        default=False,
        description="Whether the request changed anything (a repeated push does not).",
    )
    message: str = Field(default="", description="One line saying what happened.")


class PolicyChanged(Payload):
    """Event: a tenant's enforced or shadow policy version changed."""

    SPEC = MessageSpec(
        type="llmops.guardrails.policy_changed.v1",
        kind=Kind.EVENT,
        subject=subjects.GUARDRAILS_POLICY_CHANGED,
        summary="A guardrail policy version was pushed, rolled back or shadowed.",
        producers=("guardrails",),
        consumers=("audit",),
    )

    policy: str = Field(description="Policy id.")
    action: PolicyAction = Field(description="push, rollback or shadow.")
    slot: str = Field(description="'enforced' or 'shadow': which pointer moved.")
    version: str | None = Field(description="The version now in the slot (None: emptied).")
    previous: str | None = Field(default=None, description="The version it replaced.")
    document_sha256: Sha256Hex | None = Field(
        default=None, description="SHA-256 of the version's YAML document."
    )


class StreamDecision(StrEnum):
    """Whether a streamed output may go on."""

    CONTINUE = "continue"
    STOP = "stop"


class GuardrailStreamChunk(Payload):
    """Request: check the next chunk of a streamed output before it is shown.

    Stateless on the service: the caller sends back the ``carry`` of the previous reply (the
    tail of what came before), so a span straddling two chunks is seen whole and any replica can
    answer any chunk. See docs/guardrails.md.
    """

    SPEC = MessageSpec(
        type="llmops.guardrails.stream_chunk.v1",
        kind=Kind.REQUEST,
        subject=subjects.GUARDRAILS_STREAM,
        summary="Check the next chunk of a streamed output; the reply says continue or stop.",
        producers=("application",),
        consumers=("guardrails",),
        reply="llmops.guardrails.stream_verdict.v1",
    )

    session_id: str = Field(
        min_length=1, max_length=128, description="The stream's id, the same for every chunk."
    )
    seq: int = Field(ge=0, description="The chunk's number, from 0.")
    offset: int = Field(ge=0, description="Characters streamed before this chunk.")
    chunk: str = Field(max_length=1_000_000, description="The new text.")
    carry: str = Field(
        default="",
        max_length=65_536,
        description="The previous reply's carry (empty for the first chunk).",
    )
    final: bool = Field(default=False, description="The last chunk of the stream.")
    stage: Stage = Field(default=Stage.OUTPUT, description="Stage of the streamed text.")
    policy: str = Field(default="default", description="Policy name.")
    policy_version: str | None = Field(
        default=None, description="Pin a version (send the first reply's, so a stream keeps one)."
    )
    system_prompt: str | None = Field(
        default=None, max_length=200_000, description="For leakage checks; never recorded."
    )
    actor: Actor = Field(default_factory=Actor, description="Who the stream belongs to.")

    @model_validator(mode="after")
    def _text_stage(self) -> Self:
        if self.stage == Stage.TOOL_CALL:
            raise ValueError("stage: a stream is text (input, output or retrieved_context)")
        if len(self.carry) > self.offset:
            raise ValueError("carry: longer than the text streamed before (offset)")
        return self


class GuardrailStreamVerdict(Payload):
    """Reply: continue or stop a streamed output, with what the chunk added."""

    SPEC = MessageSpec(
        type="llmops.guardrails.stream_verdict.v1",
        kind=Kind.REPLY,
        subject=None,
        summary="Verdict on one chunk of a streamed output.",
        producers=("guardrails",),
    )

    session_id: str = Field(description="The stream's id.")
    seq: int = Field(ge=0, description="The chunk answered.")
    decision: StreamDecision = Field(description="continue, or stop now.")
    outcome: Outcome = Field(description="The verdict on what this chunk added (its new findings).")
    findings: list[Finding] = Field(
        default_factory=list,
        description="New findings; offsets are in the whole stream (a span may start before the chunk).",
    )
    carry: str = Field(description="Send this back with the next chunk.")
    policy: str = Field(description="Policy applied.")
    policy_version: str = Field(description="Policy version applied (pin it for the next chunks).")
    took_ms: float = Field(ge=0, description="Server-side time to decide.")
