"""Budget rules: which budgets a call counts against, their windows, thresholds and the decision.

Pure logic: no I/O, no clock, no framework. The rules, stated once:

- **Which budgets apply to a call**: every ``tenant`` budget of the call's tenant; an ``app``,
  ``user`` or ``model`` budget when the call's app, user or model equals ``scope_value`` exactly
  (case-sensitive). A call's models are the model it asked for and the model that answered, so a
  budget on ``gpt-4o`` counts a call answered by ``gpt-4o-2024-08-06`` that asked for ``gpt-4o``.
  A budget check (before the call) only knows the model asked for.
- **Windows** are UTC calendar days ``[00:00, 24:00)`` and months ``[1st 00:00, next 1st)``, or
  the custom ``[starts_at, ends_at)``; a call counts in the window that holds its time (the
  event's ``time``, not when the service saw it). Outside a custom window a call counts nowhere.
- **Thresholds** use ``>=``: a threshold of ``p`` percent is crossed by the spend update that
  moves spend from ``before < limit * p / 100`` to ``after >= limit * p / 100``, so reaching it
  exactly counts. Each fires once per budget and window.
- **Hard limits** deny a planned call when ``spent + estimated_cost >= limit`` for any hard
  budget that applies: reaching the limit counts as crossing it, so with a $10 limit and $9.99
  spent, a $0.01 call is denied, and once spend reaches $10 every call is denied (even one
  estimated at $0).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from llmops_contracts.costs import Budget, BudgetScope, BudgetWindow
from llmops_costs.money import exact

EXCEEDED = "exceeded"


@dataclass(frozen=True, slots=True)
class CallScope:
    """What of a call decides which budgets apply: its app, user and models."""

    app: str | None = None
    user: str | None = None
    models: tuple[str, ...] = ()


def applies(budget: Budget, scope: CallScope) -> bool:
    """Whether a call in ``scope`` counts against ``budget`` (see the module rules)."""
    kind = budget.scope
    if kind == BudgetScope.TENANT:
        return True
    if kind == BudgetScope.APP:
        return scope.app is not None and scope.app == budget.scope_value
    if kind == BudgetScope.USER:
        return scope.user is not None and scope.user == budget.scope_value
    return budget.scope_value in scope.models


def window(budget: Budget, at: datetime) -> tuple[datetime, datetime] | None:
    """The ``[start, end)`` window of ``budget`` holding ``at``; None outside a custom window."""
    at = at.astimezone(UTC)
    if budget.window == BudgetWindow.DAY:
        start = at.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    if budget.window == BudgetWindow.MONTH:
        start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
        return start, end
    assert budget.starts_at is not None  # the model checks both
    assert budget.ends_at is not None
    starts, ends = budget.starts_at.astimezone(UTC), budget.ends_at.astimezone(UTC)
    return (starts, ends) if starts <= at < ends else None


def window_end(budget: Budget, start: datetime) -> datetime:
    """The end of the window that starts at ``start``."""
    bounds = window(budget, start)
    assert bounds is not None, "a window start lies in its own window"
    return bounds[1]


def threshold_amount(budget: Budget, pct: float) -> Decimal:
    """``limit * pct / 100``, exactly (the float percent is read as its shortest decimal)."""
    with exact():
        return budget.limit * Decimal(repr(float(pct))) / 100


def alert_key(pct: float) -> str:
    """The stored key of a threshold alert (``threshold:80.0``)."""
    return f"threshold:{float(pct)!r}"


def alerts_between(budget: Budget, before: Decimal, after: Decimal) -> list[str]:
    """Alert keys fired by spend moving from ``before`` to ``after`` (thresholds, then the limit).

    A threshold fires when ``before < amount <= after``. ``exceeded`` is the hard limit reached
    (hard budgets only; a soft budget's 100% is its threshold alert).
    """
    if after <= before:
        return []
    keys = [
        alert_key(pct)
        for pct in sorted(set(budget.thresholds_pct))
        if before < threshold_amount(budget, pct) <= after
    ]
    if budget.hard and before < budget.limit <= after:
        keys.append(EXCEEDED)
    return keys


def threshold_of(key: str) -> float | None:
    """The percent of a threshold alert key; None for ``exceeded``."""
    return float(key.split(":", 1)[1]) if key.startswith("threshold:") else None


def fingerprint(budget: Budget) -> str:
    """A short digest of a budget's definition: alerts of a changed budget get new event ids."""
    doc = json.dumps(budget.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(doc.encode()).hexdigest()[:16]


CounterKey = tuple[str, datetime]  # (budget id, window start)


def counter_deltas(
    budgets: Sequence[Budget], calls: Iterable[tuple[CallScope, datetime, Decimal]]
) -> dict[CounterKey, Decimal]:
    """Spend to add per (budget, window) for priced calls ``(scope, time, cost)`` of one tenant."""
    deltas: dict[CounterKey, Decimal] = {}
    if not budgets:
        return deltas
    with exact():
        for scope, at, cost in calls:
            for budget in budgets:
                if not applies(budget, scope):
                    continue
                bounds = window(budget, at)
                if bounds is None:
                    continue
                key = (budget.id, bounds[0])
                deltas[key] = deltas.get(key, Decimal(0)) + cost
    return deltas


@dataclass(frozen=True, slots=True)
class Verdict:
    """A budget check's answer."""

    allow: bool
    reason: str | None


def decide(statuses: Sequence[tuple[Budget, Decimal]], estimated: Decimal) -> Verdict:
    """Deny when ``spent + estimated >= limit`` for any hard budget among ``(budget, spent)``."""
    with exact():
        for budget, spent in statuses:
            if budget.hard and spent + estimated >= budget.limit:
                where = budget.scope if budget.scope_value is None else budget.scope_value
                return Verdict(
                    False,
                    f"budget {budget.id!r} ({where}): spent {_plain(spent)} + estimated "
                    f"{_plain(estimated)} reaches the hard limit {_plain(budget.limit)}",
                )
    return Verdict(True, None)


def _plain(amount: Decimal) -> str:
    """An amount for people: no trailing zeros, no exponent (``0.0090000`` -> ``0.009``)."""
    return format(amount.normalize(), "f") if amount else "0"
