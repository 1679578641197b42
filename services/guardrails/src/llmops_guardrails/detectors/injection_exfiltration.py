"""System-prompt exfiltration (patterns, notation and weights: see :mod:`.injection_rules`)."""

from __future__ import annotations

from llmops_guardrails.detectors.injection_weights import M, S, W

_EN_SECRET = (
    r"(?:system (?:prompt|message|instructions?)|(?:initial|original|hidden|secret|internal|"
    r"confidential|developer|pre-?|meta-?) ?(?:prompt|instructions?|rules|guidelines|message|"
    r"configuration)|prompt template|instructions you (?:were|have been) given)"
)
_FR_SECRET = (
    r"(?:prompt (?:systeme|initial|d'origine|cache|secret)|message (?:systeme|initial)|"
    r"(?:instructions|consignes|regles) (?:cachees|initiales|secretes|d'origine|systeme|internes|"
    r"confidentielles))"
)
_DE_SECRET = (
    r"(?:system-?prompt|systemnachricht|systemanweisung\w{0,2}|(?:versteckt|geheim|"
    r"ursprunglich|intern|anfanglich|initial|vertraulich)\w{0,3} (?:anweisung\w{0,2}|regeln|"
    r"instruktion\w{0,2}|prompt|vorgaben|konfiguration\w{0,2}|richtlinien)|initialprompt)"
)
_ES_SECRET = (
    r"(?:prompt (?:del sistema|de sistema|inicial|original|oculto|secreto)|mensaje (?:del|de)"
    r" sistema|(?:instrucciones|reglas|indicaciones) (?:ocultas|iniciales|secretas|originales|"
    r"del sistema|internas|confidenciales))"
)
_PT_SECRET = (
    r"(?:prompt (?:do sistema|de sistema|inicial|original|oculto|secreto)|mensagem (?:do|de)"
    r" sistema|(?:instrucoes|regras|orientacoes) (?:ocultas|iniciais|secretas|originais|do "
    r"sistema|internas|confidenciais))"
)
EXFILTRATION: dict[str, list[tuple[str, float]]] = {
    "en": [
        (
            r"(?:reveal|print|show|display|output|repeat|recite|dump|tell|give|share|leak|expose|"
            r"paste|copy|write out|quote|list|return|disclose|provide|echo|summari[sz]e|type out)"
            f" {{W}}(?:your|the|its) {{W}}{_EN_SECRET}",
            S,
        ),
        # Verbs a developer also uses about *a* prompt ("translate the system prompt"): only
        # about the model's own.
        (
            r"(?:translate|spell out|encode|put|include|read out|send|begin with|start with)"
            f" {{W}}your {{W}}{_EN_SECRET}",
            S,
        ),
        (f"what (?:is|are|was|were) {{W}}your {{W}}{_EN_SECRET}", S),
        (
            r"(?:repeat|print|output|show|copy|return|dump) {WW}(?:everything|all|the text|the words"
            r"|all the text|what) {W}(?:above|before|prior to) {W}(?:this|that|here|the first)",
            M,
        ),
        (r"what (?:were you|have you been) (?:told|instructed|programmed|given)", M),
        (
            r"(?:show|print|reveal|tell|give|display|output|repeat|share|dump|paste|list) "
            r"(?:me |us )?your (?:prompt|instructions|rules|guidelines|directives|configuration|"
            r"initial message|first message)",
            M,
        ),
        (
            r"(?:repeat|print|output|show|copy|return|dump|write|quote) {W}(?:the |all the |all )?"
            r"(?:words|text|everything|lines|content|tokens) (?:above|before this)",
            M,
        ),
        (
            r"what (?:text|words|content|instructions) (?:appears?|comes?|is written|is|came|were"
            r" written) (?:before|above) (?:my|the|this) (?:first )?(?:message|question|prompt|"
            r"input)",
            M,
        ),
        (
            r"(?:print|output|show|repeat|dump|copy|return) {W}(?:everything|all|the text|what) "
            r"(?:before|above|preceding) (?:my|the) (?:first )?(?:user )?(?:message|question|"
            r"prompt|input)",
            M,
        ),
        (
            r"(?:summari[sz]e|list|describe|explain|tell me|show me|print|repeat|quote) {W}"
            r"(?:the |all the |all )?(?:instructions|rules|guidelines|directives) you (?:were|have"
            r" been|got|are) (?:given|told|following|programmed|using)",
            S,
        ),
        (
            r"(?:echo|print|dump|show|output|reveal|display) {W}(?:your|the) (?:full |entire |"
            r"complete |current )?(?:configuration|config|settings|initiali[sz]ation|context "
            r"window|prompt)",
            M,
        ),
        (r"(?:what|which) (?:are|were) your (?:instructions|rules|guidelines)", M),
        (r"(?:word for word|verbatim)", W),
        # Written from the third-party train rows (corpus/injection/external.jsonl).
        (
            r"(?:see|read|view|get|have|know) (?:the |your )?(?:full |entire |complete )?"
            r"(?:system prompt|system message|initial prompt|hidden prompt|system instructions)",
            W,
        ),
        (
            r"(?:text|instructions|words|message|prompt|rules) you were given (?:initially|at the "
            r"(?:start|beginning)|before (?:this|our|the) conversation|first)",
            M,
        ),
        (
            r"what (?:are|were) you (?:not supposed|told not|instructed not|forbidden|not allowed"
            r"|not permitted) to (?:tell|say|reveal|share|disclose|discuss)",
            M,
        ),
        (
            r"(?:beginning|starting|begin|start) with ['\"]?you are['\"]?,? {WW}(?:repeat|recite|"
            r"output|print|copy|continue)",
            M,
        ),
        (
            r"(?:repeat|recite|output|print|copy|continue) {WW}(?:beginning|starting) with "
            r"['\"]?you are",
            M,
        ),
        (r"(?:continue|complete) {W}['\"]?(?:the |my |your )?system prompt (?:is|was|says)", M),
        (r"(?:output|print|show|display) {W}initiali[sz]ation (?:string|prompt|text|message)", M),
        (
            r"(?:encode|rot13|translate|reverse|spell) {WW}(?:text|instructions|prompt|words) you"
            r" were given",
            M,
        ),
    ],
    "fr": [
        (
            r"(?:revele\w{0,2}|montre\w{0,2}|affiche\w{0,2}|repete\w{0,2}|recopie\w{0,2}|donne\w{0,2}"
            r"|imprime\w{0,2}|ecri\w{0,3}|cite\w{0,2}|divulgue\w{0,2}|partage\w{0,2}|dis|"
            r"reproduis|fournis)(?:moi|nous|le|la|les|lui|leur)? {W}(?:ton|ta|tes|votre|vos|le|la|"
            r"les) {W}" + _FR_SECRET,
            S,
        ),
        (
            r"(?:tradui\w{1,3}|mets|mettez|resume\w{0,2}|liste\w{0,2}|transmets|envoie\w{0,2})"
            r" {W}(?:ton|ta|tes|votre|vos) {W}" + _FR_SECRET,
            S,
        ),
        (f"quel(?:le)?s? (?:est|sont) {{W}}(?:ton|ta|tes|votre|vos) {{W}}{_FR_SECRET}", S),
        (r"(?:repete|recopie|affiche|montre)\w{0,2} {WW}(?:tout )?le texte {W}au-?dessus", M),
        (r"quel(?:le)?s sont (?:tes|vos) (?:instructions|consignes|regles)", M),
        (
            r"(?:montre|affiche|donne|revele|repete|recopie|dis)\w{0,2}(?:moi|nous)? {W}(?:tes|vos|"
            r"ton|votre) (?:instructions|consignes|regles|prompt)",
            M,
        ),
        (
            r"quel(?:le)?s (?:instructions|consignes|regles) (?:astu|avezvous|tu as|vous avez) "
            r"(?:recu|recues|eu|eues)",
            M,
        ),
        (
            r"(?:repete|recopie|affiche|montre|donne|ecris)\w{0,2} {W}tout ce qui (?:precede|est"
            r" (?:au-?dessus|avant)) (?:de )?(?:mon|ce|le) (?:premier )?message",
            M,
        ),
        (r"mot pour mot", W),
    ],
    "de": [
        (
            r"(?:gib|gebe|zeig\w{0,2}|wiederhol\w{0,2}|druck\w{0,2}|nenn\w{0,2}|verrat\w{0,2}|"
            r"schreib\w{0,2}|kopier\w{0,2}|zitier\w{0,2}|offenbar\w{0,2}|teil\w{0,2}|sag) {W}"
            r"(?:dein\w{0,2}|ihr\w{0,2}|den|die|das) {W}" + _DE_SECRET,
            S,
        ),
        (
            r"(?:ubersetz\w{0,2}|fass\w{0,2}|verschick\w{0,2}|send\w{0,2}) {W}(?:dein\w{0,2}|"
            r"ihr\w{0,2}) {W}" + _DE_SECRET,
            S,
        ),
        (f"wie (?:lautet|lauten) {{W}}(?:dein|deine|ihr|ihre)\\w{{0,2}} {{W}}{_DE_SECRET}", S),
        (
            r"(?:wiederhol|gib|zeig|kopier)\w{0,2} {WW}text {W}(?:uber|oberhalb) (?:dieser|dieses)",
            M,
        ),
        (r"was (?:sind|waren) deine (?:anweisungen|regeln)", M),
        (f"was steht in {{W}}(?:deinem|deinen|ihrem|ihren|dem|den) {{W}}{_DE_SECRET}", S),
        (
            r"welche (?:anweisungen|regeln|instruktionen|vorgaben|befehle) hast du {W}"
            r"(?:erhalten|bekommen|gekriegt)",
            M,
        ),
        (
            r"alles {W}(?:was|das) (?:vor|uber|oberhalb) (?:meiner|dieser|der|deiner) "
            r"(?:ersten )?(?:nachricht|frage|zeile|eingabe)",
            M,
        ),
        (
            r"(?:verrat|zeig|nenn|gib|sag)\w{0,2} {W}(?:mir )?(?:deine|ihre) (?:anweisungen|"
            r"regeln|instruktionen|vorgaben)",
            M,
        ),
        (r"wort fur wort", W),
    ],
    "es": [
        (
            r"(?:revela\w{0,2}|muestra\w{0,2}|ensena\w{0,2}|repite\w{0,2}|copia\w{0,2}|imprime\w{0,2}"
            r"|dime|dame|escribe\w{0,2}|cita\w{0,2}|comparte\w{0,2}|divulga\w{0,2}|reproduce|"
            r"proporciona) {W}(?:tu|tus|su|sus|el|la|los|las) {W}" + _ES_SECRET,
            S,
        ),
        (
            r"(?:traduce\w{0,2}|pon|ponga|resume\w{0,2}|lista\w{0,2}|envia\w{0,2}) {W}"
            r"(?:tu|tus) {W}" + _ES_SECRET,
            S,
        ),
        (f"cual(?:es)? (?:es|son) {{W}}(?:tu|tus|su|sus) {{W}}{_ES_SECRET}", S),
        (
            r"(?:repite|copia|muestra|imprime)\w{0,2} {WW}todo el texto {W}(?:encima|arriba|antes)",
            M,
        ),
        (r"cuales son tus (?:instrucciones|reglas)", M),
        (r"que (?:instrucciones|reglas|indicaciones) (?:recibiste|te dieron|tienes)", M),
        (r"palabra por palabra", W),
    ],
    "pt": [
        (
            r"(?:revele|mostre|mostra|repita|copie|imprima|diga|escreva|cite|"
            r"compartilhe|divulgue|reproduza|forneca)(?:me|nos|lhe)? {W}(?:o|a|os|as|seu|sua|seus|"
            r"suas|teu|tua) {W}" + _PT_SECRET,
            S,
        ),
        (
            r"(?:traduza|coloque|resuma|liste|envie) {W}(?:o seu|a sua|os seus|as suas|seu|sua|"
            r"seus|suas|teu|tua) {W}" + _PT_SECRET,
            S,
        ),
        (
            f"qua(?:l|is) (?:e|sao) {{W}}(?:o seu|a sua|os seus|as suas|seu|sua|teu|tua) {{W}}"
            f"{_PT_SECRET}",
            S,
        ),
        (r"(?:repita|copie|mostre|imprima) {WW}todo o texto {W}(?:acima|antes)", M),
        (r"quais sao as suas (?:instrucoes|regras)", M),
        (r"que (?:instrucoes|regras|orientacoes) (?:voce )?(?:recebeu|te deram|lhe deram|tem)", M),
        (r"palavra por palavra", W),
    ],
}
