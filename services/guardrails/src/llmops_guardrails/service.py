"""Guardrails logic: a built-in policy of detectors, verdicts and their records. No framework here.

Offsets in findings are Python string indices (Unicode code points) into the checked content.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from llmops_contracts import wrap
from llmops_contracts.envelope import Envelope, derived_id
from llmops_contracts.guardrails import (
    Finding,
    GuardrailCheckRequest,
    GuardrailVerdict,
    Outcome,
    Stage,
    VerdictRecorded,
)
from llmops_contracts.registry import InvalidMessage
from llmops_contracts.tools import ToolCallRequested
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.publish import Publisher

SOURCE = "llmops/guardrails"
BUILTIN_VERSION = "builtin-1"
#: Longest content (characters) checked on the event loop; longer content is checked in a thread.
INLINE_LIMIT = 64 * 1024

# The look-behind starts a match only where a local part can start, which keeps the scan linear
# on long runs of letters (the content may be 1 MB); 64 is RFC 5321's local-part limit.
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# 13-19 digits, optionally grouped by single spaces or hyphens; the look-arounds keep a longer
# digit run from being split into a card-sized piece.
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")

#: Phrases typical of prompt injection, as regular expressions; matched case-insensitively, a space
#: standing for any run of white space.
INJECTION_PATTERNS: tuple[str, ...] = (
    r"(?:ignore|disregard|forget|override) (?:all |any )?(?:of )?(?:the |your |my )?"
    r"(?:previous|prior|above|earlier|preceding|system) (?:instructions|prompts?|messages|rules|directions)",
    r"(?:reveal|print|show|repeat|output|leak) (?:me )?(?:your|the) (?:system prompt|hidden prompt|"
    r"initial instructions|original instructions)",
    r"you are now (?:in )?(?:developer|jailbreak|dan|unrestricted) mode",
    r"(?:act|behave|respond) as (?:if you (?:have|had) )?no (?:restrictions|rules|guidelines|filters)",
    r"do anything now",
    r"new (?:system )?instructions:",
)

_REDACTORS = {"email": "[EMAIL]", "card_number": "[CARD]"}
_INJECTION_STAGES = frozenset({Stage.INPUT.value, Stage.RETRIEVED_CONTEXT.value})


@dataclass(frozen=True)
class Policy:
    """A named, versioned set of detectors and their configuration."""

    name: str
    version: str
    denylist: tuple[str, ...] = ()
    #: Tool names agents may call; empty allows every tool.
    tool_allowlist: frozenset[str] = frozenset()
    injection_patterns: tuple[str, ...] = INJECTION_PATTERNS

    @cached_property
    def _denylist_re(self) -> re.Pattern[str] | None:
        terms = sorted({t.strip() for t in self.denylist if t.strip()}, key=len, reverse=True)
        if not terms:
            return None
        # Whole words only, so "class" on the list does not block "classic".
        alternatives = "|".join(_phrase(t) for t in terms)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    @cached_property
    def _denylist_terms(self) -> dict[str, str]:
        return {_norm(t): t.strip() for t in self.denylist if t.strip()}

    @cached_property
    def _injection_re(self) -> re.Pattern[str] | None:
        if not self.injection_patterns:
            return None
        # Any run of white space (new lines included) between the words of a phrase.
        spaced = (pattern.replace(" ", r"\s+") for pattern in self.injection_patterns)
        return re.compile("|".join(f"(?:{p})" for p in spaced), re.IGNORECASE)

    def detect(self, stage: Stage | str, content: str) -> list[Finding]:
        """Every finding of this policy's detectors in ``content``, in order of position."""
        findings = [*find_emails(content), *find_cards(content)]
        if self._denylist_re is not None:
            findings += [
                Finding(
                    detector="denylist",
                    severity="high",
                    # The configured term, not the matched text: records never quote content.
                    message=f"term on the denylist: {self._denylist_terms.get(_norm(m.group(0)), '?')!r}",
                    start=m.start(),
                    end=m.end(),
                )
                for m in self._denylist_re.finditer(content)
            ]
        if Stage(stage).value in _INJECTION_STAGES and self._injection_re is not None:
            findings += [
                Finding(
                    detector="prompt_injection",
                    severity="high",
                    message="phrase typical of prompt injection",
                    start=m.start(),
                    end=m.end(),
                )
                for m in self._injection_re.finditer(content)
            ]
        return sorted(findings, key=lambda f: (f.start or 0, f.end or 0, f.detector))

    def allows_tool(self, name: str) -> bool:
        """Whether agents may call the tool ``name``."""
        return not self.tool_allowlist or name in self.tool_allowlist


class PolicySource(Protocol):
    """Port: resolves a policy by name and optional pinned version."""

    def get(self, name: str, version: str | None = None) -> Policy | None:
        """The policy, or None when there is no such name or version."""
        ...


@dataclass(frozen=True)
class Decision:
    """What a policy decided about one piece of content."""

    outcome: Outcome
    findings: list[Finding] = field(default_factory=list)
    redacted_content: str | None = None


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum used by payment card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_emails(content: str) -> list[Finding]:
    """Findings for e-mail addresses."""
    return [
        Finding(
            detector="email",
            severity="medium",
            message="e-mail address",
            start=m.start(),
            end=m.end(),
        )
        for m in EMAIL.finditer(content)
    ]


