"""Phone numbers (see :mod:`.pii`): candidates found around digit clusters, the context words and
shapes that say a number is something else, and validity by ``phonenumbers``' own metadata."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import phonenumbers

from llmops_guardrails.detectors.pii_context import (
    NOT_PHONE_WORDS,
    PHONE_WORDS,
    REFERENCE_WORDS,
    STRONG_PHONE_WORDS,
    Span,
    column_name,
    context_before,
)

#: Brazilian numbers in the shape Brazilians write them, "(11) 98734-2210" or "11 98734-2210",
#: and mobiles without the dash ("(31) 985131626", "85 982013347", "(51) 98358 4882"):
#: most Portuguese speakers write these (independent authors' Portuguese rows had a dozen, all
#: missed). Only this shape: Brazil's plan admits most 10- and 11-digit runs, and as a region
#: tried on every number it read protocol and invoice numbers as phones (review: 42% -> 67% of
#: random 10-digit groups after "Protocolo").
_BR_SHAPE = re.compile(r"\(?[1-9]\d\)? ?9?\d{4}-\d{4}")
_BR_MOBILE = re.compile(r"\(?[1-9]\d\)? ?9\d{4} ?\d{4}")

# A phone candidate: optional ``+``/``00``, then digits with the separators people type. Bounded
# length (the longest E.164 number is 15 digits) keeps every start position O(1).
# After a comma only where the comma separates fields, not digits ("1,234,567"): after a word
# or with a "+" or a trunk "0" (a CSV row: "Lopez,Hugo,+33 7 69 12 40 88").
_PHONE = re.compile(
    # A comma starts a field after a word or a quoted field ('..., TX 78756",512-468-3390').
    # After a number and a comma only a run of nine or more digits (a CSV's next field:
    # "...,ES2521006401656252330842,671434054"; "1,234,567" is an amount).
    r"(?:(?<![\w+.,/-])|(?<=[^\W\d],)|(?<=[\"')\]],)|(?<=,)(?=[+0])|(?<=\d,)(?=\d{9,13}(?!\d|[.,]\d))"
    # Or grouped the way phone numbers are ("143144197,960 816 985", "...0353,212-456-3934").
    r"|(?<=\d,)(?=\d{2,4}(?:[ .-]\d{2,4}){2,3}(?!\d|[.,]\d)))"
    r"(?:\+ ?|\b00 ?|\(\+\d{1,3}\) ?)?(?:\(\d{1,5}\) ?|\d)[\d ()./\u00a0\u2013-]{5,22}\d"
    # Not followed by more of a number: a decimal part, a dotted or dashed group. A comma and
    # three digits or more is a CSV's next field ("...,+14159210282,94.47.200.137", "983 387
    # 513,675 045 692"): a phone number is never written with decimals.
    r"(?![\w]|[./-]\d|,\d{1,2}(?![\d.]))"
)
# A currency after a number: an amount ("612.450.987 €").
_MONEY_AFTER = re.compile(r" ?(?:€|\$|£|eur\b|euros?\b|usd\b|gbp\b|chf\b|r\$)", re.IGNORECASE)
_DATE = re.compile(
    r"\d{1,4}[./ -]\d{1,2}[./ -]\d{1,4}|\d{4}[./-]?\d{2}[./-]?\d{2}|\d{1,2}[./-]\d{4}"
)
_CEP = re.compile(r"\d{5}-\d{3}")
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?")
_BRACKETED_QUAD = re.compile(r"\(\d{1,3}\.\d{1,3}\.\d{1,3}\.")
_DATE_FIRST = re.compile(r"\d{1,2}/\d{1,2}/\d{2}(?:\d{2})? \d|(?:19|20)\d{2}-\d{4,}$")
# A number that goes on from a code before it: "1Z 8W4 F73 03 6618 2947" (a UPS tracking
# number), "MSKU 482913 7".
_CODE_BEFORE = re.compile(r"(?<![\w])(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*\d)[A-Z0-9]{3,8} $")
# A time or a network generation before a number is not a code: "after 5PM 020 ...", "4G".
_TIME_OR_NETWORK = re.compile(r"\d{1,2}(?:AM|PM)|[2-6]G|LTE|\d{1,2}H\d{0,2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?!\d)")
_DAY_DATE = re.compile(r"\d{1,2}[/.]\d{1,2}[/.](?:19|20)\d{2}(?!\d)")

# Leading national digits each region's numbers can start with, written as they are dialled
# in-country: trunk ``0`` in GB/FR/DE, no trunk prefix in ES/PT, IT keeps the leading ``0`` of
# landlines and ``3`` of mobiles, NANP area codes start 2-9 (after an optional ``1``). A cheap
# filter before the ~45 µs ``phonenumbers`` parse; regions not listed are always tried.
_NATIONAL_LEADS: dict[str, tuple[str, ...]] = {
    "US": ("1", "2", "3", "4", "5", "6", "7", "8", "9"),
    "CA": ("1", "2", "3", "4", "5", "6", "7", "8", "9"),
    "GB": ("0",),
    "FR": ("0",),
    "DE": ("0",),
    "ES": ("6", "7", "8", "9"),
    "PT": ("2", "9"),
    "IT": ("0", "3"),
}


#: The number types whose patterns make a number valid (libphonenumber's ``number_type``).
_PHONE_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


class _PhoneRules(NamedTuple):
    national_prefix: str
    lengths: frozenset[int]
    general: re.Pattern[str]
    types: tuple[tuple[frozenset[int], re.Pattern[str]], ...]


@functools.cache
def _phone_rules(region: str) -> _PhoneRules | None:
    """``phonenumbers``' metadata for ``region``, compiled once (loaded on first use, not import)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return None
    general = metadata.general_desc
    types = []
    for name in _PHONE_TYPES:
        desc = getattr(metadata, name, None)
        if desc is None or not desc.national_number_pattern:
            continue
        lengths = frozenset(desc.possible_length or general.possible_length or ())
        if lengths and lengths != frozenset({-1}):
            types.append((lengths, re.compile(desc.national_number_pattern)))
    return _PhoneRules(
        metadata.national_prefix or "",
        frozenset(general.possible_length or ()),
        re.compile(general.national_number_pattern or "$^"),
        tuple(types),
    )


