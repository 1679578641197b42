"""BM25 as sparse vectors: the default embedding, no model, the same on every machine.

A text becomes terms (NFKC, lower case, ``\\w+`` words, filler words out, Snowball-stemmed),
and a term becomes a 32-bit id (CRC-32 of its UTF-8 bytes; two terms sharing an id merely add up,
about one pair in 10^5 at this corpus scale). Then:

- a **document** (a chunk) weighs each term by BM25's saturated term frequency,
  ``tf·(k1+1) / (tf + k1·(1 - b + b·len/avg_len))``, with ``len`` its term count;
- a **query** weighs each distinct term 1.

The index multiplies both with the inverse document frequency it keeps itself (Qdrant's ``IDF``
modifier), so a query's dot product with a chunk is the chunk's BM25 score. ``avg_len`` is a
constant rather than the corpus mean so a chunk's vector never changes when others are added;
ingestion and retrieval must use the same :func:`terms` (retrieval encodes the query), which is
why this lives in the shared library rather than in either service.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\w+")

# Only filler words that never name a topic. Short words that are keywords in programming and
# query languages (``with``, ``for``, ``if``, ``in``, ``is``, ``not``, ``and``, ``or``, ``as``,
# ``from``, ``while``, ``else``, ``select``...) stay: technical documents are about them, and the
# index's IDF already weighs common words down.
STOP_WORDS = frozenset(
    """a an the of to be been being am are was were this that these those it its i me my we our
    you your he him his she her they them their what which who whom how why when where there here
    do does did done can could would should shall may might please about into onto than then
    very just also some any""".split()  # noqa: SIM905 - a word list reads better as prose
)

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def terms(text: str) -> list[str]:
    """The index terms of ``text``, in order (repeats kept)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
    return [_stem(w) for w in words if w not in STOP_WORDS]


def term_id(term: str) -> int:
    """The 32-bit id of a term."""
    return zlib.crc32(term.encode())


@dataclass(frozen=True)
class SparseEncoder:
    """BM25 document and query vectors (``indices`` strictly increasing, ``values`` > 0)."""

    k1: float = 1.2
    b: float = 0.75
    avg_len: float = 120.0
    model: str = "bm25-snowball-crc32"

    def document(self, text: str) -> tuple[list[int], list[float]]:
        """The vector of a chunk: saturated, length-normalised term frequencies."""
        words = terms(text)
        if not words:
            return [], []
        counts = Counter(term_id(t) for t in words)
        norm = self.k1 * (1 - self.b + self.b * len(words) / self.avg_len)
        indices = sorted(counts)
        values = [counts[i] * (self.k1 + 1) / (counts[i] + norm) for i in indices]
        return indices, values

    def query(self, text: str) -> tuple[list[int], list[float]]:
        """The vector of a query: each distinct term once, weight 1."""
        indices = sorted({term_id(t) for t in terms(text)})
        return indices, [1.0] * len(indices)
