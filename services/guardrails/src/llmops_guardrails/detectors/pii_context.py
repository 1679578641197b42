"""Candidate spans, and the context keywords read just before a number (see :mod:`.pii`)."""

from __future__ import annotations

import re
from typing import NamedTuple


class Span(NamedTuple):
    kind: str
    start: int
    end: int
    score: float


# --- context keywords -------------------------------------------------------------------------

# Words that, just before a number, say what it is. Matched in the lower-cased short window
# before the candidate (a keyword further away is as likely to name something else); lower-casing
# the window costs less than IGNORECASE, which is slow on non-ASCII alternatives.
PHONE_WORDS = re.compile(
    r"phone|tel\b|tel\.|tél|call|mobile|cell|whats ?app|fax|text me|reach me|contact|ring"
    r"|portable|numéro|appel|joindre|telefon|handy|rufnummer|anruf|erreichbar"
    r"|teléfono|telefono|móvil|movil|llam|telefone|telemóvel|telemovel|celular|ligue|ligar",
)
# Words that say a number is not a phone number: references, orders, parcels, money.
NOT_PHONE_WORDS = re.compile(
    r"order|invoice|ref\b|ref\.|reference|tracking|parcel|shipment|ticket|case|account|acct"
    r"|serial|sku|isbn|id\b|#|no\.|nr\.|n°|nº|version|build|commande|facture|colis|dossier"
    r"|bestell|rechnung|sendung|kunden|auftrag|pedido|factura|envío|envio|encomenda|fatura"
    r"|€|\$|£|eur\b|usd\b",
)
SSN_WORDS = re.compile(r"ssn|social security|soc\. ?sec")
NINO_WORDS = re.compile(r"\bni\b|nino|national insurance")
IDNR_WORDS = re.compile(r"steuer|idnr|identifikationsnummer|tax id|tin\b|steuerliche")
NIF_WORDS = re.compile(r"\bnif\b|nipc|contribuinte|fiscal|tax")

_CONTEXT_WIDTH = 32


def context_before(text: str, start: int, width: int = _CONTEXT_WIDTH) -> str:
    return text[max(0, start - width) : start].lower()
