"""Passwords and codes told the way people say them, not the way a form asks for them: a code
spelled out in words ("the code for the side gate is four nine nine one"), a passphrase in a
sentence ("The passphrase is copper kettle under the stairs —"), a codeword in capitals ("your
account password ... has been set to: BLUEBELL"). Beside :mod:`.secrets_shapes` (words shaped
like passwords) and :mod:`.secrets_codes` (codes in digits).

Independent authors wrote these in every language and every round (voicemails transcribed,
alarm companies' letters, messages to family); the eighth round's dev rows had 40 of them.
Each rule needs the word for what it is told right before it, and a value that a sentence
about passwords does not make ("the passphrase is stored in the vault" is an instruction).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.secrets_codes import filler
from llmops_guardrails.detectors.secrets_values import PLACEHOLDER, Span

# Digits as words, in the six languages of the corpus, and the digit each says. "oh" is English
# for a zero in a code; "un"/"uno"/"um" are also articles, so a run needs four digit words.
_DIGIT_OF = {
    word: str(digit)
    for words in (
        "zero one two three four five six seven eight nine",
        "oh",
        "zéro un deux trois quatre cinq six sept huit neuf",
        "null eins zwei drei vier fünf sechs sieben acht neun",
        "cero uno dos tres cuatro cinco seis siete ocho nueve",
        "zero um dois três quatro cinco seis sete oito nove",
        "zero uno due tre quattro cinque sei sette otto nove",
    )
    for digit, word in enumerate(words.split())
}
_DIGIT_OF["oh"] = "0"
# Longest first: "tres" before "tre".
_DIGIT = "|".join(sorted(_DIGIT_OF, key=len, reverse=True))
_SPELLED = re.compile(
    r"(?<![\w-])(?P<value>(?:"
    + _DIGIT
    + r")(?:(?:[ \t]|[ \t]?-[ \t]?|,[ \t])(?:"
    + _DIGIT
    + r")){3,9})(?![\w-])"
)
# A code's word shortly before: "code", "PIN", "combination", "passcode" in the languages.
_CODE_STEMS = (
    "cod", "cód", "pin", "combin", "kombination", "contraseña", "senha", "passwort", "password",
    "mot de passe", "clave", "chave", "zahlenschloss", "zugänge", "zugangs",
)  # fmt: skip
#: How far before a spelled code its word may be ("... your new user code is 4 9 0 6, that's").
_CODE_REACH = 90


def _spelled_codes(lower: str, stems: list[int]) -> Iterator[Span]:
    """Codes spelled out digit by digit, after a code's word: "the code for the side gate is
    four nine nine one", "der Code ... ist 8 4 4 1, also acht vier vier eins". Only the stretch
    after each code word is read (the pattern starts with fifty words the engine would try at
    every offset)."""
    resume = 0
    found: set[int] = set()
    for at in stems:
        end = min(len(lower), at + _CODE_REACH + 90)
        # Windows overlap by a code's length at most: a code across a window's end is read again
        # from the next code word (each character is read twice at most).
        begin, resume = max(resume, at), max(resume, end - 90)
        for m in _SPELLED.finditer(lower, begin, end):
            if m.start() - at > _CODE_REACH:
                resume = min(resume, m.start())  # too far from this word: maybe the next one's
                break
            if m.start() in found:
                continue
            words = re.split(r"[ \t,-]+", m.group("value"))
            digits = "".join(_DIGIT_OF.get(w, "") for w in words)
            if len(digits) != len(words) or filler(digits):
                continue  # (not one digit repeated nor counting, "um dois três quatro": fillers)
            if _TOLD_GAP.search(lower, at, m.start()) is None:
                continue  # "the course code four two one nine": no code told
            if _NOT_SPELLED.search(lower, max(0, at - 30), m.start()):
                continue  # a postal code, an area code, a chord's numbers spelled out
            found.add(m.start())
            yield Span("password", m.start("value"), m.end("value"), 0.8)


# What tells a code between its word and the code: a copula, a colon, a repetition, a verb for
# typing it ("the code for the side gate is four nine nine one", "repito, cinco dois oito zero",
# "marca el tres, cinco, cero, ocho", "col due due quattro otto").
_TOLD_GAP = re.compile(
    r"(?<![\w])(?:is|'s|\u2019s|est|ist|es|é|è|era|was|sono|son|sind|são|lautet|répète|repito"
    r"|repeat|ripeto|also|so|that's|o sea|ou seja|cioè|marca|marcas|marque|tippe|tippen|enter"
    r"|press|con|com|col|avec|mit|then|puis|dann|luego|depois|poi)(?![\w])|c'est|c\u2019est|[:=]"
)
# Numbers spelled out that are no secret: postal and area codes, course codes, a pin's count.
_NOT_SPELLED = re.compile(
    r"zip|postal|postleitzahl|plz|\bcap\b|area|course|layout|count|prime|number code|nashville"
    r"|country code|dial|extension|ext\b"
)


# A passphrase told in a sentence, not quoted: the word for one, a copula, then words to the
# end of the clause ("The passphrase is copper kettle under the stairs —", "la phrase de passe
# est le chat dort sur la radio 1987.", "die Passphrase ... ist dachboden-karton-hammer-hase.").
_TOLD_PHRASE = re.compile(
    r"(?<![\w])(?:passphrase|pass phrase|phrase de passe|frase[- ]passe|frase maestra"
    r"|frase mestra|frase secreta|frase de paso|frase de acceso|master passphrase|passphrase"
    r" principale|mot de passe maître|master password|masterpasswort)(?P<gap>[^\n.:;!?]{0,60}?)"
    r"(?:\b(?:is|est|es|é|è|ist|lautet|was|era|était|war)\b|c'est|c\u2019est|:)[ \t]+"
    r"(?P<value>[^\W_]{2,20}(?:(?: |-)[^\W_]{1,20}){1,7})"
    r"(?=[ \t]*(?:[.,;!?()\u2014\u2013]| -|\n|$))"
)
#: Words that start a sentence about a passphrase, not one ("is stored in the vault", "is the
#: same as", "est dans le coffre", "ist in KeePass").
_NOT_TOLD_SPEC = (
    "the a an not no never stored saved kept in on at inside sent shared required needed set "
    "written available unknown same your my our his her their its also only now still too very "
    "case then being been different long short strong weak valid missing empty attached below "
    "above here there what how where which who that this these those one any some all "
    "le la les un une dans sur pas jamais dans votre ton ta ses même enregistrée envoyée "
    "der die das ein eine nicht nie im in auf dein ihr sein gleiche gespeichert "
    "el los las una no nunca en su tu mismo misma guardada enviada "
    "o os um uma não nunca no na seu sua mesmo mesma guardada enviada "
    "il lo gli non mai nel nella suo tuo stesso stessa salvata inviata "
    "de du des da do del di"
)
_NOT_TOLD = frozenset(_NOT_TOLD_SPEC.split())
#: Words a sentence about where a passphrase lives has, wherever they are in it.
_WHERE_WORDS_SPEC = (
    "vault keepass bitwarden 1password lastpass manager gestionnaire gestor tresor coffre "
    "cofre sms email e-mail mail message messages file fichier datei archivo ficheiro "
    "document documento wiki confluence sharepoint slack teams separately séparément "
    "separat aparte separado separately required obligatoire erforderlich obligatoria "
    "characters caractères zeichen caracteres caratteri long longue lang"
)
_WHERE_WORDS = frozenset(_WHERE_WORDS_SPEC.split())


def _told_phrases(lower: str, stems: list[int]) -> Iterator[Span]:
    """Passphrases told in a sentence (see ``_TOLD_PHRASE``): two to eight words to the end of
    their clause, none of them a word of a sentence about where the passphrase is."""
    for at in stems:
        m = _TOLD_PHRASE.match(lower, at, min(len(lower), at + 240))
        if m is None:
            continue
        value = m.group("value")
        words = re.split(r"[ -]", value)
        if words[0] in _NOT_TOLD or any(w in _WHERE_WORDS for w in words):
            continue
        if PLACEHOLDER.fullmatch(value):
            continue
        # What a sentence about a passphrase says instead ("is used to encrypt your key", "was
        # changed yesterday", "est trop courte", "ist falsch eingegeben worden"): a verb's
        # participle or a judgement among its words. A passphrase joined by hyphens, ending
        # with a number or followed by a word on its spaces is told whatever its words.
        joined = " " not in value and value.count("-") >= 2
        remark = _SPACES_REMARK.match(lower, m.end()) is not None
        told_whatever = joined or remark or words[-1].isdigit()
        if not told_whatever and (len(words) < 3 or any(map(_NOT_A_PHRASE.fullmatch, words))):
            continue
        yield Span("password", m.start("value"), m.end("value"), 0.86)


# A remark on a passphrase's spaces after it: ", espaces compris", ", con espacios", "(with
# spaces)", ", all lower case".
_SPACES_REMARK = re.compile(
    r"[ \t]*[,(\u2014\u2013-]?[ \t]*(?:with|con|com|avec|mit)?[ \t]*(?:the |les |los |gli |os )?"
    r"(?:spaces|espaces|espacios|espaços|spazi|leerzeichen)|[ \t]*,[ \t]*espaces compris"
    r"|[ \t]*[,(][ \t]*(?:all|todo|tout|tutto|tudo|alles) (?:in )?(?:lower|minúscula|minuscule)"
)
_NOT_A_PHRASE = re.compile(
    r"\w+(?:ed|ing)|\w{3,}(?:ado|ada|ido|ida|ée|és)|ge\w+(?:t|en)|worden|wurde|ist|sind|is|are|was"
    r"|be|been|must|should|can|will|by|par|von|por|pelo|pela|per|dal|dalla|too|trop|muy|molto|troppo"
    r"|muito|zu|sehr|very|optional|optionnel|opcional|facultatif|obligatoire|obligatoria"
    r"|obrigatória|obbligatoria|wrong|falsch|faux|fausse|incorrect|incorrecte|incorrecta|incorreta"
    r"|whatever|only|also|leider|required|needed|lost|reset"
)


_PHRASE_STEMS = (
    "passphrase", "pass phrase", "phrase de passe", "frase", "master pass", "mot de passe maître",
    "masterpasswort",
)  # fmt: skip


# A codeword in capitals, as alarm companies set one for their operators to ask: "your account
# password ... has been set to: BLUEBELL", "Codewort. Dieses lautet: EDELWEISS", "palabra clave,
# que es: AMAPOLA". A word in small letters is one only in quotes ("la palabra clave ... es
# «girasol»").
_CODEWORD = re.compile(
    r"(?<![\w])(?P<word>(?i:password|codeword|passwort|kennwort|codewort|losungswort|mot de passe"
    r"|palabra clave|palabra de paso|contraseña|palavra-chave|palavra-passe"
    r"|senha|parola d'ordine|parola segreta|memorable word))"
    r"(?P<gap>[^\n\"{}\[\]]{0,70}?)(?P<sep>(?i:\b(?:is|est|es|é|è|ist|lautet|set to)\b[ \t]*:?|:"
    r"|c'est|c\u2019est))"
    r"[ \t]*(?:(?P<caps>[A-ZÀ-ÖØ-Þ]{4,20})(?=[ \t]*(?:[.,;!)]|\n|$))"
    r"|[\u00ab\"\u201c'][ \u00a0]?(?P<quoted>[^\W\d_]{4,20})[ \u00a0]?[\u00bb\"\u201d'])"
)
#: Capitals that say a password is absent or elsewhere.
_NOT_A_CODEWORD_SPEC = (
    "NONE NULL NOTHING EMPTY UNKNOWN REDACTED HIDDEN MASKED CHANGED REQUIRED EXPIRED INVALID "
    "VALID SECRET PASSWORD CHANGEME DEFAULT DISABLED ENABLED TRUE FALSE YES NO AUCUN AUCUNE "
    "KEIN KEINE NINGUNA NINGUNO NENHUMA NESSUNA VIDE LEER VACÍO VAZIO VUOTO NOTE TODO "
    # Statuses, settings and products a log or a policy writes in capitals (the review's).
    "FAILED FAIL FAILURE SUCCESS SUCCEEDED SUCCESSFUL NEVER ALWAYS ENFORCED STRICT ACTIVE "
    "INACTIVE PENDING BCRYPT ARGON ARGON2 SCRYPT PBKDF2 NIST TEXT BITWARDEN KEEPASS KEEPASSXC "
    "LASTPASS DASHLANE STRONG WEAK INCORRECT CORRECT NEEDED MANDATORY UNIQUE LONG SHORT RANDOM "
    "INCORRECTA INCORRECTO CADUCADA CADUCADO FALSCH RICHTIG INVALIDE INVALIDA INVALIDO "
    "OBLIGATOIRE OBLIGATORIO OBLIGATORIA OBRIGATORIA OBRIGATORIO INCORRETA INCORRETO OPTIONAL "
    "LOCKED UNLOCKED BLOCKED WRONG RIGHT UNSET RESET SAVED STORED ENCRYPTED HASHED PLAIN "
    "PLAINTEXT MISSING SHOWN VISIBLE SECURE INSECURE COMPROMISED LEAKED UPDATED ROTATED "
    "GENERATED TEMPORARY ADMIN ROOT USER GUEST SAME ERROR DENIED GRANTED ACCEPTED REJECTED"
)
# Words before a status in capitals: "Password authentication: FAILED", "Password policy: NIST".
_STATUS_GAP = re.compile(
    r"(?i)auth|change|expir|complex|polic|sync|status|reset|hash|field|manager|type|must|strength"
    r"|length|rule|requirement|format|storage|mode|check|validation|login|attempt|result"
)
# "palabra clave" and "palavra-chave" are also a keyword's ("La palabra clave principal es
# 'zapatillas'"): a codeword only in a text about an alarm company's call.
_ALARM_TEXT = re.compile(
    r"(?i)alarm|allarm|central|operador|operator|opérateur|operatore|leitstelle|monitoring"
    r"|prosegur|securitas|verisure|télésurveillance"
)
_NOT_A_CODEWORD = frozenset(_NOT_A_CODEWORD_SPEC.split())
_CODEWORD_STEMS = (
    "pass", "code", "kennwort", "codewort", "losungswort", "mot", "palabra", "contraseña",
    "palavra", "senha", "parola", "memorable", "secret",
)  # fmt: skip


def _codewords(text: str, stems: list[int]) -> Iterator[Span]:
    """Codewords (see ``_CODEWORD``), matched on the text itself: capitals are the evidence."""
    done = 0
    for at in stems:
        if at < done:
            continue
        m = _CODEWORD.match(text, at, min(len(text), at + 140))
        if m is None:
            continue
        done = m.end()
        gap = m.group("gap")
        if "\u2026" in gap or "?" in gap or _STATUS_GAP.search(gap):
            continue  # a question, a cut sentence, a status: not the value told
        value = m.group("caps") or m.group("quoted")
        if value.upper() in _NOT_A_CODEWORD or PLACEHOLDER.fullmatch(value):
            continue
        sep = m.group("sep").lower()
        if m.group("caps") and ":" not in sep and "lautet" not in sep and "set to" not in sep:
            continue  # "The password is STRONG.": a codeword is told after a colon
        word = m.group("word").lower()
        if word in ("palabra clave", "palavra-chave") and not _ALARM_TEXT.search(text):
            continue
        name = "caps" if m.group("caps") else "quoted"
        yield Span("password", m.start(name), m.end(name), 0.8)


# A list of codes under a heading that names them ("Voici les nouveaux codes d'accès pour le
# salon :\nSalle A - 3412\nSalle B - 9087\nLoges - 5521A", "Each till has its own manager
# PIN.\n\nTill 1 - Front: 7745\n..."): each line a label and a code. Eighth round: a dev author
# wrote a dozen such lists (rooms, tills, storerooms), every code missed. The heading names a
# code and nothing that makes its numbers public ("Error codes:", "Postcodes:", "Product codes:").
_CODE_LINE = re.compile(
    r"[ \t]*(?:[-\u2022*\u00b7]+[ \t]*)?[^\W\d_][^\n]{0,40}?[ \t]*(?::|[ \t][\u2013\u2014-][ \t]|=)"
    r"[ \t]*(?P<value>(?=[A-Z0-9]*\d{3})[A-Z0-9]{4,8}[#*]?)[ \t]*(?:\([^\n)]{0,60}\))?[ \t]*[.!]?\r?$",
    re.MULTILINE,
)
_PUBLIC_CODES = re.compile(
    r"error|erreur|fehler|status|http|exit|return|postal|post ?code|zip|plz|product|produit"
    r"|produkt|producto|produto|prodotto|sku|article|artikel|item|promo|discount|coupon|voucher"
    r"|rabatt|remise|descuento|desconto|sconto|account|gl\b|cost|budget|ledger|tax|vat|iso"
    r"|language|currency|airport|station|course|class|branch|sort|bank|swift|routing|naf|ape"
    r"|siret|naics|icd|diagnos|billing|procedure|cpt|customs|tariff|shipping|dial|phone"
    r"|extension|country|area|region|colou?r|size|qr|bar ?code|source|html|css|python|java"
    # Numbers that name things, count or time them (the review's findings).
    r"|department|flight|pinout|coverage|lines of|model|tested|timeline|per file|statistic|visit"
    r"|hits|traffic|por mes|par semaine|by module|course|class|schedule|horaire|horario|opening"
)


# A line's label that makes its number a reference, a user or a place, not a code: "Kundennummer:
# 104482", "URL : https://192.168.1.20:5001", "Tel: 0612".
_NOT_A_CODE_LABEL = re.compile(
    r"nummer|number|numéro|número|numero|\bno\b|\bn[º°o]|\bnr\b|\bid\b|kunde|customer|client"
    r"|account|konto|compte|cuenta|conta|user|login|benutzer|identifiant|usuario|utilizador|utente"
    r"|mitglied|member|contra[ct]|vertrag|ticket|order|commande|pedido|iban|\btel|phone|fax|mobil"
    r"|plz|zip|postal|url|http|/|\bip\b|\bport\b|\bhost|server|serveur|servidor|version|year|jahr"
    r"|handy|support|suporte|soporte|concierge|hotline|price|prix|preis|precio|preço|prezzo|cuota"
    r"|quota|fee|rent|loyer|miete|deposit|room|zimmer|chambre|habitación|quarto|camera|floor"
    r"|address|adresse|dirección|direccion|morada|endereço|indirizzo|anschrift"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi"
    r"|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo|montag"
    r"|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|check-?in|check-?out|hours|heure"
    r"|hora|uhr|time|zeit|opening|closing|arrival|departure|model|serial|build|flight|train"
    r"|bus|line|lot|size|speed|limit|connection|timeout|count|max|min|total|amount|betrag"
    r"|importe|montant|quantity|qty|stock|vcc|gnd|\btx\b|\brx\b|\.py\b|thermostat|temperatur"
    r"|heating|chauffage|calefacci|pump|pompe|chlorine|chlore|\bout\b|\bon\b|\boff\b"
)


def _code_lists(text: str, lower: str, stems: list[int]) -> Iterator[Span]:
    done = 0
    for at in stems:
        if at < done:
            continue
        line_end = lower.find("\n", at, at + 101)
        done = at + 101 if line_end == -1 else line_end  # a line's other stems: read already
        line_start = lower.rfind("\n", max(0, at - 100), at) + 1
        if line_end == -1 or line_end - line_start > 100 or (line_start == 0 and at > 100):
            continue  # the last line has no list below it; a long line is no heading
        heading = lower[line_start:line_end]
        if _PUBLIC_CODES.search(heading) or _CODE_LINE.fullmatch(text, line_start, line_end):
            continue  # a heading with its own code is a line of the list, read by other rules
        pos = line_end + 1
        if lower.startswith("\n", pos) or lower.startswith("\r\n", pos):
            pos = lower.find("\n", pos) + 1  # one blank line under the heading
        found = []
        for _ in range(20):  # a list of twenty lines at most
            end = lower.find("\n", pos)
            end = len(lower) if end == -1 else end
            m = _CODE_LINE.fullmatch(text, pos, end)
            if m is None or _NOT_A_CODE_LABEL.search(lower, pos, m.start("value")):
                break
            found.append(Span("password", m.start("value"), m.end("value"), 0.8))
            pos = end + 1
            if pos > len(lower):
                break
        if len(found) >= 2 or (found and heading.rstrip().endswith(":")):
            yield from found
            done = pos


def told(text: str, lower: str, marks: dict[str, list[int]]) -> Iterator[Span]:
    """Codes spelled out, passphrases told and codewords (see the rules above); ``marks``:
    where each word of ``STEMS`` starts in ``lower`` (see :mod:`.secrets_marks`)."""
    if len(lower) != len(text):
        return
    stems: dict[str, list[int]] = {"code": [], "phrase": [], "codeword": []}
    for word, families in _FAMILIES.items():
        for at in marks.get(word, ()):
            if at == 0 or not lower[at - 1].isalnum():
                for family in families:
                    stems[family].append(at)
    if stems["code"]:
        yield from _spelled_codes(lower, sorted(set(stems["code"])))
        if "\n" in lower:
            yield from _code_lists(text, lower, sorted(set(stems["code"])))
    if stems["phrase"]:
        yield from _told_phrases(lower, sorted(set(stems["phrase"])))
    if stems["codeword"]:
        yield from _codewords(text, sorted(set(stems["codeword"])))


def _families() -> dict[str, tuple[str, ...]]:
    families: dict[str, list[str]] = {}
    for family, words in (
        ("code", _CODE_STEMS),
        ("phrase", _PHRASE_STEMS),
        ("codeword", _CODEWORD_STEMS),
    ):
        for word in words:
            families.setdefault(word, []).append(family)
    return {word: tuple(names) for word, names in families.items()}


#: Each word the rules start from, with the rules it starts.
_FAMILIES = _families()
#: Every word, for :class:`~.secrets_marks.Marks`.
STEMS = tuple(_FAMILIES)


# A line of a list: a label, a separator, a value that ends the line ("- Tablet de Hugo: 1411
# (máx 1 hora!!)", "Salle B - 9087", "Portal → 2893B").
_LIST_LINE = re.compile(
    r"[ \t]*(?:[-\u2022*\u00b7>]+[ \t]*|\d{1,2}[.)][ \t]*)?(?P<label>[^\W\d_][^\n:=\u2192]{0,40}?)[ \t]*"
    r"(?::|\u2192|->|[ \t][\u2013\u2014-][ \t])[ \t]*(?P<value>[^\s,;]{3,40})[,;]?"
    r"(?P<rest>[ \t]+[^\n]{0,80})?\r?$"
)
_SHORT_CODE = re.compile(r"[#*]?(?=[A-Z0-9]*\d{3})[A-Z0-9]{3,8}[#*]?")


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


_YEAR = re.compile(r"(?:19|20)\d{2}")
_NUMBER_GOES_ON = re.compile(
    r"[ \t]*(?:[A-ZÀ-Þ][a-zà-ÿ]|\d|€|\$|£|%|eur|usd|gbp|chf|x\b|h\b|min|sec|ms\b|kb|mb|gb)", re.I
)
# A label that is a setting's name: one word in small letters or with "_" ("mandant", "timeout").
_IDENTIFIER = re.compile(r"[a-z_]+|[A-Za-z]+_[\w]*")


def siblings(text: str, lower: str, found: list[Span]) -> Iterator[Span]:
    """Codes on the lines of a list next to a code or a password found as one: the list of a
    house-sitter's note, a handover, a shop's notes ("- Portal: 2893B\n- Alarma: 6015 y luego la
    tecla verde\n- Tablet de Hugo: 1411"), where only some labels name a lock. The list's lines
    are next to each other; a sibling's value is a short code (three digits or more, two letters
    at most), and its label names no number, user or place (see ``_NOT_A_CODE_LABEL``)."""
    if len(lower) != len(text):
        return
    done: set[int] = set()
    for span in found:
        if span.kind != "password" or _SHORT_CODE.fullmatch(text, span.start, span.end) is None:
            continue  # only a code's list: a password's is a configuration's as often
        line_start = text.rfind("\n", max(0, span.start - 60), span.start) + 1
        if line_start in done or (line_start == 0 and span.start > 60):
            continue  # a line read already, or one too long for a list's
        done.add(line_start)
        line_end = text.find("\n", span.end, span.end + 100)
        if line_end == -1:
            if len(text) - span.end > 100:
                continue
            line_end = len(text)
        m = _LIST_LINE.fullmatch(text, line_start, line_end)
        if m is None or m.start("value") != span.start:
            continue
        for step in (-1, 1):
            start, end = line_start, line_end
            for _ in range(12):
                if step < 0:
                    if start == 0:
                        break
                    end = start - 1
                    start = text.rfind("\n", 0, end) + 1
                else:
                    if end >= len(text):
                        break
                    start = end + 1
                    end = text.find("\n", start)
                    end = len(text) if end == -1 else end
                line = _LIST_LINE.fullmatch(text, start, end) if end - start <= 160 else None
                if line is None:
                    break
                done.add(start)
                value, rest = line.group("value"), line.group("rest") or ""
                if _SHORT_CODE.fullmatch(value) is None or filler(value.strip("#*")):
                    continue
                if abs(_digits(value) - _digits(text[span.start : span.end])) > 1:
                    continue  # a code's neighbours have its length ("Lot size: 450" has not)
                if _YEAR.fullmatch(value) or _NUMBER_GOES_ON.match(rest):
                    continue  # a year, a phone number's first group, an amount
                label = line.group("label")
                if _NOT_A_CODE_LABEL.search(lower, start, line.start("value")) or (
                    _IDENTIFIER.fullmatch(label)
                ):
                    continue  # a number's or a setting's name ("DB_PORT", "mandant")
                yield Span("password", line.start("value"), line.end("value"), 0.7)
