"""Per-word results remembered across texts, within a bound."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class WordMemo(dict[str, T], Generic[T]):
    """``of(word)``, remembered per word.

    Texts share most of their words, and looking a word up costs less than slicing new strings
    from it and hashing them again: the detectors' per-word steps (a word's stem, its trigger
    keys, whether the model reads it) run as ``map(memo.__getitem__, words)``, in C but for the
    words not seen before. Everything is forgotten at once past ``limit`` words, so a stream of
    made-up words cannot grow it without bound.

    Args:
        of: the function remembered (pure: the same word, the same result).
        limit: most words remembered.
    """

    def __init__(self, of: Callable[[str], T], limit: int = 100_000) -> None:
        super().__init__()
        self.of = of
        self.limit = limit

    def __missing__(self, word: str) -> T:
        if len(self) >= self.limit:
            self.clear()
        value = self[word] = self.of(word)
        return value
