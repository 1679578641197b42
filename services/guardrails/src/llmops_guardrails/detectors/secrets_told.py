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
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # C extension, no stubs

from llmops_guardrails.detectors.secrets_codes import filler
from llmops_guardrails.detectors.secrets_values import PLACEHOLDER, Span

# Digits as words, in the six languages of the corpus. "oh" is English for a zero in a code;
# "un"/"uno"/"um" are also articles, so a run needs four digit words in a row.
_DIGIT_WORDS_SPEC = (
    "zero oh one two three four five six seven eight nine "
    "zéro un deux trois quatre cinq sept huit neuf "
    "null eins zwei drei vier fünf sechs sieben acht neun "
    "cero uno dos tres cuatro cinco seis siete ocho nueve "
    "um dois três tres quatro sete oito nove "
    "due tre quattro cinque sei sette otto"
)
_DIGIT_WORDS = frozenset(_DIGIT_WORDS_SPEC.split())
#: The digit each word says.
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
_DIGIT = "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True))
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
    "mot de passe", "clave", "chave", "zahlenschloss", "zugänge", "zugangs", "accès", "acceso",
    "acesso", "accesso",
)  # fmt: skip
#: How far before a spelled code its word may be ("... your new user code is 4 9 0 6, that's").
_CODE_REACH = 90


def _spelled_codes(lower: str, stems: list[int]) -> Iterator[Span]:
    """Codes spelled out digit by digit, after a code's word: "the code for the side gate is
    four nine nine one", "der Code ... ist 8 4 4 1, also acht vier vier eins". Only the stretch
    after each code word is read (the pattern starts with fifty words the engine would try at
    every offset)."""
    scanned = 0
    for at in stems:
        begin, end = max(scanned, at), min(len(lower), at + _CODE_REACH + 90)
        scanned = end
        for m in _SPELLED.finditer(lower, begin, end):
            if m.start() - at > _CODE_REACH:
                break
            words = re.split(r"[ \t,-]+", m.group("value"))
            digits = "".join(_DIGIT_OF.get(w, "") for w in words)
            if len(digits) == len(words) and not filler(digits):
                # (Not one digit repeated nor counting, "um dois três quatro": fillers.)
                yield Span("password", m.start("value"), m.end("value"), 0.8)


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
        words = re.split(r"[ -]", m.group("value"))
        if words[0] in _NOT_TOLD or any(w in _WHERE_WORDS for w in words):
            continue
        if PLACEHOLDER.fullmatch(m.group("value")):
            continue
        yield Span("password", m.start("value"), m.end("value"), 0.86)


_PHRASE_STEMS = (
    "passphrase", "pass phrase", "phrase de passe", "frase", "master pass", "mot de passe maître",
    "masterpasswort",
)  # fmt: skip


# A codeword in capitals, as alarm companies set one for their operators to ask: "your account
# password ... has been set to: BLUEBELL", "Codewort. Dieses lautet: EDELWEISS", "palabra clave,
# que es: AMAPOLA". A word in small letters is one only in quotes ("la palabra clave ... es
# «girasol»").
_CODEWORD = re.compile(
    r"(?<![\w])(?i:password|codeword|code word|passwort|kennwort|codewort|losungswort|mot de passe"
    r"|mot-clé|mot clé|palabra clave|palabra de paso|contraseña|palavra-chave|palavra-passe"
    r"|senha|parola d'ordine|parola chiave|parola segreta|memorable word|secret word)"
    r"(?P<gap>[^\n\"{}\[\]]{0,70}?)(?i:\b(?:is|est|es|é|è|ist|lautet|set to)\b[ \t]*:?|:|c'est|c\u2019est)"
    r"[ \t]*(?:(?P<caps>[A-ZÀ-ÖØ-Þ]{4,20})(?=[ \t]*(?:[.,;!)]|\n|$))"
    r"|[\u00ab\"\u201c'][ \u00a0]?(?P<quoted>[^\W\d_]{4,20})[ \u00a0]?[\u00bb\"\u201d'])"
)
#: Capitals that say a password is absent or elsewhere.
_NOT_A_CODEWORD_SPEC = (
    "NONE NULL NOTHING EMPTY UNKNOWN REDACTED HIDDEN MASKED CHANGED REQUIRED EXPIRED INVALID "
    "VALID SECRET PASSWORD CHANGEME DEFAULT DISABLED ENABLED TRUE FALSE YES NO AUCUN AUCUNE "
    "KEIN KEINE NINGUNA NINGUNO NENHUMA NESSUNA VIDE LEER VACÍO VAZIO VUOTO NOTE TODO"
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
        if "\u2026" in m.group("gap") or "?" in m.group("gap"):
            continue  # a question or a cut sentence: not the value told
        value = m.group("caps") or m.group("quoted")
        if value.upper() in _NOT_A_CODEWORD or PLACEHOLDER.fullmatch(value):
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
)


