"""The calendar-edge suite: every clock-sensitive path at the ends of days, months and years.

Each test runs at the four instants of :data:`tests.calendar.edges.EDGES` (the last millisecond of
2026, the last second of January 2027, noon of 29 February 2028 and the first instant of March
2028), with the expected windows, hours and stamps written out by hand, never computed by the
code under test.
"""
