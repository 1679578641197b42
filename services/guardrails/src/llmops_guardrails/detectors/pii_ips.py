"""IP addresses (see :mod:`.pii`)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from llmops_guardrails.detectors.pii_context import Span, context_before, per_text

# --- IP addresses -----------------------------------------------------------------------------

# Not inside a word or a dotted number, nor after a name and a hyphen ("agent-6.2.0.118"); a
# range's second address ("8.8.4.4-8.8.8.8") is one.
IPV4 = re.compile(r"(?<![\w.])(?<![A-Za-z]-)(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
# Hex groups and colons (an IPv4 tail allowed); ``ipaddress`` decides. The look-behind keeps a
# match from starting inside a word, so ``std::vector`` is not tried as ``::``.
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){2,7}"
    r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)"
)
_VERSION_WORDS = re.compile(
    r"\b(?:version|versão|versión|versione|ver\.|release|build|firmware|fw|update|upgrade"
    r"|bootloader|sdk|kernel|driver|patch|chrome|firefox|python|android|ios)\b|\bv\.?$"
)


#: The documentation ranges (RFC 5737, RFC 3849): no machine has one, so an address in them is
#: an example or test data standing for a real one — what a user's "my IP is 203.0.113.7" or a
#: test set's synthetic record holds. Reported like a global address (independent authors'
#: PII rows: 29 of 29 IP addresses were in these ranges, all missed at 0.3).
_DOCUMENTATION = (
    ipaddress.ip_network("192.0.2.0/24"),
    ipaddress.ip_network("198.51.100.0/24"),
    ipaddress.ip_network("203.0.113.0/24"),
    ipaddress.ip_network("2001:db8::/32"),
)


def _ip_score(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> float:
    if address.is_global or any(address in net for net in _DOCUMENTATION):
        return 0.9
    return 0.3


def ipv4s(text: str, pos: int, endpos: int) -> Iterator[Span]:
    for m in IPV4.finditer(text, pos, endpos):
        try:
            v4 = ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        if _VERSION_WORDS.search(context_before(text, m.start(), 16)):
            continue
        score = _ip_score(v4)
        # "Firmware 2.4.17.3 replaces 2.4.16.9": a version, by its neighbours; not after a log's
        # label for an address ("SRC=2.124.60.151" in a kernel's firewall line).
        if (
            score > 0.5
            and m.group()[1] == "."
            and _ADDRESS_LABEL.search(text, max(0, m.start() - 8), m.start()) is None
            and _versions_near(text, m.start(), m.end())
        ):
            score = 0.3
        yield Span("ip_address", m.start(), m.end(), score)
    # tcpdump's address and port joined by a dot: "IP 109.105.82.101.51544 > 62.8.213.150.80:".
    for m in _WITH_PORT.finditer(text, pos, min(len(text), endpos + 3)):
        if text.rfind("IP ", max(0, m.start() - 40), m.start()) == -1:
            continue  # only tcpdump's line ("... IP a.b.c.d.port > ..."), not "Section 2.1.3.4.1:"
        try:
            v4 = ipaddress.IPv4Address(m.group("address"))
        except ValueError:
            continue
        yield Span("ip_address", m.start(), m.end("address"), _ip_score(v4))


# A label that says an address follows, in a log line: "SRC=2.124.60.151", "from 5.1.2.3".
_ADDRESS_LABEL = re.compile(r"(?i:src|dst|ip|client|peer|addr|host|remote)[ \t]*[=:][ \t]*$")
_WITH_PORT = re.compile(r"(?<![\w.])(?P<address>(?:\d{1,3}\.){3}\d{1,3})\.\d{1,5}(?= > |: )")


def _versions_near(text: str, start: int, end: int) -> bool:
    """Whether an address whose first octet is one digit sits among version numbers: another
    dotted number and a word for a version within 240 characters before or 160 after ("Versión 5.3.1.2 publicada
    ... Sustituye a 5.3.0.18"). Release notes name the versions once for several; an attacker's
    address in prose has no other dotted number beside it."""
    if not per_text(text, "version words", lambda: bool(_VERSION_WORDS.search(text.lower()))):
        return False  # none in the whole text (read once per call): no window to read
    window = text[max(0, start - 240) : end + 160]
    if len(_DOTTED.findall(window)) < 2:
        return False
    return bool(_VERSION_WORDS.search(window.lower()))


_DOTTED = re.compile(r"\d+\.\d+\.\d+")


def ipv6s(text: str) -> Iterator[Span]:
    if "::" in text or text.count(":") >= 7:
        for m in _IPV6.finditer(text):
            cand = m.group()
            if sum(c in "0123456789abcdefABCDEF" for c in cand) < 3:
                continue  # "::" or "::1"-like fragments of code and times
            try:
                v6 = ipaddress.IPv6Address(cand)
            except ValueError:
                continue
            yield Span("ip_address", m.start(), m.end(), _ip_score(v6))
