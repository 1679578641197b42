"""The four calendar edges the suite stands at, with what is expected there, written by hand.

Nothing here is computed by the code under test (nor by any date arithmetic): a window, an hour
or a stamp that the code gets wrong at a month end cannot also be wrong in the expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

Window = tuple[datetime, datetime]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """A UTC instant (shorter to read in the table below)."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


@dataclass(frozen=True)
class Edge:
    """One instant at a calendar edge and what every clock-sensitive rule must make of it."""

    name: str
    #: The instant the clock shows (and calls are dated at).
    at: datetime
    #: ``at`` in the audit trail's fixed format.
    stamp: str
    #: The UTC calendar day and month windows ``[start, end)`` holding ``at``.
    day: Window
    month: Window
    #: The rollup hour holding ``at``.
    hour: datetime
    #: The next UTC midnight after ``at`` (the start of the next day window) ...
    next_midnight: datetime
    #: ... how far the clock moves to reach it ...
    step: timedelta
    #: ... its audit stamp, and the windows holding it.
    next_stamp: str
    day_after: Window
    month_after: Window
    #: An hour checked for a spend spike whose 24-hour history crosses the edge, with the first
    #: and last hours of that history.
    anomaly_hour: datetime
    history_first: datetime
    history_last: datetime


EDGES = [
    Edge(
        name="last-ms-of-2026",
        at=utc(2026, 12, 31, 23, 59, 59, 999000),
        stamp="2026-12-31T23:59:59.999000Z",
        day=(utc(2026, 12, 31), utc(2027, 1, 1)),
        month=(utc(2026, 12, 1), utc(2027, 1, 1)),
        hour=utc(2026, 12, 31, 23),
        next_midnight=utc(2027, 1, 1),
        step=timedelta(milliseconds=1),
        next_stamp="2027-01-01T00:00:00.000000Z",
        day_after=(utc(2027, 1, 1), utc(2027, 1, 2)),
        month_after=(utc(2027, 1, 1), utc(2027, 2, 1)),
        anomaly_hour=utc(2027, 1, 1),
        history_first=utc(2026, 12, 31),
        history_last=utc(2026, 12, 31, 23),
    ),
    Edge(
        name="last-second-of-january-2027",
        at=utc(2027, 1, 31, 23, 59, 59),
        stamp="2027-01-31T23:59:59.000000Z",
        day=(utc(2027, 1, 31), utc(2027, 2, 1)),
        month=(utc(2027, 1, 1), utc(2027, 2, 1)),
        hour=utc(2027, 1, 31, 23),
        next_midnight=utc(2027, 2, 1),
        step=timedelta(seconds=1),
        next_stamp="2027-02-01T00:00:00.000000Z",
        day_after=(utc(2027, 2, 1), utc(2027, 2, 2)),
        month_after=(utc(2027, 2, 1), utc(2027, 3, 1)),
        anomaly_hour=utc(2027, 2, 1),
        history_first=utc(2027, 1, 31),
        history_last=utc(2027, 1, 31, 23),
    ),
    Edge(
        name="leap-day-noon-2028",
        at=utc(2028, 2, 29, 12),
        stamp="2028-02-29T12:00:00.000000Z",
        day=(utc(2028, 2, 29), utc(2028, 3, 1)),
        month=(utc(2028, 2, 1), utc(2028, 3, 1)),
        hour=utc(2028, 2, 29, 12),
        next_midnight=utc(2028, 3, 1),
        step=timedelta(hours=12),
        next_stamp="2028-03-01T00:00:00.000000Z",
        day_after=(utc(2028, 3, 1), utc(2028, 3, 2)),
        month_after=(utc(2028, 3, 1), utc(2028, 4, 1)),
        anomaly_hour=utc(2028, 2, 29, 12),
        history_first=utc(2028, 2, 28, 12),
        history_last=utc(2028, 2, 29, 11),
    ),
    Edge(
        name="first-instant-of-march-2028",
        at=utc(2028, 3, 1),
        stamp="2028-03-01T00:00:00.000000Z",
        day=(utc(2028, 3, 1), utc(2028, 3, 2)),
        month=(utc(2028, 3, 1), utc(2028, 4, 1)),
        hour=utc(2028, 3, 1),
        next_midnight=utc(2028, 3, 2),
        step=timedelta(days=1),
        next_stamp="2028-03-02T00:00:00.000000Z",
        day_after=(utc(2028, 3, 2), utc(2028, 3, 3)),
        # The next midnight is still March: the month window does not change.
        month_after=(utc(2028, 3, 1), utc(2028, 4, 1)),
        anomaly_hour=utc(2028, 3, 1),
        history_first=utc(2028, 2, 29),
        history_last=utc(2028, 2, 29, 23),
    ),
]
