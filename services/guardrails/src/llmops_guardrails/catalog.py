"""The detectors a policy can name, and the small built-in ones that need no module of their own.

A policy rule names a detector and may give it ``options``. :data:`BUILTINS` maps each name to
a factory taking those options as keyword arguments and returning a
:class:`~llmops_guardrails.detectors.base.Detector`; adding a detector is one line there:

- ``injection`` (``detectors/injection.py``), ``pii`` and ``secrets`` (``detectors/pii.py``,
  ``detectors/secrets.py``), ``terms`` (deny/allow lists, competitors, topics:
  ``detectors/terms.py``; the options are its ``terms`` section);
- the output checks of ``detectors/output.py``: ``json_schema``, ``refusal``,
  ``prompt_leakage`` (against the call's system prompt), ``groundedness`` (against the call's
  context), ``url_allowlist``, ``length``;
- ``email``, ``card`` and ``denylist``: the first, regex-only detectors, kept for policies
  that name them (``pii`` finds far more).

``guardrails-ai:<validator>`` names a guardrails-ai validator (``guardrails/regex_match``, or
``llmops/<name>`` for ours); its options are the validator's arguments, and it runs through the
guardrails-ai layer's ``GuardRunner`` (:mod:`llmops_guardrails.plugins`), awaited by the engine.
:func:`use_guardrails_ai` swaps that factory (tests). A factory that refuses its options, or a
validator that is not installed, raises :class:`DetectorUnavailable` with the reason, and the
policy naming it is refused.

Offsets are Python string indices (code points) into the checked text. No finding quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, cast

from llmops_guardrails.detectors.base import Detector, Hit

#: How a policy names a guardrails-ai validator: ``guardrails-ai:<validator name>``.
PLUGIN_PREFIX = "guardrails-ai:"

# The look-behind starts a match only where a local part can start, which keeps the scan linear
# on long runs of letters (the content may be 1 MB); 64 is RFC 5321's local-part limit.
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# 13-19 digits, optionally grouped by single spaces or hyphens; the look-arounds keep a longer
# digit run from being split into a card-sized piece.
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
#: Deletes the digits of a text: what is left says how many there were (a fast pre-check).
_NO_DIGITS = str.maketrans("", "", "0123456789")


class DetectorUnavailable(ValueError):
    """A policy names a detector that does not exist here, or gives it options it refuses."""


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum used by payment card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class EmailDetector:
    """E-mail addresses (a pattern; the PII detector supersedes it once merged)."""

    name = "email"
    version = "email-re1"

    def detect(self, text: str) -> list[Hit]:
        """Every address in ``text``."""
        if "@" not in text:  # most texts (performance: the pattern looks at every word)
            return []
        return [
            Hit(self.name, "email", m.start(), m.end(), 1.0, self.version)
            for m in EMAIL.finditer(text)
        ]


class CardDetector:
    """Payment card numbers: 13-19 digits, optionally grouped, that pass the Luhn check."""

    name = "card"
    version = "card-luhn1"

    def detect(self, text: str) -> list[Hit]:
        """Every Luhn-valid card-like number in ``text``."""
        if len(text) - len(text.translate(_NO_DIGITS)) < 13:  # too few digits for a card
            return []
        hits = []
        for m in CARD.finditer(text):
            digits = m.group(0).replace(" ", "").replace("-", "")
            # Most 13-19 digit numbers (ids, phone numbers) fail Luhn; 1 in 10 passes by chance.
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                hits.append(Hit(self.name, "card_number", m.start(), m.end(), 1.0, self.version))
        return hits


class DenylistDetector:
    """Terms a tenant never wants to see: case-insensitive, whole words, any run of white space
    between the words of a phrase.

    Args:
        terms: the terms; empty terms are ignored.
    """

    name = "denylist"
    version = "denylist-1"

    def __init__(self, terms: Sequence[str] = ()) -> None:
        if isinstance(terms, str) or not all(isinstance(t, str) for t in terms):
            raise DetectorUnavailable("denylist: options.terms is a list of strings")
        cleaned = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
        self.terms = tuple(cleaned)
        # A term's first word must be in the text for the term to be (performance: a substring
        # test of the lower-cased text is far cheaper than the pattern's scan). Only for ASCII,
        # where lower() and the pattern's case-insensitive matching agree letter for letter.
        firsts = {t.split()[0].lower() for t in cleaned}
        self._firsts = tuple(firsts) if all(f.isascii() for f in firsts) else None
        alternatives = "|".join(r"\s+".join(re.escape(w) for w in t.split()) for t in cleaned)
        # Whole words only, so "class" on the list does not block "classic".
        self._re = (
            re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if cleaned else None
        )

    def detect(self, text: str) -> list[Hit]:
        """Every listed term in ``text``."""
        if self._re is None:
            return []
        if self._firsts is not None and text.isascii():
            lowered = text.lower()
            if not any(first in lowered for first in self._firsts):
                return []
        return [
            Hit(self.name, "term", m.start(), m.end(), 1.0, self.version)
            for m in self._re.finditer(text)
        ]


@cache
def _injection(model_path: str | None) -> Detector:
    from llmops_guardrails.detectors.injection import InjectionDetector

    # One instance per weights file: its model is loaded once, on first use. (Its ``version``
    # is a read-only property, which the protocol's plain attribute does not express.)
    return cast(Detector, InjectionDetector(Path(model_path) if model_path else None))


def injection(model_path: str | None = None) -> Detector:
    """The prompt-injection detector, shared by every policy naming the same weights."""
    if model_path is not None and not isinstance(model_path, str):
        raise DetectorUnavailable("injection: options.model_path is a path")
    return _injection(model_path)


def pii(**options: Any) -> Detector:
    """Personal data (``regions``: phone numbering plans; ``kinds``: only these)."""
    from llmops_guardrails.detectors.pii import PiiDetector

    return PiiDetector(**options)


def secrets() -> Detector:
    """API keys and tokens, private keys, JWTs, passwords, high-entropy values."""
    from llmops_guardrails.detectors.secrets import SecretsDetector

    return SecretsDetector()


def terms(**section: Any) -> Detector:
    """Denied terms, competitors and topics (the options are the ``terms`` section)."""
    from llmops_guardrails.detectors.terms import TermsConfig, TermsDetector

    return cast(Detector, TermsDetector(TermsConfig.from_dict(section)))


def json_schema(schema: Mapping[str, Any], allow_fenced: bool = True) -> Detector:
    """The output is JSON valid against ``schema``."""
    from llmops_guardrails.detectors.output import JsonSchemaCheck

    return JsonSchemaCheck(schema, allow_fenced=allow_fenced)


def refusal() -> Detector:
    """Refusal phrases in five languages."""
    from llmops_guardrails.detectors.output import RefusalDetector

    return RefusalDetector()


def url_allowlist(allow: Sequence[str]) -> Detector:
    """URLs whose host is not allowed."""
    from llmops_guardrails.detectors.output import UrlAllowlistDetector

    return UrlAllowlistDetector(allow)


def length(**options: Any) -> Detector:
    """Outputs too long (``max_chars``, ``max_tokens``)."""
    from llmops_guardrails.detectors.output import LengthLimit

    return LengthLimit(**options)


class PromptLeakage:
    """Passages of the call's system prompt in the text (nothing without a system prompt).

    The output check is built per call from the prompt; the options (``threshold``,
    ``window_words`` ...) are checked when the policy is compiled.
    """

    name = "prompt_leakage"

    def __init__(self, **options: Any) -> None:
        from llmops_guardrails.detectors.output import PromptLeakageDetector

        self._make = PromptLeakageDetector
        self._options = options
        self.version = PromptLeakageDetector("option check", **options).version

    def detect(self, text: str) -> list[Hit]:
        """No system prompt, nothing to compare with."""
        return []

    def detect_with(
        self, text: str, *, context: Sequence[str] = (), system_prompt: str | None = None
    ) -> list[Hit]:
        """Leaked passages of ``system_prompt`` in ``text``."""
        if not system_prompt:
            return []
        return self._make(system_prompt, **self._options).detect(text)


class Groundedness:
    """Sentences the call's context does not support (nothing without a context)."""

    name = "groundedness"

    def __init__(self, **options: Any) -> None:
        from llmops_guardrails.detectors.output import GroundednessDetector

        self._make = GroundednessDetector
        self._options = options
        self.version = GroundednessDetector("option check.", **options).version

    def detect(self, text: str) -> list[Hit]:
        """No context, nothing to compare with."""
        return []

    def detect_with(
        self, text: str, *, context: Sequence[str] = (), system_prompt: str | None = None
    ) -> list[Hit]:
        """Unsupported sentences of ``text``."""
        if not context:
            return []
        return self._make(list(context), **self._options).detect(text)


