"""Codes that open something — a door, an alarm, a safe, a padlock, a locker, a device, an
account — and codes that stand in for a password once: backup codes and disk recovery keys.
Beside the passwords of :mod:`.secrets_assigned` and :mod:`.secrets_credentials`.

Independent authors labelled such codes passwords (door and alarm codes, padlock combinations,
a tablet's PIN, "usuario 40021557 · clave 730184") in every round; the fifth round's dev author
alone wrote 60. A number is a code only where the line says what it opens: a code word and a
lock on the line ("alarm code for the studio is 804417"), a word that is always a code's ("PIN",
"combo", "digicode"), or a lock and a colon or a copula ("Local poubelles : 8037"). Postal codes,
error codes, offers and references are not.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # C extension, no stubs

from llmops_guardrails.detectors.secrets_values import Span


def filler(digits: str) -> bool:
    """A code no one sets: one digit repeated or a counting run ("0000", "1234")."""
    core = digits.rstrip("#")
    return len(set(core)) == 1 or core in "0123456789" or core in "9876543210"


BOOKING = re.compile(
    r"confirmation|booking|reservation|réservation|reserva|buchung|prenotazione|gift|cadeau|regalo"
    r"|geschenk|voucher|bon d'achat",
    re.IGNORECASE,
)

# The words before a code, by what they say. Found with one Aho-Corasick pass over the
# lower-cased text (a regex alternation of a hundred words tried at every offset cost 50-150 us
# per KB); the rest of the pattern is matched after each word found.
#: Words that are always a code's: no lock needs naming.
_ALWAYS_CODES = (
    "pin puk combo combination combinaison combinación kombination zahlenkombination combinazione "
    "combinação passcode digicode keypad zahlenschloss padlock cadenas candado cadeado lucchetto "
    "lockbox keysafe|key safe|boîte à clés|cajetín|cofre de chaves|schlüsselsafe|host key"
    "|caja de llaves|cofre das chaves|cassetta delle chiavi|key box|schlüsselkasten"
    # German compounds for a door's or a keypad's code (eighth and ninth rounds).
    "|tastencode|torcode|schlosscode|tresorcode|zahlencode|eingangscode|öffnungscode|türcode"
    # A card's or an account's secret code, Québec's PIN (tenth round).
    "|code secret|code confidentiel|código secreto|codice segreto|geheimzahl|geheimcode|nip"
)
#: Words for a code, and the verbs for typing one: a colon, a copula or a lock must follow.
_CODE_WORDS = (
    "code codes código codigo codice clave chave enter type tape tapes tapez tippe tippen teclea "
    "marca digita introduce insira senha contraseña passwort password|key in|mot de passe"
)
#: What a code opens. A lock names a code only before a colon or a copula ("Local poubelles :
#: 8037", "Office alarm: set = 6139"); before a bare number it is a number ("locker 1234").
_LOCKS = (
    "alarm alarme alarma allarme safe coffre cofre tresor cassaforte door porte puerta porta portal "
    "portail portão portillon tür haustür tor haupttor gate cancello badge unlock déverrouillage "
    "desbloqueo sblocco copier photocopieuse photocopieur fotocopiadora kopierer fotocopiatrice "
    "alarmanlage locker casier card carte tarjeta cartão karte bancomat cajero multibanco atm "
    "taquilla schließfach armadietto cacifo tablet tablette ipad laptop ordinateur garage garagem "
    "garaje keller cave arrecadação barracão trastero abstellraum interphone centrale central "
    "messagerie voicemail mailbox mobilbox parental parentale jugendschutz confidentiel cantina "
    "sótano soffitta cantine dachboden "
    "confidencial vertraulich sim immeuble edificio prédio gebäude entrée entrada eingang"
    # Ninth round's dev rows: an Italian street door and key box, a photocopier, a locker.
    " portone photocopier keybox spind vestiaire "
    "|caja fuerte|bike shed|bin store|local vélos|local poubelles|local à vélos|cuarto de bicis"
    "|cuarto de basuras|buzón de voz|correio de voz|lock box|key box|cassetta delle chiavi"
    "|cassetta chiavi|cassetta di sicurezza|cassetta portachiavi"
)
#: Endings of German compounds that are locks: "Müllraum", "Fahrradkeller", "Garagentor".
_LOCK_ENDINGS = ("raum", "keller", "tor", "tür", "schloss", "tresor", "box", "kasten", "safe")


def _words(spec: str) -> list[str]:
    """The words of a spec: space-separated, and after a "|" the ones with spaces in them."""
    single, _, multi = spec.partition("|")
    return [*single.split(), *(multi.split("|") if multi else [])]


#: Locks that name a code as a field's label, before a colon ("Alarme du cabinet : 2580",
#: "Local poubelles : 8037", "Müllraum: 7316"); the others, a door, a gate, a locker, a badge, a
#: tablet, label their number as often ("Gate: 4512 closes at 19:30", "Locker: 3321").
_LABEL_LOCKS = frozenset(
    _words(
        "alarm alarme alarma allarme safe coffre cofre tresor cassaforte keypad alarmanlage "
        "garage garagem garaje keller cave arrecadação barracão trastero abstellraum"
        "|caja fuerte|bike shed|bin store|local vélos|local poubelles|local à vélos"
        "|cuarto de bicis|cuarto de basuras"
    )
)
#: An account named on the line also makes a code word's number its code ("usuario 40021557 ·
#: clave 730184"); before a colon it names the user ("Identifiant : 4183027M"), no code.
_ACCOUNTS = ("identifiant", "usuario", "utilizador", "login", "benutzer", "user")
#: Words of the phrases before backup codes, found with the code words (see ``_anchors``).
_BACKUP_STEMS = (
    "backup",
    "recovery",
    "secours",
    "récupération",
    "sauvegarde",
    "respaldo",
    "recuperación",
    "recuperação",
    "wiederherstellungscodes",
    "notfallcodes",
    "ersatzcodes",
    "recupero",
    "one-time",
    "single-use",
    "usage unique",
    "solo uso",
    "uma vez",
    "nur einmal",
    "works once",
)
_CATEGORY: dict[str, str] = {
    **{w: "backup" for w in _BACKUP_STEMS},
    **{w: "account" for w in _ACCOUNTS},
    **{w: "lock" for w in _words(_LOCKS)},
    **{w: "code" for w in _words(_CODE_WORDS)},
    **{w: "always" for w in _words(_ALWAYS_CODES)},
}
_AUTOMATON: list[Any] = []


def _anchors(lower: str, start: int, end: int) -> Iterator[tuple[int, str]]:
    """(end, category) of each whole word in ``_CATEGORY`` and each German compound ending in a
    lock word within ``lower[start:end]``, in order of their end."""
    if not _AUTOMATON:
        automaton = ahocorasick.Automaton()
        for word in (*_CATEGORY, *_LOCK_ENDINGS):
            automaton.add_word(word, word)
        automaton.make_automaton()
        _AUTOMATON.append(automaton)
    n = len(lower)
    for last, word in _AUTOMATON[0].iter(lower, start, end):
        end = last + 1
        if end < n and (lower[end].isalnum() or lower[end] == "_"):
            continue
        start = end - len(word)
        whole = start == 0 or not (lower[start - 1].isalnum() or lower[start - 1] == "_")
        if whole and word in _CATEGORY:
            yield end, _CATEGORY[word]
        elif word in _LOCK_ENDINGS and (not whole or lower[start - 1 : start] == "-"):
            yield end, "lock"  # "Müllraum", "Vereinsheim-Schloss"


# What a number of something is followed by: a unit, a currency, things counted.
_UNITS = (
    r"(?:seconds|secs|minutes|mins|hours|days|years|ans|jahre|años|anni|anos|€|\$|£|%|x|mal|times"
    r"|dollars?|usd|eur|euros?|gbp|chf|pesos|reais|real|ttc|ht|mm|cm|m|km|kg|g|l|ml|mb|gb|kb|tb"
    r"|bytes?|octets?|bits?"
    r"|mbit|mbps|gbps|ghz|mhz|rpm|w|kw|v|mah|users|items|people|lines|pages|words|points|results"
    r"|entries|rows|records|units|pieces|stück|pcs|wide|high|long|breit|hoch|lang|square|sq|feet"
    r"|ft|by|dh|mad|closes|opens)(?![\w])"
)
# After the word: words without a digit, a colon or a copula (or a word and "=": "Office alarm:
# set = 6139"), an article, the code.
_AFTER = re.compile(
    r"(?P<between>[^\n\d:=|]{0,60}?)[ \t]{0,4}"
    r"(?P<sep>:[ \t]{0,4}[^\W\d]{1,10}[ \t]{0,4}=|[:=]|(?<![\w'\u2019])(?:is|es|est|ist|é|è|lautet|era"
    r"|was|c|sind|sont|são|son|para|to|auf)(?![\w])(?: (?:now|jetzt|maintenant|ahora|agora|ora"
    r"|always|immer|toujours|siempre|sempre))?|(?<![\w])c'est|(?<![\w])c\u2019est)?[ \t]{0,4}"
    r"(?:(?:le|la|el|o|a|the|der|die|das|il) )?"
    # A code starts a word: not the tail of one ("Passwort Vogel1958": not "el1958").
    r"(?<![\w])(?P<value>[#*]?(?:\d(?: \d){3,7}(?! \d)|\d{1,2}(?:-\d{1,2}){2,5}|\d{2}(?: \d{2}){2,3}"
    r"|(?=[a-z]{0,2}\d)[a-z\d]{4,8}|\d{3})[#*]?)"
    # Not the start of a longer name or number ("CODE 7731-ALPHA", "4.5", "12/24").
    r"(?![\w]|[.,/:-]\w)(?! ?" + _UNITS + r")"
)
# What a code is on a line that has nothing to lock: postal codes, errors, offers, references.
NOT_LOCKS = re.compile(
    r"postal|zip|postcode|post code|error|erreur|fehler|status|http|promo|discount|rabatt|descuento"
    r"|réduction|coupon|gutschein|voucher|booking|reserv|confirm|order|commande|pedido|bestell"
    r"|ordine|tracking|suivi|invoice|factur|rechnung|fattura|verif|otp|sms|area code|country"
    r"|sort code|produ|article|artikel|exit|source|hs code|guichet|code banque|bank code"
    r"|bankleitzahl|insee|taric|douan|zoll|\b(?:iso|ape|naf|icd|cim|cpt|cip|ean|blz|rib|aid)\b"
    # Tax codes, card terminals' authorisations, land registry and payment notices.
    r"|tax|fiscal|steuer|impôt|imposto|impuesto|auth code|authori[sz]|autoris|terminal|catast"
    r"|comune|commune|municipal|avviso|aviso|avis d|activation|aktivierung|activación|ativação"
    # Lotteries and alarm clocks.
    r"|winning|ganador|gagnant|gewinn|lotto|lottery|loterie|lotería|lotteria|sorteo|tirage"
    r"|clock|wake|réveil|wecker|despertador|sveglia"
    # A product's code beside a lock's word: "Photocopier toner code 4521", "codice articolo".
    r"|toner|articolo|cartridge|cartouche"
)


# How far before a code its word may be: the word, sixty characters, a colon and an article.
_REACH = 90
_AFTER_REACH = 100
_DIGIT = re.compile(r"\d")
DIGITS = "0123456789"


def _windows(text: str) -> list[tuple[int, int]]:
    """The stretches of text around each place a code may start (three digits close together:
    "2856", "0-4-9", "14 38"): ``_REACH`` before it for the word and ``_AFTER_REACH`` after it
    for a lock named after the code, merged."""
    windows: list[tuple[int, int]] = []
    start = end = -1
    for at in _marks(text):
        if at - _REACH <= end:
            end = at + _AFTER_REACH
            continue
        if end != -1:
            windows.append((max(0, start), min(len(text), end)))
        start, end = at - _REACH, at + _AFTER_REACH
    if end != -1:
        windows.append((max(0, start), min(len(text), end)))
    return windows


def _marks(text: str) -> list[int]:
    """Where three digits close together start. An ASCII text with few digits is read as bytes,
    its digits made "0" and its spaces and dashes "_" (bytes.translate and bytes.find run in C:
    ~2 us per KB; a regex starting with a digit class ~9, str.count per digit ~10); any other
    text with the regex."""
    if text.isascii():
        copy = text.encode("ascii").translate(DIGIT_MAP)
        if copy.count(b"0") <= 24:
            found = set()
            for pair in (b"00", b"0_0"):
                at = copy.find(pair)
                while at != -1:
                    if _three_digits(copy, at):
                        found.add(at)
                    at = copy.find(pair, at + 1)
            return sorted(found)
    return [m.start() for m in _MARK.finditer(text)]


def _three_digits(copy: bytes, at: int) -> bool:
    """Whether three digits start at ``at`` with one separator between them at most."""
    digits, gap = 0, False
    for byte in copy[at : at + 5]:
        if byte == _ZERO:
            digits, gap = digits + 1, False
            if digits == 3:
                return True
        elif byte == _GAP and not gap and digits:
            gap = True
        else:
            return False
    return False


DIGIT_MAP = bytes(
    ord("0") if chr(i) in "0123456789" else ord("_") if chr(i) in " -" else ord("x")
    for i in range(256)
)
_ZERO, _GAP = ord("0"), ord("_")


# Three digits close together, one space or dash between them at most ("2856", "14 38", "0-4-9").
_MARK = re.compile(r"\d[ -]?\d[ -]?\d")


def code_value(value: str, short: bool = False, year: bool = False) -> bool:
    """Four to eight digits (spaced or dashed, one or two letters among them, "#" around), not a
    counting run or a repeated digit, not a year unless right after its word (``year``); three
    digits for a padlock (``short``)."""
    core = value.strip("#*")
    digits = "".join(c for c in core if c.isdigit())
    letters = sum(c.isalpha() for c in core)
    if len(digits) < 3 or letters > 2 or (letters and len(digits) < 3):
        return False
    if not letters and len(digits) < 4 and "-" not in core and not short:
        return False
    if len(digits) == 4 and digits[:2] in ("17", "18", "19", "20") and core == digits and not year:
        return (
            False  # a year ("the tablet code name is Falcon 2016", "Gate code for the 2024 event")
        )
    if _HOUR.fullmatch(core):
        return False  # "alarme : 6h30"
    if _DATE.fullmatch(core):
        return False  # "Passwort geändert am: 20240315"
    return not filler(digits)


def _lock_on_line(lower: str, locks: list[int], start: int, end: int) -> bool:
    """Whether a lock or an account word (``locks``: where each ends, sorted) is on the line
    around ``start:end``, 200 characters each way at most."""
    line_start = max(lower.rfind("\n", max(0, start - 200), start) + 1, start - 200)
    line_end = lower.find("\n", end, end + 200)
    line_end = end + 200 if line_end == -1 else line_end
    i = bisect.bisect_left(locks, line_start)
    return i < len(locks) and locks[i] <= line_end


def _accepted(lower: str, word_end: int, category: str, m: re.Match[str], locks: list[int]) -> bool:
    """Whether a code after a word of ``category`` is one: a code's value on a line with no
    postal code, error, offer or reference; after a word always a code's, a code word and a
    lock on the line, or a lock and a colon or copula."""
    # A padlock's combination has three digits as often as four ("Cadenas du local vélos : 482").
    # Only as a label's value: "Padlock price: 299 SEK", "Padlock 570 (Abus model)" are none.
    short = (
        category == "always"
        and lower.endswith(_PADLOCKS, 0, word_end)
        and (m.group("sep") or "")[:1] not in ("", "=")
        and _CLAUSE_ENDS_HERE.match(lower, m.end()) is not None
    )
    # A number that reads as a year is a code only right after its word and a colon or copula
    # ("Key safe ..., code 1955.", "codice della cantina è 2085"): a code is any four digits, and
    # people pick birth years (ninth round: a tenth of the dev authors' missed codes).
    between = m.group("between").split()
    year = (
        not between or (m.group("sep") is not None and len(between) <= 3)
    ) and YEAR_ENDS_HERE.match(lower, m.end()) is not None
    if not code_value(m.group("value"), short, year):
        return False
    if m.group("value").strip("#*").isdigit() and _GROUP_GOES_ON.match(lower, m.end()):
        return False  # the first group of a longer number ("Chave de acesso: 3525 0312 ...")
    # What the number is, read near it: a line may hold an address, a code and an invoice.
    near = lower[_sentence_start(lower, word_end) : m.end()]
    if NOT_LOCKS.search(near) or BOOKING.search(near):
        return False
    if category != "always" and "set to" in near:
        return False  # an alarm clock's time ("alarm set to 0630"); a PIN "set to 480613" is one
    if category == "always":
        if lower.endswith(("pin", "puk"), 0, word_end):
            # Not India's postal code ("PIN Code: 560034"), nor a PIN diode's part number ("PIN
            # Photodiode SFH 2701"): words after "PIN" need a colon or a copula.
            between = m.group("between").strip()
            if not between or (m.group("sep") is not None and between[:4] != "code"):
                return True
            # Or what the PIN is of, the code ending its clause: "PIN do cartão Millennium
            # 6619,", "el pin del cajero 4408." (eighth round).
            return (
                _OF.match(between) is not None
                and len(between.split()) <= 4
                and _CLAUSE_ENDS_HERE.match(lower, m.end()) is not None
            )
        return True
    if category == "code":
        if lower.endswith("pin code", 0, word_end) or lower.endswith("pin-code", 0, word_end):
            return len(m.group("value").strip("#*")) != 6  # India's postal code: "PIN Code: 560034"
        # "code: 4827", "int code = 4096", "Codice: 4821 Descrizione": a code word alone names
        # nothing that opens (review of the first draft: two dozen such lines flagged). Digits
        # read out one by one after it are a code's ("Code : 7 3 1 5", "el codigo del patio es
        # 8 0 8 0"; tenth round): no other number is written so.
        if m.group("sep") and _READ_OUT.fullmatch(m.group("value")):
            return not _BITS.fullmatch(m.group("value"))
        return _lock_on_line(lower, locks, word_end, m.end())
    # Digits read out one by one right after a lock, or after its colon, are its code ("Controlled
    # drugs safe 2 8 6 4 1", "cellar door 3 0 3 0", "Phone unlock: 2 4 6 8 0 1"; tenth round);
    # not a list of floors or spaces after other words ("checks on floors 2 4 6 8"), not bits.
    label = _label_word(lower, word_end)
    value = m.group("value")
    read_out = _READ_OUT.fullmatch(value) is not None and _BITS.fullmatch(value) is None
    if read_out and (m.group("sep") or not m.group("between").strip(" \t,;(")):
        return True
    # A lock and a bare number ("locker 1234", "Tor 2") or a copula ("The gate is 1200 wide") is a
    # measure or a number: only a field's label and a colon or "=" ("Müllraum: 7316").
    sep = m.group("sep") or ""
    if sep[:1] in (":", "=") and (label in _LABEL_LOCKS or label.endswith(_LOCK_ENDINGS)):
        return True
    # Digits only, spaced or dashed as a code is read out ("the bike shed lock is 6 6 1 0 now").
    if label not in _LABEL_LOCKS or not _SPACED.sub("", m.group("value").strip("#*")).isdigit():
        return False
    # An alarm's or a safe's code told with a copula or "with", or followed by the key pressed
    # after it, the clause ending there ("La alarma se desconecta con 1208 y luego la tecla",
    # "allarme 7708 poi tasto OFF", "the alarm is 5812 now"); "the safe is 1200 wide" is none.
    told = _WITH.search(m.group("between")) is not None or sep not in ("", ":", "=")
    keyed = _KEY_AFTER.match(lower, m.end()) is not None
    ends = _CLAUSE_ENDS_HERE.match(lower, m.end()) or _CLAUSE_GOES_ON.match(lower, m.end())
    return (told and ends is not None) or keyed


# Where a told code's clause goes on past it without a stop (tenth round): into an instruction
# ("alarm is 1357 and you have 30 sec", "Alarm is 2209 - set it AFTER the lights"), not into a
# range, a measure or a time ("2400 - 2600 mm", "My alarm is 0545 and I still oversleep": the
# review).
_CLAUSE_GOES_ON = re.compile(
    r"[ \t]+[\u2013\u2014-][ \t]+(?=[^\W\d])(?!(?:mm|cm|m|in|inches|ft|kg)\b)"
    r"|[ \t]+(?:and|y|et|und|e)[ \t]+(?:you|then|press|enter|puis|tu|vous|dann|du|luego|pulsa"
    r"|depois|premi|carrega)\b"
)


_WITH = re.compile(r"(?:^|\s)(?:with|mit|avec|con|com|col|using|par|per)\s*$")
_KEY_AFTER = re.compile(
    r"[ \t]*(?:\+|then|puis|dann|luego|depois|poi|y luego|e depois|und dann)(?![\w])"
)


# Where a number that reads as a year may end to be a code: its sentence's or line's end, a key
# ("Alarm code 2024, see you next year" is a year).
YEAR_ENDS_HERE = re.compile(r"[ \t]*(?:$|\n|\.(?!\d)|;|\)|\+|then|puis|dann|luego|depois|poi)")
_OF = re.compile(r"(?:do|da|de|del|della|di|du|des|of|von|vom|der)\b")
_PADLOCKS = (
    *("padlock", "cadenas", "candado", "cadeado", "lucchetto", "zahlenschloss", "combinaison"),
    *("combination", "combo", "kombination", "combinación", "combinazione", "combinação"),
)
_CLAUSE_ENDS_HERE = re.compile(
    r"[ \t]*(?:$|\n|[.,;)]|\+|then|puis|dann|luego|depois|poi|now\b|jetzt|maintenant|ahora|agora"
    r"|ora\b)"
)
_GROUP_GOES_ON = re.compile(r" \d")
_SPACED = re.compile(r"(?<=\d)[ -](?=\d)")
_READ_OUT = re.compile(r"[#*]?\d(?: \d){3,7}[#*]?")
_BITS = re.compile(r"[01](?: [01])+")
_LABEL_PHRASES = tuple(p for p in _LABEL_LOCKS if " " in p)
_HOUR = re.compile(r"\d{1,2}h\d{2}")
_DATE = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def _label_word(lower: str, end: int) -> str:
    """The lock word (or phrase) that ends at ``end``: its whole word, or the phrase of
    ``_LABEL_LOCKS`` that ends there."""
    for phrase in _LABEL_PHRASES:
        if lower.endswith(phrase, 0, end):
            return phrase
    start = end
    while start > 0 and lower[start - 1].isalpha():
        start -= 1
    return lower[start:end]


def _sentence_start(lower: str, at: int) -> int:
    """Where the sentence holding ``at`` starts, at most 50 characters back: its line, or after a
    full stop that ends a word of four letters or more ("... par SMS : Bt7-Nuage-Rouge. Code"),
    not an abbreviation ("Confirmation no. 73920418, PIN 6604")."""
    begin = max(0, at - 50, lower.rfind("\n", max(0, at - 50), at) + 1)
    stop = lower.rfind(". ", begin, at)
    if stop >= 4 and lower[stop - 4 : stop].isalpha():
        begin = stop + 2
    return begin


# --- one-time codes ----------------------------------------------------------------------------

# A BitLocker recovery key: eight groups of six digits.
_RECOVERY_KEY = re.compile(r"(?<![\d-])\d{6}(?:-\d{6}){7}(?![\d-])")
# The words before a list of backup codes ("voici les codes de secours (usage unique) :").
_BACKUP_WORDS = re.compile(
    r"backup[ -]?codes?|recovery[ -]codes?|codes? de secours|codes? de récupération|codes? de sauvegarde"
    r"|códigos? de (?:respaldo|recuperación|backup|seguridad|recuperação|reserva)|backup-codes?"
    r"|wiederherstellungscodes?|notfallcodes?|ersatzcodes?|codici di (?:backup|recupero|riserva)"
    r"|one-time codes?|usage unique|un solo uso|uma só vez|só funciona uma vez|nur einmal"
    r"|each works once|single[- ]use|works once"
)
# A line of backup codes: "3917 4402    8826 1057", "84920137", "k3x9-p2mw".
# (Matched on the stripped line, a short one: blanks at both ends of the pattern backtracked
# against each other, 58 s for 100 KB of spaces: the review's finding.)
# Services' formats too: Dropbox's "oyr5-yspv-o0qg", Bitwarden's "f9mgzz63jd" (seventh round).
_ONE_CODE_PATTERN = (
    r"\d{4}[ -]?\d{4}|\d{6,10}|[a-z\d]{4}(?:-[a-z\d]{4}){2,3}|[a-z\d]{4,5}-[a-z\d]{4,5}"
    r"|[a-z\d]{10}"
)
_CODE_LINE = re.compile(rf"(?:{_ONE_CODE_PATTERN})(?:[ \t]{{1,8}}(?:{_ONE_CODE_PATTERN})){{0,7}}")
_ONE_CODE = re.compile(_ONE_CODE_PATTERN)


_EXAMPLE = re.compile(r"example|e\.g\.|exemple|ejemplo|beispiel|esempio|exemplo|rfc \d")


# A list's marker before a code: "1. 8454 1140", "- 03228-8d36e".
_LIST_MARK = re.compile(r"[ \t]*(?:\d{1,2}[.)]|[-*\u2022])[ \t]+")


def _unmarked(line: str) -> str:
    mark = _LIST_MARK.match(line)
    return line[mark.end() :] if mark else line


def _one_code(code: str, written: str) -> bool:
    """Digits that are no counting run or repetition; letters and digits as a service prints
    them ("zz1p-y0ao": its digits "10" are no count); letters alone only in capitals as written
    ("FKTBEEREYT") or with no word in them ("zqdb-gllg"): a list's "Regenerate", "read-only"
    are words."""
    digits = "".join(c for c in code if c.isdigit())
    if digits == code.replace(" ", "").replace("-", ""):
        return not filler(digits)
    if digits:
        return True
    if written.isupper():
        return True
    return all(sum(c in "aeiouy" for c in half) <= 1 for half in code.split("-"))


def _backup_codes(text: str, lower: str) -> Iterator[Span]:
    for m in _BACKUP_WORDS.finditer(lower):
        if _EXAMPLE.search(lower, max(0, m.start() - 80), m.end() + 80):
            continue  # "Recovery codes are described in RFC 6238. Example tracking numbers:"
        if "cod" in m.group():  # the codes' own words, not "single use" and its kin
            yield from _codes_on_its_line(text, lower, m.end())
        at = lower.find("\n", m.end(), m.end() + 121)
        if at == -1:
            continue
        seen = 0
        while at != -1 and seen < 24:
            start = at + 1
            end = lower.find("\n", start, start + 82)
            line = lower[start : min(len(lower), start + 81) if end == -1 else end]
            if not line.strip():
                if seen:
                    break
            elif len(line) <= 80 and _CODE_LINE.fullmatch(_unmarked(line).strip()):
                skip = len(line) - len(_unmarked(line))
                for code in _ONE_CODE.finditer(line, skip):
                    written = text[start + code.start() : start + code.end()]
                    if _one_code(code.group(), written):
                        yield Span("generic_secret", start + code.start(), start + code.end(), 0.8)
            else:
                break
            seen += 1
            at = end


# The rest of the backup codes' line after a colon: "2FA-Backup-Codes: 83619402, 55019283".
_ON_ITS_LINE = re.compile(r"[^\n:]{0,24}:[ \t]*")


def _codes_on_its_line(text: str, lower: str, at: int) -> Iterator[Span]:
    """Backup codes listed after the words' colon on their own line (tenth round), commas or
    blanks between them."""
    m = _ON_ITS_LINE.match(lower, at)
    if m is None:
        return
    end = lower.find("\n", m.end(), m.end() + 121)
    line = lower[m.end() : m.end() + 120 if end == -1 else end].replace(",", " ").rstrip()
    line = line.replace(";", " ")
    if not line or not _CODE_LINE.fullmatch(line) or len(_ONE_CODE.findall(line)) < 2:
        return  # (two codes at least: "Backup codes last generated: 20240501" is a date)
    if NOT_LOCKS.search(lower, at, m.end()):
        return
    for code in _ONE_CODE.finditer(line):
        written = text[m.end() + code.start() : m.end() + code.end()]
        if _one_code(code.group(), written):
            yield Span("generic_secret", m.end() + code.start(), m.end() + code.end(), 0.8)


# --- the finder ---------------------------------------------------------------------------------


def codes(text: str, lower: str) -> Iterator[Span]:
    """Door, alarm, device and account codes named by a word and a lock; backup codes and
    recovery keys (PINs and codes named by one phrase are :mod:`.secrets_pins`', codes given in
    reply to a question :mod:`.secrets_answers`')."""
    if len(lower) != len(text):
        return  # a character whose lower case is longer (U+0130): offsets would not line up
    windows = _windows(text)
    anchors = [a for start, end in windows for a in _anchors(lower, start, end)]
    locks = [end for end, category in anchors if category in ("lock", "account")]
    taken = 0
    for word_end, category in anchors:
        # Each word is tried, even inside an earlier one's rejected match ("safe (code 8824)"),
        # if a digit follows it closely (the pattern's lazy gap costs ~10 us per word).
        if word_end < taken or category in ("account", "backup"):
            continue
        if not _DIGIT.search(lower, word_end, word_end + 80):
            continue
        code = _AFTER.match(lower, word_end)
        if code and _accepted(lower, word_end, category, code, locks):
            # The keys typed with the code are part of it ("*2580#", "1845#"), as people write
            # it (ninth round: the dev authors' spans held them); a "#" before it is "number".
            value = code.group("value")
            at = code.start("value") + value.startswith("#")
            yield Span("password", at, code.end("value"), 0.8)
            taken = code.end()
    yield from _recovery_keys(text)
    backup = any(category == "backup" for _, category in anchors)
    if "\n" in text or backup:  # (on one line only after the words: see _codes_on_its_line)
        if not backup:
            # The words may sit farther up than a window reaches: "GitHub recovery codes for the
            # org owner account (print & store in the safe, do NOT keep on laptop):\n\n81a5f-...";
            # codes may have no three digits together ("OYR5-YSPV-O0QG"): no window at all.
            first = windows[0][0] if windows else min(len(lower), 400)
            found = _anchors(lower, max(0, first - 200), first)
            backup = any(category == "backup" for _, category in found)
        if backup:
            yield from _backup_codes(text, lower)


def _recovery_keys(text: str) -> Iterator[Span]:
    """BitLocker recovery keys, looked for only where six digits meet a dash (the pattern has no
    literal start: run over a whole prompt it costs ~30 us per KB)."""
    at = text.find("-", 6)
    while at != -1:
        if text[at - 6 : at].isdigit() and text[at + 1 : at + 7].isdigit():
            m = _RECOVERY_KEY.search(text, max(0, at - 6), at + 56)
            if m:
                yield Span("generic_secret", m.start(), m.end(), 0.95)
                at = m.end()
        at = text.find("-", at + 1)
