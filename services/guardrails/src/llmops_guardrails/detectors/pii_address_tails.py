"""What follows and precedes a postal address (see :mod:`.pii_addresses`): the pieces after
a street (a flat, a postal code and a city, a state, a postcode), a building or a flat before
it, and post-office boxes, held by what follows them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.pii_context import Span

# --- what follows an address ---------------------------------------------------------------

# The pieces that may follow a street and its number, in any order, each after a separator (a
# comma, a semicolon, a middle dot, a dash, a tab, one line break): a flat or a floor, a postal
# code and a city, a city and a British postcode, an American state and ZIP or a Brazilian state
# and CEP, a neighbourhood or a city alone. The country patterns stop at their own street; the
# independent authors' addresses went on (fourth round: 114 of 414 values not fully covered,
# most of them a city, a floor or a postal code on the next line or after a semicolon).
# Each alternative splits a run of blanks one way only (a separator class holding the tab after
# "[ \t]*" made 10,000 tabs after a street take a minute: the review's finding).
_SEP = (
    r"(?:[ \t]*(?:[,;·/\u2013\u2014-][ \t]*)?\n[ \t]*|[ \t]*[,;·/\u2013\u2014\u2022|-][ \t]*|[ \t]+"
    # A CSV row: a quoted cell's end, an empty field ('Unit C",Santa Fe,NM', "St,,Ann Arbor").
    r'|",|,{2,3})'
)
# (Latin Extended-A capitals too: "Ōtāhuhu", "Łódź", "Česká".)
_WORD_CAP = (
    r"[A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĴĶĹĻĽĿŁŃŅŇŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ][\w'\u2019.-]{0,30}"
)
_LINKS = r"(?:am|im|an der|auf|bei|ob|sur|sous|de|des|du|del|de la|de les|da|do|das|dos|di|della|en|upon|on|la|le|les|y|e|et)"
# (Not over a sentence's full stop: "La Plata. Timbre 2", "Valparaíso. Desde"; an abbreviation's
# stays: "St. Gallen".)
_PLACE = _WORD_CAP + r"(?:(?<![a-zà-ÿ]{4}\.) (?:" + _LINKS + r" )?" + _WORD_CAP + r"){0,3}"
_UK_CODE = r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"
# An Irish Eircode: a routing key ("D06", "D6W", "T12") and four characters ("Y5W9").
_EIRCODE = r"(?:[ACDEFHKNPRTVWXY]\d{2}|D6W) ?[0-9ACDEFHKNPRTVWXY]{4}"
_CA_CODE = r"[ABCEGHJ-NPRSTVXY]\d[A-Z] ?\d[A-Z]\d"
_CA_PROVINCE = (
    r"(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT|\(?(?:Québec|Quebec|Ontario)\)?|Alberta"
    r"|British Columbia|Manitoba|New Brunswick|Nova Scotia|Saskatchewan|Prince Edward Island"
    r"|Newfoundland and Labrador)"
)
_UNIT_WORDS = (
    r"(?i:apt|apto|ap|apartment|apartamento|suite|ste|unit|flat|bloco|bloque|bl|casa|sala|loja|appart|cj|conj"
    r"|lote|pal|planta|piso|esc|escalera|pta|puerta|porta|andar|étage|etage|stock|top|stiege"
    r"|appt|appartement|bât|bâtiment|fraz|nave|km|int|interno|scala|local|room|box|buzón|dpto"
    r"|depto|of|oficina|despacho|zi|zimmer|whg|wohnung|hab|habitación|pta|boîte|boite|bte"
    r"|kamer|tür|türe|pmb|block|bloc|pier|dock|bldg|hangar|galpão|galpao|bodega|pral|portal"
    r"|parcela|parzelle|lot|bis|floor|level|basement|bureau|torre|depto|rd(?= \d)"
    # An Italian floor, a Spanish mezzanine or attic, a Catalan "entresòl" (tenth round).
    r"|piano|entreplanta|entresuelo|entl|entlo|ático|atico)\b\.?"
    r"(?: ?[\w.ºª°/-]{1,8}(?![\w]))?"
    # A Belgian box ("120 bus 4, 9000 Gent"), only before its postal code: "bus" is a word.
    r"|bus \d{1,4}(?=,? \d{4} )"
    # Québec's "app. 3" (not an "app download").
    r"|app\. ?\d{1,4}[A-Za-z]?"
    # A French business's sorting code between the street and the postal code ("CS 30004").
    r"|(?:CS|TSA) \d{5}(?=,? \d{5} )"
    r"|#\s?\w{1,6}|\d{1,2}\.? ?[ºª°](?: ?[A-Za-z]{1,5}\.?(?: \d{1,3}(?![\w]))?)?"
    r"|\d{1,2}(?:st|nd|rd|th) [Ff]loor"
    r"|\d{1,2}\. ?(?:OG|Etage|Stock|étage)|\d{1,2}e étage|s/n|snc|(?i:r/c)|VH|HH|(?i:hinterhaus|vorderhaus"
    r"|seitenflügel|rechts|links|bajo|izq\.?|izda\.?|dcha\.?|esq\.?|dto\.?|drt\.?|frt\.?|trás)"
    r"|\(\d{1,2}(?:e|er|ème|\.|º|°)? ?(?:étage|etage|OG|Stock|piano|piso|andar|floor)\)"
)
# What a floor may be followed by: its side and whether a lift serves it ("4e étage gauche",
# "4. OG ohne Aufzug", "3° piano con ascensore", "3e étage, porte gauche").
_SIDES = (
    r"(?:porte )?(?:gauche|droite|dte|links|rechts|izquierda|derecha|sx|dx"
    r"|ohne Aufzug|mit Aufzug|con ascensore|senza ascensore|sans ascenseur|avec ascenseur"
    r"|sin ascensor|con ascensor|sem elevador|com elevador)"
)
_UNIT_REST = r"(?:,? (?:" + _SIDES + r"|g|d))?"
_PIECE = re.compile(
    _SEP + r"(?:"
    # A postal code and a city: "28046 Madrid", "1000-057 Lisboa", "D-10115 Berlin",
    # ";04109;Leipzig", "31004 Toulouse CEDEX 6", "20124 MILANO MI".
    # A Dutch postcode's letters after its digits: "3511 AZ Utrecht".
    # After a preposition or Mexico's "C.P.": "Gartenweg 19 in 50825 Köln", "C.P. 06700".
    # Argentina's: "S2000 Rosario", "C1045AAR Ciudad Autónoma de Buenos Aires".
    r"(?P<code>(?:(?:in|à|en|em|C\.P\.|CP|C\.P) )?(?:[A-Z]{1,2}-)?(?:\d{5}-\d{3}|\d{4}-\d{3}|\d{5}"
    r"|[A-HJ-NP-Z]\d{4}(?:[A-Z]{3})?(?= )|\d{4} ?[A-Z]{2}(?= )|\d{4}"
    r"|\d{2}-\d{3}))"
    r"(?:[ \t]|[ \t]*[;,][ \t]*)" + _PLACE + r"(?: (?:CEDEX|Cedex)(?: \d{1,2})?| [A-Z]{2}(?![\w])"
    r"| \([A-Z]{2}\)| \d{1,2}(?![\w]))?"
    # A city and a British postcode, a US state and ZIP, a Brazilian state and CEP.
    # (In a CSV row the commas have no space: "Dallas,TX,75201".)
    r"|(?P<city>" + _PLACE + r")(?:,? |,|[ \t]*\n[ \t]*|\t| \| )(?:" + _UK_CODE + r"(?![\w])"
    # A Canadian province and postal code ("Toronto, ON M5J 0C3", "Montréal (Québec) H2J
    # 2L6"), an Australian state and postcode ("Fitzroy VIC 3065"): seventh round.
    r"|" + _CA_PROVINCE + r",? " + _CA_CODE + r"(?![\w])"
    r"|(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT) \d{4}(?![\w])"
    # New Zealand's four digits after the city, a US ZIP after a city alone ("Auckland 0630",
    # "Brooklyn 11249"): only at the end of the address.
    r"|\d{4,5}(?=[ \t]*(?:[.,;)\n\u00b7\u2022|]|$)|[ \t]+[a-z])"
    r"|" + _EIRCODE + r"(?![\w])"
    r"|[A-Z]{2}(?:, ?| )\d{5}(?:-\d{4})?(?![\w])|[A-Z][a-z]+ \d{5}(?:-\d{4})?(?![\w]))"
    # A Brazilian city and state, with or without the CEP: "Curitiba/PR, 80230-010",
    # "Rio de Janeiro - RJ".
    r"|(?P<state>" + _PLACE + r" ?[\u2013/-] ?[A-Z]{2}(?:,? (?:CEP:? )?\d{5}-?\d{3})?(?![\w]))"
    # A postcode alone: "HG1 5DH", "CEP 22060-001".
    r"|(?P<postcode>"
    + _UK_CODE
    + r"(?![\w])|"
    + _CA_CODE
    + r"(?![\w])|"
    + _EIRCODE
    + r"(?![\w])|CEP:? \d{5}-?\d{3}"
    r"|\d{5}-\d{3}(?![\w]))"
    # A postal code alone after its city ("42 rue Pasteur à Villeurbanne 69100, au 3e").
    r"|(?<=[^\W\d_] )(?P<lonecode>\d{5})(?=[ \t]*(?:[.,;)\n]|$))"
    # Dublin's postal districts: "Dublin 6", "Dublin 6W".
    r"|(?P<district>Dublin \d{1,2}W?)(?![\w])"
    # An Italian or Spanish province after the city: "(PG)", "(Asturias)".
    r"|(?P<province>\((?:[A-Z]{2}|[A-ZÀ-Þ][a-zà-ÿ]{2,20})\))"
    # A flat, a floor, a box.
    r"|(?P<unit>(?:" + _UNIT_WORDS + r")" + _UNIT_REST + r"|" + _SIDES + r")(?![\w])"
    # A neighbourhood or a city alone, then the end of the address.
    # (Not a contact's label: "..., 1090 Wien, Tel. +43 ...".)
    r"|(?:(?:in|en|a|à|em|bei) )?(?!(?:Tel|Tél|Tlf|Tfno|Fax|Phone|Mob|Mobile|Email|E-mail|Mail"
    r"|Handy|Telefon|Telefone|Teléfono|Telefono|Cel|Tlm|GSM|Web)\b[.:]? ?[+(\d\w@])"
    # Nor a company's registration after its address: "... CH1 4LT · Company No. 0938...".
    r"(?!(?:Company|Registered|Reg|VAT|SIRET|SIREN|RCS|CIF|NIF|USt|Handelsregister|Registro)\b)"
    r"(?P<place>" + _PLACE + r")"
    r"(?=[ \t]*(?:[.;)|\n?]|,[ \t]|,{2,3}|$)|[ \t]+(?:[\u2013\u2014-]|\((?!\d))"
    r"|[ \t]+(?:and|und|et|y|e|ou|or|but|aber|mais|pero|ma)\b)"
    # A city after a comma or a preposition, before prose goes on: "225 Bush Street, San
    # Francisco until 5", "Via Po 34 a Torino è ancora", "42 rue Pasteur à Villeurbanne 69100".
    r"|(?:(?<=,)|(?<=, )|(?:in|en|a|à|em) )(?P<town>" + _PLACE + r"(?<![-'\u2019.]))"
    r"(?:[ \t]+\d{5}(?![\w]))?(?=[ \t]+[a-zà-ÿ]|[ \t]*,[ \t]+[a-zà-ÿ])"
    r")"
)
#: How far an address may be followed.
_MAX_PIECES = 6


def extend(text: str, spans: list[Span]) -> list[Span]:
    """Each street address with the pieces that follow it (see ``_PIECE``): a place alone only
    on its own line when a postal code follows it, or on the address's line."""
    if not any(s.kind == "street_address" for s in spans):
        return spans
    out = []
    for span in spans:
        if span.kind == "street_address" and span.score >= 0.5:
            span = span._replace(start=_preceded(text, span.start), end=_followed(text, span.end))
        out.append(span)
    return out


