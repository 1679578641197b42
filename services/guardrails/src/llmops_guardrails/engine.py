"""A policy compiled for use, and what it decides about a text or a tool call. Pure: no I/O.

Each rule of a stage runs its detector (once per text, however many rules name it), keeps the
hits of the kinds it wants at or above its threshold, and applies its action. The outcome is the
strongest action taken: block > escalate (outcome ``review``) > redact > flag (outcome
``allow``, the findings say what was flagged). A blocked text gets no redacted copy: it must not
be used at all.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmops_contracts.guardrails import Action, Finding, Outcome, Stage
from llmops_guardrails import catalog
from llmops_guardrails.detectors import redaction
from llmops_guardrails.detectors.base import Detector, Hit
from llmops_guardrails.policies import PolicyDocument, PolicyError, parse_policy
from llmops_guardrails.toolpolicy import RateWindows, ToolCall, ToolDecision, ToolGate
from llmops_shared.clock import SYSTEM_CLOCK, Clock

#: The version findings of the tool gate carry (``toolpolicy`` has no version of its own).
TOOLPOLICY_VERSION = "toolpolicy-1"

#: Threshold of a rule that names none, for a detector that has no calibrated one of its own.
DEFAULT_THRESHOLD = 0.5
_RANK = {Action.FLAG: 1, Action.REDACT: 2, Action.ESCALATE: 3, Action.BLOCK: 4}
_OUTCOME = {
    Action.BLOCK: Outcome.BLOCK,
    Action.ESCALATE: Outcome.REVIEW,
    Action.REDACT: Outcome.REDACT,
    Action.FLAG: Outcome.ALLOW,
}
_SEVERITY = {
    Action.BLOCK: "high",
    Action.ESCALATE: "high",
    Action.REDACT: "medium",
    Action.FLAG: "low",
}
#: Hits of each detector for one text, computed once per decision.
_Hits = dict[int, list[Hit]]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule with its detector built."""

    detector: Detector
    action: Action
    threshold: float | None
    kinds: frozenset[str] | None

    def floor(self) -> float:
        """The least score that counts: the rule's threshold, else the detector's own."""
        if self.threshold is not None:
            return self.threshold
        return float(getattr(self.detector, "threshold", DEFAULT_THRESHOLD))


@dataclass(frozen=True)
class Decision:
    """What a policy decided about one text or tool call."""

    outcome: Outcome
    findings: list[Finding] = field(default_factory=list)
    redacted_content: str | None = None
    #: The hits replaced in ``redacted_content`` (a reversible check renumbers them in a vault).
    hidden: tuple[Hit, ...] = ()

    @property
    def stops(self) -> bool:
        """Whether the content must not go on as is (blocked, or held for review)."""
        return self.outcome in (Outcome.BLOCK, Outcome.REVIEW)


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy document with its detectors and tool gate built, ready to decide."""

    id: str
    version: str
    document: str
    stages: Mapping[str, tuple[CompiledRule, ...]]
    tools: ToolGate
    stream_window: int
    #: Whether a detector is asynchronous (a guardrails-ai validator): use :meth:`adecide`.
    is_async: bool = False
    document_sha256: str = ""

    def decide(
        self,
        stage: Stage | str,
        content: str,
        *,
        context: Sequence[str] = (),
        system_prompt: str | None = None,
    ) -> Decision:
        """Apply the stage's rules to ``content``."""
        rules = self.stages.get(Stage(stage).value, ())
        hits: _Hits = {}
        for rule in rules:
            key = id(rule.detector)
            if key not in hits:
                hits[key] = _detect(rule.detector, content, context, system_prompt)
        return _decision(rules, hits, content)

    async def adecide(
        self,
        stage: Stage | str,
        content: str,
        *,
        context: Sequence[str] = (),
        system_prompt: str | None = None,
    ) -> Decision:
        """:meth:`decide`, awaiting the asynchronous detectors."""
        rules = self.stages.get(Stage(stage).value, ())
        hits: _Hits = {}
        for rule in rules:
            key = id(rule.detector)
            if key not in hits:
                found = _detect(rule.detector, content, context, system_prompt)
                hits[key] = await found if inspect.isawaitable(found) else found
        return _decision(rules, hits, content)

    def decide_tool(
        self,
        name: str,
        arguments: Mapping[str, Any],
        *,
        tenant: str,
        app: str | None = None,
        agent: str | None = None,
    ) -> Decision:
        """The tool gate (an allowed call spends its rate, in this policy's memory), then the
        ``tool_call`` rules on the call's JSON (:func:`tool_call_content`)."""
        call = ToolCall(tenant, app or "", agent or "", name, dict(arguments))
        return self._tool_decision(name, arguments, self.tools.check(call))

    async def adecide_tool(
        self,
        name: str,
        arguments: Mapping[str, Any],
        *,
        tenant: str,
        app: str | None = None,
        agent: str | None = None,
        windows: RateWindows | None = None,
    ) -> Decision:
        """:meth:`decide_tool` with the rate windows behind ``windows`` (the bucket every
        replica shares; None: this policy's memory)."""
        call = ToolCall(tenant, app or "", agent or "", name, dict(arguments))
        return self._tool_decision(name, arguments, await self.tools.acheck(call, windows))

    def _tool_decision(
        self, name: str, arguments: Mapping[str, Any], gate: ToolDecision
    ) -> Decision:
        refused = [
            Finding(
                detector="toolpolicy",
                kind=reason.split(":", 1)[0],
                severity="high",
                message=_refusal(name, reason, gate.retry_after_s),
                score=1.0,
                detector_version=TOOLPOLICY_VERSION,
                action=Action.BLOCK,
            )
            for reason in gate.reasons
        ]
        text = self.decide(Stage.TOOL_CALL, tool_call_content(name, arguments))
        if refused:
            return Decision(Outcome.BLOCK, refused + text.findings, None)
        return text


