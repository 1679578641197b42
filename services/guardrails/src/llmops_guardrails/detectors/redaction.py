"""Redaction: replace findings with typed, numbered placeholders, and undo it for the caller.

``redact(text, hits)`` replaces every span with ``[EMAIL_1]``, ``[PHONE_2]``, ``[CARD_1]`` ...:
the label says what kind of value was there, the number which one, so a model can still tell
"write to [EMAIL_1], copy [EMAIL_2]" apart, and the same value gets the same number every time
it appears. Overlapping spans are merged into one that covers all their characters (hiding a
little more beats leaving a piece of a card number), labelled by the best of them: the highest
score, then the longest.

A :class:`Vault` makes redaction reversible for one request: it remembers which value each
placeholder stands for, so a model's answer that mentions ``[EMAIL_1]`` (once, twice, or after
``[EMAIL_2]``) can be restored for the caller who sent the original. A vault lives in memory for
one request id and never leaves the process: it is not part of a finding, a verdict or an event,
and its ``repr`` shows counts, not values. :class:`Vaults` keeps one vault per request id,
bounded in number so a caller who never closes its requests cannot grow it without limit.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from llmops_guardrails.detectors.base import Hit

#: Placeholder label per finding kind; a kind not listed is labelled by its upper-cased name.
LABELS: Mapping[str, str] = {
    "email": "EMAIL",
    "phone": "PHONE",
    "card_number": "CARD",
    "iban": "IBAN",
    "us_ssn": "SSN",
    "gb_nino": "NINO",
    "fr_nir": "NIR",
    "de_idnr": "TAX_ID",
    "es_dni": "DNI",
    "es_nie": "NIE",
    "pt_nif": "NIF",
    "it_codice_fiscale": "CODICE_FISCALE",
    "ip_address": "IP",
    "street_address": "ADDRESS",
    "private_key": "PRIVATE_KEY",
    "jwt": "JWT",
    "password": "PASSWORD",
}

_PLACEHOLDER = re.compile(r"\[([A-Z][A-Z0-9_]*?)_([1-9][0-9]*)\]")


def label_for(kind: str) -> str:
    """The placeholder label of a finding kind (``email`` -> ``EMAIL``)."""
    known = LABELS.get(kind)
    if known:
        return known
    if kind.endswith(("_api_key", "_token", "_key", "_secret", "_webhook")) or kind == "secret":
        return "SECRET"
    return re.sub(r"[^A-Z0-9]+", "_", kind.upper()).strip("_") or "REDACTED"


@dataclass(frozen=True, slots=True)
class Replacement:
    """One replaced span: where it was in the original text, and its placeholder (no value)."""

    start: int
    end: int
    kind: str
    placeholder: str


@dataclass(frozen=True, slots=True)
class Redacted:
    """The redacted text and what was replaced in it."""

    text: str
    replacements: tuple[Replacement, ...]


class Vault:
    """Placeholders and the values they hide, for one request; in memory only.

    Args:
        request_id: the request this vault belongs to.
    """

    __slots__ = ("_by_placeholder", "_by_value", "_counts", "request_id")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def __repr__(self) -> str:  # never the values
        return f"Vault(request_id={self.request_id!r}, placeholders={len(self._by_placeholder)})"

    def __len__(self) -> int:
        return len(self._by_placeholder)

    def placeholder(self, label: str, value: str, taken: Collection[str] = ()) -> str:
        """The placeholder for ``value`` under ``label``, numbering a new value.

        Args:
            label: the placeholder label (``EMAIL``).
            value: the original text of the span.
            taken: placeholder-like strings that must not be issued (those already in the
                original text: if it says ``[EMAIL_1]``, a new value gets ``[EMAIL_2]``, so
                restoring never rewrites what the user typed).
        """
        key = (label, value)
        known = self._by_value.get(key)
        if known is not None:
            return known
        n = self._counts.get(label, 0)
        while True:
            n += 1
            candidate = f"[{label}_{n}]"
            if candidate not in self._by_placeholder and candidate not in taken:
                break
        self._counts[label] = n
        self._by_value[key] = candidate
        self._by_placeholder[candidate] = value
        return candidate

    def mapping(self) -> dict[str, str]:
        """Placeholder -> original value, for sealing (see ``vault_tokens``)."""
        return dict(self._by_placeholder)

    @classmethod
    def from_mapping(cls, request_id: str, mapping: Mapping[str, str]) -> Vault:
        """A vault that knows ``mapping`` (placeholder -> value) and numbers new values after it."""
        vault = cls(request_id)
        for placeholder, value in mapping.items():
            found = _PLACEHOLDER.fullmatch(placeholder)
            if found is None:
                raise ValueError("not a placeholder")
            label, n = found.group(1), int(found.group(2))
            vault._by_placeholder[placeholder] = value
            vault._by_value[(label, value)] = placeholder
            vault._counts[label] = max(vault._counts.get(label, 0), n)
        return vault

    def restore(self, text: str) -> str:
        """``text`` with every placeholder this vault issued replaced by its original value.

        Placeholders may appear in any order and any number of times; ones this vault did not
        issue are left as they are.
        """
        return _PLACEHOLDER.sub(lambda m: self._by_placeholder.get(m.group(), m.group()), text)


@dataclass
class Vaults:
    """One :class:`Vault` per request id, in memory, the oldest dropped beyond ``max_requests``."""

    max_requests: int = 10_000
    _vaults: OrderedDict[str, Vault] = field(default_factory=OrderedDict, repr=False)

    def for_request(self, request_id: str) -> Vault:
        """The vault of ``request_id``, created on first use."""
        vault = self._vaults.get(request_id)
        if vault is None:
            vault = self._vaults[request_id] = Vault(request_id)
            while len(self._vaults) > self.max_requests:
                self._vaults.popitem(last=False)
        else:
            self._vaults.move_to_end(request_id)
        return vault

    def get(self, request_id: str) -> Vault | None:
        """The vault of ``request_id`` if it is still kept."""
        return self._vaults.get(request_id)

    def discard(self, request_id: str) -> None:
        """Forget a request's vault (its values are gone for good)."""
        self._vaults.pop(request_id, None)

    def __len__(self) -> int:
        return len(self._vaults)