# What may come before a street: a building, a flat or floor, a business park or a hamlet,
# each ended by a comma ("Merchant House, 5th Floor, 22 King Street", "ZA des Chaumes, 3 rue
# de l'Industrie", "Hameau de Bel-Air, 715 route de Saint-Pons"), from where a field starts (a
# line, a colon, a cell); or a flat on the line above ("Flat 4\n19 Mornington Terrace").
_FIELD_START = '\n:|;\t"(\u00ab?!\u00b7\u2022'
# What names a building, a floor, a flat or an estate in such a segment.
_PLACE_WORDS = re.compile(
    r"(?i)\b(?:house|floor|building|block|room|unit|suite|flat|apartment|hall|park|estate|centre"
    r"|center|tower|za|zi|zone|zona|hameau|lieu-dit|résidence|bâtiment|bât|appartement|étage"
    r"|parc|polígono|urbanización|urb|edificio|edifício|planta|piso|local|urbanização|lote|bloco"
    r"|andar|frazione|località|loc|palazzo|scala|piano|gewerbegebiet|haus|etage|stock|gebäude"
    r"|sitio|sítio|quinta|fazenda|industrial|industriale|business|villa|finca|chalet|cortijo|masía"
    r"|domaine|château|maison|rectory|cottage|farm|lodge|manor|barn|grange|masseria|cascina"
    r"|podere|escalier|escalera|stiege|kamer|boîte|bte|torre|apto|level|shop|gewerbepark|halle"
    # A house's name before its street ("The Old Forge, 2 Church Street"), not a business's
    # ("The Crown Inn, High Street": a seventh-round author left it out).
    r"|basement|bairro|kolonie|granary|forge|stables|smithy|vicarage|parsonage|schoolhouse"
    r"|bungalow|oast)\b"
    # A flat abbreviated only with its number: "Appt 5", "Ste 1200", "Apt. 4B", Québec's "app. 3"
    # (not "Very apt").
    r"|(?i:\b(?:appt|apt|app|ste)\.? ?\d)"
    r"|\besc\."
)
# Words that are surnames too ("David Villa", "Ana Torre"): a building's only when they lead.
_NAME_FIRST_WORDS = re.compile(
    r"(?i)villa|finca|chalet|cortijo|masía|domaine|château|maison|quinta|masseria|cascina|podere"
    r"|torre|grange|lodge"
)
_WORD = re.compile(r"\S+")
# A word that may stand before a building's name ("na Quinta da Aveleda", "presso Villa Medicea").
_LEADING = frozenset(
    {
        *("na", "no", "em", "en", "à", "a", "au", "at", "in", "to", "presso", "bei", "im", "chez"),
        *("da", "do", "del", "de", "la", "le", "the", "our", "nuestra", "nossa", "c'est", "est"),
        *("is", "es", "é", "è", "ist", "l'adresse", "adresse", "address", "dirección"),
        *("direccion", "morada", "endereço", "indirizzo", "anschrift", "of", "o", "os", "as"),
        *("it's", "it\u2019s", "its"),
    }
)
# An estate or a building named first, before a dash: "Zone Industrielle Nord", "Résidence Les
# Tilleuls", "Palazzo dei Congressi" ("Business Plan" is none: the review).
_ESTATE_FIRST = re.compile(
    r"(?:Zone|Zona|ZI|ZA|Résidence|Residencia|Residência|Residence|Urbanización|Urbanização|Urb\."
    r"|Edificio|Edifício|Palazzo|Parc|Polígono|Gewerbegebiet|Gewerbepark|Bâtiment|Quinta"
    r"|Industrial Estate|Business Park|Centro Direzionale|Torre|Tour|Tower)\b"
)
# A flat in small letters after such a word ("it's flat 2/1, 44 Hyndland Road", "do apto 703").
_SMALL_FLAT = re.compile(r"flat|apt\.?|apto|appt\.?|app\.|apartment|appartement|appart|unit|suite")
_FLAT_LINE = re.compile(
    r"(?i:flat|apartment|apt\.?|unit|suite|appartement|appt\.?|wohnung|piso|apartamento|bloco"
    r"|block|bâtiment|bât\.?|résidence|residencia|residência|edificio|edifício|building)"
    r" [^\n]{1,30}\n$"
)


