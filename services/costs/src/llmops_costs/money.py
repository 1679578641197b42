"""Exact decimal arithmetic: money is exact or an error, never rounded.

Every sum and product of money in the costs service runs in :func:`exact`. Inputs are bounded at
the edge (``llmops_contracts.common.Money``: 40 digits, 24 places; token counts up to 10^12), so
a price times a count, and any sum of those, stays far below 80 digits: a computation that would
still need rounding raises ``Inexact`` instead of losing a fraction of a cent.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import Context, DivisionByZero, Inexact, InvalidOperation, Overflow, localcontext

#: Decimal arithmetic that never rounds silently. 80 digits hold any product of a bounded price
#: and a bounded token count, and any sum of them.
EXACT = Context(prec=80, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])


def exact() -> AbstractContextManager[Context]:
    """A decimal context that raises rather than rounds."""
    return localcontext(EXACT)
