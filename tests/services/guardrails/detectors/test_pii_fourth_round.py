"""Gaps the fourth round of independent PII authors showed (p19-p21, `dev`), closed in general
form (pii-4 / secrets-4): each value found with its span, and the look-alike beside it not.
The rows themselves are in corpus/pii/authors.jsonl; these are our own texts of the same shapes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Found = Callable[[str], list[tuple[str, str]]]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        # Passwords with no word for one, only for what they open.
        ("le portable de prêt s'ouvre avec Soleil!Nantes44, c'est le même", "password",
         "Soleil!Nantes44"),
        ("It logs in as jdoe with Maple+Kettle+27 until she picks her own.", "password",
         "Maple+Kettle+27"),
        ("ok der jenkins nimmt wieder nur admin und Brezel+Senf+1985", "password",
         "Brezel+Senf+1985"),
        ("the cPanel: user hollowayc, password Kiln&Glaze#Autumn", "password",
         "Kiln&Glaze#Autumn"),
        # Plainer ones right after the word: letters and digits.
        ("Door code is 5172#, wifi pw flatwhite4all. See you at 9!", "password", "flatwhite4all"),
        ("Wi-Fi: rede CASA, senha sardinha-farol-612\n", "password", "sardinha-farol-612"),
        ("host 141.8.97.88  user printdrop  pw hY6tRe3w\npassive mode on", "password", "hY6tRe3w"),
        ("le wifi « Maison » mdp poney-rose-416. Numéro de la voisine", "password",
         "poney-rose-416"),
        ("/etc/redis/redis.conf\n  requirepass VfNF0fxMG8x7UEOQDJHIQFW\n", "password",
         "VfNF0fxMG8x7UEOQDJHIQFW"),
        # Digits given as a password, a device's PIN, an alarm's code.
        ("a senha nova do banco é 135969, a de seis dígitos", "password", "135969"),
        ("Firmenkarte liegt im Handschuhfach, PIN ist 9459. Beleg bitte", "password", "9459"),
        ("WhatsApp no celular da recepção: PIN do aparelho 124492", "password", "124492"),
        ("Pour ce soir : le code de l'alarme c'est 7447 puis OFF", "password", "7447"),
        # Passphrases.
        ("Master password: orbit velvet cobbler ninety lagoon\n", "password",
         "orbit velvet cobbler ninety lagoon"),
        ('the shared mailbox password is "correct lantern velvet ocean" (with spaces)',
         "password", "correct lantern velvet ocean"),
        # A login pair after the French word for a login.
        ("Doctolib : identifiant accueil.morvan / sP49.Gd6kkfT\n", "password", "sP49.Gd6kkfT"),
        # A column named with a digit beside it, a Spanish header, a quoted CSV export.
        ("Platform\tHandle\tPassword\t2FA\nInstagram\t@studio.x\tF3rnh1ll!Insta\tSMS", "password",
         "F3rnh1ll!Insta"),
        ("Servicio | Usuario | Clave | Notas\nHosting | nubaria | tw9pGl@zduRt | marzo",
         "password", "tw9pGl@zduRt"),
        ('"name","Username","Password","URL"\n"Metro","achats@x.fr","Cuisine-Pont-109","https://m"',
         "password", "Cuisine-Pont-109"),
        # Addresses: the postal code and city on the next line or field, a city alone after a
        # comma, capitals, post-office boxes, Brazilian cities and states, a scan's spacing.
        ("Herrn\nFlorian Wagner\nKreuzstraße 21\n85049 Ingolstadt\n\nRECHNUNG", "street_address",
         "Kreuzstraße 21\n85049 Ingolstadt"),
        ("Lieferadresse:\nSabine Kühn\nAm Lindenhof 12a\n31135 Hildesheim\nDeutschland",
         "street_address", "Am Lindenhof 12a\n31135 Hildesheim"),
        ("Her address is 1306 Linden Street, Allentown and the photo shows", "street_address",
         "1306 Linden Street, Allentown"),
        ("vale, Calle Alfonso I 19, 2º, Zaragoza, pregunta", "street_address",
         "Calle Alfonso I 19, 2º, Zaragoza"),
        ("C0912;Trattoria;Via del Pratello 87;40122;Bologna;BO;051", "street_address",
         "Via del Pratello 87;40122;Bologna;BO"),
        ("SHIP TO:\nTHERESA OKONKWO\n61 MAPLE HILL DR\nROCHESTER NY 14618-3304\n\nUSPS",
         "street_address", "61 MAPLE HILL DR\nROCHESTER NY 14618-3304"),
        ("Harcourt Solicitors\nPO Box 4412, Truro TR1 9BQ\nDX 81205 Truro", "street_address",
         "PO Box 4412, Truro TR1 9BQ"),
        ("R. da Bahia, 1148, sala 1204, Centro, Belo Horizonte/MG, 30160-011", "street_address",
         "R. da Bahia, 1148, sala 1204, Centro, Belo Horizonte/MG, 30160-011"),
        ("Adresse :  14  rue  du  Moulin  Vert\n29200  BREST\nDate d'entrée", "street_address",
         "14  rue  du  Moulin  Vert\n29200  BREST"),
        # Values spaced out by a scan or broken across lines.
        ("N°  S.S.  :  2 85  06 75  123 456  39      Emploi : menuisier", "fr_nir",
         "2 85  06 75  123 456  39"),
        ("Prélevé sur le compte\nFR67 3000 4012 3409\n8765 4321 012\nMerci", "iban",
         "FR67 3000 4012 3409\n8765 4321 012"),
        # Random tokens on a line that names a secret, not right after the word.
        ("Clé API interne « stock » trouvée dans le dépôt : inv_q8Xw2LmZp4Rt7Vb1Nc9Ks3Jd6Hf0Ga",
         "generic_secret", "inv_q8Xw2LmZp4Rt7Vb1Nc9Ks3Jd6Hf0Ga"),
        ("- B2 key: keyID 0042ab, applicationKey K007pQx2Lm9ZrT4vWb8NcY3sD6hJ1fG", "generic_secret",
         "K007pQx2Lm9ZrT4vWb8NcY3sD6hJ1fG"),
        ('curl -H "Authorization: SSWS 00xTq8Lm2Zp9Rw4Vb7Nc1Ks5Jd3Hf6Ga0Ye8Ui" https://x.okta.com',
         "generic_secret", "00xTq8Lm2Zp9Rw4Vb7Nc1Ks5Jd3Hf6Ga0Ye8Ui"),
        ("Le secret partagé pour vérifier l'en-tête est :\n\nx7Kq2Lm9Zp4Rt8Vb1Nc6Ks3Jd0Hf5GaYe\n",
         "generic_secret", "x7Kq2Lm9Zp4Rt8Vb1Nc6Ks3Jd0Hf5GaYe"),
        ("TOTP seed (if the app is lost): QW7HKXN2RP4JDMVB\n", "generic_secret", "QW7HKXN2RP4JDMVB"),
        # Found by review: values the first draft lost or cut short.
        ("passwrd=Tr0ub4dor&3", "password", "Tr0ub4dor&3"),
        ("PASSW0RD=Tr0ub4dor&3", "password", "Tr0ub4dor&3"),
        ("Passwort: Sonnenblume Apfelkuchen Enkel\n", "password", "Sonnenblume Apfelkuchen Enkel"),
        ("Master password: orbit velvet cobbler ninety lagoon", "password",
         "orbit velvet cobbler ninety lagoon"),
        ("user,password,group\nalice,S3cure!pw,g1\nbob,,g2\ncarol,Tr0ub4dor&3,g3\n", "password",
         "Tr0ub4dor&3"),
        ("İstanbul: Firmenkarte, PIN ist 9459.", "password", "9459"),
        ("İzmir: wifi pw flatwhite4all, see you", "password", "flatwhite4all"),
        # A phone number after a quoted CSV field.
        ('1,Marco Ruiz,"5107 Shoal Creek Blvd, Austin, TX 78756",512-468-3390,m@x.com', "phone",
         "512-468-3390"),
    ],
)  # fmt: skip
def test_found_with_its_exact_span(text: str, kind: str, value: str, found: Found) -> None:
    assert (kind, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Passport: X1234567 issued in 2019",
        "passenger: Bob2024x, seat 14C",
        "Öffne settings.json (Strg+Shift+P) als Admin und such nach der Zeile",
        "1. Bib 1047  T. Achterberg   29:41.3\n2. Bib 0822  R. Mwangi       29:44.9",
        "Datum  Valuta   Vorgang\n02.05.       02.05.   Kartenzahlung girocard",
        "Tipp: vorher Config sichern!!1! Das Admin-Passwort steht im Handbuch.",
        "Confirmation no. 73920418, PIN 6604. Check-in from 3pm",
        "The login guide was written by cosmosaoi#8888 last year",
        "password: see the vault entry for prod\n",
        "Passwort geändert am: 20240315",
        "redis:\n  url: redis://:CHANGE_ME@localhost:6379/0",
        "Ticket#2024061210000437 - [Passwort] SAP gesperrt",
        "Termine heute:\n- 10:00 Zahnarzt Dr. Vogel\n- 15:30 Elternabend",
        "Top 10 Deals Close Tonight",
        "Your password must-be-8chars+ long",
        "Reset password Link-2024! expires soon",
        "The user typed s1+s2+s3 into the login form",
        # Found by review: ordinary text the first draft flagged.
        "I tried k8s+helm3 for the deployment",
        "Our vpn uses WireGuard+2FA since March",
        "The admin role has Read+Write+Delete2 permissions",
        "I tried brew install python@3.12 and openssl@3 today",
        "I tried Notepad++ but it crashed",
        "Hey! Log in at 9am, our standup is Mon+Wed+Fri2",
        "Use code Welcome10! at checkout",
        "Password Policy: Minimum Twelve Characters\n",
        "Password reset link: Expires after thirty minutes\n",
        "Password: Will Send Later\n",
        "Kennwort: wird separat zugeschickt\n",
        "PASSWORD_RESET_TIMEOUT = 259200",
        "password_expiry_seconds: 7776000",
        "Boarding pass: 58213467",
        "Pass 1: 184467 records\nPass 2: 184467 records",
        "Clave ProdServ: 84111506",
        "La clave primaria es id_cliente2024.",
        "Hash the password argon2id before storing it.",
        "We solve the MDP FrozenLake-v1 with Q-learning.",
        "PIN Code: 560034",
        "PIN Photodiode SFH 2701 datasheet",
        "Rechnung 4711\n80331 München",
        "Zeile 42\t10115\tBerlin",
        "PO Box 12 - 2024 Update",
        "Signed by R. Martin, 12 March 2024",
        "SALE 50 OFF ALL ST PATRICKS ITEMS",
        "CHAPTER 12 PARK PLACE\n",
        "Open ports:\n5000\n8080\n8443\n5432\n",
        'title,password,notes\n27" Monitor,,Order4521-B\n',
        # Long runs that are not secrets, on lines that name one.
        "The webhook payload in base64: eyJvcmRlcl9pZCI6IDQ0MTIsICJzdGF0dXMiOiAic2hpcHBlZCJ9",
        "add my key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFqT7x2mWvK9pLr0bQe3sY8uN4dH6cJ1aZ5oXyV2",
        "send the token to 0x7a3F9c21B44e0D18aA52c6fE9b0E77d3c1A2b9F0 now",
        "api request id 123e4567-e89b-12d3-a456-426614174000 failed",
        "::warning::Cache not found for key node-cache-Linux-npm-8f1c",
    ],
)
def test_look_alikes_stay_clean(text: str, found: Found) -> None:
    assert found(text) == []
