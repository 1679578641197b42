"""Secrets: provider API keys and tokens, private keys, JWTs, and passwords or high-entropy values
assigned to a secret-sounding name.

Why not ``detect-secrets``: its plugins were measured on this machine (detect-secrets 1.5.0,
Python 3.11) and rejected for the hot path. Scanning a 1 KB prompt through ``scan_line`` with
the default plugins took about 6,100 µs (the budget for the whole input policy is under 1,000),
and even its 46 plugin regexes run directly cost about 930 µs per KB; importing it takes about
235 ms and pulls in ``requests`` (for its optional verification calls to providers, which must
never run here). Its findings carry no character offsets, which redaction needs, and several
of its patterns are stale (the OpenAI key pattern requires the legacy ``T3BlbkFJ`` marker, so
``sk-proj-`` keys are missed; no Anthropic, Hugging Face or GitHub fine-grained tokens). The
provider formats below follow the providers' documentation and detect-secrets' and gitleaks'
public rule sets, rewritten compactly.

How it stays fast and linear: every provider pattern starts with a literal prefix, which the
regex engine finds with a fast substring search, and runs only when a plain ``in`` test shows
its prefix in the text at all. Passwords and generic secrets are found from each occurrence of
a keyword (``password``, ``token``, ``secret`` ...) in the lower-cased text with one anchored
match after it, never by a pattern that has to be tried at every position. All repetitions are
bounded.

Scores: 0.99 for formats with a provider prefix and a fixed structure (a ``ghp_`` token, a PEM
block, a JWT whose header decodes), 0.9-0.95 where the prefix is shorter or the shape looser;
assigned values 0.85 (a password: two or more character classes) to 0.9 (high entropy).
Values that are obviously placeholders (``****``, ``<token>``, ``${API_KEY}``, ``changeme``,
``os.environ[...]``) are not reported.

The rules live by role: provider formats and private keys in :mod:`.secrets_providers`; values
after a word that names them in :mod:`.secrets_assigned`; URLs, pairs, command lines, tables and PINs in
:mod:`.secrets_credentials`; passwords with no keyword in :mod:`.secrets_shapes` (shaped
words), :mod:`.secrets_phrases` (passphrases, app passwords, setup keys), :mod:`.secrets_wifi`
and :mod:`.secrets_told` (spelled codes, told passphrases, codewords, lists of codes); codes in
:mod:`.secrets_codes` and :mod:`.secrets_answers` (given in reply); random tokens in
:mod:`.secrets_tokens`; the value checks all share in :mod:`.secrets_values`.
"""

from __future__ import annotations

import bisect

from llmops_guardrails.detectors.base import Hit
from llmops_guardrails.detectors.secrets_answers import answers
from llmops_guardrails.detectors.secrets_assigned import STEMS as ASSIGNED_STEMS
from llmops_guardrails.detectors.secrets_assigned import assigned
from llmops_guardrails.detectors.secrets_codes import codes
from llmops_guardrails.detectors.secrets_credentials import (
    aws_pairs,
    combos,
    pairs,
    table_cells,
    url_passwords,
)
from llmops_guardrails.detectors.secrets_in_code import (
    code_credentials,
    command_lines,
    snmp_communities,
    sql_passwords,
)
from llmops_guardrails.detectors.secrets_keys import MARKS as KEY_MARKS
from llmops_guardrails.detectors.secrets_keys import keys_and_card_codes
from llmops_guardrails.detectors.secrets_marks import Marks
from llmops_guardrails.detectors.secrets_onetime import MARKS as ONE_TIME_MARKS
from llmops_guardrails.detectors.secrets_onetime import one_time_codes
from llmops_guardrails.detectors.secrets_phrases import app_passwords, passphrases, setup_keys
from llmops_guardrails.detectors.secrets_pins import pins
from llmops_guardrails.detectors.secrets_providers import (
    discord_tokens,
    private_keys,
    provider_tokens,
)
from llmops_guardrails.detectors.secrets_providers import long_runs as has_long_runs
from llmops_guardrails.detectors.secrets_shapes import after_login, machine_made, shaped
from llmops_guardrails.detectors.secrets_tokens import (
    line_tokens,
)
from llmops_guardrails.detectors.secrets_told import STEMS as TOLD_STEMS
from llmops_guardrails.detectors.secrets_told import siblings, told
from llmops_guardrails.detectors.secrets_values import (
    Span,
    entropy,
    same_length_lower,
)
from llmops_guardrails.detectors.secrets_wifi import wifi, wifi_qr