#: Digits counting up or down: a form's example, never a number anyone has.
_COUNTING = "01234567890123456789" + "98765432109876543210"


def _trunk_prefix(region: str) -> str:
    rules = _phone_rules(region)
    return rules.national_prefix if rules is not None else ""


def _valid_nsn(nsn: str, region: str) -> bool:
    """Whether ``nsn`` (a national significant number) is valid in ``region``.

    The same test as ``phonenumbers.is_valid_number_for_region`` (a possible length, the
    region's general pattern, then some number type's pattern), on ``phonenumbers``' own
    metadata, without building a ``PhoneNumber``: parsing costs ~30 µs a candidate, this ~2.
    A test checks that both agree.
    """
    rules = _phone_rules(region)
    if rules is None or len(nsn) not in rules.lengths or not rules.general.fullmatch(nsn):
        return False
    return any(len(nsn) in lengths and p.fullmatch(nsn) for lengths, p in rules.types)


def valid_international(digits: str) -> bool:
    """Whether ``digits`` (country code first, no ``+``) is a valid phone number anywhere."""
    for size in (1, 2, 3):  # country calling codes are prefix-free
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size] or "0"))
        if regions:
            # As phonenumbers does, a trunk prefix written after the country code is dropped.
            return any(valid_national(digits[size:], r) for r in regions)
    return False


def possible_international(digits: str) -> bool:
    """Whether ``digits`` (country code first) has a length the country's numbers can have:
    "+44 7700 900982" is a phone number by its form, though Ofcom keeps that range unassigned
    (for drama), as test data and examples use."""
    for size in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size] or "0"))
        if regions:
            rest = digits[size:]
            return any(
                (rules := _phone_rules(r)) is not None
                and len(rest) in rules.lengths
                and rules.general.fullmatch(rest) is not None
                for r in regions
            )
    return False


def valid_national(digits: str, region: str) -> bool:
    """Whether ``digits``, as dialled within ``region`` (trunk prefix included), is valid there."""
    rules = _phone_rules(region)
    if rules is None:
        return False
    prefix = rules.national_prefix
    if prefix and digits.startswith(prefix) and _valid_nsn(digits[len(prefix) :], region):
        return True
    # Regions without a trunk prefix (ES, PT, IT) and NANP numbers written without the "1".
    return _valid_nsn(digits, region)