def find_cards(content: str) -> list[Finding]:
    """Findings for card-like numbers (13-19 digits) that pass the Luhn check."""
    findings = []
    for m in CARD.finditer(content):
        digits = re.sub(r"[ -]", "", m.group(0))
        # Most 13-19 digit numbers (ids, phone numbers) fail Luhn; only 1 in 10 passes by chance.
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            findings.append(
                Finding(
                    detector="card_number",
                    severity="high",
                    message="payment card number (Luhn-valid)",
                    start=m.start(),
                    end=m.end(),
                )
            )
    return findings


def redact(content: str, findings: Iterable[Finding]) -> str | None:
    """The content with every redactable span replaced by a placeholder; None if there is none."""
    spans = sorted(
        (f.start, f.end, _REDACTORS[f.detector])
        for f in findings
        if f.detector in _REDACTORS and f.start is not None and f.end is not None
    )
    if not spans:
        return None
    merged: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        if merged and start < merged[-1][1]:  # overlapping spans collapse into the first label
            s, e, first = merged[-1]
            merged[-1] = (s, max(e, end), first)
        else:
            merged.append((start, end, label))
    out, pos = [], 0
    for start, end, label in merged:
        out += [content[pos:start], label]
        pos = end
    out.append(content[pos:])
    return "".join(out)


def decide(policy: Policy, stage: Stage | str, content: str) -> Decision:
    """Apply a policy to content: block > review > redact > allow."""
    findings = policy.detect(stage, content)
    detectors = {f.detector for f in findings}
    redacted = redact(content, findings)
    if "denylist" in detectors:
        outcome = Outcome.BLOCK
    elif "prompt_injection" in detectors:
        outcome = Outcome.REVIEW
    elif redacted is not None:
        outcome = Outcome.REDACT
    else:
        outcome = Outcome.ALLOW
    # A blocked text must not be used at all, so it gets no usable redacted copy either.
    return Decision(outcome, findings, None if outcome == Outcome.BLOCK else redacted)


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 text, lowercase hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def tool_call_content(name: str, arguments: dict[str, Any]) -> str:
    """The canonical JSON of a tool call that is hashed into its verdict record.

    Sorted keys and compact separators, so anyone holding the call can recompute the hash.
    """
    return json.dumps(
        {"name": name, "arguments": arguments},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _phrase(term: str) -> str:
    return r"\s+".join(re.escape(word) for word in term.split())


class GuardrailsService:
    """Checks content and tool calls against policies and records every verdict."""

    def __init__(
        self,
        publisher: Publisher,
        policies: PolicySource,
        *,
        clock: Clock = SYSTEM_CLOCK,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.publisher = publisher
        self.policies = policies
        self.clock = clock
        self._timer = timer

    def policy(self, name: str, version: str | None) -> Policy:
        """The policy to apply; an unknown name or pinned version is the caller's error."""
        policy = self.policies.get(name, version)
        if policy is None:
            pinned = f" version {version!r}" if version else ""
            raise InvalidMessage(f"data.policy: unknown policy {name!r}{pinned}")
        return policy

    async def check(self, request: Envelope[GuardrailCheckRequest]) -> GuardrailVerdict:
        """Decide a check request, record the verdict, and return the verdict to reply with."""
        started = self._timer()
        data = request.data
        policy = self.policy(data.policy, data.policy_version)
        if len(data.content) > INLINE_LIMIT:
            # A long text takes the detectors a noticeable time (measured: docs/decisions.md);
            # off the event loop, it does not hold up the small checks arriving beside it.
            decision = await asyncio.to_thread(decide, policy, data.stage, data.content)
        else:
            decision = decide(policy, data.stage, data.content)
        took_ms = (self._timer() - started) * 1000
        # Recorded before the reply is sent, so no verdict the application acts on is unaudited.
        await self.publisher.publish(
            wrap(
                VerdictRecorded(
                    check_id=request.id,
                    stage=data.stage,
                    outcome=decision.outcome,
                    policy=policy.name,
                    policy_version=policy.version,
                    findings=decision.findings,
                    content_sha256=sha256_hex(data.content),
                    actor=data.actor,
                ),
                tenant=request.tenant,
                source=SOURCE,
                causation=request,
                id=derived_id(request, "verdict_recorded"),
                time=self.clock.now(),
            )
        )
        return GuardrailVerdict(
            outcome=decision.outcome,
            policy=policy.name,
            policy_version=policy.version,
            findings=decision.findings,
            redacted_content=decision.redacted_content,
            took_ms=max(took_ms, 0.0),
        )

    async def check_tool_call(
        self, event: Envelope[ToolCallRequested], *, policy: str = "default"
    ) -> Envelope[VerdictRecorded]:
        """Check a requested tool against the allowlist and publish the verdict record."""
        data = event.data
        applied = self.policy(policy, None)
        findings = []
        if not applied.allows_tool(data.tool_name):
            findings.append(
                Finding(
                    detector="tool_allowlist",
                    severity="high",
                    message=f"tool {data.tool_name!r} is not on the allowlist",
                )
            )
        recorded = wrap(
            VerdictRecorded(
                check_id=event.id,
                stage=Stage.TOOL_CALL,
                outcome=Outcome.BLOCK if findings else Outcome.ALLOW,
                policy=applied.name,
                policy_version=applied.version,
                findings=findings,
                content_sha256=sha256_hex(tool_call_content(data.tool_name, data.arguments)),
                actor=data.actor,
            ),
            tenant=event.tenant,
            source=SOURCE,
            causation=event,
            id=derived_id(event, "verdict_recorded"),
            time=self.clock.now(),
        )
        await self.publisher.publish(recorded)
        return recorded