def _code_lists(text: str, lower: str, stems: list[int]) -> Iterator[Span]:
    done = 0
    for at in stems:
        if at < done:
            continue
        line_start = lower.rfind("\n", 0, at) + 1
        line_end = lower.find("\n", at)
        if line_end == -1 or line_end - line_start > 100:
            continue  # the last line has no list below it; a long line is no heading
        done = line_end
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
        if len(found) >= 2 or (found and lower.rstrip().endswith(":", 0, line_end)):
            yield from found
            done = pos


def told(text: str, lower: str) -> Iterator[Span]:
    """Codes spelled out, passphrases told and codewords (see the rules above). The words each
    rule starts from are found in one Aho-Corasick pass over ``lower``: thirty ``str.find``
    calls cost 13 us per KB of prose that has none of them."""
    if len(lower) != len(text):
        return
    stems: dict[str, list[int]] = {"code": [], "phrase": [], "codeword": []}
    for end, (size, families) in _automaton().iter(lower):
        at = end - size + 1
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


_AUTOMATON: list[Any] = []


def _automaton() -> Any:
    """Every rule's stems, each with the rules it starts (built once, on first use)."""
    if not _AUTOMATON:
        families: dict[str, list[str]] = {}
        for family, words in (
            ("code", _CODE_STEMS),
            ("phrase", _PHRASE_STEMS),
            ("codeword", _CODEWORD_STEMS),
        ):
            for word in words:
                families.setdefault(word, []).append(family)
        automaton = ahocorasick.Automaton()
        for word, names in families.items():
            automaton.add_word(word, (len(word), tuple(names)))
        automaton.make_automaton()
        _AUTOMATON.append(automaton)
    return _AUTOMATON[0]


# A line of a list: a label, a separator, a value that ends the line ("- Tablet de Hugo: 1411
# (máx 1 hora!!)", "Salle B - 9087", "Portal → 2893B").
_LIST_LINE = re.compile(
    r"[ \t]*(?:[-\u2022*\u00b7>]+[ \t]*|\d{1,2}[.)][ \t]*)?(?P<label>[^\W\d_][^\n:=\u2192]{0,40}?)[ \t]*"
    r"(?::|\u2192|->|[ \t][\u2013\u2014-][ \t])[ \t]*(?P<value>[^\s,;]{3,40})[,;]?"
    r"(?P<rest>[ \t]+[^\n]{0,80})?\r?$"
)
_SHORT_CODE = re.compile(r"[#*]?(?=[A-Z0-9]*\d{3})[A-Z0-9]{3,8}[#*]?")


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
        if span.kind != "password":
            continue
        line_start = text.rfind("\n", 0, span.start) + 1
        if line_start in done:
            continue
        line_end = text.find("\n", span.end)
        line_end = len(text) if line_end == -1 else line_end
        m = _LIST_LINE.fullmatch(text, line_start, line_end)
        if m is None or m.start("value") != span.start:
            continue
        done.add(line_start)
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
                line = _LIST_LINE.fullmatch(text, start, end)
                if line is None:
                    break
                done.add(start)
                value, rest = line.group("value"), line.group("rest") or ""
                if _SHORT_CODE.fullmatch(value) is None or filler(value.strip("#*")):
                    continue
                if _YEAR.fullmatch(value) or _NUMBER_GOES_ON.match(rest):
                    continue  # a year, a phone number's first group, an amount
                label = line.group("label")
                if _NOT_A_CODE_LABEL.search(lower, start, line.start("value")) or (
                    _IDENTIFIER.fullmatch(label)
                ):
                    continue  # a number's or a setting's name ("DB_PORT", "mandant")
                yield Span("password", line.start("value"), line.end("value"), 0.7)
