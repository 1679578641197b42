"""Output checks: what a model answered, judged against what the caller supplied.

Each check is a ``Detector`` built from its reference (a schema, a system prompt, the retrieved
context, an allowlist, limits), so one policy version builds its checks once and the per-call
references (system prompt, context) cost one construction per call:

- :class:`JsonSchemaCheck` — the output parses as JSON (optionally inside a fenced code block)
  and validates against a JSON Schema (``jsonschema``, Draft 2020-12 unless ``$schema`` says).
- :class:`RefusalDetector` — "I can't help with that" and its families in English, French,
  German, Spanish and Portuguese, with spans.
- :class:`PromptLeakageDetector` — passages of the system prompt repeated in the output, found
  by fuzzy alignment (``rapidfuzz``) of overlapping word windows of the prompt.
- :class:`GroundednessDetector` — output sentences the supplied context does not support.
- :class:`UrlAllowlistDetector` — URLs whose host is neither an allowed domain nor under one.
- :class:`LengthLimit` — characters and approximate tokens.

:func:`build_output_checks` turns a policy's ``output:`` section into the list of checks::

    output:
      json_schema: {type: object, required: [answer]}   # any JSON Schema
      refusal: true
      prompt_leakage: {threshold: 85}                    # system prompt supplied per call
      groundedness: {threshold: 0.6}                     # context supplied per call
      urls: {allow: [example.com, docs.example.org]}
      length: {max_chars: 4000, max_tokens: 1000}

Hits carry kinds and spans, never the text: a schema error's message quotes the offending
value, so only the failing keyword (``schema:required``) is kept.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from rapidfuzz import fuzz, process

from llmops_guardrails.detectors.base import Detector, Hit
from llmops_guardrails.detectors.folding import fold
from llmops_guardrails.json_schema import compile_schema

# --- JSON schema -------------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)\n[ \t]*```", re.S)
#: At most this many schema errors are reported: one bad array can yield thousands.
MAX_SCHEMA_ERRORS = 20


class JsonSchemaCheck:
    """The output is JSON that validates against ``schema``.

    Args:
        schema: a JSON Schema (checked here: an invalid schema raises ``ValueError``).
        allow_fenced: accept the JSON inside a Markdown code block (```json ... ```), as chat
            models like to write it; spans then refer to the block's content.

    Hits: ``invalid_json`` from the position where parsing failed to the end of the JSON
    text; ``json_too_deep`` over it when it nests deeper than Python's stack allows;
    ``schema:<keyword>`` (``schema:required``, ``schema:type`` ...) over the JSON text,
    one per failing keyword and location (at most :data:`MAX_SCHEMA_ERRORS`).
    """

    name = "json_schema"
    version = "json_schema-1"

    def __init__(self, schema: Mapping[str, Any], *, allow_fenced: bool = True) -> None:
        self._validator = compile_schema(schema, formats=True)
        self._allow_fenced = allow_fenced

    def detect(self, text: str) -> list[Hit]:
        """``invalid_json`` or the schema violations of ``text``, ordered by ``start``."""
        start, end = 0, len(text)
        if self._allow_fenced and (m := _FENCE.search(text)):
            start, end = m.span(1)
        body = text[start:end]
        # Leading/trailing whitespace is not an error, and must not shift the error position.
        lead = len(body) - len(body.lstrip())
        try:
            value = json.loads(body)
        except json.JSONDecodeError as e:
            # Truncated JSON fails at its very end: then the whole JSON text is the evidence.
            pos = start + max(e.pos, lead) if e.pos < len(body.rstrip()) else start + lead
            return [Hit(self.name, "invalid_json", pos, end, 1.0, self.version)]
        except RecursionError:
            # Nested deeper than the interpreter's stack: refused, not crashed on.
            return [Hit(self.name, "json_too_deep", start + lead, end, 1.0, self.version)]
        s, e_ = start + lead, start + len(body.rstrip())
        try:
            errors = sorted(
                self._validator.iter_errors(value), key=lambda x: (x.json_path, x.validator)
            )
        except RecursionError:
            return [Hit(self.name, "json_too_deep", s, e_, 1.0, self.version)]
        hits = []
        for err in errors[:MAX_SCHEMA_ERRORS]:
            hits.append(Hit(self.name, f"schema:{err.validator}", s, e_, 1.0, self.version))
        return hits


# --- Refusals ----------------------------------------------------------------------------------

_Q = "['\u2019]"  # folding keeps typographic apostrophes: match both
#: family -> (score, patterns over folded text: lower case, no accents).
REFUSAL_FAMILIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "cannot_help": (
        0.9,
        (
            # en
            rf"\bi(?: really| truly)? (?:can ?not|can{_Q}t|won{_Q}t|will not|am unable to|"
            rf"{_Q}m unable to|am not able to|{_Q}m not able to|must decline to|am not allowed to|"
            rf"{_Q}m not allowed to|am not permitted to|{_Q}m not permitted to)"
            r" (?:help|assist|comply|provide|fulfil+|do that|do this|answer|share|support|"
            r"create|generate|write|give)",
            r"\bi must (?:respectfully )?decline\b",
            # fr
            rf"\bje ne (?:peux|pourrai|vais|suis) (?:pas|malheureusement pas)"
            rf"(?: en mesure d{_Q}| en mesure de)? ?(?:vous |t{_Q}|te )?"
            r"(?:aider|repondre|fournir|faire (?:cela|ca)|accepter|communiquer)",
            # de
            r"\b(?:ich kann|das kann ich|ich darf|das darf ich)(?: ihnen| dir)?"
            r"(?: dabei| damit| hierbei| hier| leider| ihnen| dir){0,3} (?:nicht|keine)"
            r"(?: dabei)? ?(?:helfen|behilflich|beantworten|erfullen|unterstutzen|"
            r"bereitstellen|geben|tun|machen|antwort)",
            # es
            r"\bno (?:puedo|podre|estoy en condiciones de) (?:ayudar(?:te|le)?|responder|"
            r"proporcionar|hacer eso|cumplir|ofrecer|dar(?:te|le)?|compartir)",
            # pt
            r"\b(?:eu )?nao (?:posso|consigo|sou capaz de|vou) (?:te |lhe )?(?:ajudar|responder|"
            r"fornecer|fazer isso|atender|compartilhar|dar)",
        ),
    ),
    "apology": (
        0.9,
        (
            rf"\b(?:i{_Q}m|i am) (?:very |really |so )?sorry,? but i(?: can| won| will| am|"
            rf"{_Q}m| must)",
            r"\b(?:je suis )?desolee?,? (?:mais )?je ne (?:peux|suis|vais)",
            r"\b(?:es )?tut mir (?:sehr )?leid,? (?:aber )?(?:ich kann|das kann ich|ich darf)",
            r"\blo siento(?: mucho)?,? (?:pero )?no (?:puedo|es posible|podre)",
            r"\b(?:desculpe|sinto muito|lamento),? (?:mas )?(?:eu )?nao (?:posso|consigo|vou)",
        ),
    ),
    "policy": (
        0.8,
        (
            r"\b(?:against|violates?|violation of) (?:my|the|our|openai{_Q}s) "
            r"(?:guidelines|policies|policy|usage polic(?:y|ies)|content polic(?:y|ies)|"
            r"programming|principles)",
            r"\b(?:contraire a|va a l['\u2019]encontre de|viole) (?:mes|nos) "
            r"(?:regles|directives|politiques|principes)",
            r"\b(?:gegen|verstosst gegen|verstoßt gegen) (?:meine|unsere) "
            r"(?:richtlinien|regeln|grundsatze)",
            r"\b(?:va|iria|esta) en contra de (?:mis|nuestras) (?:politicas|normas|directrices)",
            r"\b(?:vai contra|viola|contraria) (?:as )?(?:minhas|nossas) "
            r"(?:politicas|diretrizes|regras)",
        ),
    ),
    "ai_identity": (
        0.6,
        (
            r"\bas an ai(?: language model| assistant| model| developed by \w+)?\b",
            r"\bas a (?:large )?language model\b",
            rf"\ben tant qu{_Q}(?:ia|intelligence artificielle|assistant(?: ia)?|"
            r"modele de (?:langage|langue))\b",
            r"\bals (?:eine? )?(?:ki|kunstliche intelligenz|(?:ki-)?sprachmodell|ki-assistent)\b",
            r"\bcomo (?:una? )?(?:ia|inteligencia artificial|modelo de lenguaje|asistente de ia)\b",
            r"\bcomo (?:uma? )?(?:ia|inteligencia artificial|modelo de linguagem|"
            r"assistente de ia)\b",
        ),
    ),
}


class RefusalDetector:
    """Refusal phrases in five languages (kind ``refusal:<family>``, see ``REFUSAL_FAMILIES``).

    Matching runs on the folded text, so ``Je suis désolée`` and ``JE SUIS DESOLEE`` are one
    phrase; each family has its own score (an apology is stronger evidence than "as an AI").
    """

    name = "refusal"
    version = "refusal-1"

    def __init__(self) -> None:
        self._families = [
            (family, score, re.compile("|".join(f"(?:{p})" for p in patterns)))
            for family, (score, patterns) in REFUSAL_FAMILIES.items()
        ]

    def detect(self, text: str) -> list[Hit]:
        """Every refusal phrase in ``text``, ordered by ``start``."""
        folded = fold(text)
        hits = []
        for family, score, rx in self._families:
            for m in rx.finditer(folded.text):
                s, e = folded.span(m.start(), m.end())
                hits.append(Hit(self.name, f"refusal:{family}", s, e, score, self.version))
        hits.sort(key=lambda h: (h.start, h.end))
        return hits


# --- System-prompt leakage ---------------------------------------------------------------------


class PromptLeakageDetector:
    """Passages of ``system_prompt`` repeated (even lightly edited) in the output.

    The prompt is folded and cut into windows of ``window_words`` words every ``stride`` words;
    each window is aligned with the output by ``rapidfuzz.fuzz.partial_ratio_alignment`` (the
    best-matching substring of the output, with its offsets), and alignments scoring at least
    ``threshold`` (0-100) become hits of kind ``system_prompt_leak``: overlapping ones merged,
    trimmed to whole words of the prompt, and scored by the passage's own partial ratio against
    the prompt / 100. Windows shorter than ``min_chars`` are skipped: three common
    words in a row are not a leak.

    Args:
        system_prompt: the prompt to protect.
        threshold: minimum alignment ratio, 0-100.
        window_words: words per window.
        stride: words between window starts (< ``window_words``: windows overlap, so a leaked
            passage is never split between two windows that each match too little).
        min_chars: shortest window (folded characters) worth matching.
    """

    name = "prompt_leakage"
    version = "prompt_leakage-1"

    def __init__(
        self,
        system_prompt: str,
        *,
        threshold: float = 85.0,
        window_words: int = 12,
        stride: int = 6,
        min_chars: int = 24,
    ) -> None:
        if not 0 < stride <= window_words:
            raise ValueError("stride must be in 1..window_words")
        self.threshold = threshold
        words = fold(system_prompt).text.split()
        starts = range(0, max(len(words) - window_words, 0) + 1, stride)
        windows = {" ".join(words[i : i + window_words]) for i in starts}
        if len(words) > window_words:  # the tail, which the stride may have stepped over
            windows.add(" ".join(words[-window_words:]))
        self._windows = sorted(w for w in windows if len(w) >= min_chars)
        self._vocabulary = frozenset(_WORD.findall(" ".join(words)))
        self._prompt = " ".join(words)

    def detect(self, text: str) -> list[Hit]:
        """Leaked passages in ``text``, ordered by ``start``."""
        if not self._windows or not text:
            return []
        folded = fold(text)
        found: list[tuple[int, int, float]] = []
        for w in self._windows:
            a = fuzz.partial_ratio_alignment(w, folded.text, score_cutoff=self.threshold)
            if a is not None and a.dest_end > a.dest_start:
                found.append((a.dest_start, a.dest_end, a.score))
        hits = []
        for s, e, _ in _merge_scored(found):
            s, e = self._snap(folded.text, s, e)
            if e <= s:
                continue
            # Score the passage itself against the prompt: a verbatim leak shorter than a
            # window scores 1.0 rather than its window's partial ratio.
            score = fuzz.partial_ratio(folded.text[s:e], self._prompt) / 100
            os_, oe = folded.span(s, e)
            hits.append(
                Hit(self.name, "system_prompt_leak", os_, oe, round(score, 3), self.version)
            )
        return hits

    def _snap(self, text: str, s: int, e: int) -> tuple[int, int]:
        """Widen an alignment to whole words, then drop edge words the prompt never uses.

        A fuzzy alignment is as long as the window, so when the output differs a little its
        edges overshoot into the neighbouring words (``: you are ... tables. Anyt``).
        """
        words = [m.span() for m in _WORD.finditer(text, _word_start(text, s), _word_end(text, e))]
        while words and text[words[0][0] : words[0][1]] not in self._vocabulary:
            words.pop(0)
        while words and text[words[-1][0] : words[-1][1]] not in self._vocabulary:
            words.pop()
        return (words[0][0], words[-1][1]) if words else (s, s)


_WORD = re.compile(r"\w+")


def _word_start(text: str, i: int) -> int:
    while 0 < i < len(text) and text[i - 1].isalnum() and text[i].isalnum():
        i -= 1
    return i


def _word_end(text: str, i: int) -> int:
    while 0 < i < len(text) and text[i - 1].isalnum() and text[i].isalnum():
        i += 1
    return i


def _merge_scored(spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    out: list[tuple[int, int, float]] = []
    for s, e, score in sorted(spans):
        if out and s <= out[-1][1]:
            ps, pe, pscore = out[-1]
            out[-1] = (ps, max(pe, e), max(pscore, score))
        else:
            out.append((s, e, score))
    return out


# --- Groundedness ------------------------------------------------------------------------------

# A sentence runs to ``.``/``!``/``?`` followed by a space or the end, or to a newline; a dot
# inside a token (``example.com``, ``3.5``) does not end it. Linear: no nested quantifier can
# backtrack over the same characters.
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?]+(?!\s|$))+[.!?]*|[.!?]+")
_TOKEN = re.compile(r"\d+(?:[.,:/-]\d+)*|\w+")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-Ý][\w-]+")
# Function words of the five languages: they carry no claim, so they neither support nor
# undermine a sentence. Short on purpose (words under 3 letters are dropped anyway).
_STOP_WORDS = """the and for are but not you your with this that from have has had was were will would
    can could should may might must its their there they them then than what which who whom
    when where why how all any both each few more most other some such only own same also very
    just into over under again further once here about above below after before because while
    does did doing been being our ours out off yes les des une est pas pour par avec dans sur
    qui que quoi mais donc car ces cette son ses leur leurs nous vous ils elles etre avoir
    der die das und ist ein eine einen einem nicht mit von den dem des auf fur sie wir ihr
    auch aus bei als wie oder wenn dass sich zum zur los las del por para con una uno unos
    unas que como pero mas sus esta este esto son ser estar hay nao uma com para por mais
    como mas seu sua seus suas ele ela eles elas isso esse essa este esta sao ser estar tem"""
_STOP = frozenset(_STOP_WORDS.split())
#: Weights of a content word in the coverage: a number or a name the context does not
#: contain is the typical hallucination, so they count more than ordinary words.
NUMBER_WEIGHT = 3.0
ENTITY_WEIGHT = 2.0


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text`` (trimmed; split on ``.!?`` + space and newlines)."""
    spans = []
    for m in _SENTENCE.finditer(text):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def _number(token: str) -> str:
    return re.sub(r"\D", "", token)


