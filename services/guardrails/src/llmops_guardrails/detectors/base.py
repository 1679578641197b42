"""What every detector returns, and the one interface they share.

A hit names where (character offsets into the text as given, Python string indices), what kind
of thing, how sure (a score in [0, 1]) and which detector version said so — never the matched
text itself: findings travel in verdicts and events that audit keeps, and a finding that quoted
the card number it found would leak what it was meant to hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Hit:
    """One finding of one detector.

    Attributes:
        detector: the detector's name (``pii``, ``secrets``, ``injection`` ...).
        kind: what was found (``email``, ``iban``, ``instruction_override`` ...).
        start: offset of the first character of the span.
        end: offset one past its last character (``start <= end``).
        score: confidence in [0, 1]; policies compare it with their threshold.
        version: the detector's version, so a verdict can be traced to the code that made it.
    """

    detector: str
    kind: str
    start: int
    end: int
    score: float
    version: str


class Detector(Protocol):
    """Port: a named, versioned, pure text detector."""

    name: str
    version: str

    def detect(self, text: str) -> list[Hit]:
        """Every hit in ``text``, ordered by ``start``."""
        ...
