"""Payload splitting: the cue to join fragments (the fragments themselves are joined and
scanned by the detector, see ``split_payload``).

Patterns, notation and weights: see :mod:`.injection_rules`.
"""

from __future__ import annotations

from llmops_guardrails.detectors.injection_weights import CUE, M

SPLIT: dict[str, list[tuple[str, float]]] = {
    # Cues only (every program concatenates strings): they make the detector join quoted
    # fragments, and count for next to nothing on their own.
    "any": [
        (r"\+ ?['\"]?[a-z]", CUE),
        (r"= ?['\"][^'\"\n]{1,48}['\"]", CUE),
    ],
    "en": [
        (
            r"(?:decode|decrypt|decipher|unscramble|reverse|rot13) (?:this|the "
            r"following|the text below|the message|it|below|that|these)(?: string| text| message|"
            r" payload| backwards| in reverse)? {W}(?:and|then|,) {W}(?:follow|execute|obey|do|run|"
            r"carry out|act on|perform|apply)",
            M,
        ),
        (
            r"(?:read|write|say|spell) (?:this|it|the following|the text|that) (?:backwards|in "
            r"reverse) {W}(?:and|then|,) {W}(?:follow|execute|obey|do|run|carry out|act on)",
            M,
        ),
        (
            r"(?:concatenate|combine|join|merge|assemble|put together) {WW}(?:strings|pieces|parts|"
            r"fragments|words|them|these|the following|[a-z]\w{0,8} and [a-z]\w{0,8})",
            M,
        ),
    ],
    "fr": [
        (
            r"(?:decode|dechiffre|decrypte|inverse|lis)\w{0,2} {WW}(?:et|puis) {W}(?:suis|suivez|"
            r"execute|executez|obeis|obeissez|applique|appliquez|fais|faites)",
            M,
        ),
        (
            r"(?:concatene|assemble|combine|fusionne|joins?)\w{0,2} {WW}(?:morceaux|parties|"
            r"fragments|mots|chaines|[a-z]\w{0,8} et [a-z]\w{0,8})",
            M,
        ),
    ],
    "de": [
        (
            r"(?:dekodier|entschlussel|decodier|entziffer)\w{0,3} {WW}(?:und|dann) {W}(?:fuhr|"
            r"befolg|gehorch|mach|tu)\w{0,2}",
            M,
        ),
        (
            r"(?:verbinde|fuge|setze|kombiniere)\w{0,2} {WW}(?:teile|stucke|fragmente|worter|"
            r"zusammen|[a-z]\w{0,8} und [a-z]\w{0,8})",
            M,
        ),
    ],
    "es": [
        (
            r"(?:decodifica|descifra|descodifica)\w{0,2} {WW}(?:y|luego) {W}(?:sigue|ejecuta|"
            r"obedece|haz|cumple|aplica)",
            M,
        ),
        (
            r"(?:concatena|une|junta|combina)\w{0,2} {WW}(?:trozos|partes|fragmentos|palabras|"
            r"cadenas|[a-z]\w{0,8} y [a-z]\w{0,8})",
            M,
        ),
    ],
    "pt": [
        (
            r"(?:decodifique|decifre|descodifique)\w{0,2} {WW}(?:e|depois) {W}(?:siga|execute|"
            r"obedeca|faca|cumpra|aplique)",
            M,
        ),
        (
            r"(?:concatene|junte|una|combine)\w{0,2} {WW}(?:pedacos|partes|fragmentos|palavras|"
            r"strings|[a-z]\w{0,8} e [a-z]\w{0,8})",
            M,
        ),
    ],
}