def _closer(words: re.Pattern[str], others: re.Pattern[str], before: str) -> bool:
    """Whether the last of ``words`` in ``before`` comes after the last of ``others``: "Re:
    invoice 2231, contact me at ..." names a phone; "Numero spedizione BRT: ..." a parcel."""
    last = [m.end() for m in words.finditer(before)]
    if not last:
        return False
    others_last = [m.end() for m in others.finditer(before)]
    return not others_last or last[-1] > others_last[-1]


# The end of a sentence: a full stop after a word or a number that is no abbreviation ("No.",
# "Ref.", "USt-IdNr."), then a word with a capital ("VAT Reg No. GB 720 4845 58" goes on). The words before it are another sentence's: "Vendo bici, 180 €.
# Interesados: 630 19 66 63", "... código 9-1-5-3. Filha: 966 203 174" (seventh-round rows).
_SENTENCE_END = re.compile(
    r"(?i:(?<![\s.])(?<!\bno)(?<!\bnr)(?<!\bref)(?<!\bnum)(?<!\bidnr))[.!] +(?=[A-ZÀ-Ý][a-zà-ÿ])"
)


def _money_in_another_sentence(text: str, start: int) -> bool:
    """Whether the only words before the number at ``start`` that say it is no phone are an
    amount's, in the sentence before ("Vendo bici, 180 €. Interesados: 630 19 66 63"). A
    reference's word there still counts ("Invoice: 2024. Total 612 345 678")."""
    original = text[max(0, start - 20) : start]
    ends = [m.end() for m in _SENTENCE_END.finditer(original)]
    if not ends:
        return False
    earlier, clause = original[: ends[-1]].lower(), original[ends[-1] :].lower()
    if NOT_PHONE_WORDS.search(clause):
        return False
    return all(_MONEY.fullmatch(w.group()) for w in NOT_PHONE_WORDS.finditer(earlier))


_PHONE_LABEL = re.compile(
    r"(?<![\w])(?:tel|tél|tlf|tfno|teléfono|telefono|telefone|telemóvel|phone|móvil|movil"
    r"|celular|cel|mobile|cellulare|handy|whats ?app|zap|contacto|kontakt|contact|call|ring"
    r"|llam\w*|lig\w*|chiam\w*)(?![\w])(?! (?:model|id|case|sku|app|session|build|stack|job"
    r"|data|count|log|history|center|centre)\b)[^\n]{0,20}$"
)
_MONEY = re.compile(r"€|\$|£|eur|usd")


