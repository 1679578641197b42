"""The clock port: the one place business time comes from.

Budgets, hourly rollups, anomaly windows, checkpoints, retention cut-offs and outbox ages are all
calendar arithmetic, and they must be right on the last second of a month, of a year and on
29 February whatever day the code runs. So no module reads the wall clock for business time: it
takes a :class:`Clock` (the :data:`SYSTEM_CLOCK` by default) and calls ``now()``; tests pass a
:class:`FixedClock` set to the instant they are about. ``make lint`` enforces it
(``tools/check_clock.py``): a call to ``datetime.now()``, ``datetime.utcnow()``, ``date.today()``
or ``time.time()`` anywhere else fails, unless its line says ``# clock-ok: <why>``.

Monotonic timers (``time.monotonic()``, ``time.perf_counter()``) measure durations, not dates; they
stay where latency and timeouts are measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_CLOCK", "Clock", "FixedClock", "ShiftedClock", "SystemClock", "require_utc"]


@runtime_checkable
class Clock(Protocol):
    """Port: tells the current instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    """The machine's wall clock, in UTC: the default in every running service."""

    def now(self) -> datetime:
        """The wall-clock instant, timezone-aware in UTC."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


#: The one wall clock services use unless they are given another.
SYSTEM_CLOCK = SystemClock()


def require_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; naive datetimes are refused rather than guessed.

    Raises:
        ValueError: ``moment`` has no time zone.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a clock instant must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


class FixedClock:
    """A clock that stands still until moved: for tests, replays and backfills.

    Args:
        at: the instant it shows (timezone-aware; converted to UTC).
    """

    def __init__(self, at: datetime) -> None:
        self._at = require_utc(at)

    def now(self) -> datetime:
        """The instant it was set to."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move it to ``at`` (forwards or backwards)."""
        self._at = require_utc(at)

    def advance(self, delta: timedelta | None = None, /, **units: float) -> datetime:
        """Move it forwards by ``delta`` or by ``timedelta(**units)``; returns the new instant.

        Example: ``clock.advance(seconds=1)`` moves 2026-12-31T23:59:59Z into the new year.
        """
        self._at += delta if delta is not None else timedelta(**units)
        return self._at

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"


class ShiftedClock:
    """A clock that starts at a chosen instant and then runs at the wall clock's pace.

    For a running service under test (its outbox ages, cache expiries and sweepers need time to
    pass) and for replays that must see a given calendar day; it never reads the wall-clock date.

    Args:
        start: the instant it shows now (timezone-aware; converted to UTC).
        monotonic: the timer that paces it (injectable for tests of the clock itself).
    """

    def __init__(self, start: datetime, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._start = require_utc(start)
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        """``start`` plus the time elapsed since the clock was made."""
        return self._start + timedelta(seconds=self._monotonic() - self._origin)

    def __repr__(self) -> str:
        return f"ShiftedClock(start={self._start.isoformat()})"