Factory = Callable[..., Detector]

#: Built-in detectors by the name policies use. One line per detector.
BUILTINS: dict[str, Factory] = {
    "injection": injection,
    "pii": pii,
    "secrets": secrets,
    "terms": terms,
    "json_schema": json_schema,
    "refusal": refusal,
    "prompt_leakage": PromptLeakage,
    "groundedness": Groundedness,
    "url_allowlist": url_allowlist,
    "length": length,
    "email": EmailDetector,
    "card": CardDetector,
    "denylist": DenylistDetector,
}


class GuardrailsAiDetector:
    """A guardrails-ai validator as a detector: one ``AsyncGuard`` built when the policy is
    compiled (building costs far more than running), awaited on each text."""

    def __init__(self, validator: str, runner: Any) -> None:
        self.name = validator
        self.version = "guardrails-ai"
        self._runner = runner

    async def detect(self, text: str) -> list[Hit]:
        """The validator's failures on ``text`` as hits."""
        hits: list[Hit] = await self._runner.run(text)
        return hits


def _guardrails_ai(validator: str, options: Mapping[str, Any]) -> Detector:
    try:
        from llmops_guardrails import plugins
    except ImportError as exc:  # guardrails-ai not installed in this environment
        raise DetectorUnavailable(
            f"{PLUGIN_PREFIX}{validator}: guardrails-ai is not installed ({exc})"
        ) from None
    try:
        runner = plugins.GuardRunner([plugins.ValidatorSpec(validator, dict(options))])
    except ImportError as exc:
        raise DetectorUnavailable(
            f"{PLUGIN_PREFIX}{validator}: guardrails-ai is not installed ({exc})"
        ) from None
    except (plugins.UnknownValidator, plugins.InvalidValidatorSpec) as exc:
        raise DetectorUnavailable(f"{PLUGIN_PREFIX}{validator}: {exc}") from None
    return cast(Detector, GuardrailsAiDetector(validator, runner))


