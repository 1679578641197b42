"""Evaluation logic: score golden sets, decide release gates, run each run id once.

No framework imports here. For now a golden case carries its recorded ``output``; calling the
model under test comes later.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from llmops_contracts import wrap
from llmops_contracts.envelope import Envelope, derived_id
from llmops_contracts.evaluation import CaseScored, GateDecision, RunCompleted, RunEval
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.logging import get_logger
from llmops_shared.publish import Publisher

SOURCE = "llmops/evaluation"

_log = get_logger(__name__)


@dataclass(frozen=True)
class GoldenCase:
    """One case of a golden set."""

    case_id: str
    input: Any
    expected: str
    #: The recorded answer that is scored (until the service calls the model itself).
    output: str


class RunRejected(Exception):
    """A run that cannot be scored at all: missing or malformed golden set, unknown scorer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GoldenSets(Protocol):
    """Port: loads golden sets by name and optional version."""

    async def load(self, name: str, version: str | None = None) -> list[GoldenCase]:
        """The cases of a set, in file order.

        Raises:
            RunRejected: when the set is missing, empty or malformed.
        """
        ...


@dataclass(frozen=True)
class CompletedRun:
    """What the run store keeps of a finished run."""

    tenant: str
    run_id: str
    command_id: str
    golden_set: str
    cases: int
    passed: int
    gate: str
    #: When the service completed it (its clock).
    completed_at: datetime
    reason: str | None = None


class RunStore(Protocol):
    """Port: remembers which runs are complete, so a redelivered command is not re-scored."""

    async def is_completed(self, tenant: str, run_id: str) -> bool:
        """Whether the tenant's run id has completed already."""
        ...

    async def mark_completed(self, run: CompletedRun) -> None:
        """Remember a completed run (a second mark of the same run is ignored)."""
        ...


def normalise(text: str) -> list[str]:
    """Lowercased tokens with punctuation removed, as SQuAD-style scorers compare them."""
    kept = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text.lower())
    return kept.split()


def exact_match(output: str, expected: str) -> float:
    """1.0 when output and expected are equal after normalisation, else 0.0."""
    return 1.0 if normalise(output) == normalise(expected) else 0.0