# A street-type word in small letters before a street's name ("in via Nizza 12, 84129
# Salerno", "rdv chez moi ch. de la Vuachère 12"), or the first number of a range before the
# one a pattern started from ("7-9 avenue Foch"): the address starts there.
_TYPE_BEFORE = re.compile(
    r"(?<![\w.])(?:via|viale|v\.le|calle|c\.|rua|avenida|av\.|avda\.|corso|piazza|p\.zza|rue"
    r"|avenue|chemin|ch\.|chaussée|place|travessa|largo|praça|carrer|strada|paseo|plaza|c/)"
    r"(?: (?:de|del|della|di|da|do|dos|das|la|le|les|des|du|de la|de l'))? $"
)
# A street that starts with its type word already ("Via Roma 12"): "corso", "place" or "via"
# before it are other words ("Lavori in corso Via Roma 12": the review's finding).
_TYPE_FIRST = re.compile(
    r"(?:Via|Viale|Calle|Rua|Avenida|Av\.|Avda\.|Corso|Piazza|Rue|Avenue|Chemin|Chaussée|Place"
    r"|Travessa|Largo|Praça|Carrer|Strada|Paseo|Plaza|C/|Boulevard|Route|Allée|Impasse|Quai)\b"
)
_RANGE_BEFORE = re.compile(
    r"(?<![\w-])(?:\d{1,4}[-\u2013]|(?:Lot|Unit|Flat|Apt\.?|Suite|Shop|Lote) (?:\d{1,4}[A-Za-z]?/)?)$"
)