__all__ = ["DEFAULT_THRESHOLD", "NAME", "VERSION", "SecretsDetector", "entropy"]

NAME = "secrets"
VERSION = "secrets-10"
DEFAULT_THRESHOLD = 0.5


# --- the detector -----------------------------------------------------------------------------


def _resolve(spans: list[Span]) -> list[Span]:
    """Keep the best of overlapping findings: a provider key beats a generic value it is in."""
    ordered = sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start))
    # Kept spans never overlap, so sorted by start they are sorted by end too: a new span can
    # only overlap its two neighbours in that order (bisect keeps 1 MB inputs linearithmic).
    starts: list[int] = []
    kept: list[Span] = []
    for span in ordered:
        i = bisect.bisect_left(starts, span.start)
        if i < len(kept) and kept[i].start < span.end:
            continue
        if i > 0 and kept[i - 1].end > span.start:
            continue
        starts.insert(i, span.start)
        kept.insert(i, span)
    return kept


# The words some finders need in the text to run at all (a network's, a password's).
_WIFI_WORDS = ("wifi", "wi-fi", "wlan", "wpa", "wireless", "psk", "réseau", " rede ", "ssid")
_PASSWORD_GATES = ("pass", "senha", "contraseña", "kennwort", "frase")
_GATES = (
    *_WIFI_WORDS,
    *_PASSWORD_GATES,
    *("communit", "comunidad", "communauté", "identified", "password '", "login", "smtp"),
)
#: Every word a finder starts from or needs, found in one pass (see :mod:`.secrets_marks`).
_MARKS = Marks((*ASSIGNED_STEMS, *TOLD_STEMS, *KEY_MARKS, *ONE_TIME_MARKS, *_GATES))


class SecretsDetector:
    """Finds credentials; see the module docstring for formats, scores and why not detect-secrets."""

    name = NAME
    version = VERSION

    def detect(self, text: str) -> list[Hit]:
        """Every secret in ``text``, ordered by start offset."""
        lower = same_length_lower(text)
        long_runs = has_long_runs(text)
        marks = _MARKS.find(lower)
        spans = [
            *provider_tokens(text, long_runs),
            *private_keys(text),
            *assigned(text, lower, marks, long_runs),
        ]
        if "." in text:
            spans.extend(discord_tokens(text))
        # Each of these needs a marker most prompts lack, tested here before any work (one
        # character first: a search for one is several times faster than for a string).
        if ":" in text and "://" in text:
            spans.extend(url_passwords(text))
        if "@" in text and ":" in text:
            spans.extend(combos(text))
        spans.extend(pairs(text, lower))
        spans.extend(pins(text, lower))
        spans.extend(codes(text, lower))
        spans.extend(keys_and_card_codes(text, lower, marks))
        spans.extend(one_time_codes(lower, marks))
        if "?" in text and "\n" in text:
            spans.extend(answers(text, lower))
        dash = "-" in text and ("-p" in text or "--" in text or " -a " in text)
        if dash or ("(" in text and "define(" in text):
            spans.extend(command_lines(text))
        if ("(" in text or "SecureString" in text) and ('"' in text or "'" in text):
            spans.extend(code_credentials(text))
        if "communit" in marks or "comunidad" in marks or "communauté" in marks:
            spans.extend(snmp_communities(text, lower))
        if "identified" in marks or "password '" in marks:
            spans.extend(sql_passwords(text, lower))
        if any(s.kind == "aws_access_key_id" for s in spans):
            spans.extend(aws_pairs(text))
        if "\n" in text:
            spans.extend(table_cells(text, lower))
            spans.extend(after_login(text, lower))
        spans.extend(shaped(text, lower))
        spans.extend(machine_made(text, lower))
        if long_runs:
            spans.extend(line_tokens(text, lower))
        if any(word in marks for word in _WIFI_WORDS):
            spans.extend(wifi(text, lower))
            if "WIFI:" in text:
                spans.extend(wifi_qr(text))
        password_word = any(word in marks for word in _PASSWORD_GATES)
        if password_word:
            spans.extend(passphrases(text, lower))
        spans.extend(told(text, lower, marks))
        if password_word or "login" in marks or "smtp" in marks:
            spans.extend(app_passwords(text, lower))
        spans.extend(setup_keys(text, lower))
        if "\n" in text and any(s.kind == "password" for s in spans):
            spans.extend(siblings(text, lower, spans))
        return [Hit(NAME, s.kind, s.start, s.end, s.score, VERSION) for s in _resolve(spans)]