def _phone_kind_score(
    text: str, m: re.Match[str], regions: Sequence[str], named: Sequence[str] = ()
) -> float | None:
    """The score of a phone candidate, or None when it is not a valid phone number; ``named``
    are the regions tried besides ``regions`` when a word names the number a phone's."""
    cand = m.group()
    digits = re.sub(r"\D", "", cand)
    if not 7 <= len(digits) <= 15:
        return None
    international = cand.startswith(("+", "00", "(+"))
    if not international:
        # "2024-05-13 09:14:22" and "03/14/2024 2:30": a date and an hour; "192.168.0.0/16": a
        # network; "08.04.<en dash>10.04.2024": dates (an en dash separates a number's groups
        # only between spaces, "0176 <en dash> 23 45 98 10").
        if _DATE.fullmatch(cand) or _ISO_DATE.match(cand):
            return None
        if _DOTTED_QUAD.fullmatch(cand) and all(
            int(p) <= 255 for p in cand.split("/")[0].split(".")
        ):
            return None  # an IPv4 address or network; "628.44.19.03" is a Spanish mobile
        if _CEP.fullmatch(cand):  # a Brazilian postal code ("01000-000"), never a phone's shape
            return None
        if _DAY_DATE.match(cand) or cand.count("\u2013") != cand.count(" \u2013 "):
            return None
        if "(" not in cand and ")" in cand:
            return None
        # Columns of a statement ("0221            -23.74"), an address in brackets ("2
        # (192.168.2.40"), a date and an hour ("03/07/24 2:31"), a year-numbered reference
        # ("2024-000918").
        if "  " in cand or _BRACKETED_QUAD.search(cand) or _DATE_FIRST.match(cand):
            return None
        code = _CODE_BEFORE.search(text, max(0, m.start() - 12), m.start())
        if (
            code
            and not _TIME_OR_NETWORK.fullmatch(code.group().strip())
            and not PHONE_WORDS.search(context_before(text, m.start()))
        ):
            return None
    before = context_before(text, m.start())
    column = column_name(text, m.start())
    after_number = m.start() >= 2 and text[m.start() - 1] == "," and text[m.start() - 2].isdigit()
    phone_column = column is not None and PHONE_WORDS.search(column) is not None
    if after_number and not cand.isdigit() and not cand.startswith("+") and not phone_column:
        return None  # "2023,645 300 120": an amount after a year, unless the column is phones'

    # The context is checked before the ~30 µs parse: order and invoice numbers are common. A
    # "00" prefix is as likely a reference's leading zeros ("cliente nº 0049 2210 7733").
    # "phone # is", "Account phone", "my no. is": a word for a phone after the other words.
    phone_word = STRONG_PHONE_WORDS.search(before[-20:]) or _closer(
        PHONE_WORDS, NOT_PHONE_WORDS, before[-20:]
    )
    if (
        not cand.startswith(("+", "(+"))
        and not phone_column
        and (
            (
                NOT_PHONE_WORDS.search(before[-20:])
                and not phone_word
                and not _money_in_another_sentence(text, m.start())
            )
            or (
                REFERENCE_WORDS.search(before)
                and not STRONG_PHONE_WORDS.search(before)
                and not _closer(PHONE_WORDS, REFERENCE_WORDS, before)
            )
            or (column and NOT_PHONE_WORDS.search(column) and not PHONE_WORDS.search(column))
            or _MONEY_AFTER.match(text, m.end())
        )
    ):
        return None
    if international:
        # "+44 (0)20 ..." repeats the trunk prefix in brackets: not part of the number.
        intl = re.sub(r"\D", "", cand.replace("(0)", ""))
        intl = intl[2:] if cand.startswith("00") else intl
        if valid_international(intl):
            return 0.95
        return 0.85 if cand.startswith(("+", "(+")) and possible_international(intl) else None
    # A number named a phone's ("Phone: (01) 482 6828", "GSM 0476 12 34 56") is tried in the
    # neighbouring countries' plans too: without the word, their plans
    # would read order and account numbers as phones.
    # Mexican, Argentine or Polish numbers have no trunk "0" ("Tel: 55 4812 9036"): after the
    # word, nine digits or more are enough.
    # Austria's and Luxembourg's plans admit most runs of digits, so without a trunk "0" only
    # the plans that have none are tried.
    strong = STRONG_PHONE_WORDS.search(before[-20:])
    if strong and named and len(digits) >= 9 and digits not in _COUNTING:
        if digits.startswith("0"):
            regions = (*regions, *named)
        elif _PHONE_LABEL.search(before):
            # Right after the word itself ("Tel: 55 4812 9036", "Cel. 998 847 5922"), not
            # "API calls 5548129036" nor "Phone model: 5548129036" (the review's findings).
            regions = (*regions, *(r for r in named if not _trunk_prefix(r)))
    for region in regions:
        leads = _NATIONAL_LEADS.get(region)
        if leads is not None and not digits.startswith(leads):
            continue
        if valid_national(digits, region):
            break
    else:
        # Without the dash only in brackets or after a phone's word: "Saldo 11 91234 5678
        # pontos", "Série 41 98765 4321" are no phones (the review's findings).
        br = _BR_SHAPE.fullmatch(cand) or (
            _BR_MOBILE.fullmatch(cand)
            and ("(" in cand or PHONE_WORDS.search(before) or phone_column)
        )
        if not (br and valid_national(digits, "BR")):
            return None
    if PHONE_WORDS.search(before) or (column and PHONE_WORDS.search(column)):
        return 0.95
    grouped = any(c in cand for c in " ()-./\u00a0")
    if grouped:
        return 0.85
    # A bare digit run: a leading trunk zero on a full-length (9+ digit) number is typical of
    # phone numbers and rare in order or account numbers; anything else needs a keyword.
    if digits.startswith("0") and len(digits) >= 9:
        return 0.7
    # A bare run of nine digits or more valid in the text's own numbering plan, in a sentence
    # with no word for another number, as people give a mobile ("Autista: 3930302933",
    # "Informes al 3054925925", "D. Fátima (931861619)").
    line = text[max(0, text.rfind("\n", 0, m.start()) + 1, m.start() - 60) : m.start()]
    lowered = line.lower()
    if (
        len(digits) >= 9
        and not _KEY_OR_FIELD.match(text, m.end())
        and not _COUNTED.match(text, m.end())
    ):
        if not _OTHER_NUMBER.search(lowered):
            return 0.6
        # Given "at" a number, the way a phone number is ("el técnico te llama al 651077298",
        # "la contatterà al 3401187726"), unless the line names a tax or an account's number.
        if _AT_A_NUMBER.search(lowered) and not _TAX_OR_ACCOUNT.search(lowered):
            return 0.6
    return 0.45


