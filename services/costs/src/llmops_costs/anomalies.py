"""Spend spike detection: is the current period's spend far outside its recent history?

A robust z-score: the baseline is the *median* of the history and the spread is the *median
absolute deviation* (MAD) scaled by 1.4826, which estimates the standard deviation for normally
distributed data. Unlike mean and standard deviation, neither moves much when the history already
holds a spike or two, so yesterday's incident does not hide today's.

The spread has a floor, because a MAD of zero (a perfectly regular history, or one that is zero
most of the time) would turn every cent above the baseline into an infinite score::

    spread = max(1.4826 * MAD, 10% of |baseline|, $0.01)

- 10% of the baseline: however regular the history, a spend must exceed the baseline by 6 * 10%
  at the default threshold -- 1.6x its typical level -- before it counts. Smaller moves of a steady
  spend are business as usual, not an incident worth an alert.
- $0.01 (one cent): only binds when the baseline is (nearly) zero. Then any spend of at least
  ``min_spend`` is a spike: a tenant, model or key that normally costs nothing and suddenly costs
  real money (a runaway agent loop, a leaked key) is exactly what this detector is for, and
  ``min_spend`` keeps small change from alerting.

Pure: no I/O, no clock, no framework. Money stays Decimal (exact); only the score is a float.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

METHOD = "median_mad"
#: 1 / Phi^-1(3/4): makes the MAD a consistent estimator of the standard deviation.
MAD_TO_SIGMA = Decimal("1.4826")
#: The spread is never below this fraction of the baseline (see the module docstring).
RELATIVE_SPREAD_FLOOR = Decimal("0.1")
#: ... nor below this amount, so a zero baseline still gives a finite score.
ABSOLUTE_SPREAD_FLOOR = Decimal("0.01")


@dataclass(frozen=True)
class Spike:
    """A spend far above its history, with the evidence for the alert.

    Attributes:
        spend: The current period's spend.
        baseline: Median of the history.
        spread: Robust standard deviation of the history (1.4826 * MAD, floored).
        score: ``(spend - baseline) / spread``.
        threshold: The score at or above which a spend is a spike.
        method: How baseline and spread were computed (``"median_mad"``).
        history: The history compared against, oldest first, as given.
    """

    spend: Decimal
    baseline: Decimal
    spread: Decimal
    score: float
    threshold: float
    method: str
    history: tuple[Decimal, ...]


def robust_spread(history: Sequence[Decimal], baseline: Decimal) -> Decimal:
    """1.4826 * MAD of the history around its median, with the floors of the module docstring."""
    mad = statistics.median(abs(x - baseline) for x in history)
    return max(MAD_TO_SIGMA * mad, RELATIVE_SPREAD_FLOOR * abs(baseline), ABSOLUTE_SPREAD_FLOOR)


def detect_spike(
    history: Sequence[Decimal],
    current: Decimal,
    *,
    threshold: float = 6.0,
    min_history: int = 6,
    min_spend: Decimal = Decimal("1"),
) -> Spike | None:
    """A Spike when ``current`` scores at least ``threshold`` robust deviations above history.

    Args:
        history: Spend of the previous periods, oldest first (e.g. the last 14 days).
        current: Spend of the period being checked.
        threshold: Score at or above which the spend is a spike (inclusive).
        min_history: Fewer periods than this say too little about "normal": no verdict.
        min_spend: Spend below this never alerts, whatever its score.

    Returns:
        The Spike with its evidence, or None (not a spike, or not enough history to tell).

    Raises:
        ValueError: ``threshold`` is not a positive finite number, or ``min_history`` < 1.
    """
    if not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
    if min_history < 1:
        raise ValueError(f"min_history must be at least 1, got {min_history!r}")
    if len(history) < min_history or current < min_spend:
        return None
    baseline = statistics.median(history)
    spread = robust_spread(history, baseline)
    excess = current - baseline
    # Decide in Decimal (exact for float thresholds, which are binary fractions) so that a score
    # exactly at the threshold flags regardless of float rounding in the division.
    if excess < Decimal(threshold) * spread:
        return None
    return Spike(
        spend=current,
        baseline=baseline,
        spread=spread,
        score=float(excess / spread),
        threshold=threshold,
        method=METHOD,
        history=tuple(history),
    )