#: What ends a segment before a street: a comma, a dash between blanks (see ``dashed`` below).
_SEGMENT_ENDS = frozenset((", ", "\u2013 ", "\u2014 "))


def _preceded(text: str, start: int) -> int:
    """Where the address that starts at ``start`` starts with what comes before it (see
    ``_FIELD_START``); ``start`` when nothing does."""
    first = text[start : start + 1]
    if first.isupper() and not _TYPE_FIRST.match(text, start):
        m = _TYPE_BEFORE.search(text, max(0, start - 16), start)
        if m:
            start = m.start()
    elif first.isdigit():
        m = _RANGE_BEFORE.search(text, max(0, start - 12), start)
        if m:
            start = m.start()  # a lot or a unit: an estate may stand before it
            if text[start - 2 : start] not in _SEGMENT_ENDS:
                return start
    line = text.rfind("\n", max(0, start - 40), start)
    if line != -1 and not text[line + 1 : start].strip():
        flat = _FLAT_LINE.search(text, max(0, line - 40), line + 1)
        return (
            flat.start()
            if flat and (flat.start() == 0 or text[flat.start() - 1] == "\n")
            else start
        )
    pos = best = start
    for _ in range(3):
        if text[pos - 2 : pos] not in _SEGMENT_ENDS:
            return best
        window_start = max(0, pos - 42)
        window = text[window_start : pos - 2]
        cut = max(window.rfind(c) for c in _FIELD_START + ",")
        segment = window[cut + 1 :]
        # The words with their offsets in the text (any blanks between: no-break spaces, two).
        spans = [(window_start + cut + 1 + w.start(), w.group()) for w in _WORD.finditer(segment)]
        words = [w for _, w in spans]
        # A building after a preposition ("sábado às 16h, na Quinta da Aveleda, Rua ...",
        # "ricevimento presso Villa Medicea, Via ..."): the name starts after the last one, and
        # so does the address.
        # (Or a flat in small letters: "it's flat 2/1, 44 Hyndland Road".)
        starts = [
            i + 1
            for i in range(len(words) - 1)
            if words[i] in _LEADING
            and (words[i + 1][:1].isupper() or _SMALL_FLAT.fullmatch(words[i + 1]) is not None)
        ]
        lead = next((i for i in starts if _PLACE_WORDS.search(" ".join(words[i:]))), 0)
        if cut == -1 and pos - 42 > 0 and not lead:
            return best  # a clause too long to be a name
        named = " ".join(words[lead:])
        first = named[:1]
        # After a dash only an estate or a building, named with a capital ("Zone Industrielle
        # Nord", then the dash and "9 rue Gutenberg"), not a family ("The Nguyens") or an offer
        # ("2 bed flat to rent").
        dashed = text[pos - 2] != ","
        place = _PLACE_WORDS.search(named)
        field = cut != -1 or window_start == 0
        if dashed and (not field or _ESTATE_FIRST.match(named) is None):
            return best  # the estate's word first, a field's start ("Business Plan" is none)
        # A flat or a floor may be written in small letters ("appartement 12, 4e étage, ...").
        opening = first.isupper() or first.isdigit() or (place is not None and place.start() == 0)
        if not named or len(words) - lead > 6 or not opening:
            return best
        if not place:
            return best  # a person or a company before the address, or a time ("18:00, Platz 2")
        if _NAME_FIRST_WORDS.fullmatch(place.group()) and place.start() != 0:
            return best  # "David Villa, 12 Main Street": a surname, not an estate
        pos = max(0, spans[lead][0])
        best = pos
        if lead or cut == -1 or window[cut] != ",":
            return pos  # a field starts here
    return best