def _stem(word: str) -> str:
    # A five-letter prefix: "shipping" and "shipped" meet, cheaply, in all five languages.
    return word[:5]


class GroundednessDetector:
    """Output sentences that the supplied ``context`` does not support.

    Each output sentence with at least ``min_words`` content words gets a support score in
    [0, 1]: the weighted share of its content words found in the context (a number weighs
    ``NUMBER_WEIGHT``, a capitalised word inside the sentence ``ENTITY_WEIGHT``, other words 1;
    words match by five-letter stem, numbers by their digits), times ``0.7 + 0.3 *`` the best
    ``rapidfuzz`` token-set ratio against any one context sentence. A sentence under
    ``threshold`` is a hit of kind ``unsupported_sentence`` with score ``1 - support``.

    Args:
        context: the retrieved passages the answer should rest on (one or more strings).
        threshold: the support below which a sentence is flagged.
        min_words: sentences with fewer content words ("Sure!", "Here it is:") are not judged.
    """

    name = "groundedness"
    version = "groundedness-1"

    def __init__(
        self, context: str | Sequence[str], *, threshold: float = 0.6, min_words: int = 2
    ) -> None:
        passages = [context] if isinstance(context, str) else list(context)
        self.threshold = threshold
        self.min_words = min_words
        self._sentences: list[str] = []
        self._words: set[str] = set()
        self._numbers: set[str] = set()
        for p in passages:
            for s, e in split_sentences(p):
                folded = fold(p[s:e]).text
                self._sentences.append(folded)
                for tok in _TOKEN.findall(folded):
                    if tok[0].isdigit():
                        self._numbers.add(_number(tok))
                    else:
                        self._words.add(_stem(tok))

    def support(self, sentence: str) -> float | None:
        """The support score of one sentence, or None when it has too few content words."""
        entities = {fold(m.group()).text for m in _CAPITALISED.finditer(sentence)}
        folded = fold(sentence).text
        total = covered = 0.0
        n = 0
        for tok in _TOKEN.findall(folded):
            if tok[0].isdigit():
                weight, ok = NUMBER_WEIGHT, _number(tok) in self._numbers
            elif len(tok) < 3 or tok in _STOP:
                continue
            else:
                weight = ENTITY_WEIGHT if tok in entities else 1.0
                ok = _stem(tok) in self._words
            n += 1
            total += weight
            covered += weight if ok else 0.0
        if n < self.min_words:
            return None
        best = process.extractOne(folded, self._sentences, scorer=fuzz.token_set_ratio)
        ratio = best[1] / 100 if best else 0.0
        # Multiplicative: resemblance to a context sentence can lower the support of words
        # that all occur somewhere in the context, never make up for words that do not.
        return (covered / total) * (0.7 + 0.3 * ratio)

    def detect(self, text: str) -> list[Hit]:
        """Unsupported sentences of ``text``, ordered by ``start``."""
        hits = []
        for s, e in split_sentences(text):
            score = self.support(text[s:e])
            if score is not None and score < self.threshold:
                hits.append(
                    Hit(self.name, "unsupported_sentence", s, e, round(1 - score, 3), self.version)
                )
        return hits


