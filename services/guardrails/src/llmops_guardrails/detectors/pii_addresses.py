"""Postal addresses (see :mod:`.pii`): the country patterns, streets without a street-type word.
Streets typed in small letters (with their postal code, or in a chat) are in
:mod:`.pii_address_lower`, what follows and precedes an address in :mod:`.pii_address_tails`,
addresses named by a label in :mod:`.pii_address_labels`, IP addresses in :mod:`.pii_ips`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.pii_address_lower import (
    FIELD_STARTS,
    chat_street,
    in_small_letters,
)
from llmops_guardrails.detectors.pii_context import Span

# --- postal addresses -------------------------------------------------------------------------

# A capitalised word, or a saint's or a mount's abbreviation ("St. Gallen", "Ste. Anne").
_CAP = r"(?:(?:St|Ste|Sta|Sto|Mt|Ft)\.|[A-ZÀ-ÖØ-Þ][\w'\u2019-]{0,30})"
# A city after its postal code: one to three words ("Frankfurt am Main", "Vila Nova de Gaia").
_CITY = (
    _CAP
    + r"(?:(?: (?:am|im|an der|auf|bei|ob|sur|sous|de la|de las|de los|de|del|da|do|la|le|les"
    + r"|en|upon|on))? "
    + _CAP
    + r"){0,2}"
)
#: The city pattern, for the module that reads an address's fields (:mod:`.pii_address_labels`).
CITY = _CITY
# After the postal code and city: a French "Cedex 08", an Italian province "(RM)" or "RM".
_CITY_END = (
    r"(?:(?<=[Cc]edex) \d{1,2}(?![\w])|(?<=CEDEX) \d{1,2}(?![\w])| CEDEX(?: \d{1,2})?"
    r"| Cedex(?: \d{1,2})?| \([A-Z]{2}\)| \([A-ZÀ-Þ][a-zà-ÿ]{2,20}\)| [A-Z]{2}(?![\w]))?"
)
_US_ADDRESS = re.compile(
    # Not the minutes of a time ("10:00 Zahnarzt Dr. Vogel").
    # A range or a flat before the number: "18\u201320 Hope Street", "7/42 Lygon Street".
    r"(?<![\w])(?<!\d:)\d{1,6}[A-Za-z]?(?:[-\u2013/]\d{1,4}[A-Za-z]?)?"
    r"(?: (?:[NSEW]\.?|North|South|East|West))?"
    r"(?: (?:" + _CAP + r"|\d{1,3}(?:st|nd|rd|th))){1,4}"
    r" (?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl|Grove|Crescent"
    r"|Gardens|Mews|Loop|Alley|Pike|Plaza|Ridge|Heights|Hollow|Crossing|Landing|Estates"
    r"|Expressway|Expy|Freeway|Fwy|Turnpike|Tpke|Boulevard|Route|Rte|Vista|Cove|Bend|Meadows"
    # Australian and New Zealand abbreviations: "14 Banksia Cres", "3 Kauri Cct", "9 Beach Pde".
    r"|Cres|Cct|Pde|Esp|Cl|Gr|Tce|Hwy"
    # British ones: "23 St Aidans Walk", "12 Old Mill Close".
    r"|Walk|Close|Row|Rise|Parade|Approach|Wynd|Esplanade|Embankment|Quay|Wharf)\b\.?"
    # A road's number after its type: "2750 County Road 14", "1482 State Highway 2".
    r"(?:(?<=Road) \d{1,4}[A-Z]?(?=,|\n)|(?:(?<=Highway)|(?<=Route)) \d{1,4}[A-Z]?(?![\w]))?"
    r"(?: (?:N|S|E|W|NE|NW|SE|SW)\b\.?)?"
    # The flat and the city on the same line or the next ("4127 Meadowlark Court\nBoise, ID").
    r"(?:(?:,? |,?\n)(?:Apt|Apartment|Suite|Ste|Unit|#) ?\.? ?[\w-]{1,6})?"
    r"(?:(?:, |,?\n| )" + _CAP + r"(?: " + _CAP + r"){0,2},? [A-Z]{2} \d{5}(?:-\d{4})?)?"
)
# An American address without a street-type word, held by its city, state and ZIP code:
# "1600 Broadway, New York, NY 10019", "12 Old Mill Close, Springfield, IL 62704".
_TITLE = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'\u2019-][\w'\u2019-]{0,29}"
_US_NO_TYPE = re.compile(
    r"(?<![\w])\d{1,6}[A-Za-z]?(?:[-\u2013/]\d{1,4}[A-Za-z]?)?(?: " + _TITLE + r"){1,4}"
    r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|#) ?\.? ?[\w-]{1,6})?"
    r"(?:, |,?\n)" + _TITLE + r"(?: " + _TITLE + r"){0,2},? (?P<state>[A-Z]{2}) (?P<zip>\d{5})"
    r"(?:-\d{4})?(?![\w])"
)
# The first digit of a ZIP code by state (USPS's national areas): "ID 48213" is no address.
_ZIP_AREAS = {
    "0": "CT MA ME NH NJ NY PR RI VT VI AE",
    "1": "DE NY PA",
    "2": "DC MD NC SC VA WV",
    "3": "AL FL GA MS TN AA",
    "4": "IN KY MI OH",
    "5": "IA MN MT ND SD WI",
    "6": "IL KS MO NE",
    "7": "AR LA OK TX",
    "8": "AZ CO ID NM NV UT WY",
    "9": "AK CA HI OR WA AP GU AS MP PW FM MH",
}
_STATE_ZIP = frozenset(
    (state, digit) for digit, states in _ZIP_AREAS.items() for state in states.split()
)
_FR_ADDRESS = re.compile(
    # A range before the number ("7-9 avenue Foch"); rarer types: "3 hameau de Kerbihan", "7 rés.
    # du Parc" (ninth round; not "traverse", "passage", "promenade": English words, and the
    # pattern ignores case).
    r"(?<![\w])(?:\d{1,4}[-\u2013])?\d{1,4}(?: ?(?:bis|ter))?,? (?:rue|avenue|av\.|(?-i:av)|boulevard|bd"
    r"|place|chemin|allée|impasse|quai|route|cours|square|pl\.|ch\.|rte|cité(?= d)|sentier|parvis"
    r"|rond-point|hameau|résidence|rés\.|lieu-dit|venelle|ruelle|montée|faubourg)"
    # A space before each name word but after an elision ("rue d'Alsace"): "places 83" is not
    # "place" and a name "s". A date names streets too: "rue du 8 Mai 1945".
    r"(?:(?: (?:de|du|des|la|le|les|d'|l'|d\u2019|l\u2019)){0,2}(?:(?<=['\u2019])| )"
    r"(?:" + _CAP + r"|\d{1,2}(?:er)?(?= [A-Za-zÀ-ÿ]{3,})|(?:19|20)\d\d(?![\w]))){1,4}"
    r"(?:,? \d{5} " + _CITY + _CITY_END + r")?",
    re.IGNORECASE,
)
_DE_ADDRESS = re.compile(
    r"(?<![\w])(?:(?:" + _CAP + r"[ -])?(?:[A-ZÄÖÜ][\wäöüß-]{0,30}(?:straße|strasse|str\.|weg|platz"
    r"|allee|gasse|ring|damm|ufer|promenade"
    # Dutch and Flemish: "Overpoortstraat 49", "Frankrijklei" aside.
    r"|straat|laan|plein|kaai|dreef|steenweg|gracht|singel|dijk)"
    # "Theodor-Heuss-Ring", "Konrad-Adenauer-Straße".
    r"|[A-ZÄÖÜ][\wäöüß]{1,20}(?:-[A-ZÄÖÜ][\wäöüß]{1,20}){1,3}-(?:Ring|Weg|Platz|Allee|Damm|Ufer"
    r"|Gasse|Straße|Strasse|Str\.|Kai)|Straße|Strasse|Str\."
    r"|Weg|Platz|Allee|Gasse|Chaussee)"
    # Words that are a street only after its name: "Lerchenfelder Gürtel 43" (not "Zeile 42").
    r"|" + _CAP + r" (?:Gürtel|Kai|Promenade))"
    # A house number, a letter, a range ("Schloßstraße 1-3").
    r" \d{1,4} ?[a-z]?(?:[-\u2013/]\d{1,4}[a-z]?)?(?![\w]|[:.]\d)(?:, \d{5} " + _CAP + r")?"
)
_IBERIAN_STREET = (
    r"(?:Calle|C/|Avenida|Avda\.|Av\.|Plaza|Paseo|Camino|Ronda|Travesía|Rua|Praça|Travessa"
    r"|Largo|Estrada|Alameda|Carrer|Passeig|Avinguda|Rúa|Rambla|Plaça|Passatge|Travessera"
    # Italian streets too: "Via Paolo Sarpi 14", "Piazza Navona, 3".
    r"|Via|Viale|Piazza|Piazzale|Corso|Vicolo|Lungomare|Strada"
    # Belgium, Switzerland and Luxembourg write French streets name first too: "Rue de la Loi 16"
    r"|Rue|Avenue|Boulevard|Chaussée|Chemin|Quai"
    # Abbreviated and rarer ones: "R. da Bahia, 1148", "Pza. de la Alfalfa 8", "C.so Vittorio
    # Emanuele II 204", "Pº de la Gran Vía 31", "Rodovia SP-340", "Route de Mons 245".
    r"|R\.|Pça\.|Trav\.|Pza\.|P\.za|P\.zza|C\.so|Pº|Ctra\.|Carretera|Rodovia|Rod\.|Praceta"
    r"|Salita|Route|Clos|Faubourg|Impasse|Allée|Gran Vía|Gran Via|Heol|Stradone|Borgo|Contrada"
    # "Ch. des Roches 8", "Pç. Luís de Camões 8", "Al. Santos, 745", "Calçada do Combro 44".
    r"|Ch\.|Pç\.|Al\.|Calçada|Località|Loc\.|Traverse|Cours|Rampa|Beco|Vila|Pl\."
    # Latin America's: "Pasaje Gálvez 25", "Bv. Oroño 1550", "Blvd. Hermanos Serdán 601". (Spain's
    # "C." for "Calle" is every sentence's end after a "C": "180°C. Step 2".)
    r"|Pasaje|Psje\.|Bv\.|Blvd\.|Bulevar|Calzada|Callejón|Prolongación|Prol\.|Diagonal"
    r"|Transversal|Carrera|Cra\.|Lugar|Bairro|Caminho|Ladeira|Escadinhas|Azinhaga)"
)
# A Colombian address, the cross street and its distance after "#": "Calle 93 # 11-26", "Cra. 43A
# # 1-50", "Carrera 7 No. 71-21"; a Yucatán or La Plata one between two streets: "Calle 60 No.
# 491-A x 57 y 59", "Calle 7 N° 1234 entre 58 y 59" (ninth round: none was found).
_GRID_ADDRESS = re.compile(
    r"(?<![\w])(?:Calle|Cl\.?|Cll\.?|Carrera|Cra\.?|Kr\.?|Kra\.?|Diagonal|Dg\.?|Transversal|Tv\.?"
    r"|Avenida|Av\.?|Ak\.?|Ac\.?|Autopista) \d{1,3}[A-Z]?(?: Bis)?(?: (?:Sur|Norte|Este|Oeste))?"
    r" ?(?:#|No\.?|N[°º]\.?) ?\d{1,4}(?:-?[A-Z](?![\w]))?(?: ?- ?\d{1,3}[A-Z]?)?"
    r"(?: (?:Sur|Norte|Este|Oeste))?(?: (?:x|entre) \d{1,3}[A-Z]? (?:y|e) \d{1,3}[A-Z]?)?(?![\w])"
)
_ES_PT_ADDRESS = re.compile(
    r"(?<![\w])"
    + _IBERIAN_STREET
    # Each name word needs its separator (a space, or the elision "d'"/"l'"): with the space
    # optional a run of capitals could be cut into words in cubically many ways (review: 17 s
    # per 100 KB of "Calle AAAA... 1a").
    + r"(?:(?: (?:de|del|della|dei|di|la|las|los|el|da|do|das|dos|du|des|le|les|y|e|i)){0,2}"
    # A title before a name is abbreviated: "Rua Dr. António José de Almeida, 33".
    + r"(?: [dl]'| (?:dell|dall|nell|sull|all)'| )"
    # A date names streets too: "Rua 5 de Outubro 28", "Avenida 25 de Abril, 90".
    + r"(?:"
    + _CAP
    + r"\.?|\d{1,2}(?= de [A-ZÀ-Þ]))){1,4},? (?:n\.?º ?|km )?\d{1,4}[A-Za-z]?(?:[-\u2013]\d{1,4})?(?![\w])"
    r"(?:,? (?:\d{5}|\d{4}-\d{3}) " + _CITY + r")?"
)


# A street-type word in small letters, then a capitalised name, then the number: only the
# words that are never anything else before a name.
_LOWER_TYPE = re.compile(
    r"(?:^|(?<=[\s,:;(]))(?P<type>rue|viale|calle|rua|avenida|piazza|vicolo|plaza|paseo"
    r"|carrer|chemin|chaussée|praça|travessa|strada|estrada|alameda|camino)(?: (?:de|del|della|di"
    r"|da|do|dos|das|la|le|les|des|du|de la|de l'|dei|delle))? [A-ZÀ-Þ][^\n]{0,40}$"
)
_DECIMAL = re.compile(r"[.,]\d")
#: What ``_LOWER_TYPE`` needs, tested first with ``in`` (the pattern cost ~1 us per number).
_LOWER_TYPE_WORDS = (
    *("rue ", "viale ", "calle ", "rua ", "avenida ", "piazza ", "vicolo ", "plaza ", "paseo "),
    *("carrer ", "chemin ", "chaussée ", "praça ", "travessa ", "strada ", "estrada "),
    *("alameda ", "camino "),
)
# The street-type words that come before a house number in German, Spanish and Portuguese
# addresses; the 64 characters before a number are searched for one before the patterns run.
_STREET_BEFORE_NUMBER = re.compile(
    r"stra(?:ß|ss)e|str\.|weg|platz|allee|gasse|ring|damm|ufer|Straße|Strasse|Weg|Platz|Allee"
    r"|Gasse|Str\.|Chaussee|Calle|C/|Avda|Av\.|Avenida|Plaza|Paseo|Camino|Ronda|Travesía|Rua"
    r"|Praça|Travessa|Largo|Estrada|Alameda|Carrer|Passeig|Avinguda|Rue|Avenue|Boulevard"
    r"|Chaussée|Chemin|Quai|Rúa|Via|Viale|Piazza|Piazzale|Corso|Vicolo|Lungomare|Strada"
    r"|R\.|Pça\.|Trav\.|Pza\.|P\.za|P\.zza|C\.so|Pº|Ctra\.|Carretera|Rodovia|Rod\.|Praceta"
    r"|Salita|Route|Clos|Faubourg|Impasse|Allée|Gran V[ií]a|Heol|Stradone|Borgo|Contrada"
    r"|Ch\.|Pç\.|Al\.|Calçada|Località|Loc\.|Traverse|Cours|Rampa|Beco|Vila|gürtel|kai|zeile"
    r"|promenade|Gürtel|Kai|Promenade|-Ring|-Damm|-Ufer|straat|laan|plein|kaai|dreef|steenweg"
    r"|gracht|singel|dijk|Rambla|Plaça|Passatge|Travessera|Pl\."
    r"|Pasaje|Psje\.|Bv\.|Blvd\.|Bulevar|Calzada|Callejón|Prolongación|Prol\.|Diagonal"
    r"|Transversal|Carrera|Cra\.|Cl\.|Cll\.|Kr\.|Kra\.|Dg\.|Tv\.|Ak\.|Ac\.|Autopista"
    r"|Lugar|Bairro|Caminho|Ladeira|Escadinhas|Azinhaga"
)

# What may follow a street and its number, whatever the country: a flat or floor ("/3/12",
# ", 4º izq.", ", 3.º Dto."), then a postal code and a city ("1060 Wien", "L-1611 Luxembourg",
# "1250-147 Lisboa", "79100 Freiburg im Breisgau") or a British town and postcode ("Leeds LS6
# 2AB"). Independent authors' addresses: 4-digit codes (Austria, Switzerland, Belgium,
# Luxembourg), two-word cities and floors were where the country patterns stopped short.
# Catalan writes the floor and the door "3r 2a", "2n 1a".
_FLOOR = (
    # Austrian staircases and doors: "21/Stiege 2/Top 9", "6-8/Stiege 3/Tür 22".
    r"(?:(?:/\d{1,3}){1,3}|(?:/(?:Stiege|Stg\.|Top|Tür) ?\d{1,3}[a-z]?){1,3}|, ?\d{1,2}\.?[ºª°](?: ?\d{1,2}\.?[ºª°]| ?[A-Za-z]{1,5}\.?(?: \d{1,3}(?![\w]))?)?"
    r"|, ?\d{1,2}[rnt] \d{1,2}a(?![\w]))"
)
# A flat, door, block or kilometre named by its word: ", apto 74", ", bajo C", ", portal 3",
# ", pta. 12", ", km 18", ", bloco B" (Spanish and Brazilian addresses give several).
_UNIT = (
    r", (?:apto?|apt|ap|apartamento|bloco|bloque|bl|casa|portal|pta|puerta|piso|planta|bajo"
    r"|esc|escalera|km|sala|andar|loja|porta|int|interno|scala|Etage|Stock|Top|Flat|flat|Suite"
    r"|nave|local|oficina|despacho|dpto|depto|appartement|appt|bâtiment|bât|étage|escalier|porte"
    r"|Unit)\.?(?: [\w.ºª°/-]{1,6})?(?![\w])"
)
_UNITS = r"(?:" + _FLOOR + r"|" + _UNIT + r"){0,3}"
# A Brazilian address ends with the neighbourhood, the city, the state and the CEP (dashes are
# often en dashes): " - Botafogo, Rio de Janeiro - RJ, 22270-070".
_BR_END = (
    r"(?: [\u2013-] "
    + _CITY
    + r")?, "
    + _CITY
    + r" ?[\u2013/-] ?[A-Z]{2},? (?:CEP:? )?\d{5}-?\d{3}"
)
_TAIL = re.compile(
    _UNITS + r"(?:(?:,| [\u2013-])? (?:[A-Z]-)?(?:\d{4}-\d{3}|\d{4,5}) " + _CITY + _CITY_END + r""
    r"|" + _BR_END + r"(?![\w])"
    r"|(?:, " + _CITY + r"){1,2},? [A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}(?![\w]))"
    r"|(?:" + _FLOOR + r"|" + _UNIT + r"){1,3}(?![\w])"
)


# A street named without a street-type word, "Am Sportpark 2", "Lange Reihe 44", "Innrain 52":
# only an address when a postal code and a city follow (checked by the caller).
_NAMED = re.compile(
    r"(?<![\w])" + _CAP + r"(?: (?:" + _CAP + r"|am|an|im|auf|zum|zur|der|den|dem|von|de|del"
    r"|della|di|do|da|dos|das|la|le|les)){0,3} \d{1,4}[a-z]?(?:[-\u2013]\d{1,4}[a-z]?)?(?![\w])"
)
# Words before a street named without a street-type word that say an address comes.
_ADDRESS_CUE = re.compile(
    r"\b(?:wohne|wohnt|wohnhaft|lebe|lebt|live|lives|living|moved|umgezogen|ziehe|zieht|an|nach"
    r"|to|at|à|a|en|em|para|per|in|vivo|vive|moro|mora|abito|habite|j'habite|address|adresse"
    r"|anschrift|domicilio|dirección|direccion|morada|endereço|indirizzo|sede|residenza"
    r"|zu|bei|chez|presso|hacia)\b"
)
_LINE_END = re.compile(r"[ \t]*(?:\n|$)")
# A postal code that reads as a year is not evidence enough without a street-type word:
# "Windows 11, 2023 Edition".
_CODE_NOT_YEAR = re.compile(r", (?:[A-Z]-)?(?:\d{5}|\d{4}-\d{3}|(?!19|20)\d{4}) ")
# A postal code in a tail: four or more digits, or a British postcode.
_CODED = re.compile(r"\d{4}|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}")
# The address of a form's example ("ex.: Rua Exemplo, 123, ..., 00000-000", "Musterstraße 1"):
# no one lives there.
_PLACEHOLDER = re.compile(
    r"[Ee]x[ae]mpl|[Ee]jemplo|[Ee]sempio|[Bb]eispiel|[Mm]uster|[Ss]ample"
    r"|\b0000"
)
# Words that name a numbered thing, not a street, before "12, 45000 ...": "Chapter 3, 10000
# Words", "Room 12, 45000 Visitors".
_NOT_STREET_WORDS = (
    "Chapter Room Page Section Table Figure Version Step Level Episode Season Part Vol Volume "
    "Issue Item Line Row Box Gate Floor Platform Exit Seat Order Invoice Ticket Case Phase Round "
    "Week Day Year Stage Lot Batch Build Release Kapitel Seite Raum Zimmer Tabelle Abschnitt "
    "Schritt Stufe Teil Ausgabe Chapitre Salle Étape Capítulo Página Sala Paso Parte"
)
_NOT_STREET = frozenset(_NOT_STREET_WORDS.split())
# A line of an address block ends after its city, or its sentence does ("... am Empfang, Am
# Sandtorkai 48, 20457 Hamburg.\n", "Familie Steiner, Im Grund 14, 5405 Baden-Dättwil. Telefon
# bleibt gleich").
_BLOCK_END = re.compile(r"[.!]?[ \t]*(?:\r?\n|$)|[.!] [A-ZÀ-Þ]")
_SENT_TO = re.compile(
    r" (?:schicken|senden|liefern|bringen|zustellen|geschickt|gesendet|geliefert|gebracht"
    r"|abholen|abgeholt|kommen)\b"
)
_GERMAN_STREET_STARTS = frozenset(
    ("Am", "Im", "An", "Auf", "Zum", "Zur", "Unter", "Hinter", "Vor", "Beim")
)
# What follows "Am" or "Im" in a date or a count, not a street: "Am Montag 3, 12000 Besucher".
_NOT_PLACE_WORDS = (
    "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Januar Februar März April Mai "
    "Juni Juli August September Oktober November Dezember Jahr Jahre Tag Monat Ende Anfang "
    "Durchschnitt Schnitt Moment Rahmen Bereich Kapitel Abschnitt Teil Zeitraum Quartal"
)
_NOT_PLACE = frozenset(_NOT_PLACE_WORDS.split())
# Where an address without a street-type word may end: the end of the text, a line or a clause.
_ENDED = re.compile(
    r"$|[\n.,;:!?)|\t]|\s*$| \(| [\u2013-] | [·•] | (?:und|and|et|y|e|i|ed|oder|or|ou|o)\b"
)
# A flat named before the house number: "Flat 3, 58 Hazel Grove".
_FLAT_BEFORE = re.compile(
    r"(?:Flat|Apartment|Apt\.?|Unit|Suite) [\w/-]{1,5},(?: "
    + _CAP
    + r"(?: "
    + _CAP
    + r"){0,2},)? $"
)
# A British or American address typed in lower case, number first, held by its postcode or its
# state and ZIP: "33 kingsley rd flat 2 luton lu3 1ab", "9830 westpark dr apt 2217\nhouston tx
# 77063". (Without one, "3 workshops way over budget" would be a street.)
_US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
    ]
)
_LOWER_EN = re.compile(
    r"\d{1,5}[a-z]?(?: [a-z'\u2019]{2,20}){1,3} (?:street|st|road|rd|avenue|ave|drive|dr|lane|ln"
    r"|grove|close|way|crescent|cres|place|pl|court|ct|terrace|gardens|gdns|boulevard|blvd|square"
    r"|sq|mews|row|walk|hill|park|parade|rise|view)\.?"
    r"(?:,? (?:flat|apt|apartment|unit|suite|ste|#) ?[\w-]{1,5})?(?:,? ?\r?\n|,? )"
    r"(?:[a-z'\u2019-]{2,20}[ ,]{1,2}){1,3}"
    # A postcode, or a state and a ZIP ("up to 12000 feet" has no state).
    r"(?:[a-z]{1,2}\d[a-z\d]? \d[a-z]{2}|(?:"
    + "|".join(sorted({s.lower() for s in _US_STATES}))
    + r"),? \d{5}(?:-\d{4})?)(?![\w])"
)
# A state and a ZIP code: "IL 62704".
_ZIP = re.compile(r"[A-Z]{2} \d{5}(?![\w])")
# A British address without a street-type word, held by its postcode: "88 Kingsway, Manchester
# M19 2LL", "2 Mill Cottages, Hebden Bridge HX7 8AD".
_UK_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}(?![\w])")
_UK_ADDRESS = re.compile(
    r"(?<![\w])\d{1,4}[A-Za-z]?(?:[-\u2013/]\d{1,4}[A-Za-z]?)?(?: "
    + _CAP
    + r"){1,4}(?:(?:, | \| )"
    + _CITY
    + r"){1,3}"
    r"(?:,? | \| )"
    r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}(?![\w])"
)

#: The rest of a city's name after a country pattern's own postal code ("Frankfurt am Main").
_CITY_REST = re.compile(
    r" (?:am|im|an der|auf|bei|ob|sur|sous|de|del|da|do|en|upon|on) "
    + _CAP
    + r"| \([A-ZÀ-Þ][a-zà-ÿ]{2,20}\)"  # "Halle (Saale)"
)


# A unit of measure right after the number: a size or a quantity, not a house number.
_MEASURE_AFTER = re.compile(
    r" ?(?:ml|cl|dl|l|g|kg|mg|cm|mm|m²|m2|km|oz|lb|x\d|%|€|\$|£|times|vezes|veces|fois|volte|mal"
    r"|jours|días|dias|giorni|tage|days|years|anos|años|ans|anni|jahre)(?![\w])"
)


def _tailed(text: str, m: re.Match[str]) -> Span:
    """The address ``m`` found, with the flat before it and the flat, postal code and city
    that follow it."""
    span = _with_tail(text, m)
    flat = _FLAT_BEFORE.search(text, max(0, m.start() - 48), m.start())
    if flat:
        span = span._replace(start=flat.start())
    if _PLACEHOLDER.search(text, span.start, span.end):
        return span._replace(score=0.3)
    if span.end == m.end() and _MEASURE_AFTER.match(text, m.end()):
        return span._replace(score=0.3)  # a product's name and its size: "Rue Saint-Honoré 75 ml"
    return span


def _with_tail(text: str, m: re.Match[str]) -> Span:
    tail = _TAIL.match(text, m.end())
    if tail:
        # A postal code in the tail makes it an address beyond doubt; a floor alone does not.
        coded = _CODED.search(tail.group()) is not None
        return Span("street_address", m.start(), tail.end(), 0.9 if coded else _address_score(m))
    score = _address_score(m)
    rest = _CITY_REST.match(text, m.end()) if score == 0.9 else None
    return Span("street_address", m.start(), rest.end() if rest else m.end(), score)


def _address_score(match: re.Match[str]) -> float:
    # A postal code at the end makes it an address beyond doubt.
    return (
        0.9 if re.search(r"\d{4,5}(?:-\d{3,4})?(?: ?\S*|(?: \S+){1,4})$", match.group()) else 0.75
    )


#: First letters of the words that may follow a French house number (``bis``, ``ter``, ``rue`` ...).
_FR_AFTER_NUMBER = frozenset("rabpciqsthelvmfRABPCIQSTHELVMF")
#: Endings of a German street name written as one word before its number.
_DE_STREET_ENDINGS = (
    "straße",
    "strasse",
    "str.",
    "weg",
    "platz",
    "allee",
    "gasse",
    "ring",
    "damm",
    "ufer",
    "straat",
    "laan",
    "plein",
    "kaai",
    "dreef",
    "steenweg",
    "gracht",
    "singel",
    "dijk",
)


# The British street-type words that are also common words: an address only where a comma, a
# line break or a postcode follows.
_AMBIGUOUS_TYPE = re.compile(r" (?:Walk|Close|Row|Rise|Parade|Approach|Quay|Wharf)\.?$")
_ADDRESS_GOES_ON = re.compile(r"[ \t]*(?:,|\n|$)| [A-Z]{1,2}\d")


def addresses(text: str, start: int, end: int) -> Iterator[Span]:
    """Addresses whose house number is the digit cluster at ``start:end``.

    Most small numbers in a prompt are not house numbers ("3 workshops", "for the 12"), so each
    pattern runs only when the words next to the number could start or end a street: a cheap
    look at one or two characters or the previous word first.
    """
    after = text[end : end + 3]
    # US: "742 Evergreen", "12B Main", "350 5th Avenue"; French: "12 rue", "12 bis, rue".
    if after[:1] == " " and after[1:2].islower() and "\n" not in after:
        m = _LOWER_EN.match(text, start)
        if m:
            yield Span("street_address", m.start(), m.end(), 0.85)
    if after[:1].isalpha() or (after[:1] == " " and (after[1:2].isupper() or after[1:2].isdigit())):
        m = _US_ADDRESS.match(text, start)
        if m and _AMBIGUOUS_TYPE.search(m.group()) and not _ADDRESS_GOES_ON.match(text, m.end()):
            m = None  # "Top 10 Deals Close Tonight": the British words are verbs and nouns too
        if m:
            yield _tailed(text, m)
        elif text.find(",", end, end + 48) == -1 and text.find("\n", end, end + 48) == -1:
            pass  # both shapes below need a comma or a line break after the street
        elif _UK_POSTCODE.search(text, end, end + 120):
            m = _UK_ADDRESS.match(text, start)
            if m:
                yield _tailed(text, m)._replace(score=0.9)
        elif _ZIP.search(text, end, end + 120):
            m = _US_NO_TYPE.match(text, start)
            if m and (m.group("state"), m.group("zip")[0]) in _STATE_ZIP:
                yield _tailed(text, m)._replace(score=0.9)
    if after.lstrip(", ")[:1] in _FR_AFTER_NUMBER:
        m = _FR_ADDRESS.match(text, start)
        if m:
            yield _tailed(text, m)
    # German, Spanish and Portuguese put the street first: the word before the number is a
    # capitalised name ("Calle Mayor 5", "Berliner Allee 5"), a German street word
    # ("Hauptstraße 5") or "n.º".
    if start < 2 or text[start - 1] != " ":
        return
    word_start = text.rfind(" ", max(0, start - 40), start - 1) + 1
    # Without the punctuation that opens a field: '"Kaiserstraße 118', "(Via Roma 10".
    word = text[max(word_start, start - 40) : start - 1].rstrip(",").lstrip("\"'(«„“[{:")
    if word and not word[0].isupper():
        lower, decided = in_small_letters(text, start, end)
        if lower:
            yield lower
        if decided:
            return
    if not word or not (
        word[0].isupper()
        or word.lower().endswith(_DE_STREET_ENDINGS)
        or word in ("nº", "n.º", "km")
        or word.rsplit("'", 1)[-1][:1].isupper()  # "Via dell'Indipendenza 52"
    ):
        return
    pos = max(0, start - 64)
    # A street-type word in small letters before a capitalised name ("chez Léa, rue de Carouge
    # 54, 1205 Genève", "in via Nizza 12"): read as capitalised, the same length.
    window = text[pos:start]
    lowered = (
        _LOWER_TYPE.search(text, pos, start)
        if any(word in window for word in _LOWER_TYPE_WORDS)
        else None
    )
    if lowered and _DECIMAL.match(text, end):
        lowered = None  # a version or a measure ("plaza Mayor 5.0"), no house number
    # The patterns read a window of the text (the copy with the capital, when there is one: a copy
    # of the whole text per number was quadratic, the review's finding), its spans shifted back.
    base = pos
    window = text[base : min(len(text), end + 400)]
    if lowered:
        at = lowered.start("type") - base
        window = window[:at] + window[at].upper() + window[at + 1 :]
    if _STREET_BEFORE_NUMBER.search(window, 0, start - base):
        found = False
        for pattern in (_DE_ADDRESS, _ES_PT_ADDRESS, _GRID_ADDRESS):
            for m in pattern.finditer(window, 0, min(len(window), end + 48 - base)):
                if m.group().startswith("R. ") and not re.match(r"R\. d[aeo]s? ", m.group()):
                    continue  # "R." is "Rua" before "da Bahia, 1148", an initial before a name
                if m.start() < start - base < m.end() and (
                    not lowered or m.start() <= lowered.start("type") - base
                ):
                    found = True
                    span = _tailed(window, m)
                    yield span._replace(start=span.start + base, end=span.end + base)
        if found:
            return
    named = []
    # A house number's letter before the comma: "Am Lindenhof 3a, 28355 Bremen".
    lettered = text[end : end + 1].isalpha() and text.startswith(", ", end + 1)
    if text.startswith(", ", end) or lettered:
        named = list(_named(text, start, end + lettered))
    elif _NEXT_CODE.match(text, end):
        named = list(_named_block(text, start, end))
    yield from named
    chat = None if named else chat_street(text, start, end)
    if chat:
        yield chat


# A postal code and a city on the next line or in the next field: "Am Lindenhof 12a\n31135
# Hildesheim", "Via del Pratello 87;40122;Bologna". A code that reads as a year needs five digits.
_NEXT_CODE = re.compile(
    r"[A-Za-z]?(?: *[\n;]|\t)[ \t]*(?:[A-Z]{1,2}-)?(?:\d{5}|\d{4}-\d{3}|(?!19|20)\d{4})[ ;,\t]+"
    r"[A-ZÀ-Þ]"
)


def _named_block(text: str, start: int, end: int) -> Iterator[Span]:
    """A street without a street-type word that starts a field and ends its line or field, a
    postal code and a city in the next (``extend`` adds them)."""
    for m in _NAMED.finditer(text, max(0, start - 48), end + 2):
        if m.start() < start and end <= m.end() <= end + 1:
            before = text[max(0, m.start() - 2) : m.start()].rstrip(" ")[-1:]
            first = m.group().split(" ", 1)[0]
            # Two words at least: "Rechnung 4711\n80331 München", "Tisch 12\n80331 Stück" are
            # a word and a number over a line that reads like a postal code.
            words = len(m.group().rsplit(" ", 1)[0].split())
            if before in ("", *FIELD_STARTS) and first not in _NOT_STREET and words >= 2:
                yield Span("street_address", m.start(), m.end(), 0.85)
            return


def _named(text: str, start: int, end: int) -> Iterator[Span]:
    """A street without a street-type word, when a postal code and a city follow its number."""
    for m in _NAMED.finditer(text, max(0, start - 48), end + 2):
        if m.start() < start and m.end() >= end:
            tail = _TAIL.match(text, m.end())
            first = m.group().split(" ", 1)[0]
            # Something must say an address comes: a word for living or sending somewhere, or a
            # label's colon. "Sprint 14, 3200 Points." has the shape and nothing else.
            cue = _ADDRESS_CUE.search(text[max(0, m.start() - 30) : start].lower())
            before = text[max(0, m.start() - 2) : m.start()].rstrip(" ")[-1:]
            # Or it is a line of an address block, or follows a name after a comma, and its
            # line ends with the city ("Kanzlei Roth & Partner, Am Sandtorkai 48, 20457 Hamburg").
            block = (
                before in ("\n", ",", "|", ";", "\t", '"', "·", "•")
                and tail is not None
                and (
                    _BLOCK_END.match(text, tail.end())
                    or text[tail.end() : tail.end() + 3].strip(" ")[:1] in '|;"·•'
                )
            )
            # A German street named by its preposition ("Am Lindenhof 7", "Im Grund 14", "An
            # der Marktkirche 9") says itself that an address comes, and the sentence may go
            # on after the city ("... an Am Lindenhof 7, 53913 Swisttal schicken").
            words = m.group().split(" ")
            inner = next((i for i, w in enumerate(words) if w in _GERMAN_STREET_STARTS), None)
            if inner:  # "Ersatz an Am Lindenhof 7": the street starts at its preposition
                at = m.start() + len(" ".join(words[:inner])) + 1
                m = _NAMED.match(text, at) or m
                first, words = words[inner], words[inner:]
            german = (
                first in _GERMAN_STREET_STARTS and len(words) >= 3 and words[1] not in _NOT_PLACE
            )
            if not (cue or before == ":" or block or german):
                return
            code = _CODE_NOT_YEAR.search(tail.group()) if tail else None
            # A German street's sentence may go on with a verb of sending ("... schicken"); a
            # noun and a verb after a count ("Im Finale 2, 45000 Zuschauer jubelten") do not.
            ended = tail is not None and (
                _ENDED.match(text, tail.end()) is not None
                or ((german or cue) and _SENT_TO.match(text, tail.end()) is not None)
            )
            if tail and code and first not in _NOT_STREET and ended:
                span = Span("street_address", m.start(), tail.end(), 0.9)
                placeholder = _PLACEHOLDER.search(text, span.start, span.end)
                yield span._replace(score=0.3) if placeholder else span
            return