def _followed(text: str, end: int) -> int:
    newlines = 0
    for _ in range(_MAX_PIECES):
        m = _PIECE.match(text, end)
        if not m:
            break
        crossed = text.count("\n", end, m.start(m.lastgroup or 0))
        if m.lastgroup in ("place", "town") and crossed:
            # A place alone on the next line is a name or a country as often; not when a state,
            # a postal code or a postcode follows it ("Laranjeiras \u2013 Rio de Janeiro/RJ").
            after = _PIECE.match(text, m.end())
            if not after or after.lastgroup not in (
                "code",
                "state",
                "postcode",
                "city",
                "district",
            ):
                break
        newlines += crossed
        if newlines > 2:
            break
        end = m.end()
    if (
        text[end - 1 : end] == "."
        and text[end - 4 : end - 1].isalpha()
        and text[end - 2].islower()
        and text[end : end + 1] in ("", " ", "\n", "\r", "\t")
    ):
        end -= 1  # a sentence's full stop after the city ("an Gartenweg 19 in 50825 Köln.")
    if _STATE_DOT.search(text, max(0, end - 6), end) and text[end : end + 1] == ".":
        end += 1  # an abbreviated state's full stop: "44100 Guadalajara, Jal.", "Monterrey, N.L."
    return end


# A Mexican state abbreviated after the city ("Jal", "Pue", "Nay", "N.L"), before its full stop.
_STATE_DOT = re.compile(r", (?:[A-Z][a-z]{1,3}|[A-Z]\.[A-Z])$")