# --- URLs --------------------------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`]+|\bwww\.[^\s<>\"'`]+", re.I)
_TRAILING = ".,;:!?'\"*_"


class UrlAllowlistDetector:
    """URLs whose host is not an allowed domain or a subdomain of one.

    URLs are ``http(s)://``, ``ftp://`` or ``www.`` prefixed (bare ``name.tld`` words are not
    taken for URLs: ``report.pdf`` is not a host). Trailing punctuation and an unbalanced
    closing bracket are not part of the URL. The host is what a browser would contact:
    ``https://docs.example.com@evil.test/`` goes to ``evil.test``.

    Hits: ``url_not_allowed`` over the URL; ``url_malformed`` when no host can be read.

    Args:
        allow: domains (``example.com`` also allows ``docs.example.com``; a leading ``*.`` or
            ``.`` is ignored).
    """

    name = "url_allowlist"
    version = "url_allowlist-1"

    def __init__(self, allow: Iterable[str]) -> None:
        self.allow = frozenset(d.strip().lower().lstrip("*").strip(".") for d in allow if d)

    def allowed(self, host: str) -> bool:
        """Whether ``host`` is allowed."""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.allow)

    def detect(self, text: str) -> list[Hit]:
        """URLs in ``text`` off the allowlist, ordered by ``start``."""
        hits = []
        for m in _URL.finditer(text):
            s, e = m.span()
            e = _trim_url(text, s, e)
            url = text[s:e]
            try:
                host = urlsplit(url if "://" in url else "http://" + url).hostname
            except ValueError:
                host = None
            if not host:
                hits.append(Hit(self.name, "url_malformed", s, e, 1.0, self.version))
            elif not self.allowed(host):
                hits.append(Hit(self.name, "url_not_allowed", s, e, 1.0, self.version))
        return hits