def merge(hits: Iterable[Hit], threshold: float = 0.0) -> list[Hit]:
    """Hits at or above ``threshold``, overlapping ones merged.

    A merged hit covers the union of the spans that overlap (transitively) and takes the kind,
    detector, version and score of the best of them: highest score, then longest.
    """
    ordered = sorted((h for h in hits if h.score >= threshold), key=lambda h: (h.start, -h.end))
    merged: list[Hit] = []
    best: Hit | None = None
    start = end = 0
    for hit in ordered:
        if best is not None and hit.start < end:
            end = max(end, hit.end)
            if (hit.score, hit.end - hit.start) > (best.score, best.end - best.start):
                best = hit
            continue
        if best is not None:
            merged.append(_spanned(best, start, end))
        best, start, end = hit, hit.start, hit.end
    if best is not None:
        merged.append(_spanned(best, start, end))
    return merged


def _spanned(hit: Hit, start: int, end: int) -> Hit:
    return Hit(hit.detector, hit.kind, start, end, hit.score, hit.version)


def redact(
    text: str, hits: Iterable[Hit], vault: Vault | None = None, threshold: float = 0.0
) -> Redacted:
    """Replace every hit (at or above ``threshold``) in ``text`` by its placeholder.

    Args:
        text: the original text.
        hits: findings on ``text`` (of any detectors; overlapping ones are merged).
        vault: where placeholders are kept for :meth:`Vault.restore`; without one a private vault
            numbers this text alone and is discarded.
        threshold: hits scoring below it are left in place.
    """
    numbering = vault if vault is not None else Vault("")
    taken = frozenset(m.group() for m in _PLACEHOLDER.finditer(text)) if "[" in text else ()
    parts: list[str] = []
    replacements: list[Replacement] = []
    cursor = 0
    for hit in merge(hits, threshold):
        placeholder = numbering.placeholder(label_for(hit.kind), text[hit.start : hit.end], taken)
        parts.append(text[cursor : hit.start])
        parts.append(placeholder)
        replacements.append(Replacement(hit.start, hit.end, hit.kind, placeholder))
        cursor = hit.end
    parts.append(text[cursor:])
    return Redacted("".join(parts), tuple(replacements))
