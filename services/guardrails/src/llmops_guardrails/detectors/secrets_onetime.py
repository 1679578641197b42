"""Codes sent to be typed once: verification codes, TANs, one-time passcodes and bypass codes
("Your Starling verification code is 384 902", "Tu código de verificación de Bizum es 739105",
"Ihre mobileTAN ... lautet: 482913").

Such a code opens an account for a few minutes, to whoever reads it: independent authors
labelled every one they wrote a secret (ninth round: seven in the dev rows, none a look-alike).
A number is one only right after the code's name, a few words (the service's) and a copula or a
colon: not a confirmation code near a booking's or an order's word (a dev look-alike's "Codice
di conferma: 310 884 27. Camera 118" was a hotel's), not the code's length ("a 6-digit code"), where it was sent ("code sent to 0612..."), nor
a number further on. Beside the codes that open a door or a device (:mod:`.secrets_codes`),
which stay apart from these (a line naming a verification word is none of theirs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.secrets_codes import filler
from llmops_guardrails.detectors.secrets_values import Span

#: The codes' names, lower case, in the six languages of the corpus.
MARKS = (
    *("verification code", "one-time passcode", "one-time code", "one time code"),
    *("bypass code", "login code", "sign-in code"),
    *("código de verificación", "codigo de verificacion", "código de verificação"),
    *("code de vérification", "code de verification", "codice di verifica"),
    *("codice otp", "code otp", "código otp", "verifizierungscode", "einmalcode"),
    *("mobiletan", "sms-tan", "smstan", "pushtan"),
    # A confirmation code is a booking's as often: only with no booking's word before it.
    *("confirmation code", "código de confirmación", "código de confirmação"),
    *("code de confirmation", "codice di conferma", "bestätigungscode"),
)
_CONFIRMING = ("confirm", "conferma", "bestätigung")
_BOOKING = re.compile(
    r"book|reserv|buchung|prenota|hotel|flight|vuelo|voo|vol\b|flug|volo|order|pedido|commande"
    r"|bestell|ordine|encomenda|ticket|billet|camera|room|chambre|habitación|quarto|zimmer"
    r"|rendez-vous|termin|cita\b|appointment|consulta|appuntamento|marcação"
)
# Between the name and the value: where the code went or how long it lives, not the code
# ("Verification code sent to: 5551234", "bypass code lifetime is 3600").
_NOT_GIVEN = re.compile(
    r"sent|\bto\b|envoy|enviad|gesendet|inviat|mobile|phone|ending|lifetime|ttl|valid|expir|length"
    r"|digits|chiffres|dígitos|stellen|cifre|format"
)
# After the name: up to five words without a digit (the service's: "de Bizum", "MB WAY",
# "for BrightHR"), a copula or a colon, the code: four to eight digits, or six in two or three
# groups. The name is matched on the lower-cased text.
_CODE = re.compile(
    r"(?:[ \t]+[^\W\d][\w'\u2019.-]{0,19}){0,5}?[ \t]*(?:\b(?:is|es|est|é|è|ist|lautet|was|era)\b"
    r"|:)[ \t]*:?[ \t]*(?:(?:le|la|el|o|a|the) )?"
    r"(?P<value>\d{3}[ -]\d{3}|\d{2} \d{2} \d{2}|\d{4,8})(?![\w]|[.,/:-]\d| \d)"
    # Not a lifetime in seconds, an amount.
    r"(?! ?(?:seconds|secs|s\b|minutes|mins|hours|days|segundos|secondes|sekunden|secondi|€|\$|%))"
)


def one_time_codes(lower: str, marks: dict[str, list[int]]) -> Iterator[Span]:
    """Codes after a name of ``MARKS``; ``marks``: where each name starts in ``lower``."""
    for name in MARKS:
        for at in marks.get(name, ()):
            if at and (lower[at - 1].isalnum() or lower[at - 1] == "_"):
                continue  # the tail of a longer word
            confirming = any(word in name for word in _CONFIRMING)
            if confirming and _BOOKING.search(lower, max(0, at - 120), at + 120):
                continue  # a booking's or an order's confirmation, a reference
            m = _CODE.match(lower, at + len(name))
            if m is None:
                continue
            if _NOT_GIVEN.search(lower, at + len(name), m.start("value")):
                continue
            digits = m.group("value").replace(" ", "").replace("-", "")
            if filler(digits) or (len(digits) == 4 and digits[:2] in ("19", "20")):
                continue  # an example ("123456"), a year
            yield Span("password", m.start("value"), m.end("value"), 0.8)
