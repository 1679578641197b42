"""Unit tests of the evaluation logic and its file adapter, with fakes for the ports.

The run store's adapters have their own suite: ``test_run_store.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llmops_contracts import wrap
from llmops_contracts.envelope import Envelope
from llmops_contracts.evaluation import CaseScored, GateDecision, RunCompleted, RunEval
from llmops_contracts.registry import parse
from llmops_evaluation.config import EvaluationSettings
from llmops_evaluation.service import (
    EvaluationService,
    GoldenCase,
    RunRejected,
    case_passed,
    decide_gate,
    exact_match,
    resolve_scorers,
    token_f1,
)
from llmops_evaluation.store import FileGoldenSets, parse_cases
from llmops_shared.clock import FixedClock
from tests.fakes import FakePublisher
from tests.services.evaluation.conftest import FakeGoldenSets, FakeRunStore

#: The last millisecond of a year: stored and read back exactly.
NEW_YEAR = datetime(2026, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)

CAPITALS = [
    GoldenCase("fr", "Capital of France?", "Paris", "Paris."),
    GoldenCase("de", "Capital of Germany?", "Berlin", "It is Berlin"),
    GoldenCase("it", "Capital of Italy?", "Rome", "Milan"),
]


def command(run_id: str = "r1", tenant: str = "acme", **kwargs: Any) -> Envelope[Any]:
    kwargs.setdefault("golden_set", "capitals")
    return wrap(RunEval(run_id=run_id, **kwargs), tenant=tenant, source="ci://test")


def evaluation(
    publisher: FakePublisher | None = None, sets: dict[str, list[GoldenCase]] | None = None
) -> EvaluationService:
    return EvaluationService(
        publisher or FakePublisher(),
        FakeGoldenSets({"capitals": CAPITALS} if sets is None else sets),
        FakeRunStore(),
        FixedClock(NEW_YEAR),
    )


@pytest.mark.parametrize(
    ("output", "expected", "score"),
    [
        ("Paris.", "paris", 1.0),
        ("  The   Cat!", "the cat", 1.0),
        ("It is Berlin", "Berlin", 0.0),
        ("", "", 1.0),
        ("", "x", 0.0),
    ],
)
def test_exact_match(output: str, expected: str, score: float) -> None:
    assert exact_match(output, expected) == score


@pytest.mark.parametrize(
    ("output", "expected", "score"),
    [
        ("the cat sat", "the cat sat on the mat", 2 / 3),  # P=1, R=1/2
        ("It is Berlin", "Berlin", 0.5),  # P=1/3, R=1
        ("Berlin, Berlin", "Berlin", 2 / 3),  # repeated tokens count once per match
        ("Milan", "Rome", 0.0),
        ("Paris.", "paris", 1.0),
        ("", "", 1.0),
        ("...", "x", 0.0),
    ],
)
def test_token_f1(output: str, expected: str, score: float) -> None:
    assert token_f1(output, expected) == pytest.approx(score)


def test_resolve_scorers_adds_what_the_gate_needs_and_rejects_unknown_names() -> None:
    assert resolve_scorers([], {}) == ["exact_match", "token_f1"]
    assert resolve_scorers(["exact_match"], {"token_f1": 0.5}) == ["exact_match", "token_f1"]
    with pytest.raises(RunRejected, match="bleu"):
        resolve_scorers(["bleu"], {})


def test_gate_decisions() -> None:
    means = {"exact_match": 0.5, "token_f1": 0.8}
    assert decide_gate(means, {}, 3) == GateDecision.NO_GATE
    assert decide_gate(means, {"token_f1": 0.8}, 3) == GateDecision.PASSED
    assert decide_gate(means, {"token_f1": 0.8, "exact_match": 0.51}, 3) == GateDecision.FAILED
    assert decide_gate({}, {}, 0) == GateDecision.FAILED
    assert case_passed({"exact_match": 0.0}, {})
    assert not case_passed({"exact_match": 0.0}, {"exact_match": 1.0})


async def test_a_run_scores_every_case_and_decides_the_gate() -> None:
    publisher = FakePublisher()
    cmd = command(gate={"token_f1": 0.5})
    completed = await evaluation(publisher).run(cmd)

    *scored, last = publisher.published
    assert [e.data.case_id for e in scored] == ["fr", "de", "it"]
    assert all(isinstance(e.data, CaseScored) and e.causation_id == cmd.id for e in scored)
    assert [e.data.scores for e in scored] == [
        {"exact_match": 1.0, "token_f1": 1.0},
        {"exact_match": 0.0, "token_f1": 0.5},
        {"exact_match": 0.0, "token_f1": 0.0},
    ]
    assert [e.data.passed for e in scored] == [True, True, False]

    assert isinstance(last.data, RunCompleted)
    assert last.data == completed
    assert completed.cases == 3
    assert completed.passed == 2
    assert completed.mean_scores == pytest.approx({"exact_match": 1 / 3, "token_f1": 0.5})
    assert completed.gate == "passed"
    assert parse(last.to_json(), subject=last.subject()).data == completed


async def test_a_gate_above_the_mean_fails_and_no_gate_is_no_gate() -> None:
    failed = await evaluation().run(command(gate={"exact_match": 0.34}))
    assert failed is not None
    assert failed.gate == "failed"
    none = await evaluation().run(command(scorers=["exact_match"]))
    assert none is not None
    assert (none.gate, none.passed, list(none.mean_scores)) == ("no_gate", 3, ["exact_match"])


async def test_a_redelivered_command_is_not_rescored() -> None:
    publisher = FakePublisher()
    service = evaluation(publisher)
    cmd = command()
    assert await service.run(cmd) is not None
    published = len(publisher.published)
    assert await service.run(cmd) is None
    # Same run id, even in a new command: the run is complete.
    assert await service.run(command()) is None
    assert len(publisher.published) == published
    assert service.golden_sets.loads == 1  # type: ignore[attr-defined]
    # ... but run ids are per tenant.
    assert await service.run(command(tenant="other")) is not None


async def test_a_rerun_after_a_crash_republishes_the_same_event_ids() -> None:
    cmd = command()
    first, second = FakePublisher(), FakePublisher()
    await evaluation(first).run(cmd)
    await evaluation(second).run(cmd)  # a fresh store: as if marking had never happened
    assert [e.id for e in first.published] == [e.id for e in second.published]
    assert len({e.id for e in first.published}) == 4


@pytest.mark.parametrize(
    "cmd",
    [command(golden_set="nope"), command(scorers=["bleu"]), command(gate={"rouge": 0.5})],
)
async def test_a_run_that_cannot_be_scored_completes_failed_with_no_cases(
    cmd: Envelope[Any],
) -> None:
    publisher = FakePublisher()
    service = evaluation(publisher)
    completed = await service.run(cmd)
    assert [e.type for e in publisher.published] == [RunCompleted.SPEC.type]
    assert completed is not None
    assert completed.reason
    assert completed == RunCompleted(
        run_id="r1", cases=0, passed=0, mean_scores={}, gate="failed", reason=completed.reason
    )
    stored = service.runs.runs[("acme", "r1")]  # type: ignore[attr-defined]
    assert stored.gate == "failed"
    assert stored.reason == completed.reason
    assert stored.completed_at == NEW_YEAR  # the service's clock, not the day the test runs


def test_parse_cases_accepts_good_lines_and_names_the_first_bad_one() -> None:
    good = [
        {"case_id": "a", "input": "q", "expected": "x", "output": "x", "tags": ["t"]},
        {"case_id": 2, "input": {"messages": []}, "expected": "y", "output": "z"},
    ]
    text = "\n".join(json.dumps(c) for c in good) + "\n\n"
    assert parse_cases(text) == [
        GoldenCase("a", "q", "x", "x"),
        GoldenCase("2", {"messages": []}, "y", "z"),
    ]
    bad_lines = {
        "{not json": "not valid JSON",
        "[1]": "not a JSON object",
        '{"input": "q", "expected": "x", "output": "x"}': "case_id",
        '{"case_id": "a", "expected": "x", "output": "x"}': "input is missing",
        '{"case_id": "b", "input": "q", "expected": "x"}': "output must be a string",
        '{"case_id": "a", "input": "q", "expected": "x", "output": "x"}': "duplicate case_id",
    }
    for line, message in bad_lines.items():
        with pytest.raises(RunRejected, match=message) as info:
            parse_cases(json.dumps(good[0]) + "\n" + line, "set.jsonl")
        assert info.value.reason.startswith("set.jsonl:2: ")


async def test_file_golden_sets(tmp_path: Path) -> None:
    line = json.dumps({"case_id": "a", "input": "q", "expected": "x", "output": "x"})
    (tmp_path / "qa.jsonl").write_text(line + "\n")
    (tmp_path / "qa@v2.jsonl").write_text(line.replace('"a"', '"b"') + "\n")
    (tmp_path / "empty.jsonl").write_text("\n")
    sets = FileGoldenSets(tmp_path)
    assert [c.case_id for c in await sets.load("qa")] == ["a"]
    assert [c.case_id for c in await sets.load("qa", "v2")] == ["b"]
    for name, version, message in [
        ("qa", "v3", "not found"),
        ("missing", None, "not found"),
        ("empty", None, "no cases"),
        ("../etc/passwd", None, "not a valid name"),
        ("qa", "../../x", "not a valid name"),
    ]:
        with pytest.raises(RunRejected, match=message):
            await sets.load(name, version)


def test_settings_defaults() -> None:
    settings = EvaluationSettings()
    assert settings.resolved_health_port == 8104
    assert settings.golden_sets_dir == Path(".llmops/golden")
    assert settings.database_url == "sqlite:///.llmops/evaluation.db"