# A post-office box, held by the postal code or city after it: "PO Box 4412, Truro TR1 9BQ",
# "BP 20417 - 31004 Toulouse CEDEX 6", "Postfach 10 12 44;50452;Köln", "Apartado 512;8001-905;Faro".
_PO_BOX = re.compile(
    r"(?<![\w])(?:P\.? ?O\.? Box|Post Office Box|RR \d{1,3} Box|B\.?P\.?|Postfach|Case postale"
    # French businesses' sorting codes: "CS 30004", "TSA 30103".
    r"|CS|TSA"
    r"|Apartado(?: de Correos)?|Caixa Postal|Casella [Pp]ostale|Boîte postale|Unit \d{4} Box)"
    r" \d{1,6}(?: \d{2}){0,2}(?![\w])"
)


_PO_BOX_MARK = re.compile(r"Box|BP|B\.P|Postfach|postale|Apartado|Caixa|CS|TSA")
# A year after a box is a title's ("PO Box 12 - 2024 Update"), not a postal code.
_YEAR_CODE = re.compile(r"\W*(?:19|20)\d{2}(?!\d)")


def po_box(text: str, start: int, end: int) -> Iterator[Span]:
    """The post-office box whose number is the digit cluster at ``start:end`` (a search of the
    whole text for the marks cost ~6 us per KB; the 26 characters before a number, nothing)."""
    if not _PO_BOX_MARK.search(text, max(0, start - 26), start):
        return
    for m in _PO_BOX.finditer(text, max(0, start - 26), min(len(text), end + 9)):
        if not m.start() < start < m.end():
            continue
        piece = _PIECE.match(text, m.end())
        if piece and piece.lastgroup == "code" and _YEAR_CODE.match(text, m.end()):
            continue
        if piece and piece.lastgroup in ("code", "city", "state", "postcode", "district"):
            yield Span("street_address", m.start(), m.end(), 0.85)