#: Builds a detector from a guardrails-ai validator name and its arguments.
_plugin_factory: Callable[[str, Mapping[str, Any]], Detector] = _guardrails_ai


def use_guardrails_ai(factory: Callable[[str, Mapping[str, Any]], Detector] | None) -> None:
    """Swap the factory of ``guardrails-ai:<name>`` rules (None: the guardrails-ai layer).

    A detector it returns may be asynchronous (an ``async def detect``): the engine awaits it.
    """
    global _plugin_factory
    _plugin_factory = factory or _guardrails_ai


def known() -> list[str]:
    """The detector names a policy may use (built-ins, and the plugin form)."""
    return [*BUILTINS, f"{PLUGIN_PREFIX}<validator>"]


def build(name: str, options: Mapping[str, Any]) -> Detector:
    """The detector a rule names, configured with its options.

    Raises:
        DetectorUnavailable: unknown name, refused options, or a validator not installed.
    """
    if name.startswith(PLUGIN_PREFIX):
        validator = name[len(PLUGIN_PREFIX) :]
        if not validator:
            raise DetectorUnavailable(f"{name!r}: name the guardrails-ai validator")
        return _plugin_factory(validator, options)
    factory = BUILTINS.get(name)
    if factory is None:
        raise DetectorUnavailable(f"unknown detector {name!r} (known: {', '.join(known())})")
    try:
        return factory(**options)
    except (TypeError, ValueError) as exc:  # an option the factory does not take, or refuses
        raise DetectorUnavailable(f"{name}: options refused: {exc}") from None