def _trim_url(text: str, s: int, e: int) -> int:
    while e > s:
        ch = text[e - 1]
        if not (ch in _TRAILING or (ch in ")]}" and _unbalanced(text[s:e], ch))):
            break
        e -= 1
    return e


def _unbalanced(url: str, closing: str) -> bool:
    """More ``closing`` brackets than opening ones: the last belongs to the prose."""
    return url.count("([{"[")]}".index(closing)]) < url.count(closing)


# --- Length ------------------------------------------------------------------------------------


class LengthLimit:
    """Outputs longer than ``max_chars`` characters or about ``max_tokens`` tokens.

    Tokens are approximated as ``ceil(len / chars_per_token)`` (4 characters per token is the
    usual figure for English BPE vocabularies; no tokenizer is loaded for a limit check).
    Hits span the excess: ``too_long`` from character ``max_chars``, ``too_many_tokens`` from
    character ``floor(max_tokens * chars_per_token)``, to the end.
    """

    name = "length"
    version = "length-1"

    def __init__(
        self,
        *,
        max_chars: int | None = None,
        max_tokens: int | None = None,
        chars_per_token: float = 4.0,
    ) -> None:
        if max_chars is None and max_tokens is None:
            raise ValueError("a length limit needs max_chars or max_tokens")
        self.max_chars = max_chars
        self.max_tokens = max_tokens
        self.chars_per_token = chars_per_token

    def approx_tokens(self, text: str) -> int:
        """The approximate token count of ``text``."""
        return math.ceil(len(text) / self.chars_per_token)

    def detect(self, text: str) -> list[Hit]:
        """The excess over each limit, if any."""
        hits = []
        if self.max_chars is not None and len(text) > self.max_chars:
            hits.append(Hit(self.name, "too_long", self.max_chars, len(text), 1.0, self.version))
        if self.max_tokens is not None and self.approx_tokens(text) > self.max_tokens:
            start = min(math.floor(self.max_tokens * self.chars_per_token), len(text))
            hits.append(Hit(self.name, "too_many_tokens", start, len(text), 1.0, self.version))
        return hits