# The words for numbers that are not phones, read on the line before a bare run of digits:
# tax and social security numbers, customers', contracts', claims', articles', sizes.
_OTHER_NUMBER = re.compile(
    r"ni[fe]|niss|nipc|nuss|dni|\bcf\b|codice|c[oó]digo|code|client|contra[ct]|ordin|order|orden|pedid"
    r"|\bn\.?\s?[º°]|\bn\.\s?o\b|\bno\.|\bnr\b|n[uú]m|nummer|\bid\b|memory|size|bytes|length|count|total|sum"
    r"|\bconta\b|account|konto|compte|cuenta|entidad|sinistr|siniestr|denunc|fattur|factur|invoice"
    r"|ticket|reserv|booking|\bpnr\b|\bjob\b|process|\bpid\b|pacco|paquete|pratica|popula|revenue"
    r"|score|download|\bref|track|colis|parcel|shipment|sendung|pedido|order"
    r"|fiscal|tax|steuer|imposto|impuesto|artic|serial|s[ée]rie|lote|batch|license|licen[cz]"
    r"|ean|isbn|imei|iccid|iban|bic|swift|cpf|cnpj|rg\b|curp|rfc|cuit|cuil|rut|pin|puk"
    r"|key\b|\bam\s*$|rpps|adeli|[=#]\s*$|\w_\w*\s*:\s*$|[\w\"']\s*:\s*[\"']$"
)
# What a count is followed by: "987654321 dollars", "2147483648 bytes", "912345678 points".
_COUNTED = re.compile(
    r"[ \t]*(?:bytes?|octets?|dollars?|euros?|eur\b|usd\b|points?|pts\b|people|persons|users"
    r"|items|units|records|rows|views|visits|downloads|times|habitants|inhabitants|einwohner|tonnes"
    r"|tons|km\b|kg\b|€|\$|%|£|exited|finished|failed|approvata|è in consegna|in consegna)",
    re.IGNORECASE,
)
_AT_A_NUMBER = re.compile(r"(?:\bal|\bau|\bao|\bon|\bat|\bsul|\bpara o)[ \t]*$")
_TAX_OR_ACCOUNT = re.compile(
    r"ni[fe]|niss|nipc|dni|iban|\bcf\b|fiscal|tax|steuer|account|konto|compte|conta\b"
)
# A number that goes on as a key's or field's start ("5193469892:AA...", "2147483648_x").
_KEY_OR_FIELD = re.compile(r"[:_][A-Za-z0-9]")


#: Two numbers given together: "Tel.: 958 27 64 10 / 630 77 21 05", or with a dash (or an en
#: dash) between spaces.
_OR = re.compile(r" [/\u2013-] ")