def token_f1(output: str, expected: str) -> float:
    """F1 of the multiset of normalised tokens of output against expected."""
    got, want = normalise(output), normalise(expected)
    if not got or not want:
        return 1.0 if got == want else 0.0
    overlap = sum((Counter(got) & Counter(want)).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(got), overlap / len(want)
    return 2 * precision * recall / (precision + recall)


Scorer = Callable[[str, str], float]

#: Scorers by name; each takes (output, expected) and returns a score in 0..1.
SCORERS: dict[str, Scorer] = {"exact_match": exact_match, "token_f1": token_f1}
#: Scorers run when a command names none (golden sets carry no defaults of their own yet).
DEFAULT_SCORERS: tuple[str, ...] = ("exact_match", "token_f1")


def resolve_scorers(requested: Sequence[str], gate: Mapping[str, float]) -> list[str]:
    """The scorers to run: those requested (or the defaults), plus any the gate needs.

    Raises:
        RunRejected: when a name is not a known scorer.
    """
    names = list(dict.fromkeys([*(requested or DEFAULT_SCORERS), *gate]))
    unknown = [n for n in names if n not in SCORERS]
    if unknown:
        raise RunRejected(f"unknown scorer(s) {unknown}; known: {sorted(SCORERS)}")
    return names


def case_passed(scores: Mapping[str, float], gate: Mapping[str, float]) -> bool:
    """Whether a case meets every gate threshold; with no gate there is none to miss."""
    return all(scores[name] >= threshold for name, threshold in gate.items())


def decide_gate(
    mean_scores: Mapping[str, float], gate: Mapping[str, float], cases: int
) -> GateDecision:
    """The release gate on mean scores; a run that scored nothing never passes."""
    if cases == 0:
        return GateDecision.FAILED
    if not gate:
        return GateDecision.NO_GATE
    met = all(mean_scores[name] >= threshold for name, threshold in gate.items())
    return GateDecision.PASSED if met else GateDecision.FAILED


class EvaluationService:
    """Runs eval commands: score every case, publish the results, decide the gate."""

    def __init__(
        self,
        publisher: Publisher,
        golden_sets: GoldenSets,
        runs: RunStore,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.publisher = publisher
        self.golden_sets = golden_sets
        self.runs = runs
        self.clock = clock

    async def run(self, command: Envelope[RunEval]) -> RunCompleted | None:
        """Execute one RunEval command; None when the run id already completed."""
        cmd = command.data
        if await self.runs.is_completed(command.tenant, cmd.run_id):
            _log.info("eval run already completed, not re-scored", run_id=cmd.run_id)
            return None
        reason = None
        try:
            scorers = resolve_scorers(cmd.scorers, cmd.gate)
            cases = await self.golden_sets.load(cmd.golden_set, cmd.golden_set_version)
            completed = await self._score(command, cases, scorers)
        except RunRejected as exc:
            # A run that cannot be scored still completes, with zero cases and a failed gate:
            # whoever waits for RunCompleted (a CI job) must not hang, and a gate must never pass
            # on nothing. The reason travels in the event, the log and the run store.
            reason = exc.reason
            _log.warning("eval run rejected", run_id=cmd.run_id, reason=reason)
            completed = RunCompleted(
                run_id=cmd.run_id,
                cases=0,
                passed=0,
                mean_scores={},
                gate=GateDecision.FAILED,
                reason=reason,
            )
        await self.publisher.publish(self._event(completed, command, "run_completed"))
        # Marked only after everything is published: a crash before this line re-runs the
        # command, and the derived event ids make the republished events duplicates.
        await self.runs.mark_completed(
            CompletedRun(
                tenant=command.tenant,
                run_id=cmd.run_id,
                command_id=command.id,
                golden_set=cmd.golden_set,
                cases=completed.cases,
                passed=completed.passed,
                gate=GateDecision(completed.gate).value,
                completed_at=self.clock.now(),
                reason=reason,
            )
        )
        _log.info(
            "eval run completed",
            run_id=cmd.run_id,
            cases=completed.cases,
            passed=completed.passed,
            gate=GateDecision(completed.gate).value,
        )
        return completed

    async def _score(
        self,
        command: Envelope[RunEval],
        cases: Sequence[GoldenCase],
        scorers: Sequence[str],
    ) -> RunCompleted:
        """Score each case, publishing CaseScored as it goes; the summary is returned."""
        gate = command.data.gate
        totals = dict.fromkeys(scorers, 0.0)
        passed = 0
        for case in cases:
            scores = {name: SCORERS[name](case.output, case.expected) for name in scorers}
            ok = case_passed(scores, gate)
            passed += ok
            for name, score in scores.items():
                totals[name] += score
            await self.publisher.publish(
                self._event(
                    CaseScored(
                        run_id=command.data.run_id, case_id=case.case_id, scores=scores, passed=ok
                    ),
                    command,
                    f"case_scored:{case.case_id}",
                )
            )
        means = {name: total / len(cases) for name, total in totals.items()} if cases else {}
        return RunCompleted(
            run_id=command.data.run_id,
            cases=len(cases),
            passed=passed,
            mean_scores=means,
            gate=decide_gate(means, gate, len(cases)),
        )

    def _event(
        self, payload: CaseScored | RunCompleted, command: Envelope[RunEval], key: str
    ) -> Envelope[Any]:
        # Stamped with the service's clock, like the run's completed_at: without ``time`` the
        # envelope would take the wall clock, and a run on a fixed clock (a replay, a test at a
        # year's end) would publish events dated the day it ran.
        return wrap(
            payload,
            tenant=command.tenant,
            source=SOURCE,
            causation=command,
            id=derived_id(command, key),
            time=self.clock.now(),
        )
