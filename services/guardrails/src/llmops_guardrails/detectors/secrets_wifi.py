"""Wi-Fi keys: after the network's name in quotes, named on the network's line (before or after
it), told in a sentence with words between, and a Wi-Fi QR code's text. Beside the passwords
without a keyword of :mod:`.secrets_shapes` (split from it when it passed 600 lines)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.secrets_shapes import stems
from llmops_guardrails.detectors.secrets_values import PLACEHOLDER, Span, classes, dummy

# A Wi-Fi password after the network's name in quotes: 'WPA2 "HomeNet-5G": 4002261672428845',
# "Wifi clientes «Mirador_Guest»: playa9710". Without the quoted name the value after "Wi-Fi:"
# is the network's name as often.
_WIFI = re.compile(
    r"(?i)(?<![\w])(?:wi-?fi|wlan|wpa2?|wpa3|psk|ssid)(?![\w])[^\n:«\"\u201c\u201e]{0,30}"
    r"(?:\u00ab[^\u00bb\n]{1,32}\u00bb|\"[^\"\n]{1,32}\"|[\u201c\u201e][^\u201d\u201c\n]{1,32}[\u201d\u201c])"
    r"[ \t]*:[ \t]*(?P<value>[^\s,;\u00ab\u00bb\"]{8,64})"
)
# A network's key named on its line ("Wi-Fi oficina: red NUBARIA-STAFF, clave girasol-cometa-808",
# "WLAN ...: Netz X, Schlüssel ..."): letters and a digit at least.
# A network's name then its key told ("le nom du réseau c'est Livebox-22F1 et la clé c'est ...",
# "a rede é NOS-8D3A e a chave é ..."), and the password on a Wi-Fi line ("Visitor wifi password
# (changes monthly): november-otter"). Matched on the lower-cased text.
_WIFI_KEY = re.compile(
    r"(?:wi-?fi|wlan|wireless|réseau|rede|wpa[23]?)(?![\w])[^\n]{0,60}?(?<![\w])"
    r"(?:clave|chiave|chave|key|clé|schlüssel|psk|password|passwort|mot de passe|senha|contraseña"
    r"|kennwort)(?![\w])(?:[ \t]{0,4}\([^)\n]{0,30}\))?"
    # "WLAN-Schlüssel geändert auf: ...", "wifi password changed to: ...".
    r"(?:[ \t]+(?:geändert|changed|cambiada|cambiado|changée|alterada|mudada)(?:[ \t]+(?:auf|to|a|à|para))?)?"
    r"[ \t]{0,4}(?P<sep>[:=]|(?:c'est|c\u2019est|é|es|est|ist|is)(?![\w]))?[ \t]{0,4}"
    r"(?P<quote>[\"'\u00ab\u201c\u201e])?"
    r"[ \t]{0,4}(?P<value>[^\s,;\"'\u00ab\u00bb\u201c\u201d]{8,64})"
)


#: The words a network's key follows, each matched from where it is (an alternation of words with
#: several first letters, run over a whole text, cost ~100 us per KB).
_NETWORK_WORDS = ("wifi", "wi-fi", "wlan", "wireless", "réseau", "rede", "wpa")
# An encryption's name is no key: "WLAN-Schlüssel: WPA2-AES (siehe Aufkleber)".
_CIPHER = re.compile(r"(?i)wpa|wep|aes|tkip|ccmp|psk")


# The word for the key before the network's ("clé Wi-Fi : ...", "clave wifi: ...", "WLAN-Schlüssel
# geändert auf: ..."): the value after a colon or a copula.
_KEY_BEFORE = re.compile(
    r"(?:clé|clave|chave|chiave|key|schlüssel|password|passwort|mot de passe|senha|contraseña"
    r"|kennwort)[ \t-]{1,3}(?:(?:du|de|da|do|del|des|of the|of)[ \t]+)?$"
)
_KEY_AFTER_NETWORK = re.compile(
    r"(?:wi-?fi|wlan|wireless|réseau|rede|wpa[23]?)(?![\w])(?:[^\n:=]{0,24}?(?<![\w])(?:geändert|changed"
    r"|cambiada|cambiado|changée|alterada|mudada))?[ \t]{0,4}(?P<sep>[:=]|(?:c'est|c\u2019est|é|es"
    r"|est|ist|is|auf|to)(?![\w])[ \t]{0,4}:?)[ \t]{0,4}(?P<quote>[\"'\u00ab\u201c\u201e])?"
    r"[ \t]{0,4}(?P<value>[^\s,;\"'\u00ab\u00bb\u201c\u201d]{8,64})"
)


# A network's key told in a sentence with words between ("wifi at the cabin is pinecone-lake-42",
# "Das WLAN-Passwort bei Oma ist übrigens Geranie1951", "La clave del wifi de la casa del pueblo
# es Almendro1962"): up to five words, a copula, the key. Seventh round: a dev author told
# family members so in every language. (Only a key with letters and a digit: see ``wifi``.)
_KEY_TOLD = re.compile(
    r"(?:wi-?fi|wlan|wireless)(?P<key>-?(?:passwort|password|schlüssel|key|code|kennwort))?(?![\w])"
    r"(?P<between>(?:[ \t]+[^\W\d][^\W\d'\u2019]{0,11}['\u2019]?){0,5}?)[ \t]+(?P<sep>is|es|est|ist|é|è|c'est|c\u2019est)"
    r"(?:[ \t]+(?:übrigens|btw|now|jetzt|ahora|agora|maintenant|ora|actually|still|toujours"
    r"|immer noch|sigue siendo|continua))?[ \t]+(?P<quote>[\"'\u00ab\u201c\u201e])?"
    r"(?P<value>[^\s,;\"'\u00ab\u00bb\u201c\u201d]{8,64})"
)
_VERSION_LIKE = re.compile(r"\d\.\d")
_KEY_WORD_BEFORE = re.compile(
    r"(?:code|clé|clave|chave|chiave|key|password|passwort|senha|contraseña)\W{1,3}(?:\w+ )?$"
)
_HARDWARE = re.compile(
    r"speed|chip|router|card|adapter|signal|range|band|standard|module|driver|modem|antenna"
    r"|repeater|extender|mesh|vitesse|débit|geschwindigkeit|velocidad|velocidade|velocità"
    r"|routeur|karte|tarjeta|scheda|placa|puce|carte"
)
_NOT_A_KEY = re.compile(r"/|-(?:based|fähig|ready|compatible|capable|enabled|certified)\b")
_NAME_WORDS = re.compile(r"network|name|ssid|réseau|netz|red\b|rede|nom\b|nome|nombre|band")


def _network_keys(lower: str) -> Iterator[re.Match[str]]:
    done = 0
    for at in stems(lower, _NETWORK_WORDS):
        if at < done or (at and (lower[at - 1].isalnum() or lower[at - 1] == "_")):
            continue
        m = _WIFI_KEY.match(lower, at)
        if m is None and _KEY_BEFORE.search(lower, max(0, at - 20), at):
            m = _KEY_AFTER_NETWORK.match(lower, at)
        if m is None:
            m = _KEY_TOLD.match(lower, at)
            if m and _VERSION_LIKE.search(m.group("value")):
                m = None  # "the wifi here is 802.11ac"
            elif m and (
                _HARDWARE.search(m.group("between")) or _NOT_A_KEY.search(m.group("value"))
            ):
                m = None  # "the wifi chip in my laptop is AX210-based", "... is 500Mbit/s"
            elif (
                m and not m.group("key") and not _KEY_WORD_BEFORE.search(lower, max(0, at - 20), at)
            ):
                # "Wi-Fi is 'LakeHouse_5G'", "the wifi network is Fritz7590": a name. Without a
                # word for the key, only where the sentence says whose network it is.
                between = m.group("between")
                if not between.strip() or _NAME_WORDS.search(between):
                    m = None
        if m:
            done = m.end()
            yield m


def wifi(text: str, lower: str) -> Iterator[Span]:
    for m in _network_keys(lower) if len(lower) == len(text) else ():
        value = text[m.start("value") : m.end("value")].rstrip(".)")
        if PLACEHOLDER.fullmatch(value) or dummy(value) or "://" in value or "@" in value:
            continue
        if _CIPHER.match(value):
            continue
        shaped = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
        # Letters alone, long enough not to be a word of prose, after a colon or in quotes:
        # "noixdeperigord", "november-otter"; not "the wifi password is unchangeable".
        joined = (
            len(value) >= 10
            and value.replace("-", "").replace("_", "").isalpha()
            and value.islower()
        )
        joined = joined and (m.group("sep") == ":" or m.group("quote") is not None)
        if (classes(value) >= 2 and shaped) or joined:
            yield Span("password", m.start("value"), m.start("value") + len(value), 0.8)
    for m in _WIFI.finditer(text):
        value = m.group("value").rstrip(".)")
        if PLACEHOLDER.fullmatch(value) or dummy(value) or "://" in value or "@" in value:
            continue
        if value.isdigit() or classes(value) >= 2:
            yield Span("password", m.start("value"), m.start("value") + len(value), 0.8)


# A Wi-Fi network in a QR code's text ("WIFI:S:Oakridge-Office;T:WPA;P:Tg6u!rhpy3kunJnj;;"), the
# format phones read: the key is the "P:" field, its ";" "," ":" and "\\" escaped by a backslash.
# (Fields of at most 64 characters: unbounded, every "WIFI:" read to its line's end, quadratic in
# a line of them: the review's finding.)
_WIFI_QR = re.compile(
    r"WIFI:(?:[STHRIE]:(?:\\.|[^;\\\n]){0,64};){0,8}?P:(?P<value>(?:\\.|[^;\\\n]){1,64});"
)
#: A QR code's text built in code, or the format's own example: no key.
_QR_NOT_A_KEY = re.compile(r"[\"'] *\+|\+ *[\"']|^(?:my)?pass(?:word)?$|^your")


def wifi_qr(text: str) -> Iterator[Span]:
    for m in _WIFI_QR.finditer(text):
        value = m.group("value")
        if _QR_NOT_A_KEY.search(value) or PLACEHOLDER.fullmatch(value) or dummy(value):
            continue
        yield Span("password", m.start("value"), m.end("value"), 0.9)