def tool_call_content(name: str, arguments: Mapping[str, Any]) -> str:
    """The canonical JSON of a tool call: what its detectors read and its verdict hashes.

    Sorted keys and compact separators, so anyone holding the call can recompute the hash.
    """
    return json.dumps(
        {"name": name, "arguments": arguments},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def compile_policy(
    document: PolicyDocument, text: str, clock: Clock = SYSTEM_CLOCK
) -> CompiledPolicy:
    """Build a document's detectors and tool gate (its rate windows timed by ``clock`` and
    named by the document's id and version).

    Raises:
        PolicyError: a detector unknown, not installed or refusing its options; the reason
            names the rule.
    """
    stages: dict[str, tuple[CompiledRule, ...]] = {}
    is_async = False
    for stage in Stage:
        compiled = []
        for i, rule in enumerate(document.rules(stage)):
            try:
                detector = catalog.build(rule.detector, rule.options)
            except catalog.DetectorUnavailable as exc:
                raise PolicyError(f"{stage.value}[{i}].detector: {exc}") from None
            is_async = is_async or inspect.iscoroutinefunction(detector.detect)
            kinds = frozenset(rule.kinds) if rule.kinds is not None else None
            compiled.append(CompiledRule(detector, Action(rule.action), rule.threshold, kinds))
        stages[stage.value] = tuple(compiled)
    return CompiledPolicy(
        id=document.id,
        version=document.version,
        document=text,
        stages=stages,
        tools=ToolGate(document.tools, clock, name=(document.id, document.version)),
        stream_window=document.stream_window,
        is_async=is_async,
        document_sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def load_policy(text: str, clock: Clock = SYSTEM_CLOCK) -> CompiledPolicy:
    """Parse and compile a YAML policy document.

    Raises:
        PolicyError: the document cannot be used (the reason names the field).
    """
    return compile_policy(parse_policy(text), text, clock)


def redact(content: str, hits: Sequence[Hit]) -> str:
    """``content`` with each hit replaced by a typed, numbered placeholder (``[EMAIL_1]``; the
    same value gets the same number, overlapping hits merge): ``detectors/redaction.py``."""
    return redaction.redact(content, hits).text


def _refusal(tool: str, reason: str, retry_after_s: float | None) -> str:
    """One line for a tool-policy reason code (which never holds an argument's value)."""
    if reason == "rate_limited" and retry_after_s is not None:
        return f"tool {tool!r}: rate_limited (a slot frees in {retry_after_s:g} s)"
    return f"tool {tool!r}: {reason}"


def _detect(
    detector: Detector, content: str, context: Sequence[str], system_prompt: str | None
) -> Any:
    # A detector that compares with the context or the system prompt (output checks) takes
    # them through ``detect_with``; the others read the text alone.
    with_context = getattr(detector, "detect_with", None)
    if with_context is not None:
        return with_context(content, context=context, system_prompt=system_prompt)
    return detector.detect(content)


def _decision(rules: Sequence[CompiledRule], hits: _Hits, content: str) -> Decision:
    chosen: dict[tuple[str, str, int, int], tuple[Action, Hit]] = {}
    for rule in rules:
        floor = rule.floor()
        for hit in hits[id(rule.detector)]:
            if hit.score < floor or (rule.kinds is not None and hit.kind not in rule.kinds):
                continue
            key = (hit.detector, hit.kind, hit.start, hit.end)
            held = chosen.get(key)
            if held is None or _RANK[rule.action] > _RANK[held[0]]:
                chosen[key] = (rule.action, hit)
    if not chosen:
        return Decision(Outcome.ALLOW)
    strongest = max((action for action, _ in chosen.values()), key=_RANK.__getitem__)
    outcome = _OUTCOME[strongest]
    ordered = sorted(chosen.values(), key=lambda a: (a[1].start, a[1].end, a[1].detector))
    findings = [_finding(action, hit) for action, hit in ordered]
    redacted = None
    hidden: tuple[Hit, ...] = ()
    if outcome != Outcome.BLOCK:
        hidden = tuple(h for a, h in ordered if a == Action.REDACT)
        if hidden:
            redacted = redact(content, hidden)
    return Decision(outcome, findings, redacted, hidden)


def _finding(action: Action, hit: Hit) -> Finding:
    return Finding(
        detector=hit.detector,
        kind=hit.kind,
        severity=_SEVERITY[action],
        message=f"{hit.kind} ({hit.detector})",
        start=hit.start,
        end=hit.end,
        score=round(min(max(hit.score, 0.0), 1.0), 4),
        detector_version=hit.version,
        action=action,
    )
