"""PINs and codes named by one phrase: a device's or a card's PIN ("PIN ist 9459", "Code PIN :
4888"), whose PIN ("PIN camareros 2468"), a PIN of letters and symbols, and a door's or an
alarm's code named whole ("Door code tomorrow is 5172#", "digicode : 4B217"). Beside the codes
named by a word and the lock on their line (:mod:`.secrets_codes`; split from it past 600 lines,
the same findings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.secrets_codes import BOOKING, YEAR_ENDS_HERE, filler
from llmops_guardrails.detectors.secrets_values import PLACEHOLDER, Span, classes, dummy

# A code to a door or an alarm: "Door code tomorrow is 5172#". (A card's or a booking's PIN
# was a look-alike to the authors who wrote one; a badge PIN a password to another: not kept.)
# Matched on the lower-cased text; only connectives between the words and the code.
_PIN = re.compile(
    r"(?<![\w])(?:door code|alarm code|gate code|entry code|keypad code|access code|digicode"
    r"|code porte|türcode|code d'accès|código de acceso|código do alarme|codice della porta"
    r"|codice allarme|code de l'alarme|code alarme|code de la porte|code du portail"
    r"|code de l'immeuble|alarmcode|código de la alarma|código da porta|zugangscode"
    r"|codice di accesso|código de acesso)(?:[ \t]+(?:is|es|est|ist|é|è|for|of|del|de|do|da|della|tomorrow|today"
    r"|now|demain|morgen|heute|mañana|amanhã|domani|new|nuevo|nouveau|neuer))"
    r"{0,3}[ \t]{0,4}(?:[:=]|c'est|c\u2019est)?[ \t]{0,4}(?P<value>\d{4,8}#?)(?![\w])(?! ?(?:seconds|secs|minutes|mins|hours"
    r"|days|bits|bytes|ms|s\b|m\b|h\b))"
)
# A PIN that unlocks something: "PIN ist 9459", "Code PIN : 4888", "PIN do aparelho 124492".
# Fourth-round authors labelled a phone's, a device's or a fuel card's PIN a password 11 times
# of 11; a booking's or a gift card's PIN is a reference (two look-alikes): not after one.
_DEVICE_PIN = re.compile(
    r"(?<![\w])PIN(?:-?[Cc]ode|-Nummer)?(?:[ \t]+(?:is|ist|es|é|est|è|do|de|du|der|des|da|del|dell|of"
    r"|for|für|para|pour|per|the|le|la|el|o|a|aparelho|telefone|téléphone|Wi-Fi|WLAN|SIM"
    r"|telefono|teléfono|móvil|handy|carte|card|karte|tarjeta|cartão"
    # Words for whose or which PIN it is: "code PIN personnel 7731", "new PIN 4821".
    r"|personnel|personal|persönliche|persönlicher|personale|pessoal|new|nouveau|neuer|neue|nuevo"
    r"|novo|nuovo|current|actuel|aktuelle|actual|atual|attuale|initial|temporary|provisoire)){0,3}"
    r"[ \t]{0,4}[:=]?[ \t]{0,4}(?P<value>\d{4,8})(?![\w]|[.,/-]\d)"
)
# A PIN named by whose or what it is, one word in small letters, the code ending its clause.
_WHOSE_PIN = re.compile(
    r"(?<![\w])PIN[ \t]+(?!(?:code|diode|photodiode|header|connector|number|pad|entry|reset|change"
    r"|count|length|block|mailer|attempts|mode|codes|numbers)\b)[a-zà-ÿ]{3,15}"
    r"[ \t]+(?P<value>\d{4,8})(?=[ \t]*(?:[,.;)\n]|$))"
)
# A PIN of letters, digits and symbols ("Online-Banking ..., PIN l9a~Rh20"): a password.
# A pin's name in code or a datasheet ("PIN_LED_2", "PIN: GPIO_17", "PIN A4/SDA") is none.
_STRONG_PIN = re.compile(
    r"(?<![\w])PIN(?![\w])[ \t]{0,4}[:=]?[ \t]{0,4}(?P<value>[^\s,;\"'/()]{6,32})(?=[\s,;)]|$)"
)
_PIN_NAME = re.compile(r"(?i)gpio|[ad]\d|n/a|_")
_INSTRUCTIONS = ("enter", "type", "your", "use", "see", "ask", "choose", "set")


def pins(text: str, lower: str) -> Iterator[Span]:
    """PINs and codes named by one phrase (see the module docstring)."""
    if len(lower) != len(text):
        return  # a character whose lower case is longer (U+0130): offsets would not line up
    if "PIN" in text:
        for m in _DEVICE_PIN.finditer(text):
            digits = m.group("value")
            year = digits[:2] in ("19", "20") and not YEAR_ENDS_HERE.match(text, m.end())
            if (
                filler(digits)
                or (len(digits) == 4 and year)
                or BOOKING.search(text, max(0, m.start() - 60), m.start())
            ):
                continue
            if len(digits) == 6 and m.group().startswith(("PIN Code", "PIN code")):
                continue  # India's postal code ("PIN Code: 560034")
            yield Span("password", m.start("value"), m.end("value"), 0.8)
        for m in _WHOSE_PIN.finditer(text):
            # Whose PIN, in a word of small letters: "PIN camareros 2468, PIN encargado 9731".
            digits = m.group("value")
            if not filler(digits) and not (len(digits) == 4 and digits[:2] in ("19", "20")):
                yield Span("password", m.start("value"), m.end("value"), 0.8)
        for m in _STRONG_PIN.finditer(text):
            value = m.group("value").rstrip(".)")
            if _PIN_NAME.match(value) or value.lower().startswith(_INSTRUCTIONS):
                continue  # a pin's name, or how to choose one: "PIN: Enter-4-digits"
            shaped = any(c.isdigit() for c in value) and any(c.islower() for c in value)
            if (
                classes(value) >= 3
                and shaped
                and not PLACEHOLDER.fullmatch(value)
                and not dummy(value)
            ):
                yield Span("password", m.start("value"), m.start("value") + len(value), 0.8)
    if "cod" in lower or "türcode" in lower:  # "code", "código", "codice", "türcode"
        for m in _PIN.finditer(lower):
            digits = m.group("value")
            year = digits[:2] in ("19", "20") and not YEAR_ENDS_HERE.match(lower, m.end())
            if not filler(digits) and not (len(digits) == 4 and year):
                yield Span("password", m.start("value"), m.end("value"), 0.85)