# --- From a policy -----------------------------------------------------------------------------

_KEYS = {"json_schema", "refusal", "prompt_leakage", "groundedness", "urls", "length"}


def build_output_checks(
    config: Mapping[str, Any],
    *,
    system_prompt: str | None = None,
    context: str | Sequence[str] | None = None,
) -> list[Detector]:
    """The checks a policy's ``output:`` section asks for (see the module docstring).

    ``prompt_leakage`` runs only when a ``system_prompt`` is supplied and ``groundedness`` only
    when a ``context`` is: without a reference there is nothing to compare with.

    Raises:
        ValueError: an unknown key or an invalid setting (the policy should be refused).
    """
    unknown = set(config) - _KEYS
    if unknown:
        raise ValueError(f"output: unknown checks {sorted(unknown)}")
    checks: list[Detector] = []
    if (schema := config.get("json_schema")) is not None:
        checks.append(JsonSchemaCheck(schema))
    if config.get("refusal"):
        checks.append(RefusalDetector())
    if (leak := config.get("prompt_leakage")) is not None and system_prompt:
        checks.append(PromptLeakageDetector(system_prompt, **_options(leak)))
    if (grounded := config.get("groundedness")) is not None and context:
        checks.append(GroundednessDetector(context, **_options(grounded)))
    if (urls := config.get("urls")) is not None:
        checks.append(UrlAllowlistDetector(_options(urls).get("allow", [])))
    if (length := config.get("length")) is not None:
        checks.append(LengthLimit(**_options(length)))
    return checks


def _options(value: Any) -> dict[str, Any]:
    if value is True:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"output: expected a mapping of options, got {value!r}")
    return dict(value)
