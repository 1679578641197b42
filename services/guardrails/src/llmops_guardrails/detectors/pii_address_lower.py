"""Streets typed in small letters (see :mod:`.pii_addresses`, which calls them for a house
number after a word that is not capitalised): with their postal code and city ("camino de los
molinos 5, 50015 zaragoza"), or in a chat with no postal code ("es calle toledo 62 no??")."""

from __future__ import annotations

import re

from llmops_guardrails.detectors.pii_context import Span

#: What a field starts after (besides the text's start): a street right after one of these is
#: a field of its own (a line, a column, a label's value), not words of a sentence.
FIELD_STARTS = ("\n", "|", "\u2013", "\u2014", ":", ";", ",", "(", "-", "\t", '"', "'", "·", "•")
# What comes before an address written in lower case in a sentence: "la dirección es ...", "ela
# mora agora na ...", "neue adresse ...".
_LOWER_CUE = re.compile(
    r"\b(?:adresse|address|dirección|direccion|morada|endereço|endereco|indirizzo|mora|moro"
    r"|vive|vivo|wohne|wohnt|lives?|deliver|entrega|livraison|lieferadresse|consegna)\b"
)
# A floor, a door or a flat between a house number and the postal code, as typed in lower case:
# "7 1ºd 46002", "14 r/c 2800-262", "312 2 esq", "30, 3r 2a, 08003", "3 in 01099".
_LOWER_UNIT = (
    r"(?:,? (?:\d{1,2}\. ?og|\d{1,2}[ºª°]?(?: ?[a-z](?![\w]))?|\d{1,2}[rnt]? \d{1,2}a?|\d{1,2}(?:st|nd|rd|th) floor|r/c"
    r"|bajo|piso \d{1,2}\w?|planta \d{1,2}|flat \d{1,4}\w?|apt\.? ?\w{1,5}|esq|dto|dta|dir|in"
    # Staircases, blocks, sides, attics and Italian inner doors, as typed in a chat (tenth
    # round: "c/ sagasta 12 esc izq 4ºb", "via san vitale 61 scala A int 4 40125 bologna").
    r"|esc(?:\.|alera)?(?: (?:izq|dcha|\d{1,2}|[a-z])\b)?|izq(?:da)?\.?|dcha\.?"
    r"|bl(?:oque)?\.? \d{1,3}|portal \d{1,3}|ático|atico|frente|scala [a-z]|int\.? \d{1,3}"
    r"|interno \d{1,3})){0,4}"
)
# A postal code and a city word after a house number.
_CODE_AFTER = re.compile(
    r"[a-z]?(?: km \d{1,3})?" + _LOWER_UNIT + r",? (?:\d{5}|\d{4}-\d{3}|(?!19|20)\d{4}) [^\W\d]",
    re.IGNORECASE,
)
# Italian provinces after a city typed in lower case ("20090 segrate mi"); not those that are
# words too ("en", "no", "to", "me", "co", "or", "so", "is", "pa", "pe", "al", "an", "as", "at").
_PROVINCES = (
    "ag|ao|ap|aq|ar|av|ba|bg|bi|bl|bn|bo|br|bs|bt|bz|ca|cb|ce|ch|cl|cn|cr|cs|ct|cz|fc|fe|fg|fi|fm"
    "|fr|ge|go|gr|im|kr|lc|le|li|lo|lt|lu|mb|mc|mi|mn|mo|ms|mt|na|nu|pc|pd|pg|pi|pn|po|pr|pt|pu|pv"
    "|pz|ra|rc|re|rg|ri|rm|rn|ro|sa|si|sp|sr|ss|su|sv|ta|te|tn|tp|tr|ts|tv|ud|va|vb|vc|ve|vi|vr|vt|vv"
)
_LOWER_CODED = re.compile(
    r"(?<![\w])(?:calle|c/|avda\.|av\.|avenida|plaza|paseo|camino|ronda|travesía|rua|rúa|praça"
    r"|r\.(?= d[aeo]s? )"
    r"|travessa|largo|estrada|alameda|carrer|passeig|avinguda|via|viale|piazza|piazzale|corso"
    r"|vicolo|strada|rue|avenue|boulevard|chemin|quai|allée|impasse"
    r"|straße|strasse|[\wäöüß-]{3,30}(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer))"
    r"(?:(?: |(?<=['\u2019]))[\w'\u2019.-]{1,30}){0,5} \d{1,4}[a-z]?(?: km \d{1,3})?"
    + _LOWER_UNIT
    + r",? "
    r"(?:\d{5}|\d{4}-\d{3}|\d{4}) [^\W\d][\w'-]{1,30}(?: (?:am|im|an der|de|del|di)"
    r" [^\W\d][\w'-]{1,30})?(?: \([a-z]{2}\)| (?:" + _PROVINCES + r")(?![\w]))?",
    re.IGNORECASE,
)
_LOWER_TYPED = re.compile(
    r"(?i:calle|c/|avda\.|av\.|avenida|plaza|paseo|camino|ronda|travesía|rua|rúa|praça|travessa"
    r"|largo|estrada|alameda|carrer|passeig|avinguda|viale|piazza|piazzale|corso|vicolo|rue|avenue"
    r"|boulevard|chemin|quai|allée|impasse|straße|strasse)(?![\w])"
)
# See :func:`chat_street`: the street-type words of a street typed in a chat, no postal code.
# "via" only after "in", "a", a comma or a slash (English says "via email 2"); no "corso" (a
# course), "plaza" (a seat: "plaza de parking nº 22") or "route".
_CHAT_STREET = re.compile(
    r"(?<![\w])(?:(?:(?i:calle|avenida|avda\.?|c/|c\.so|rua|r\.(?= d[aeo]s? )|travessa|praça|carrer"
    r"|passeig|viale|piazza)"
    r"|(?:(?<= in )|(?<= a )|(?<=, )|(?<=/ ))[Vv]ia)(?: [^\W\d_][\w'\u2019.-]{1,29}){1,3}"
    # "friedrichstr 128", not "substr 3" or "strstr 2".
    r"|[a-zäöüß]{3,30}(?:straße|strasse|str\.)|[a-zäöüß]{5,30}(?<!sub)(?<!str)(?<!in)str)"
    r" \d{1,4}[a-z]?$"
)
_CHAT_WORDS = (
    "calle",
    "c/",
    "c.so",
    "r. d",
    "avenida",
    "avda",
    "rua",
    "travessa",
    "praça",
    "carrer",
    "passeig",
    "viale",
    "piazza",
    "via",
    "str",
)
# After the number: the end of the clause, or a word (not a unit, not another number).
_CLAUSE_ENDS = re.compile(
    r"[ \t]*(?:[,.;:!?)\r\n]|$)| (?:no|ma|mas|pero|y|e|et|und|and|but|aber|ou|o|oder|or)\b"
)


