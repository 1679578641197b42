"""The pure parts of `llmops costs`: amounts, periods and the spend chart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from llmops.costs import money, period_label, spend_chart


def test_money_keeps_cents_small_amounts_and_dust_apart() -> None:
    cases = {
        "0": "$0.00",
        "1234.5": "$1,234.50",
        "1": "$1.00",
        "0.05": "$0.0500",
        "0.000123": "$0.0001",
        "0.00001": "<$0.0001",
        "-12.5": "-$12.50",
    }
    assert {k: money(Decimal(k)) for k in cases} == cases
    assert money(Decimal("3.5"), "EUR") == "3.50 EUR"


def test_periods_are_utc_days_or_hours() -> None:
    nine_cet = datetime(2026, 11, 2, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert period_label(nine_cet, "day") == "2026-11-01"
    assert period_label(nine_cet, "hour") == "2026-11-01 23:30"
    assert period_label(None, "total") == "all"
    assert period_label(datetime(2026, 11, 1, tzinfo=UTC), "day") == "2026-11-01"


def test_chart_scales_to_the_top_day_and_never_hides_a_day_with_spend() -> None:
    days = [
        (date(2026, 11, 1), Decimal("10")),
        (date(2026, 11, 2), Decimal("2.5")),
        (date(2026, 11, 3), Decimal("0.001")),
        (date(2026, 11, 4), Decimal("0")),
    ]
    lines = spend_chart(days, width=20)
    assert [line.count("█") for line in lines] == [20, 5, 1, 0]
    assert lines[1] == "2026-11-02 █████" + " " * 15 + " $2.50"
    # Amounts line up: every bar is padded to the width.
    assert len({line.index("$") for line in lines}) == 1
    assert spend_chart([(date(2026, 11, 1), Decimal(0))], width=5) == ["2026-11-01       $0.00"]
    assert spend_chart([]) == []


def test_a_table_into_a_pipe_keeps_every_cell_whole() -> None:
    import io

    from rich.console import Console
    from rich.table import Table

    from llmops.terminal import show

    table = Table()
    cells = [f"column-{i}-with-a-long-value" for i in range(8)]
    for i in range(8):
        table.add_column(f"header-{i}")
    table.add_row(*cells)

    piped = io.StringIO()
    show(table, Console(file=piped, width=80, force_terminal=False))
    text = piped.getvalue()
    assert all(cell in text for cell in cells)
    assert "…" not in text
    # What rich alone prints into the same 80 columns: squeezed cells (the case show() avoids).
    squeezed = io.StringIO()
    Console(file=squeezed, width=80, force_terminal=False).print(table)
    assert not all(cell in squeezed.getvalue() for cell in cells)
