"""Unit tests of the budget rules (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from llmops_contracts.costs import Budget
from llmops_costs import budgets as rules
from llmops_costs.budgets import CallScope

D = Decimal
AT = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def budget(**kw: object) -> Budget:
    kw.setdefault("id", "b")
    kw.setdefault("scope", "tenant")
    kw.setdefault("limit", D("10"))
    return Budget(**kw)  # type: ignore[arg-type]


def test_which_budgets_apply_to_a_call() -> None:
    scope = CallScope(app="bot", user="ana", models=("gpt-4o", "gpt-4o-2024-08-06"))
    assert rules.applies(budget(), scope)
    assert rules.applies(budget(scope="app", scope_value="bot"), scope)
    assert not rules.applies(budget(scope="app", scope_value="Bot"), scope)  # exact match
    assert rules.applies(budget(scope="user", scope_value="ana"), scope)
    assert not rules.applies(budget(scope="user", scope_value="ana"), CallScope(app="bot"))
    # Either the model asked for or the one that answered.
    assert rules.applies(budget(scope="model", scope_value="gpt-4o"), scope)
    assert rules.applies(budget(scope="model", scope_value="gpt-4o-2024-08-06"), scope)
    assert not rules.applies(budget(scope="model", scope_value="gpt-4o-mini"), scope)


def test_windows_are_utc_calendar_days_months_or_custom() -> None:
    assert rules.window(budget(window="day"), AT) == (
        datetime(2026, 12, 31, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert rules.window(budget(window="month"), AT) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    # A time in another zone counts in the UTC window holding it.
    later = datetime(2027, 1, 1, 0, 30, tzinfo=UTC).astimezone(
        datetime(2026, 1, 1, tzinfo=UTC).astimezone().tzinfo
    )
    assert rules.window(budget(window="month"), later)[0] == datetime(2027, 1, 1, tzinfo=UTC)  # type: ignore[index]
    start = AT - timedelta(days=2)
    custom = budget(window="custom", starts_at=start, ends_at=AT)
    assert rules.window(custom, start) == (start, AT)
    assert rules.window(custom, AT) is None  # the end is exclusive
    assert rules.window(custom, start - timedelta(microseconds=1)) is None
    assert rules.window_end(budget(window="month"), datetime(2026, 2, 1, tzinfo=UTC)) == datetime(
        2026, 3, 1, tzinfo=UTC
    )


def test_thresholds_fire_when_reached_exactly() -> None:
    b = budget(limit=D("10"), thresholds_pct=[50, 80, 100], hard=True)
    assert rules.alerts_between(b, D("0"), D("4.99")) == []
    assert rules.alerts_between(b, D("4.99"), D("5")) == ["threshold:50.0"]
    assert rules.alerts_between(b, D("5"), D("5.5")) == []  # already crossed
    assert rules.alerts_between(b, D("5.5"), D("10")) == [
        "threshold:80.0",
        "threshold:100.0",
        "exceeded",
    ]
    assert rules.alerts_between(b, D("10"), D("11")) == []
    soft = budget(limit=D("10"), thresholds_pct=[100])
    assert rules.alerts_between(soft, D("0"), D("10")) == ["threshold:100.0"]  # no "exceeded"
    # A fractional threshold is exact, not a float approximation.
    assert rules.threshold_amount(budget(limit=D("3")), 33.3) == D("0.999")
    assert rules.threshold_of("threshold:33.3") == 33.3
    assert rules.threshold_of("exceeded") is None


def test_counter_deltas_add_each_call_to_every_budget_it_falls_under() -> None:
    day = budget(id="day", window="day")
    bot = budget(id="bot", scope="app", scope_value="bot")
    calls = [
        (CallScope(app="bot"), AT, D("0.000000032857142857142855")),
        (CallScope(app="bot"), AT + timedelta(seconds=2), D("1")),  # next day and month
        (CallScope(app="other"), AT, D("2")),
    ]
    deltas = rules.counter_deltas([day, bot], calls)
    assert deltas == {
        ("day", datetime(2026, 12, 31, tzinfo=UTC)): D("2.000000032857142857142855"),
        ("day", datetime(2027, 1, 1, tzinfo=UTC)): D("1"),
        ("bot", datetime(2026, 12, 1, tzinfo=UTC)): D("0.000000032857142857142855"),
        ("bot", datetime(2027, 1, 1, tzinfo=UTC)): D("1"),
    }
    assert rules.counter_deltas([], calls) == {}


@pytest.mark.parametrize(
    ("spent", "estimated", "allow"),
    [(D("9.98"), D("0.01"), True), (D("9.99"), D("0.01"), False), (D("10"), D("0"), False)],
)
def test_a_hard_limit_denies_the_call_that_would_reach_it(
    spent: Decimal, estimated: Decimal, allow: bool
) -> None:
    hard = budget(id="hard", hard=True)
    verdict = rules.decide([(budget(id="soft", limit=D("1")), D("5")), (hard, spent)], estimated)
    assert verdict.allow is allow
    assert (verdict.reason is None) is allow
    if not allow:
        assert "'hard'" in (verdict.reason or "")


def test_a_deny_reason_writes_amounts_for_people() -> None:
    hard = budget(id="hard", hard=True)  # limit 10
    verdict = rules.decide([(hard, D("9.99500000"))], D("0.0090000"))
    assert (
        verdict.reason
        == "budget 'hard' (tenant): spent 9.995 + estimated 0.009 reaches the hard limit 10"
    )


def test_a_changed_budget_has_a_new_fingerprint() -> None:
    assert rules.fingerprint(budget()) == rules.fingerprint(budget())
    assert rules.fingerprint(budget()) != rules.fingerprint(budget(limit=D("11")))
