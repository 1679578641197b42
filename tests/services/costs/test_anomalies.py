"""Spend spike detection: robust median/MAD score with a floored spread."""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest
from pydantic import ValidationError

from llmops_costs.anomalies import (
    ABSOLUTE_SPREAD_FLOOR,
    METHOD,
    Spike,
    detect_spike,
    robust_spread,
)
from llmops_costs.config import CostsSettings


def d(*values: str | int) -> list[Decimal]:
    return [Decimal(v) for v in values]


FLAT = d(*["100"] * 7)
NOISY = d("80", "120", "95", "105", "130", "70", "110", "90")


def test_flat_history_then_a_tenfold_spike_is_reported_with_its_evidence() -> None:
    spike = detect_spike(FLAT, Decimal("1000"))
    assert spike == Spike(
        spend=Decimal("1000"),
        baseline=Decimal("100"),
        # MAD is 0: the relative floor (10% of the baseline) is the spread.
        spread=Decimal("10.0"),
        score=90.0,
        threshold=6.0,
        method=METHOD,
        history=tuple(FLAT),
    )
    assert spike.method == "median_mad"


def test_history_is_kept_oldest_first_as_a_tuple() -> None:
    history = d("1", "2", "3", "4", "5", "6", "7")
    spike = detect_spike(history, Decimal("500"))
    assert spike is not None
    assert spike.history == tuple(history)
    assert spike.baseline == Decimal("4")


@pytest.mark.parametrize("current", ["60", "100", "140", "150"])
def test_noisy_history_within_normal_variation_is_not_a_spike(current: str) -> None:
    # median 100, MAD 15 -> spread 22.239: even 150 scores only ~2.2
    assert detect_spike(NOISY, Decimal(current)) is None


def test_noisy_history_still_flags_a_real_spike() -> None:
    spike = detect_spike(NOISY, Decimal("400"))
    assert spike is not None
    assert spike.baseline == Decimal("100")
    assert spike.spread == Decimal("1.4826") * 15
    assert spike.score == pytest.approx(300 / 22.239)


def test_a_past_spike_in_the_history_does_not_hide_a_new_one() -> None:
    # Mean/stddev would be dragged up by the 5000; median and MAD hardly move.
    history = [*NOISY, Decimal("5000")]
    assert detect_spike(history, Decimal("400")) is not None


@pytest.mark.parametrize("length", [0, 1, 5])
def test_too_little_history_is_no_verdict(length: int) -> None:
    assert detect_spike(FLAT[:length], Decimal("1000000")) is None


def test_min_history_is_inclusive() -> None:
    assert detect_spike(FLAT[:6], Decimal("1000"), min_history=6) is not None
    assert detect_spike(FLAT[:3], Decimal("1000"), min_history=3) is not None


def test_below_min_spend_never_alerts() -> None:
    tiny = d(*["0.001"] * 10)
    assert detect_spike(tiny, Decimal("0.99")) is None  # 990x, but under a dollar
    assert detect_spike(tiny, Decimal("0.99"), min_spend=Decimal("0.5")) is not None
    assert detect_spike(FLAT, Decimal("1000"), min_spend=Decimal("1000.01")) is None


def test_spend_from_a_zero_history_is_flagged() -> None:
    # Something that normally costs nothing now costs real money (a runaway loop, a leaked
    # key): that is the alert. The absolute floor keeps the score finite.
    zeros = d(*["0"] * 7)
    spike = detect_spike(zeros, Decimal("1"))
    assert spike is not None
    assert spike.baseline == 0
    assert spike.spread == ABSOLUTE_SPREAD_FLOOR
    assert spike.score == 100.0
    assert detect_spike(zeros, Decimal("0.99")) is None  # ... but small change is not


def test_mostly_zero_history_does_not_make_every_cent_a_spike() -> None:
    sparse = d("0", "0", "0", "0.40", "0", "0", "0.70", "0")
    assert detect_spike(sparse, Decimal("0.05"), min_spend=Decimal("0")) is None
    assert robust_spread(sparse, Decimal("0")) == ABSOLUTE_SPREAD_FLOOR


def test_threshold_boundary_is_inclusive_on_the_relative_floor() -> None:
    # spread = 10 (10% of 100): 160 scores exactly 6.
    spike = detect_spike(FLAT, Decimal("160"))
    assert spike is not None
    assert spike.score == 6.0
    assert detect_spike(FLAT, Decimal("159.99")) is None


def test_threshold_boundary_is_inclusive_on_the_mad() -> None:
    history = d("10", "11", "9", "10", "11", "9", "10")  # median 10, MAD 1
    at = Decimal("10") + 6 * Decimal("1.4826")  # 18.8956
    spike = detect_spike(history, at, min_spend=Decimal("0"))
    assert spike is not None
    assert spike.spread == Decimal("1.4826")
    assert spike.score == 6.0
    assert detect_spike(history, at - Decimal("0.0001"), min_spend=Decimal("0")) is None


def test_a_custom_threshold() -> None:
    assert detect_spike(NOISY, Decimal("200")) is None  # score ~4.5
    spike = detect_spike(NOISY, Decimal("200"), threshold=4.0)
    assert spike is not None
    assert spike.threshold == 4.0


@pytest.mark.parametrize(
    ("history", "current"),
    [
        (FLAT, "1000"),
        (FLAT, "160"),
        (FLAT, "159.99"),
        (NOISY, "150"),
        (NOISY, "233.43"),  # the boundary is 100 + 6 * 22.239 = 233.434
        (NOISY, "233.44"),
        (d("12.5", "13.1", "11.9", "12.0", "14.2", "12.7"), "25"),
        (d("12.5", "13.1", "11.9", "12.0", "14.2", "12.7"), "40"),
    ],
)
@pytest.mark.parametrize("factor", ["0.25", "3", "10", "1000", "123.456"])
def test_scaling_history_and_spend_keeps_the_decision(
    history: list[Decimal], current: str, factor: str
) -> None:
    # Units must not matter (cents vs dollars, a day vs a week). min_spend is a money amount,
    # so it scales too; the one-cent absolute floor does not bind at these amounts.
    k = Decimal(factor)
    before = detect_spike(history, Decimal(current))
    after = detect_spike([x * k for x in history], Decimal(current) * k, min_spend=Decimal("1") * k)
    assert (before is None) == (after is None)
    if before is not None and after is not None:
        assert after.score == pytest.approx(before.score)


@pytest.mark.parametrize("threshold", [0.0, -1.0, float("nan"), float("inf")])
def test_a_meaningless_threshold_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        detect_spike(FLAT, Decimal("1000"), threshold=threshold)


def test_min_history_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="min_history"):
        detect_spike([], Decimal("1000"), min_history=0)


def test_settings_refuse_a_history_too_short_for_a_verdict() -> None:
    # detect_spike gives no verdict on fewer hours than its min_history: a shorter configured
    # history would switch anomaly detection off without a word.
    shortest = inspect.signature(detect_spike).parameters["min_history"].default
    assert CostsSettings(anomaly_history_hours=shortest).anomaly_history_hours == shortest
    with pytest.raises(ValidationError, match="anomaly_history_hours"):
        CostsSettings(anomaly_history_hours=shortest - 1)
