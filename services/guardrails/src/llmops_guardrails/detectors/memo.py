"""Per-word results remembered across texts, within bounds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class WordMemo(dict[str, T], Generic[T]):
    """``of(word)``, remembered per word.

    Texts share most of their words, and looking a word up costs less than slicing new strings
    from it and hashing them again: the detectors' per-word steps (a word's stem, its trigger
    keys, whether the model reads it) run as ``map(memo.__getitem__, words)``, in C but for the
    words not seen before. Bounded both ways, so no stream of made-up words can grow it: a word
    longer than ``longest`` characters is computed and not kept (no word of a language is that
    long, and keeping one would keep the text it came from), and everything is forgotten at once
    past ``limit`` words.

    Args:
        of: the function remembered (pure: the same word, the same result).
        limit: most words remembered.
        longest: longest word remembered.
    """

    def __init__(self, of: Callable[[str], T], limit: int = 20_000, longest: int = 40) -> None:
        super().__init__()
        self.of = of
        self.limit = limit
        self.longest = longest

    def __missing__(self, word: str) -> T:
        value = self.of(word)
        if len(word) <= self.longest:
            if len(self) >= self.limit:
                self.clear()
            self[word] = value
        return value