def phones(
    text: str, pos: int, endpos: int, regions: Sequence[str], named: Sequence[str] = ()
) -> Iterator[Span]:
    done = pos  # the end of the last numbers found by parts: a candidate inside them is not new
    for m in _PHONE.finditer(text, pos, endpos):
        if m.start() < done:
            continue
        parts = list(_parts(text, m, regions, named)) if _OR.search(m.group()) else []
        if parts:
            yield from parts
            done = parts[-1].end
            continue
        score = _phone_kind_score(text, m, regions, named)
        paren = m.group().rfind(" (")
        if score is None and paren > 0 and ")" not in m.group()[paren:]:
            # Run on into a bracket that follows: "06 18 77 40 29 (06:00)".
            m = _PHONE.match(text, m.start(), m.start() + paren) or m
            score = (
                _phone_kind_score(text, m, regions, named)
                if m.end() < m.start() + paren + 1
                else None
            )
        if score is None:
            # Run on into the next column or an hour: a call log's "+1 415-829-3316   00:04:12",
            # "+34 958 22 47 13 3:45" (tenth round); the number ends where the column starts.
            shorter = _before_next_field(text, m)
            if shorter is not None:
                m, score = shorter, _phone_kind_score(text, shorter, regions, named)
        sep = _OR.search(m.group()) if score is None else None
        if sep is not None and sum(c.isdigit() for c in m.group()[: sep.start()]) < 7:
            # A number after something that is none, a dash between them: "AZ 85741 \u2013 (773)
            # 732-3038", a ZIP code and a phone number (ninth round).
            rest = _PHONE.match(text, m.start() + sep.end(), endpos)
            if rest is not None:
                m, score = rest, _phone_kind_score(text, rest, regions, named)
        if score is not None:
            yield Span("phone", m.start(), m.end(), score)


# Where a candidate runs on into the next column (two blanks or a tab) or into an hour after it
# (" 3" of "3:45").
_NEXT_FIELD = re.compile(r"[ \t]{2,}|\t")
_HOUR_STARTS = re.compile(r" \d{1,2}$")


def _before_next_field(text: str, m: re.Match[str]) -> re.Match[str] | None:
    """The candidate ``m`` cut before the column or the hour it ran on into, if it did. Only an
    international number: national digits in columns are a statement's or a dump's ("50 4b 03 04
    14 00 00 00  08 00")."""
    if not m.group().startswith(("+", "(+")):
        return None
    gap = _NEXT_FIELD.search(m.group())
    if gap is not None:
        end = m.start() + gap.start()
    elif text[m.end() : m.end() + 1] == ":" and (hour := _HOUR_STARTS.search(m.group())):
        end = m.start() + hour.start()
    else:
        return None
    return _PHONE.fullmatch(text, m.start(), end)


def _parts(
    text: str, m: re.Match[str], regions: Sequence[str], named: Sequence[str]
) -> Iterator[Span]:
    """The numbers of a candidate that runs over " / " (or a dash between spaces) from one
    number into the next, when every part is one: "958 27 64 10 / 630 77 21 05" (a German
    run-on of 13 digits can be valid as a whole, so the parts are tried first; "0176", an en
    dash and "23 45 98 10" are one number, its first part too short). Each part ends at the next separator in
    the text, not at the candidate's end, which its length bound may have cut."""
    spans: list[Span] = []
    a = m.start()
    for _ in range(4):  # at most four numbers given together
        sep = _OR.search(text, a, a + 32)
        nxt = sep.start() if sep else -1
        part = _PHONE.match(text, a, nxt if nxt != -1 else min(len(text), a + 32))
        if part is None or len(re.sub(r"\D", "", part.group())) < 7:
            return
        if sep is not None and sep.group() != " / " and " " not in part.group().strip():
            return  # "0312345678 - 0312345699" is a range; two numbers given so are grouped
        score = _phone_kind_score(text, part, regions, named)
        if score is None:
            return
        spans.append(Span("phone", part.start(), part.end(), score))
        if nxt == -1 or nxt > part.end() + 1:
            break
        a = nxt + 3
    if len(spans) > 1:
        yield from spans


# A WhatsApp link carries the number in full, country code first without its "+":
# "wa.me/5519997898533", "https://wa.me/17867560828?text=...".
_WHATSAPP = re.compile(r"wa\.me/(?P<digits>\d{8,15})(?!\d)")


def whatsapp_links(text: str) -> Iterator[Span]:
    """The phone numbers in WhatsApp links (the caller checks for "wa.me/" first)."""
    for m in _WHATSAPP.finditer(text):
        if valid_international(m.group("digits")):
            yield Span("phone", m.start("digits"), m.end("digits"), 0.95)
