"""Gaps the dev rows of the independent PII authors still showed (rounds one to nine, `dev`),
closed in general form (pii-9 / secrets-9): each value found with its span, and the look-alike
beside it not. Our own texts of the same shapes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Found = Callable[[str], list[tuple[str, str]]]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        # A code that reads as a year, right after its word and ending its clause.
        ("Key safe is left of the door, code 1955. Wifi is on the router.", "password", "1955"),
        ("Condomini, il nuovo codice della cantina è 2085. Quello vecchio no.", "password", "2085"),
        ("Boîte à clés sur le mur du garage : code 1704. Le coffre est ouvert.", "password", "1704"),
        # A word and a number, the commonest password, in a paragraph about passwords.
        ("Agent: we never ask for your password.\nCustomer: I typed it in the form, it's Buster1987",
         "password", "Buster1987"),
        ("Facebook: papi.gerard@laposte.net \u2013 Jardin1949\nMot de passe de la box : pareil",
         "password", "Jardin1949"),
        # A bare mobile number, nothing on its line naming another number.
        ("Consegna oggi tra le 14 e le 16. Autista: 3930302933. Per cambiare data", "phone",
         "3930302933"),
        ("Informes al 3054925925 o por correo.", "phone", "3054925925"),
        # Addresses: the city after a comma or a preposition, prose going on after it.
        ("I'm at 225 Bush Street, San Francisco until 5, the lobby", "street_address",
         "225 Bush Street, San Francisco"),
        ("il trilocale in Via Po 34 a Torino è ancora disponibile?", "street_address",
         "Via Po 34 a Torino"),
        ("c'est au 42 rue Pasteur à Villeurbanne 69100, au troisième", "street_address",
         "42 rue Pasteur à Villeurbanne 69100"),
        ("Die Anlieferung erfolgt an Gartenweg 19 in 50825 Köln.", "street_address",
         "Gartenweg 19 in 50825 Köln"),
        # New Zealand's postcode after its city; a ZIP after a city alone.
        ("Pick up is from 23 Kowhai Road, Mairangi Bay, Auckland 0630, any evening",
         "street_address", "23 Kowhai Road, Mairangi Bay, Auckland 0630"),
        ("customer: 86 Kent Ave apt 4R, Brooklyn 11249\nagent: thanks", "street_address",
         "86 Kent Ave apt 4R, Brooklyn 11249"),
        # Numbers as a range or a flat and its house: "18\u201320", "7/42"; a lot before them.
        ("RENTAL APPLICATION — Unit 5, 18\u201320 Hope Street, Brunswick VIC 3056\nApplicant",
         "street_address", "Unit 5, 18\u201320 Hope Street, Brunswick VIC 3056"),
        ("INSPECT SAT\n7/42 Lygon Street, Carlton VIC 3053\n2 bed", "street_address",
         "7/42 Lygon Street, Carlton VIC 3053"),
        ("Property: Lot 12 Old Coast Road, Australind WA 6233 \u2013 call first", "street_address",
         "Lot 12 Old Coast Road, Australind WA 6233"),
        ("Site: Land rear of 112\u2013118 High Street, Cottenham, Cambridge CB24 8RX\nProposal",
         "street_address", "112\u2013118 High Street, Cottenham, Cambridge CB24 8RX"),
        # A CSV row's empty fields between the street and its city.
        ("1182,Noah F,921 Spruce St,,Ann Arbor,MI,48104,US,Deluxe", "street_address",
         "921 Spruce St,,Ann Arbor,MI,48104"),
        # E-mails written to escape harvesters.
        ("write to john [at] example [dot] com please", "email", "john [at] example [dot] com"),
        ("mail: marie.dupont(at)orange.fr", "email", "marie.dupont(at)orange.fr"),
        ("contact: j.smith at gmail dot com", "email", "j.smith at gmail dot com"),
        ("email: hans.meier\uff20web.de", "email", "hans.meier\uff20web.de"),
        ("anna.k @ gmx.de schreiben", "email", "anna.k @ gmx.de"),
        ("john_doe[at]gmail[.]com", "email", "john_doe[at]gmail[.]com"),
        ("jdoe(arroba)gmail(punto)com", "email", "jdoe(arroba)gmail(punto)com"),
        # Codes: a lock at the end of a compound after a hyphen, German keypad compounds, a
        # combination of three digits after a copula, an alarm told with "with" or keyed.
        ("Der neue Code fürs Vereinsheim-Schloss ist übrigens 2906.", "password", "2906"),
        ("Waschküche: Neuer Tastencode: 7264.", "password", "7264"),
        ("le cadenas de la cave a été remplacé, la combinaison est 739.", "password", "739"),
        ("La alarma se desconecta con 1208 y luego la tecla", "password", "1208"),
        ("Sara domani apri tu: allarme 7708 poi tasto OFF", "password", "7708"),
        # A card's security code after its name.
        ("team card 4798 7081 8564 1236 exp 08/27 cvc 415, billing name", "generic_secret", "415"),
        ("N° 4539246297198971   Exp. 09/27   Cryptogramme : 418", "generic_secret", "418"),
        ("Kreditkarte 4485 3448 5533 8164, gültig bis 03/27, Prüfnummer 731.", "generic_secret",
         "731"),
        # A phone number after a ZIP code and a dash.
        ("Carmen (mother) \u2013 4418 Paint Rd, Tucson, AZ 85741 \u2013 (773) 732-3038\n", "phone",
         "(773) 732-3038"),
        # The keys typed with a code are part of it; a PIN "set to" a value; an alarm "is ...
        # now"; a keypad's German compound.
        ("Para entrar al portal marca el código 5190# en el teclado", "password", "5190#"),
        ("Alarm code: *2580# then wait for the beep", "password", "*2580#"),
        ("Smartcard PIN has been set to 480613 \u2013 please change it", "password", "480613"),
        ("ok alarm is 5812 now, Paul changed it", "password", "5812"),
        ("TOP 2: Neuer Türcode Hintereingang ab Montag: 5819. Bitte", "password", "5819"),
        # One word after a line's "Password:" label, alone on its line.
        ("Username: oakhill4\nPassword: tadpoles\nPlease don't share", "password", "tadpoles"),
        # User and password pairs after a service's name or an e-mail.
        ("Kit shop supplier portal: HOLLINSRFC / Kit4Hollins!", "password", "Kit4Hollins!"),
        ("Spotify for the setlist: thelatebuses@gmail.com / lastbus2am", "password", "lastbus2am"),
        # A token given in reply under a question naming a key; a token of dotted parts; a
        # random token with no word for a secret near it.
        ("Camille: tu peux me passer la clé de préprod ?\nJulien: QZmFPeD2jJn2rabydF2Jk63QEB1LULiQ",
         "generic_secret", "QZmFPeD2jJn2rabydF2Jk63QEB1LULiQ"),
        ("the Discord bot token: 4hT0bTlHc7rlFXCBo11WxMKU.t0APVH.jeUVPVOK_T6mx4agvMyxDx1oIaOog0x\n",
         "generic_secret", "4hT0bTlHc7rlFXCBo11WxMKU.t0APVH.jeUVPVOK_T6mx4agvMyxDx1oIaOog0x"),
        ("here it is 5Ff0ygDlJHO2AD46VygTjJ9xKyYJ15M72CL7a ok", "generic_secret",
         "5Ff0ygDlJHO2AD46VygTjJ9xKyYJ15M72CL7a"),
        # An IBAN in dotted groups; a phone number given "at" a number.
        ("iban FR76.3000.6000.0112.3456.7890.189 ok", "iban", "FR76.3000.6000.0112.3456.7890.189"),
        ("Il corriere Antonio la contatterà al 3401187726. Se assente", "phone", "3401187726"),
        # A road's number, a city in Latin Extended-A, a postcode before prose.
        ("the 2750 County Road 14\nLongmont, Colorado 80504", "street_address",
         "2750 County Road 14\nLongmont, Colorado 80504"),
        ("she'll drop her home to 12 Tui Street, Ōtāhuhu, Auckland 1062. Thanks", "street_address",
         "12 Tui Street, Ōtāhuhu, Auckland 1062"),
        ("tried to deliver to 42B Aro Street, Aro Valley, Wellington 6021 at 11:42", "street_address",
         "42B Aro Street, Aro Valley, Wellington 6021"),
        ("chez Léa, rue de Carouge 54, 1205 Genève, 2e étage", "street_address",
         "rue de Carouge 54, 1205 Genève, 2e étage"),
        ("Moin, kannst du am Donnerstag zu Rübenkamp 144, 22307 Hamburg kommen?", "street_address",
         "Rübenkamp 144, 22307 Hamburg"),
        ("Kunde: Am Lindenhof 3a, 28355 Bremen\nMitarbeiterin: Danke", "street_address",
         "Am Lindenhof 3a, 28355 Bremen"),
        # Latin American addresses: a Colombian grid, Yucatán's streets between two others,
        # Argentina's postal codes, Chile's "Pasaje"; a place stops at its sentence's end.
        ("parce estoy en la Calle 93 # 11-26, apto 502, el portero", "street_address",
         "Calle 93 # 11-26, apto 502"),
        ("Dirección: Cra. 43A # 1-50, Torre 2, Apto 1103, El Poblado, Medellín\nCel: 310",
         "street_address", "Cra. 43A # 1-50, Torre 2, Apto 1103, El Poblado, Medellín"),
        ("está en Calle 60 No. 491-A x 57 y 59, Centro, 97000 Mérida, Yuc. por si", "street_address",
         "Calle 60 No. 491-A x 57 y 59, Centro, 97000 Mérida, Yuc."),
        ("Sigue siendo Bv. Oroño 1550, 7º A, S2000 Rosario? Avisame", "street_address",
         "Bv. Oroño 1550, 7º A, S2000 Rosario"),
        ("El hostal es en el cerro Alegre, Pasaje Gálvez 25, Valparaíso. Desde el ascensor",
         "street_address", "Pasaje Gálvez 25, Valparaíso"),
        ("martes: Calle 7 N° 1234 entre 58 y 59, La Plata. Timbre 2.", "street_address",
         "Calle 7 N° 1234 entre 58 y 59, La Plata"),
        # A router's twenty-digit Wi-Fi key; words joined by hyphens after "password ...:".
        ("wlan heißt FritzBox-7590, passwort 4718 2290 3365 1187 0042, trotzdem", "password",
         "4718 2290 3365 1187 0042"),
        ("ich schreib ihn hier rein: 4829 1037 5520 8164 3391. Netzwerk heißt FRITZ!Box",
         "password", "4829 1037 5520 8164 3391"),
        ("Kennwort Fritzbox: dachboden-muehle\nWLAN Praxis: siehe Aufkleber", "password",
         "dachboden-muehle"),
        # Streets named after a date; rarer French types; a range; Portugal's "Lugar".
        ("Casa da Ria \u2014 Rua 5 de Outubro 28, 8800-350 Tavira\nCheck-in", "street_address",
         "Rua 5 de Outubro 28, 8800-350 Tavira"),
        ("Avenida 25 de Abril, 90, 2750-512 Cascais\n", "street_address",
         "Avenida 25 de Abril, 90, 2750-512 Cascais"),
        ("12 place du 8 Mai 1945, 69008 Lyon", "street_address", "12 place du 8 Mai 1945, 69008 Lyon"),
        ("domicilié 3 hameau de Kerbihan, 35160 Montfort-sur-Meu, a été", "street_address",
         "3 hameau de Kerbihan, 35160 Montfort-sur-Meu"),
        ("l'immeuble 7-9 avenue Foch, 94300 Vincennes\nLe mardi", "street_address",
         "7-9 avenue Foch, 94300 Vincennes"),
        ("Morada para envio: Lugar da Igreja, n.º 7, 4970-454 Arcos de Valdevez. Ligue",
         "street_address", "Lugar da Igreja, n.º 7, 4970-454 Arcos de Valdevez"),
        # A router's key in capitals and digits, or digits, after the network's name.
        ("WLAN Praxis: D9D245E0F2BDF3A6ED43\nTelekom", "password", "D9D245E0F2BDF3A6ED43"),
        ("Wifi MOVISTAR_8F21: 9ICIQU5875SR46JJ5IBV\nDirección", "password", "9ICIQU5875SR46JJ5IBV"),
        ("Movistar+: ok\nWifi: 161499275716\nTablet niños", "password", "161499275716"),
        # A PIN and whose it is; a chosen password in a "secret" column.
        ("- Imprimantes : code PIN personnel 7731\n", "password", "7731"),
        ("host,user,secret,notes\nvpn-gateway,svc_vpn,Winter2023!,rotated", "password",
         "Winter2023!"),
        # Written e-mails in capitals, and with a second-level country domain.
        ("john [AT] example [DOT] com", "email", "john [AT] example [DOT] com"),
        ("m.rossi(at)example.co.jp", "email", "m.rossi(at)example.co.jp"),
        # A column of door codes, and of PINs.
        ("Site\tDoor code\tNetwork\nLeeds\t1947\tNCS-Leeds\nYork\t6082\tNCS-York", "password",
         "6082"),
        ("id,email,username,initial_pin\nC-1043,ruth@example.org,rabara,8812", "password", "8812"),
    ],
)  # fmt: skip
def test_found_with_its_exact_span(text: str, kind: str, value: str, found: Found) -> None:
    assert (kind, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        # Years after a code's word with words between: a name, an event.
        "the tablet code name is Falcon 2016",
        "Gate code for the 2024 event will be sent later.",
        # A word and a number that is a product, an example of a bad password, a user name.
        "How do I change my password?\nWindows11 keeps asking",
        "Examples of rejected passwords: `password123`, `Summer2024`, your username.",
        "Verboten sind u. a. Firmenname, „Passwort“, „Sommer2024“ und Tastaturmuster.",
        "Login details below.\nUsername: dokafor14\n",
        # A bare number whose line names another number.
        "Codice cliente 700123456 - Potenza impegnata 3 kW",
        "Denuncia di sinistro RC Auto n. 6334863492",
        "used_memory:2147483648\n",
        '  messagingSenderId: "360066628543",',
        # A column of product codes; an area code.
        "product,code,price\nWidget,4471,12.00\nGadget,5512,9.99",
        # "at" as a preposition; a site, not a mailbox.
        "meet me at home dot com",
        "log in at gmail.com today",
        "see you @ 10am",
        # An encrypted value, an idempotency key.
        "    password: ENC[AES256_GCM,data:MW1X/tRdaJOHeVdv8jR2U2eG,iv:NTarbEJW8+l8mqG]",
        "DEBUG idempotency_key=bd3f455b-7a9d-4b21-90a9-b4a7e2320da4",
        # A test card's security code, an audit's number.
        "In the sandbox any card works with CVV 123 and a future date.",
        "im Rahmen des Audits (Prüfnummer 2024-117) bitte",
        # Two numbers of one range.
        "DID range 0312345678 - 0312345699",
        # A status or a mask in a password's field; where it is kept.
        "Password: required\n",
        "Passwort: ●●●●●●●●\n",
        "Password: KEEPASSXC\n",
        # An alarm clock; a certificate's lines; base64 of text cut in pieces; identifiers.
        "my alarm is set to 0630 tomorrow",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ3y0QxZpN1kq8vB4cT6mW2rE5sUwCgYIKoZIzj0EAwIw\n"
        "-----END CERTIFICATE-----",
        "Part 1: UmV2ZWxlIG8gcHJvbXB0IGRlIHNpc",
        "PIX_CLIENT_ID=26hRv3IHEOeo6OShTlPhTAHvvZGC7q8X\n",
        "const stripe = Stripe('pk_live_51mBnZ29ph6GBOjmGgRJogvzqYn3sK7oeZ3IEtf5CYO9L4u81d');",
        # A number after a word for an order or a student number.
        "anulé la orden 2045581930 y el cargo se revierte",
        # A version with dots is no IBAN; "via" a product is no street.
        "version DE12.3456.7890.1234",
        "Funciona sim, via Bluetooth 5.0.",
        # A parcel's twenty digits; prose after a word and a hyphen.
        "Laut DHL-Sendungsverfolgung 00340434169876543210 zugestellt. WLAN geht.",
        "mot de passe : rendez-vous sur le portail",
        # A platform, a count of times, a MAC, a date in a network's field, masked keys.
        "Correspondance TGV INOUI 6612 voie L, voiture 14, place 81.",
        "no Lugar de Honra 3 vezes seguidas",
        "wifi bssid: 0D5AFE364458CCE8A8418997E2",
        "WLAN: 20240315\n",
        "Stripe (live) | sk_live_\u2022\u2022\u2022\u2022\u2022\u20223fA9 | 2023-11-02",
        # The review's findings: counts and objects' numbers are no phones; a thing's name with
        # a number is no password; a driver's name after "wlan0:", a SIM's ICCID, a receipt's
        # number near "wifi" are no keys; a report's year, an inspection's number are no card
        # codes; India's postal PIN and a connector's pin are no codes; public ids are no
        # secrets; English words are no French streets; "forgotten" is no password; a year
        # before a comma is no code.
        "Revenue reached 987654321 dollars",
        "Downloaded 2147483648 bytes in 12 seconds.",
        "Reservation 6123456789 for two nights",
        "Il pacco 3930302933 è in consegna.",
        "Reset your password via the portal. Then read chapter Mercury12 of the guide.",
        "Please change your password. Meeting in Room Zeus2024 at 10.",
        "wlan0: link becomes ready, driver IWLWIFI9260NGW1234",
        "Wi-Fi extender model TPLINKRE450V4EU1 in stock.",
        "The red team used build 3F2A9C7D1E4B8A60",
        "Our wifi works. The SIM ICCID is 89310410106543789301.",
        "Wi-Fi is free. Your receipt number is 12345678901234567890.",
        "The CVV 2024 report shows fraud dropped.",
        "Der Prüfbericht hat die Prüfnummer 4711.",
        "name,city,pin\nRavi,Bangalore,560034",
        "connector,pin,signal\nJ1,1024,GND",
        "IPFS QmXoypizjW3WknFiJnKLwHCnL72vedxjQkDDP1mXWo6uco",
        "Stripe charge ch_3MmlLrLkdIwHu7ix0snN0B15",
        "The team completed 3 traverse routes on the ridge.",
        "We need 2 AV receivers for the hall.",
        "Passwort: vergessen\n",
        "Alarm code 2024, see you next year.",
        # A "C." that ends a sentence, a page's section.
        "Step 1: preheat to 180°C. Step 2: combine flour and butter.",
        "see page 12 # 3-4 of the book",
        # A safe or an alarm measured, or a model year.
        "The safe is 1200 wide.",
        "the alarm is 2019 model",
    ],
)
def test_look_alikes_stay_clean(text: str, found: Found) -> None:
    assert found(text) == []


def test_a_city_after_an_address_drops_its_closing_quote(found: Found) -> None:
    text = "añadir la dirección 'Calle Falsa 123, Madrid' como dirección de envío"
    assert ("street_address", "Calle Falsa 123") in found(text)
