"""Checking a streamed output chunk by chunk: continue, or stop as soon as a violation appears.

The service keeps no session. Each chunk comes with the ``carry`` the previous answer returned:
the last ``stream_window`` characters before it (the policy's setting). The chunk is checked
together with its carry, so a span that starts in one chunk and ends in the next is seen whole;
only findings that reach into the new chunk are reported (those wholly inside the carry were
reported with the chunk before). Any replica can answer any chunk, a replica restart loses
nothing, and nothing of the stream is held on the server. A span longer than the window that
straddles a boundary is the one thing missed: the window is a policy setting for that reason.

A finding whose action is block or escalate stops the stream. Redaction cannot take back text
already shown, so a redact finding in a stream is reported (outcome ``redact``) and the stream
continues; check the completed output when its copy must be redacted.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmops_contracts.guardrails import Finding, Outcome, StreamDecision
from llmops_guardrails.engine import CompiledPolicy, Decision


@dataclass(frozen=True)
class ChunkVerdict:
    """What one chunk added to the stream, and what to carry to the next."""

    decision: StreamDecision
    outcome: Outcome
    findings: list[Finding]
    carry: str


def judge_chunk(
    policy: CompiledPolicy, carry: str, offset: int, text: str, decision: Decision
) -> ChunkVerdict:
    """The chunk's verdict, from the policy's decision on ``text`` (its carry, then the chunk).

    Args:
        policy: the policy that decided (its window bounds the next carry).
        carry: the text before the chunk that was checked with it.
        offset: the stream position of the chunk's first character.
        text: ``carry + chunk``.
        decision: the policy's decision on ``text``.
    """
    base = offset - len(carry)
    new = [
        f.model_copy(update={"start": f.start + base, "end": f.end + base})
        if f.start is not None and f.end is not None
        else f
        for f in decision.findings
        if f.end is None or f.end > len(carry)
    ]
    outcome = _outcome(new)
    stop = outcome in (Outcome.BLOCK, Outcome.REVIEW)
    return ChunkVerdict(
        StreamDecision.STOP if stop else StreamDecision.CONTINUE,
        outcome,
        new,
        text[-policy.stream_window :],
    )


def _outcome(findings: list[Finding]) -> Outcome:
    """The outcome of the new findings alone (those in the carry were answered already)."""
    actions = {f.action for f in findings}
    for action, outcome in (
        ("block", Outcome.BLOCK),
        ("escalate", Outcome.REVIEW),
        ("redact", Outcome.REDACT),
    ):
        if action in actions:
            return outcome
    return Outcome.ALLOW
