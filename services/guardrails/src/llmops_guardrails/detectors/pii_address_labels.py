"""Postal addresses named by a form's label (see :mod:`.pii`): the value after "Address:",
``"indirizzo":``, "Anschrift:" whatever its shape, and the postal-code-and-city fields forms
keep apart from the street ("PLZ, Ort: 99084 Erfurt"). The street patterns are in
:mod:`.pii_addresses`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from llmops_guardrails.detectors.pii_addresses import CITY
from llmops_guardrails.detectors.pii_context import Span, table_headers
from llmops_guardrails.detectors.pii_ips import IPV4

# --- addresses named by a label ------------------------------------------------------------

#: Stems of the words that label an address in a form, a CV, a record or a JSON object.
_LABEL_STEMS = (
    "address", "adresse", "anschrift", "direcci", "domicilio", "morada", "endere", "indirizzo",
    "residenza", "ship to", "wohnhaft", "postanschrift",
)  # fmt: skip
_LABEL = re.compile(
    r"(?<![\w])(?:(?:home|mailing|postal|street|billing|shipping|delivery|residential|current"
    r"|permanent|new|old|previous|private|business|work|office)[ _-])?"
    r"(?:address(?:e)?|[a-zäöü-]{0,14}adresse(?: postale)?|[a-zäöü-]{0,8}anschrift|wohnhaft in"
    r"|direcci[oó]n"
    r"(?: postal)?|domicilio|morada|endere[cç]o|indirizzo|residenza|ship to)"
    r"(?P<quote>[\"']?)[ \t]{0,4}:[ \t]{0,4}[\"']?(?P<value>[^\n\"']{6,150})",
    re.IGNORECASE,
)
# What an address starts with: a house number, a flat, a street-type word; or it holds a postal
# code ("Am Sportpark 2, 55122 Mainz"). "see attached, room 5" is not one.
_ADDRESS_VALUE = re.compile(
    r"\d|c/|(?:flat|apt|apartment|unit|suite|calle|avda|av\.|avenida|plaza|paseo|rua|praça"
    r"|travessa|largo|estrada|via|viale|piazza|corso|rue|avenue|boulevard|bd|chemin|allée"
    r"|impasse|quai|route)\b|.*(?<![\d.])(?:\d{5}|\d{4}-\d{3})(?![\d.])",
    re.IGNORECASE,
)
# Not a postal address: "IP address: 10.0.0.1", "E-mail-Adresse: ...", "MAC address".
_NOT_POSTAL = re.compile(
    r"(?:ip|mac|e-?mail|web|wallet|server|memory|url|ipv[46]|return|contract|base|faulting"
    r"|bitcoin|btc|eth|mmio|physical|virtual|bind|listen|loopback|gateway|broadcast|network|host"
    r"|pointer|register|start|end|load|jump|target|source|destination|dest|src|dst|local|remote"
    r"|proxy|peer|node|multicast|hardware|bluetooth|device|bus|instruction|fault|crash)[ _-]?$",
    re.IGNORECASE,
)
# A first token that is a number in code or a hash, not a house number: "0x00007FF6A1B2",
# "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa".
_CODE_TOKEN = re.compile(r"0x[0-9a-fA-F]+|[0-9a-fA-F]{8,}|(?=\w*\d)(?=\w*[A-Za-z])\w{12,}")
# Code, not an address: "1024 * page_size", "{...}".
_CODE_CHARS = frozenset("*={}[]<>")
# A compound that names another address: "E-Mail-Adresse", "IP-Adresse", "Webadresse".
_NOT_POSTAL_WORD = re.compile(r"mail|ip-|ipadr|web|url|mac-|server|wallet", re.IGNORECASE)
_MAIL_WORD = re.compile(r"[ ,;]*(?:e-?mail|mail|correo|courriel)?[ :,;]*$", re.IGNORECASE)
# A value ends at a field separator: "; Tel", " | Phone", a tab, " Tel.:".
_VALUE_END = re.compile(
    r"[;|\t]| {2,}| [·•] | (?:Tel|Phone|Email|E-mail|Mob|Fax|Téléfono|Telefon|tlm|tel)\b"
)


def _labelled(text: str) -> bool:
    """Whether a ":" in ``text`` follows an address label (the 40 characters before each are
    read: prompts have few, and lower-casing a whole prompt to search it costs more)."""
    if text.count(":") > 6:
        # Many colons (JSON, logs): one lower-cased copy is cheaper than one slice per colon.
        lower = text.lower()
        return any(stem in lower for stem in _LABEL_STEMS)
    at = text.find(":")
    while at != -1:
        before = text[max(0, at - 40) : at].lower()
        if any(stem in before for stem in _LABEL_STEMS):
            return True
        at = text.find(":", at + 1)
    return False


def labelled_addresses(text: str) -> Iterator[Span]:
    """The value after an address label ("Address: 12 Old Mill Close, Hebden Bridge",
    ``"indirizzo": "Via Roma 10, 00184 Roma"``): a form's field holds the whole address, whatever
    its shape, and any street-type word or postal code in it is beside the point. The value
    needs a digit and a word, and may not be an IP, e-mail or web address."""
    if not _labelled(text):
        return
    for m in _LABEL.finditer(text):
        label = text[max(0, m.start() - 12) : m.start("value")]
        if _NOT_POSTAL.search(text, max(0, m.start() - 12), m.start()) or _NOT_POSTAL_WORD.search(
            label
        ):
            continue
        value = m.group("value")
        cut = _VALUE_END.search(value)
        value = value[: cut.start()] if cut else value
        at = value.find("@")
        if at != -1:
            # An e-mail after the address on the same line ends it: "..., hebden bridge, email
            # jane@x.com".
            value = _MAIL_WORD.sub("", value[: value.rfind(" ", 0, at) + 1])
        value = value.rstrip(" .,;")
        if not _ADDRESS_VALUE.match(value) or not re.search(r"[^\W\d_]{3}", value):
            continue
        if "://" in value or IPV4.search(value) or "www." in value:
            continue
        if _CODE_TOKEN.match(value.split(" ", 1)[0]) or any(c in _CODE_CHARS for c in value):
            continue
        start = m.start("value")
        yield Span("street_address", start, start + len(value), 0.85)


# A form's field for the postal code and the city, which the authors' forms keep apart from the
# street ("PLZ, Ort: 99084 Erfurt", "Code postal / Ville : 83500 La Seyne-sur-Mer", "CP /
# Localidad: 28004 Madrid"): the value is an address's tail, hidden like the rest of it.
_POSTAL_CITY = re.compile(
    r"(?<![\w])(?:PLZ(?:,| /| und|/)? ?Ort|Code postal(?: /|,|/)? ?[Vv]ille|CP(?: /|,|/)? ?"
    r"(?:[Ll]ocalidad|[Pp]oblación|[Cc]iudad|[Vv]ille)|C[óo]digo [Pp]ostal(?: /|,|/)? ?(?:[Ll]ocalidade?"
    r"|[Cc]idade|[Cc]iudad|[Pp]oblación)|CAP(?: /|,|/)? ?(?:[Cc]ittà|[Cc]omune|[Ll]ocalità)"
    r"|ZIP(?: /|,|/)? ?(?:[Cc]ity|[Tt]own)|Postcode(?: /|,|/)? ?(?:[Tt]own|[Cc]ity))"
    r"[ \t]*:[ \t]*(?P<value>(?:[A-Z]{1,2}-)?(?:\d{5}|\d{4}(?:-\d{3})?) " + CITY + r")"
)


_POSTAL_LABELS = ("PLZ", "ostal", "CP", "CAP", "ZIP", "ostcode")


def postal_city_fields(text: str) -> Iterator[Span]:
    """The values of postal-code-and-city fields, read from each colon with such a label before it
    (the pattern's alternation over the whole text cost ~7 us per KB)."""
    at = text.find(":")
    done = 0
    while at != -1:
        before = text[max(done, at - 30) : at]
        if any(label in before for label in _POSTAL_LABELS):
            m = _POSTAL_CITY.search(text, max(done, at - 30), at + 80)
            if m:
                yield Span("street_address", m.start("value"), m.end("value"), 0.85)
                done = m.end()
        at = text.find(":", at + 1)


# --- streets without a house number, held by their postal code -------------------------------

# A street named by its type word first and a name ("route du Salario", "Av. Complutense s/n",
# "Polígono Industrial La Estrella"): no house number, but a postal code and a city right after
# it hold it ("route du Cap, 20200 Ville-di-Pietrabugno"). Sixth-round authors: French rural
# routes and lieux-dits, Spanish "s/n" (no number) and industrial estates.
_STREET_FIRST = re.compile(
    r"(?<![\w])(?i:route|rue|chemin|avenue|av\.|avda\.|boulevard|impasse|allée|place|quai"
    r"|lieu-dit|calle|camino|carretera|ctra\.|paseo|plaza|urb\.|urbanización|polígono|pol\. ind\."
    r"|rua|estrada|travessa|largo|praça|urbanização|via|viale|piazza|corso|strada|località"
    r"|contrada|frazione)"
    r" (?:(?:du|de|des|de la|de l'|del|de los|de las|dos|das|da|do|di|della|dei|degli) ?)?"
    r"(?=[A-ZÀ-Þ])"
)
_NEXT_LINE_CODE = re.compile(r"\d{5}(?!\d)|\d{4}-\d{3}(?!\d)")
_HOUSE_NUMBER_ALONE = re.compile(r"\d{1,4}(?: ?(?:bis|ter|[A-Za-z]))?")
_CODE_CITY = re.compile(r"(?:\d{5}|\d{4}-\d{3}|\d{4}) " + CITY)


def unnumbered_street(text: str, start: int, end: int) -> Iterator[Span]:
    """The street before the postal code at ``start:end`` (its digits, after ", " or on the next
    line) when it has no house number: the street's type word in one of the two comma-separated
    pieces before the code (the other may be a hamlet: "route de Santa Giulia, lieu-dit Capu,
    20137 ..."), no digit in them but "s/n"."""
    city = _CODE_CITY.match(text, start)
    if not city:
        return
    if text[start - 2 : start] == ", ":
        pos = start - 2
    elif (
        text[start - 1 : start] == "\n"
        and text[start - 2 : start - 1] not in ("\n", "")
        and _NEXT_LINE_CODE.match(text, start)
    ):
        # The code on the next line: "Lieu-dit La Borde\n24250 Domme" (five digits, not a year's
        # four: "We ship via Docker\n2024 Roadmap").
        pos = start - 1
    else:
        return
    found = -1
    for _ in range(2):
        floor = max(0, pos - 60, text.rfind("\n", max(0, pos - 60), pos) + 1)
        comma = text.rfind(", ", floor, pos)
        piece = text[comma + 2 if comma != -1 else floor : pos]
        if any(c.isdigit() for c in piece.replace("s/n", "")):
            if found != -1 and _HOUSE_NUMBER_ALONE.fullmatch(piece):
                found = pos - len(piece)  # the number before a comma: "13, chemin des Vignes"
            break
        # The last type word in the piece starts the street.
        starts = [m.start() for m in _STREET_FIRST.finditer(text, pos - len(piece), pos)]
        if starts:
            found = starts[-1]
        if comma == -1:
            break
        pos = comma
    if found != -1 and pos == start - 1 and text[found : found + 1].islower():
        line = text.rfind("\n", 0, found) + 1
        if not _HOUSE_NUMBER_ALONE.fullmatch(text[line:found].rstrip(", ")):
            return  # a street in small letters on the line above: its line's start or a number
    if found != -1:
        yield Span("street_address", found, city.end(), 0.85)


# --- British and Irish addresses held by their postcode -------------------------------------

# A postcode or an Eircode, with its space ("KT23 3PG", "V94 R8FD"): strong enough to hold what
# comes before it when no house number does ("Church Lane, Great Bookham KT23 3PG", "Unit 6,
# Coldwell Business Pk, Penistone S36 7GF", "Ballinahown, Oughterard, Co. Galway, H91 E2T6").
# Seventh round: a third of the dev authors' missed addresses were such British and Irish ones.
_POSTCODE = re.compile(
    r"(?<![\w])(?:[A-Z]{1,2}\d[A-Z\d]? \d(?![GMKT]B\b)[A-Z]{2}|(?:[ACDEFHKNPRTVWXY]\d{2}|D6W) ?"
    r"[0-9ACDEFHKNPRTVWXY]{4})(?![\w])"
)
# What separates an address's pieces: a comma, a line break, a tab, a bar.
_PIECE_SEP = re.compile(r",[ \t]*|[ \t]*\n[ \t]*|\t| \| ")
_PLACE_WORD = (
    r"(?:[A-ZÀ-Þ][\w'\u2019.&-]*|\d{1,4}[A-Za-z]?(?:/\d{1,4})?"
    r"|of|the|upon|on|in|under|y|le|la|na|an|ar|by|and|&)"
)
_ADDRESS_PIECE = re.compile(_PLACE_WORD + r"(?: " + _PLACE_WORD + r"){0,6}")
# The town before the code: capitalised words, a county ("Co. Galway"), a Dublin district.
_TOWN = re.compile(
    r"Co\. [A-Z][a-z]+|Dublin \d{1,2}W?"
    r"|[A-Z][\w'\u2019.-]*(?: (?:(?:upon|on|under|le|in|the|y) )?[A-Z][\w'\u2019.-]*){0,3}"
)
# Where a street starts: a house number, a flat or a unit, a Welsh or Irish street word first,
# or a street-type word last ("Dock Road", "Coldwell Business Pk", "Riverside Ind. Est.").
_STREET_START = re.compile(
    r"\d{1,4}[A-Za-z]?(?:/\d{1,4})? (?:[A-ZÀ-Þ]|the |of )"
    r"|(?i:unit|apt\.?|apartment|flat|suite|block|room|plot) \w{1,5}(?:$| )"
    r"|(?:Heol|Ffordd|Stryd|Bóthar|Sráid) "
)
# What may lead to an address in its piece: a label, a preposition, a dash, a sentence's end
# ("Invoice to: The Crown Inn", "the address is Ballinahown", "Harbour View B&B \u2013 The Quay").
_LEAD = re.compile(r".*(?::|\b(?:to|at|is|in|from|for)|[\u2013\u2014-]|(?<=[a-z]{3})\.) ")
_HOUSE_NUMBER = re.compile(r"(?<![\w])\d{1,4}[A-Za-z]?(?:/\d{1,4})? (?=[A-ZÀ-Þ])")
_STREET_END = re.compile(
    r" (?:Street|St\.?|Road|Rd\.?|Lane|Ln|Avenue|Ave\.?|Close|Drive|Dr\.?|Way|Crescent|Cres"
    r"|Place|Pl|Court|Ct|Gardens|Gdns|Terrace|Tce|Hill|Park|Pk\.?|Square|Sq|Row|Walk|Quay"
    r"|Grove|Mews|Green|Parade|Rise|View|Lawn|Estate|Est\.?|Vale|Wharf|Yard|Heights|Villas"
    r"|Cottages|Gate|Wynd|Brae|Boulevard|Meadows?|Fields|Orchard|Chase|Croft|Dale|Glen|Broadway)$"
)


def _postcodes(text: str, clusters: Iterable[tuple[int, int]]) -> Iterator[re.Match[str]]:
    """The postcodes around the text's short digit clusters (a search of the whole text cost a
    1 KB prompt ~25 us; a postcode holds one or two such clusters)."""
    last = -1
    for start, end in clusters:
        if end - start > 4 or not ("A" <= text[start - 1 : start] <= "Z"):
            continue  # a postcode's first digits follow a capital ("KT23", "H91"): most do not
        code = _POSTCODE.search(text, max(0, start - 3), end + 7)
        if code and code.start() > last:
            last = code.start()
            yield code


def held_by_postcode(text: str, clusters: Iterable[tuple[int, int]]) -> Iterator[Span]:
    """A British or Irish address without a number the street patterns need, from the postcode
    back: the town, then up to five pieces (a street, an estate, a unit, a district), each of
    capitalised words; the address starts at the farthest piece that starts a street. Without
    one, a county's town ("Co. Galway") holds the two pieces before it (a townland, a village).
    A building before the street is added by :func:`.pii_address_tails.extend`."""
    for code in _postcodes(text, clusters):
        floor = max(0, code.start() - 240)
        seps = list(_PIECE_SEP.finditer(text, floor, code.start()))
        ends = [m.start() for m in seps] + [code.start()]
        starts = [floor] + [m.end() for m in seps]
        if ends[-1] == starts[-1] and len(starts) > 1:  # the code after a separator: ", H91 E2T6"
            ends.pop()
            starts.pop()
        town = text[starts[-1] : ends[-1]].rstrip(" ")
        if not _TOWN.fullmatch(town):
            continue
        found = -1
        pieces: list[int] = []
        for i in range(len(starts) - 2, max(-1, len(starts) - 8), -1):
            if i == 0 and floor > 0:
                break  # cut by the window: not a whole piece
            piece = text[starts[i] : ends[i]]
            whole = _ADDRESS_PIECE.fullmatch(piece) is not None
            if not whole:
                # A label or a sentence before the address: only its capitalised end counts.
                cut = _LEAD.match(piece)
                if cut is None:
                    break
                offset = cut.end()
                piece = piece[offset:]
                if not _ADDRESS_PIECE.fullmatch(piece):
                    break
                starts[i] += offset
            pieces.append(starts[i])
            if _STREET_START.match(piece):
                found = starts[i]
            elif _STREET_END.search(piece):
                # A label or a name before the house number: the street starts at the number.
                number = _HOUSE_NUMBER.search(piece)
                found = starts[i] + (number.start() if number else 0)
            if not whole:
                break
        if found == -1 and town.startswith("Co. ") and pieces:
            found = pieces[min(1, len(pieces) - 1)]
        if found != -1:
            yield Span("street_address", found, code.end(), 0.85)


# --- addresses across a table's columns ------------------------------------------------------

# A street's column, then the columns that go on with its address: "name,address,city,state,zip",
# "id;nom;adresse;cp;ville", "nome;morada;codigo_postal;localidade". The address runs from the
# street's cell to the last of them ("3021 Sycamore Ct\tPlano\tTX\t75093", "22 The Crescent,,
# Leeds,LS6 3DN"): eighth-round authors labelled CSV and TSV exports so, and a street pattern
# stops at the street's cell.
_STREET_COLUMN = re.compile(
    r"address|adresse|addr\b|street|stra(?:ss|ß)e|direcci|domicilio|morada|endere|indirizzo"
    r"|anschrift|via\b|calle\b|rue\b|line ?1|line_1"
)
_NOT_STREET_COLUMN = re.compile(
    r"mail|ip\b|ip_|web|url|mac|wallet|server|host|contract|register|memory"
)
_PLACE_COLUMN = re.compile(
    r"line ?2|line_2|adresse ?2|complement|city|town|ville|ciudad|cidade|città|citta|\bort\b"
    r"|localidad|localit|commune|comune|municipio|concelho|poblaci|state|province|provincia"
    r"|\bprov\b|region|région|\buf\b|estado|county|zip|postcode|postal|post code|\bcp\b|plz"
    r"|\bcap\b|cep\b|bundesland|kanton|distrito|bairro|barrio|quartier|suburb"
)


# A street's cell has a word ("3021 Sycamore Ct", "Lieu-dit La Croix Blanche"); a machine's
# address is dotted names or hex digits.
_STREET_CELL = re.compile(r"[^\W\d_]{3,}")
_MACHINE_CELL = re.compile(r"(?:0x)?[0-9A-Fa-f:.-]+|[\w-]+(?:\.[\w-]+)+")


def table_addresses(text: str) -> Iterator[Span]:
    """Addresses across a table's street column and the place columns right after it."""
    if "\n" not in text:
        return
    tables = table_headers(text)
    for line, header in zip(tables.line_starts, tables.headers, strict=True):
        if header is None:
            continue
        delimiter, fields = header
        street = next(
            (
                i
                for i, f in enumerate(fields)
                if _STREET_COLUMN.search(f) and not _NOT_STREET_COLUMN.search(f)
            ),
            None,
        )
        if (
            street is None
            or street + 1 >= len(fields)
            or not _PLACE_COLUMN.search(fields[street + 1])
        ):
            continue
        last = street + 1
        while last + 1 < len(fields) and _PLACE_COLUMN.search(fields[last + 1]):
            last += 1
        end = text.find("\n", line)
        row = text[line : len(text) if end == -1 else end].rstrip("\r")
        cells = _cells(row, delimiter)
        if len(cells) != len(fields):
            continue
        first, *rest = cells[street : last + 1]
        filled = [c for c in rest if c[1] > c[0]]
        cell = row[first[0] : first[1]]
        if not filled or not _STREET_CELL.search(cell) or _MACHINE_CELL.fullmatch(cell):
            continue  # a host's name, a MAC, a hex address: no street's
        # A quoted row's address is its street's cell (its quotes and commas are no address's).
        end_at = first[1] if '"' in row else filled[-1][1]
        yield Span("street_address", line + first[0], line + end_at, 0.85)


def _cells(row: str, delimiter: str) -> list[tuple[int, int]]:
    """Each field's (start, end) in ``row``, without its blanks and quotes; a quoted field's
    delimiters are text."""
    cells = []
    quoted = False
    start = 0
    for i, ch in enumerate(row):
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            cells.append(_trimmed(row, start, i))
            start = i + 1
    cells.append(_trimmed(row, start, len(row)))
    return cells


def _trimmed(row: str, start: int, end: int) -> tuple[int, int]:
    while start < end and row[start] in " \t\"'":
        start += 1
    while end > start and row[end - 1] in " \t\"'":
        end -= 1
    return start, end
