"""Provider formats: API keys and tokens whose prefix and structure say whose they are, JWTs,
private keys in PEM, Discord's bot tokens. Each pattern starts with a literal prefix, which the
regex engine finds with a fast substring search, and runs only where one Aho-Corasick pass over
the text found its prefix (see :mod:`.secrets` for the detector, its scores and why not
detect-secrets)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import ahocorasick  # type: ignore[import-not-found]  # C extension, no stubs

from llmops_guardrails.detectors.secrets_values import (
    Span,
    cased,
    dummy,
    jwt_header_ok,
    mixed,
)


class _Rule(NamedTuple):
    kind: str
    #: Literal substrings, one of which must be in the text for the pattern to run (none: the
    #: pattern's own literal prefix is as cheap to search for as several ``in`` tests).
    prefixes: tuple[str, ...]
    pattern: re.Pattern[str]
    score: float
    #: Checks the matched text (without raising); None accepts every match.
    check: Callable[[str], bool] | None = None


_TAIL = r"(?![A-Za-z0-9_-])"
# Provider formats. Each pattern starts with a literal so the engine can jump between candidates.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "anthropic_api_key",
        ("sk-ant-",),
        re.compile(r"sk-ant-[A-Za-z0-9_-]{32,300}" + _TAIL),
        0.99,
    ),
    _Rule(
        "openai_api_key",
        ("sk-",),
        re.compile(r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,300}" + _TAIL),
        0.95,
        lambda v: mixed(v.split("-", 1)[1]),
    ),
    _Rule(
        "aws_access_key_id",
        (),
        # Real ids use base32 (A-Z, 2-7); examples and test data written by hand use any digit.
        re.compile(r"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        0.95,
    ),
    _Rule(
        "github_token",
        (),
        re.compile(r"gh[pousr]_[A-Za-z0-9]{36,251}" + _TAIL),
        0.99,
    ),
    _Rule(
        "github_token",
        ("github_pat_",),
        re.compile(r"github_pat_[A-Za-z0-9_]{22,244}" + _TAIL),
        0.99,
    ),
    _Rule(
        "gitlab_token",
        ("glpat-",),
        re.compile(r"glpat-[A-Za-z0-9_-]{20,64}" + _TAIL),
        0.99,
    ),
    _Rule(
        "slack_token",
        ("xox",),
        re.compile(r"xox[abeoprs]-(?:[0-9]{6,16}-){1,3}[A-Za-z0-9-]{8,128}" + _TAIL),
        0.99,
    ),
    _Rule(
        "webhook_url",
        ("/api/webhooks/",),
        re.compile(
            r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{5,30}/[\w-]{20,100}"
        ),
        0.99,
    ),
    _Rule(
        "webhook_url",
        ("hooks.zapier.com/",),
        re.compile(r"https://hooks\.zapier\.com/hooks/catch/\d{3,20}/\w{4,20}/?"),
        0.95,
    ),
    _Rule(
        "webhook_url",
        (".webhook.office.com/",),
        re.compile(r"https://[\w-]{1,63}\.webhook\.office\.com/webhookb2/[\w@/-]{40,400}"),
        0.99,
    ),
    _Rule(
        "slack_webhook",
        ("hooks.slack.com/",),
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/]{20,120}"),
        0.99,
    ),
    _Rule(
        "stripe_key",
        ("_live_", "_test_"),
        re.compile(r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}" + _TAIL),
        0.99,
    ),
    _Rule(
        "google_api_key",
        ("AIza",),
        re.compile(r"AIza[0-9A-Za-z_-]{35}" + _TAIL),
        0.95,
    ),
    _Rule(
        "twilio_api_key",
        ("SK",),
        re.compile(r"SK[0-9a-f]{32}(?![A-Za-z0-9])"),
        0.9,
    ),
    _Rule(
        "sendgrid_api_key",
        ("SG.",),
        re.compile(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _TAIL),
        0.99,
    ),
    _Rule(
        "npm_token",
        ("npm_",),
        re.compile(r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
        0.99,
        cased,
    ),
    _Rule(
        "pypi_token",
        ("pypi-Ag",),
        re.compile(r"pypi-Ag[A-Za-z0-9_-]{50,300}" + _TAIL),
        0.99,
    ),
    _Rule(
        "huggingface_token",
        ("hf_",),
        re.compile(r"hf_[A-Za-z0-9]{30,40}(?![A-Za-z0-9])"),
        0.95,
        cased,
    ),
    _Rule(
        "telegram_bot_token",
        (":AA",),
        re.compile(r"(?<![\w:])\d{8,10}:AA[A-Za-z0-9_-]{33}" + _TAIL),
        0.95,
    ),
    _Rule(
        "docker_token",
        ("dckr_",),
        re.compile(r"dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,40}" + _TAIL),
        0.99,
    ),
    _Rule(
        "mailgun_api_key",
        ("key-",),
        re.compile(r"(?<![\w-])key-[0-9a-f]{32}" + _TAIL),
        0.9,
    ),
    # More providers' prefixed formats (gitleaks' public rules, the providers' documentation):
    # a prefix few words share and a fixed alphabet and length.
    _Rule(
        "brevo_api_key",
        ("xkeysib-", "xsmtpsib-"),
        re.compile(r"x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}" + _TAIL),
        0.99,
    ),
    _Rule(
        "mailchimp_api_key",
        ("-us",),
        re.compile(r"(?<![\w-])[0-9a-f]{32}-us\d{1,2}" + _TAIL),
        0.95,
    ),
    _Rule(
        "aws_session_token",
        ("IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzE", "FQoGZXIvYXdzE"),
        re.compile(
            r"(?:IQoJb3JpZ2luX2Vj|F[wQ]oGZXIvYXdzE)[A-Za-z0-9/+=]{80,2000}(?![A-Za-z0-9/+=])"
        ),
        0.99,
    ),
    _Rule(
        "deepl_api_key",
        (":fx",),
        re.compile(
            r"(?<![\w-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:fx" + _TAIL
        ),
        0.95,
    ),
    _Rule(
        "okta_api_token",
        ("SSWS ",),
        re.compile(r"(?<=SSWS )00[A-Za-z0-9_-]{40}" + _TAIL),
        0.99,
    ),
    _Rule(
        "vault_token",
        ("hvs.", "hvb."),
        re.compile(r"(?<![\w.])hv[sb]\.[A-Za-z0-9_-]{24,200}" + _TAIL),
        0.95,
        cased,
    ),
    _Rule(
        "shopify_token",
        ("shpat_", "shpca_", "shppa_", "shpss_"),
        re.compile(r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _TAIL),
        0.99,
    ),
    _Rule(
        "sonarqube_token",
        ("squ_", "sqp_", "sqa_"),
        re.compile(r"(?<![\w-])sq[upa]_[a-f0-9]{40}" + _TAIL),
        0.99,
    ),
    _Rule(
        "django_secret_key",
        ("django-insecure-",),
        re.compile(r"django-insecure-[A-Za-z0-9!@#$%^&*(\-_=+)]{30,70}(?=[\"'`\s,.;]|$)"),
        0.95,
    ),
    _Rule(
        "databricks_token",
        ("dapi",),
        re.compile(r"(?<![\w-])dapi[a-f0-9]{32}(?:-\d)?" + _TAIL),
        0.95,
    ),
    _Rule(
        "digitalocean_token",
        ("_v1_",),
        re.compile(r"do[opr]_v1_[a-f0-9]{64}" + _TAIL),
        0.99,
    ),
    _Rule(
        "grafana_token",
        ("glsa_", "glc_"),
        re.compile(
            r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}" + _TAIL + r"|glc_[A-Za-z0-9+/]{32,400}={0,2}"
        ),
        0.99,
    ),
    _Rule(
        "newrelic_key",
        ("NRAK-", "NRJS-", "NRII-"),
        re.compile(r"NR(?:AK|JS|II)-[A-Za-z0-9]{19,32}" + _TAIL),
        0.95,
    ),
    _Rule(
        "sentry_token",
        ("sntrys_", "sntryu_"),
        re.compile(r"sntry[su]_[A-Za-z0-9+/=_-]{40,400}" + _TAIL),
        0.99,
    ),
    _Rule(
        "postman_api_key",
        ("PMAK-",),
        re.compile(r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}" + _TAIL),
        0.99,
    ),
    _Rule(
        "linear_api_key",
        ("lin_api_",),
        re.compile(r"lin_api_[A-Za-z0-9]{40}" + _TAIL),
        0.99,
    ),
    _Rule(
        "notion_token",
        ("ntn_", "secret_"),
        re.compile(
            r"ntn_\d{11}[A-Za-z0-9]{32,35}" + _TAIL + r"|(?<![\w-])secret_[A-Za-z0-9]{43}" + _TAIL
        ),
        0.95,
        cased,
    ),
    _Rule(
        "square_token",
        ("sq0atp-", "sq0csp-"),
        re.compile(r"sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}" + _TAIL),
        0.99,
    ),
    _Rule(
        "atlassian_api_token",
        ("ATATT3", "ATBB"),
        re.compile(
            r"ATATT3[A-Za-z0-9_=-]{150,300}" + _TAIL + r"|ATBB[A-Za-z0-9_=.-]{32,64}" + _TAIL
        ),
        0.99,
    ),
    _Rule(
        "figma_token",
        ("figd_",),
        re.compile(r"figd_[A-Za-z0-9_-]{40,43}" + _TAIL),
        0.99,
    ),
    _Rule(
        "groq_api_key",
        ("gsk_",),
        re.compile(r"gsk_[A-Za-z0-9]{52}" + _TAIL),
        0.99,
    ),
    _Rule(
        "replicate_api_token",
        ("r8_",),
        re.compile(r"(?<![\w-])r8_[A-Za-z0-9]{37}" + _TAIL),
        0.95,
        cased,
    ),
    _Rule(
        "perplexity_api_key",
        ("pplx-",),
        re.compile(r"pplx-[A-Za-z0-9]{48}" + _TAIL),
        0.99,
    ),
    _Rule(
        "xai_api_key",
        ("xai-",),
        re.compile(r"(?<![\w-])xai-[A-Za-z0-9]{80}" + _TAIL),
        0.99,
    ),
    _Rule(
        "google_oauth_secret",
        ("GOCSPX-", "ya29."),
        re.compile(r"GOCSPX-[A-Za-z0-9_-]{28}" + _TAIL + r"|ya29\.[A-Za-z0-9_-]{30,2000}" + _TAIL),
        0.99,
    ),
    _Rule(
        "stripe_webhook_secret",
        ("whsec_",),
        re.compile(r"whsec_[A-Za-z0-9+/=]{32,64}" + _TAIL),
        0.99,
    ),
    _Rule(
        "age_secret_key",
        ("AGE-SECRET-KEY-1",),
        re.compile(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}" + _TAIL),
        0.99,
    ),
    _Rule(
        "supabase_token",
        ("sbp_",),
        re.compile(r"sbp_[a-f0-9]{40}" + _TAIL),
        0.99,
    ),
    _Rule(
        "planetscale_token",
        ("pscale_",),
        re.compile(r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64}" + _TAIL),
        0.99,
    ),
    _Rule(
        "rubygems_api_key",
        ("rubygems_",),
        re.compile(r"rubygems_[a-f0-9]{48}" + _TAIL),
        0.99,
    ),
    _Rule(
        "dynatrace_token",
        ("dt0c01.",),
        re.compile(r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}" + _TAIL),
        0.99,
    ),
    _Rule(
        "contentful_token",
        ("CFPAT-",),
        re.compile(r"CFPAT-[A-Za-z0-9_-]{43}" + _TAIL),
        0.99,
    ),
    _Rule(
        "azure_storage_key",
        ("AccountKey=",),
        re.compile(r"(?<=AccountKey=)[A-Za-z0-9+/]{86}=="),
        0.99,
    ),
    _Rule(
        "jwt",
        ("eyJ",),
        re.compile(
            r"eyJ[A-Za-z0-9_-]{6,2000}\.[A-Za-z0-9_-]{2,8000}\.[A-Za-z0-9_-]{0,2000}" + _TAIL
        ),
        0.95,
        jwt_header_ok,
    ),
)

_TOKEN_CHAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
#: Every provider format but the two below is a run of 16 or more token characters (a prefix
#: and a random part of 16 to 300), which one translation and one substring search rule out for
#: most prose at once, instead of a dozen prefix searches and two scans. On the UTF-8 bytes:
#: token characters are ASCII, every byte of any other character is not one, and
#: ``bytes.translate`` stays fast where ``str.translate`` of text that is not ASCII is not.
_TOKEN_CLASS = bytes(ord("t") if chr(i) in _TOKEN_CHAR else ord(" ") for i in range(256))
_TOKEN_RUN = b"t" * 16
#: The formats that need no such run: a JWT's parts may be short, a webhook URL has slashes.
_SHORT_RUNS = tuple(r for r in _RULES if r.kind in {"jwt", "slack_webhook", "webhook_url"})


def _prefix_automaton() -> Any:
    rules_of: dict[str, list[int]] = {}
    for index, rule in enumerate(_RULES):
        for prefix in rule.prefixes:
            rules_of.setdefault(prefix, []).append(index)
    automaton = ahocorasick.Automaton()
    for prefix, indices in rules_of.items():
        automaton.add_word(prefix, tuple(indices))
    automaton.make_automaton()
    return automaton


_PREFIXES = _prefix_automaton()


def long_runs(text: str) -> bool:
    """Whether ``text`` has a run of 16 or more token characters (see ``_TOKEN_CLASS``)."""
    return _TOKEN_RUN in text.encode("utf-8", "surrogatepass").translate(_TOKEN_CLASS)


def provider_tokens(text: str, long_runs: bool) -> Iterator[Span]:
    if long_runs:
        # The rules whose prefix is in the text, from one pass of an automaton over it (a
        # substring test per rule cost ~50 us per KB with sixty prefixes).
        present = {index for _, indices in _PREFIXES.iter(text) for index in indices}
        rules = [r for i, r in enumerate(_RULES) if not r.prefixes or i in present]
    else:
        rules = list(_SHORT_RUNS)
    for rule in rules:
        if not long_runs and not any(p in text for p in rule.prefixes):
            continue
        for m in rule.pattern.finditer(text):
            start = m.start()
            if start and text[start - 1] in _TOKEN_CHAR:
                continue  # the middle of a longer token, not a key
            if dummy(m.group()):
                continue
            if rule.check is None or rule.check(m.group()):
                yield Span(rule.kind, start, m.end(), rule.score)


# A Discord bot token: the user id in base64 (24-26 characters, "M", "N" or "O" first), a
# timestamp (6) and an HMAC (27-38), dot-separated. Found from its middle part, which starts
# with a literal dot the engine can jump to; a pattern starting at the id's first letter was
# tried at every M, N and O (20 us per KB of ordinary text).
_DISCORD_TAIL = re.compile(r"\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}(?![A-Za-z0-9_-])")
_DISCORD_ID = re.compile(r"[MNO][A-Za-z0-9_-]{23,25}")


def discord_tokens(text: str) -> Iterator[Span]:
    for m in _DISCORD_TAIL.finditer(text):
        begin = m.start()
        while begin > 0 and text[begin - 1] in _TOKEN_CHAR and m.start() - begin <= 26:
            begin -= 1
        if text[begin - 1 : begin] in _TOKEN_CHAR or text[begin - 1 : begin] == ".":
            continue  # part of a longer token, or a JWT's or a version's dotted parts
        if not _DISCORD_ID.fullmatch(text, begin, m.start()):
            continue
        token = text[begin : m.end()]
        if cased(token[: m.start() - begin]) and mixed(token):
            yield Span("discord_bot_token", begin, m.end(), 0.9)


_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ ){0,4})PRIVATE KEY( BLOCK)?-----")
# Whole lines of base64 (and the ``Proc-Type:``/``DEK-Info:`` headers of encrypted keys).
_PEM_BODY = re.compile(
    r"(?:\r?\n(?:[A-Za-z0-9+/=]{1,100}|[A-Za-z-]{1,20}: [^\n]{1,100})(?=\r?\n|$))*"
)
# A line of key material: 16 or more base64 characters.
_KEY_LINE = re.compile(r"[A-Za-z0-9+/=]{16}")
#: A PEM block longer than this is not a key (RSA-16384 is about 12 KB).
_PEM_MAX = 16_384


def private_keys(text: str) -> Iterator[Span]:
    if "-----BEGIN" not in text:
        return
    for m in _PEM_BEGIN.finditer(text):
        end_marker = f"-----END {m.group(1)}PRIVATE KEY{m.group(2) or ''}-----"
        end = text.find(end_marker, m.end(), m.end() + _PEM_MAX)
        if end != -1:
            if not _KEY_LINE.search(text, m.end(), end):
                continue  # "<your key material here>" between the markers: a template
            yield Span("private_key", m.start(), end + len(end_marker), 0.99)
        else:
            # A truncated block (a paste cut short) still leaks the key material it has: hide the
            # header and the base64 body that follows it.
            body = _PEM_BODY.match(text, m.end(), min(len(text), m.end() + _PEM_MAX))
            yield Span("private_key", m.start(), body.end() if body else m.end(), 0.99)