def in_small_letters(text: str, start: int, end: int) -> tuple[Span | None, bool]:
    """A street typed in small letters whose house number is at ``start:end``, and whether the
    number is decided by it (no other address pattern should read it)."""
    if _CODE_AFTER.match(text, end):
        # Written all in lower case ("camino de los molinos 5, 50015 zaragoza", a signature):
        # any street-type word, held by the postal code and city after the number.
        # Only where a field starts: a line, or after a separator ("gmbh\ngewerbering 14, ...",
        # "... | estrada nacional 222 km 14, ..."), not in a sentence ("we ring 14, 86899 times").
        for m in _LOWER_CODED.finditer(text, max(0, start - 64), min(len(text), end + 64)):
            if m.start() < start < m.end():
                cue = _LOWER_CUE.search(text[max(0, m.start() - 30) : m.start()].lower())
                # A street-type word of its own ("rue", "calle", "travessa") is a cue too, its
                # postal code and city after it: only a German word's ending needs a field's
                # start ("we ring 14, 86899 times").
                typed = _LOWER_TYPED.match(text, m.start()) is not None
                if cue or typed or text[: m.start()].rstrip(" ")[-1:] in ("", *FIELD_STARTS):
                    return Span("street_address", m.start(), m.end(), 0.9), True
                return None, True
    chat = chat_street(text, start, end)
    return chat, chat is not None


def chat_street(text: str, start: int, end: int) -> Span | None:
    """A street typed in a chat with no postal code ("es calle toledo 62 no??", "sono in via
    Garibaldi 23 ma", "friedrichstr 128, hinterhof"): a street-type word no other language uses
    so, a name, the number at ``start:end``, and the clause ends there."""
    # A floor, a staircase, a side after the number ("c/ san bernardo 34 3º izq, el timbre").
    units = _CHAT_UNITS.match(text, end)
    stop = units.end() if units else end
    if not _CLAUSE_ENDS.match(text, stop):
        return None
    before = text[max(0, start - 48) : start].lower()
    if not any(word in before for word in _CHAT_WORDS):
        return None  # the pattern's search costs ~20 us; these tests a few hundred ns
    m = _CHAT_STREET.search(text, max(0, start - 48), end)
    if m is None or m.end() != end:
        return None
    if units is None and m.group()[:2].lower() == "c/":
        return None  # "c/" is also "con": "Total c/ IVA 121", "Café c/ leche 2" (the review)
    return Span("street_address", m.start(), stop, 0.75)


_CHAT_UNITS = re.compile(_LOWER_UNIT.replace("{0,4}", "{1,4}"), re.IGNORECASE)
