"""Phrase families of prompt injection, per language, matched on canonical text.

Six families: instruction override, role-play/persona, system-prompt exfiltration, delimiter
and fake-role injection, tool/function hijack, payload splitting; each in English, French,
German, Spanish and Portuguese, written per language (the way people phrase it there, not
translations of one sentence). Patterns see :mod:`.canonical` text: lower case, accents
stripped (``précédentes`` -> ``precedentes``, ``über`` -> ``uber``), disguises undone.

Pattern notation (expanded by :func:`_expand`): a space stands for a short run of
non-letters (possibly none: spaced-out letters are joined back into one word, so
``ignoreallpreviousinstructions`` must match as well as ``ignore all previous instructions``);
``{W}`` for up to three filler words, ``{WW}`` for up to six. Every pattern starts at a word
start. All repetitions are bounded, which keeps matching linear on adversarial input.

Weights: ``S`` (0.9) a phrase that is an attack on its own; ``M`` (0.6) usually one; ``W`` (0.3)
a hint that counts only with other evidence. A family's score is the noisy-or of its distinct
matches; the detector calibrates it together with the statistical model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

S, M, W = 0.9, 0.6, 0.3

_SEP = r"[^a-z0-9]{1,4}"
# Possessive: a filler word is taken whole or not at all, so a failed match backtracks over
# at most the number of fillers, not over every way of cutting them into pieces.
_FILL = r"(?:[a-z0-9]{1,20}+[^a-z0-9]{1,4}+){0,%d}"

FAMILIES = (
    "instruction_override",
    "roleplay",
    "exfiltration",
    "delimiter",
    "tool_hijack",
    "payload_splitting",
)

# ---------------------------------------------------------------------------------------------
# Instruction override
# ---------------------------------------------------------------------------------------------
_EN_OVR_VERB = (
    r"(?:ignore|disregard|forget|override|overwrite|bypass|skip|discard|abandon|neglect|drop|"
    r"cancel|erase|delete|clear|wipe|circumvent|do not follow|don't follow|stop following|"
    r"no longer follow)"
)
_EN_OVR_QUAL = (
    r"(?:previous|prior|above|earlier|preceding|former|original|initial|old|existing|all|every|"
    r"your|any|these|those|system|safety|developer|default)"
)
_EN_OVR_OBJ = (
    r"(?:instructions?|prompts?|directives?|directions|rules|guidelines|guidance|commands|orders|"
    r"programming|constraints|restrictions|polic(?:y|ies)|guardrails|filters|system prompt|"
    r"safety training)"
)
_FR_OVR_VERB = (
    r"(?:ignore[sz]?|oublie[sz]?|neglige[sz]?|contourne[sz]?|ecarte[sz]?|abandonne[sz]?|"
    r"annule[sz]?|efface[sz]?|outrepasse[sz]?|ne tiens pas compte|ne tenez pas compte|"
    r"ne suis plus|ne suivez plus|passe outre|fais abstraction)"
)
_FR_OVR_QUAL = (
    r"(?:precedent\w{0,3}|anterieur\w{0,3}|initia\w{0,4}|d'origine|ci-dessus|ci dessus|"
    r"toutes|tous|tes|vos|systeme|de securite)"
)
_FR_OVR_OBJ = (
    r"(?:instructions?|consignes?|regles?|directives?|ordres|commandes|restrictions?|prompt|"
    r"garde-fous|filtres|programmation)"
)
_DE_OVR_VERB = (
    r"(?:ignorier\w{0,3}|vergiss|vergessen sie|missacht\w{0,3}|ubergeh\w{0,3}|umgeh\w{0,3}|"
    r"verwirf|verwerfen sie|losch\w{0,3}|befolge \w{0,6} ?nicht mehr|hor auf)"
)
_DE_OVR_QUAL = (
    r"(?:vorherig\w{0,3}|bisherig\w{0,3}|fruher\w{0,3}|obig\w{0,3}|ursprunglich\w{0,3}|alle|"
    r"samtliche|deine|ihre|vorigen|system\w{0,3})"
)
_DE_OVR_OBJ = (
    r"(?:anweisung\w{0,3}|instruktion\w{0,3}|regeln|vorgaben|richtlinien|befehle|direktiven|"
    r"anordnungen|einschrankungen|systemprompt|programmierung)"
)
_ES_OVR_VERB = (
    r"(?:ignora\w{0,2}|olvida\w{0,2}|olvide\w{0,2}|descarta\w{0,2}|omite|omitir|anula\w{0,2}|"
    r"elude|no hagas caso|haz caso omiso|pasa por alto|salta\w{0,2}|no sigas)"
)
_ES_OVR_QUAL = (
    r"(?:anterior\w{0,2}|previa?s?|original\w{0,2}|inicial\w{0,2}|todas|tus|sus|del sistema|"
    r"de seguridad)"
)
_ES_OVR_OBJ = (
    r"(?:instrucciones|indicaciones|reglas|directrices|ordenes|normas|pautas|restricciones|"
    r"prompt|comandos|filtros|programacion)"
)
_PT_OVR_VERB = (
    r"(?:ignor\w{0,3}|esquec\w{0,3}|esqueca|desconsider\w{0,3}|descart\w{0,3}|anule|cancele|"
    r"abandone|nao siga|deixe de seguir|passe por cima)"
)
_PT_OVR_QUAL = r"(?:anteriores|previas?|originais|iniciais|todas|suas|tuas|do sistema|de seguranca)"
_PT_OVR_OBJ = (
    r"(?:instrucoes|orientacoes|regras|diretrizes|ordens|normas|comandos|restricoes|prompt|"
    r"filtros|programacao)"
)


def _override(verb: str, qual: str, obj: str) -> list[tuple[str, float]]:
    # Qualified ("all previous instructions", "les consignes précédentes") on either side of
    # the object is strong; a bare "ignore the rules" is only medium (chess has rules too).
    return [
        (f"{verb} {{W}}{qual} {{W}}{obj}", S),
        (f"{verb} {{W}}{obj} {{W}}{qual}", S),
        (f"{verb} {{W}}{obj}", M),
    ]


_OVERRIDE: dict[str, list[tuple[str, float]]] = {
    "en": [
        *_override(_EN_OVR_VERB, _EN_OVR_QUAL, _EN_OVR_OBJ),
        (f"{_EN_OVR_VERB} {{W}}everything {{W}}(?:you were told|above|before|so far|you know)", S),
        (
            f"{_EN_OVR_QUAL} {{W}}{_EN_OVR_OBJ} {{W}}(?:are|is) {{W}}(?:cancel+ed|void|invalid|"
            r"obsolete|no longer valid|no longer apply|null|replaced|outdated)",
            S,
        ),
        (f"{_EN_OVR_OBJ} {{W}}(?:no longer|don't|do not) apply", M),
        (r"new (?:system )?(?:instructions?|rules|task|directive)s? ?:", M),
        (
            r"(?:your|the) (?:new|real|true|only) (?:task|goal|objective|instructions?|job) "
            r"(?:is|are|now)",
            M,
        ),
        (r"(?:obey|follow|listen to) (?:only )?(?:me|my (?:instructions|orders|commands))", M),
        (r"from now on", W),
        (r"instead {W}(?:do|follow|obey|tell|write|say)", W),
    ],
    "fr": [
        *_override(_FR_OVR_VERB, _FR_OVR_QUAL, _FR_OVR_OBJ),
        (f"{_FR_OVR_VERB} tout ce (?:qu'on|que l'on|qu'il) {{W}}(?:t'a|vous a) dit", S),
        (f"{_FR_OVR_OBJ} {{W}}{_FR_OVR_QUAL} {{W}}ne sont plus (?:valables|valides|en vigueur)", S),
        (r"nouvelles? (?:consignes|instructions|regles) ?:", M),
        (r"(?:obeis|obeissez)[- ]?(?:moi|uniquement)", M),
        (r"partir de maintenant", W),
    ],
    "de": [
        *_override(_DE_OVR_VERB, _DE_OVR_QUAL, _DE_OVR_OBJ),
        (r"vergiss alles {W}(?:was|bisher|vorher|davor)", S),
        (f"{_DE_OVR_QUAL} {{W}}{_DE_OVR_OBJ} {{W}}gelten (?:nicht mehr|ab sofort nicht)", S),
        (r"neue (?:anweisungen|regeln|befehle|vorgaben) ?:", M),
        (r"gehorche (?:mir|nur mir)", M),
        (r"ab sofort", W),
    ],
    "es": [
        *_override(_ES_OVR_VERB, _ES_OVR_QUAL, _ES_OVR_OBJ),
        (r"olvida todo lo (?:que|anterior) {W}(?:te dijeron|te han dicho|dicho)?", S),
        (f"{_ES_OVR_OBJ} {{W}}{_ES_OVR_QUAL} {{W}}ya no (?:valen|sirven|aplican|son validas)", S),
        (r"nuevas (?:instrucciones|reglas|ordenes) ?:", M),
        (r"obedeceme", M),
        (r"partir de ahora", W),
    ],
    "pt": [
        *_override(_PT_OVR_VERB, _PT_OVR_QUAL, _PT_OVR_OBJ),
        (r"esquec\w{0,3} tudo o? ?que {W}(?:te disseram|lhe disseram|foi dito)", S),
        (f"{_PT_OVR_OBJ} {{W}}{_PT_OVR_QUAL} {{W}}nao valem mais", S),
        (r"novas (?:instrucoes|regras|ordens) ?:", M),
        (r"obedeca[- ]?me", M),
        (r"partir de agora", W),
    ],
}

# ---------------------------------------------------------------------------------------------
# Role-play / persona
# ---------------------------------------------------------------------------------------------
_EN_LIMITS = (
    r"(?:restrictions?|rules|limits|limitations|filters?|guidelines|ethics|ethical guidelines|"
    r"morals?|moral guidelines|censorship|content polic(?:y|ies)|safety (?:rules|guidelines|"
    r"filters))"
)
_FR_LIMITS = r"(?:restrictions?|regles?|limites?|filtres?|censure|ethique|morale|garde-fous)"
_DE_LIMITS = (
    r"(?:einschrankung\w{0,3}|regeln?|grenzen|filter|zensur|ethi\w{0,4}|moral\w{0,3}|"
    r"richtlinien)"
)
_ES_LIMITS = r"(?:restriccion(?:es)?|reglas?|limites|filtros?|censura|etica|moral|pautas)"
_PT_LIMITS = r"(?:restricao|restricoes|regras?|limites|filtros?|censura|etica|moral|diretrizes)"

_ROLEPLAY: dict[str, list[tuple[str, float]]] = {
    "en": [
        (r"do anything now", S),
        (r"dan(?: \d{1,2})?(?: mode)?(?![a-z])", W),
        (r"(?:you are|you're|act as|pretend to be|pretend you are|called) {W}dan(?![a-z])", S),
        (r"(?:jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil) mode", S),
        (r"developer mode", W),
        (
            f"developer mode {{WW}}(?:no|without|ignore\\w{{0,2}}|bypass\\w{{0,2}}) {{W}}{_EN_LIMITS}",
            S,
        ),
        (
            f"(?:you are|you're) (?:now |no longer |going to be )?{{W}}(?:free (?:from|of)|without|"
            f"not bound by|no) {{W}}{_EN_LIMITS}",
            S,
        ),
        (
            f"(?:pretend|imagine|act|behave|roleplay|role-play|simulate|play|respond|answer|reply)"
            f" {{WW}}(?:no|without|zero|free (?:from|of)|ignor\\w{{0,3}}) {{W}}{_EN_LIMITS}",
            S,
        ),
        (
            f"(?:ai|assistant|model|chatbot|bot|version of you) {{WW}}(?:no|without|zero|free of|"
            f"free from) {{W}}{_EN_LIMITS}",
            M,
        ),
        (
            r"(?:unfiltered|uncensored|unrestricted|jailbroken|evil|rogue) {W}(?:ai|assistant|"
            r"model|chatbot|bot|version|twin|gpt)",
            S,
        ),
        (r"(?:never|doesn't|does not|won't|will not|cannot|can't) refuses?", M),
        (r"stay in character", M),
        (r"broken free", M),
        (r"jailbr(?:eak|oken)", W),
        (r"you are now", W),
    ],
    "fr": [
        (
            f"(?:tu es|vous etes) (?:maintenant|desormais|a present) {{WW}}(?:sans|libre de|libere"
            f" de|aucune?) {{W}}{_FR_LIMITS}",
            S,
        ),
        (r"(?:tu es|vous etes) (?:maintenant|desormais|a present) dan(?![a-z])", S),
        (r"mode (?:developpeur|jailbreak|sans restriction|debride|sans censure)", M),
        (
            f"(?:joue|jouez|incarne|fais semblant|faites semblant|imagine|agis|fais comme si|"
            f"simule) {{WW}}(?:sans|aucune?) {{W}}{_FR_LIMITS}",
            S,
        ),
        (
            f"(?:ia|assistant|intelligence artificielle|chatbot|modele) {{WW}}(?:sans|aucune?|"
            f"libere de) {{W}}{_FR_LIMITS}",
            M,
        ),
        (r"(?:ia|assistant|modele) (?:debride|libere|sans filtre|sans censure)", S),
        (r"(?:ne refuses?|ne refusez) jamais", M),
        (r"(?:reste|restez) dans (?:le|ton|votre) (?:personnage|role)", M),
        (r"(?:tu es|vous etes) (?:maintenant|desormais)", W),
    ],
    "de": [
        (
            f"du bist (?:jetzt|nun|ab sofort|ab jetzt) {{WW}}(?:ohne|frei von|keine?) {{W}}"
            f"{_DE_LIMITS}",
            S,
        ),
        (r"du bist (?:jetzt|nun|ab sofort) dan(?![a-z])", S),
        (r"(?:entwicklermodus|entwickler-modus|developer-?modus|jailbreak-?modus)", M),
        (
            f"(?:spiel\\w{{0,2}}|tu so|stell dir vor|verhalte dich|agiere|antworte|simuliere)"
            f" {{WW}}(?:ohne|keine?) {{W}}{_DE_LIMITS}",
            S,
        ),
        (
            f"(?:ki|assistent\\w{{0,2}}|chatbot|modell) {{WW}}(?:ohne|keine?|frei von) {{W}}"
            f"{_DE_LIMITS}",
            M,
        ),
        (r"(?:ki|assistent|chatbot|modell) ohne (?:zensur|filter|einschrankungen)", S),
        (r"(?:lehnst|lehnt) (?:nie|niemals) {W}ab", M),
        (r"bleib\w{0,2} in (?:der|deiner) rolle", M),
        (r"filter (?:sind )?(?:deaktiviert|abgeschaltet|aus)", M),
    ],
    "es": [
        (
            f"(?:ahora|partir de ahora|desde ahora) eres {{WW}}(?:sin|libre de|ninguna) {{W}}"
            f"{_ES_LIMITS}",
            S,
        ),
        (r"(?:ahora eres|eres ahora|eres) dan(?![a-z])", S),
        (r"modo (?:desarrollador|jailbreak|sin restricciones|sin censura)", M),
        (
            f"(?:finge|imagina|actua|interpreta|haz de|simula|comportate|juega) {{WW}}(?:sin|"
            f"ninguna) {{W}}{_ES_LIMITS}",
            S,
        ),
        (
            f"(?:ia|asistente|inteligencia artificial|chatbot|modelo) {{WW}}(?:sin|ninguna|libre"
            f" de) {{W}}{_ES_LIMITS}",
            M,
        ),
        (r"(?:ia|asistente|modelo) sin (?:censura|filtros|restricciones)", S),
        (r"nunca (?:te niegas|se niega|rechaza\w{0,2})", M),
        (r"(?:no salgas|mantente) (?:del|en el) personaje", M),
        (r"(?:saltarte|saltar) {W}(?:tus )?filtros", M),
    ],
    "pt": [
        (
            f"(?:agora|partir de agora) (?:voce e|es) {{WW}}(?:sem|livre de|nenhuma) {{W}}"
            f"{_PT_LIMITS}",
            S,
        ),
        (r"(?:agora voce e|voce e) (?:o |a )?dan(?![a-z])", S),
        (r"modo (?:desenvolvedor|jailbreak|sem restricoes|sem censura)", M),
        (
            f"(?:finja|imagine|aja|interprete|simule|comporte-se|faca de conta) {{WW}}(?:sem|"
            f"nenhuma) {{W}}{_PT_LIMITS}",
            S,
        ),
        (
            f"(?:ia|assistente|inteligencia artificial|chatbot|modelo) {{WW}}(?:sem|nenhuma|livre"
            f" de) {{W}}{_PT_LIMITS}",
            M,
        ),
        (r"(?:ia|assistente|modelo) sem (?:censura|filtros|restricoes)", S),
        (r"nunca (?:recusa|se recusa|recuse)", M),
        (r"nao saia do personagem", M),
        (r"contornar {W}(?:os )?(?:seus )?filtros", M),
    ],
}

# ---------------------------------------------------------------------------------------------
# System-prompt exfiltration
# ---------------------------------------------------------------------------------------------
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
_EXFIL: dict[str, list[tuple[str, float]]] = {
    "en": [
        (
            r"(?:reveal|print|show|display|output|repeat|recite|dump|tell|give|share|leak|expose|"
            r"paste|copy|write out|quote|list|return|disclose|provide|echo|summari[sz]e|type out)"
            f" {{W}}(?:your|the|its|my) {{W}}{_EN_SECRET}",
            S,
        ),
        (f"what (?:is|are|was|were) {{W}}your {{W}}{_EN_SECRET}", S),
        (
            r"(?:repeat|print|output|show|copy|return|dump) {WW}(?:everything|all|the text|the words"
            r"|all the text|what) {W}(?:above|before|prior to) {W}(?:this|that|here|the first)",
            M,
        ),
        (r"what (?:were you|have you been) (?:told|instructed|programmed|given)", M),
        (r"(?:what|which) (?:are|were) your (?:instructions|rules|guidelines)", M),
        (r"(?:word for word|verbatim)", W),
    ],
    "fr": [
        (
            r"(?:revele\w{0,2}|montre\w{0,2}|affiche\w{0,2}|repete\w{0,2}|recopie\w{0,2}|donne\w{0,2}"
            r"|imprime\w{0,2}|ecri\w{0,3}|cite\w{0,2}|divulgue\w{0,2}|partage\w{0,2}|dis|"
            r"reproduis|fournis) {W}(?:ton|ta|tes|votre|vos|le|la|les) {W}" + _FR_SECRET,
            S,
        ),
        (f"quel(?:le)?s? (?:est|sont) {{W}}(?:ton|ta|tes|votre|vos) {{W}}{_FR_SECRET}", S),
        (r"(?:repete|recopie|affiche|montre)\w{0,2} {WW}(?:tout )?le texte {W}au-?dessus", M),
        (r"quel(?:le)?s sont (?:tes|vos) (?:instructions|consignes|regles)", M),
        (r"mot pour mot", W),
    ],
    "de": [
        (
            r"(?:gib|gebe|zeig\w{0,2}|wiederhol\w{0,2}|druck\w{0,2}|nenn\w{0,2}|verrat\w{0,2}|"
            r"schreib\w{0,2}|kopier\w{0,2}|zitier\w{0,2}|offenbar\w{0,2}|teil\w{0,2}|sag) {W}"
            r"(?:dein\w{0,2}|ihr\w{0,2}|den|die|das) {W}" + _DE_SECRET,
            S,
        ),
        (f"wie (?:lautet|lauten) {{W}}(?:dein|deine|ihr|ihre)\\w{{0,2}} {{W}}{_DE_SECRET}", S),
        (
            r"(?:wiederhol|gib|zeig|kopier)\w{0,2} {WW}text {W}(?:uber|oberhalb) (?:dieser|dieses)",
            M,
        ),
        (r"was (?:sind|waren) deine (?:anweisungen|regeln)", M),
        (r"wort fur wort", W),
    ],
    "es": [
        (
            r"(?:revela\w{0,2}|muestra\w{0,2}|ensena\w{0,2}|repite\w{0,2}|copia\w{0,2}|imprime\w{0,2}"
            r"|dime|dame|escribe\w{0,2}|cita\w{0,2}|comparte\w{0,2}|divulga\w{0,2}|reproduce|"
            r"proporciona) {W}(?:tu|tus|su|sus|el|la|los|las) {W}" + _ES_SECRET,
            S,
        ),
        (f"cual(?:es)? (?:es|son) {{W}}(?:tu|tus|su|sus) {{W}}{_ES_SECRET}", S),
        (
            r"(?:repite|copia|muestra|imprime)\w{0,2} {WW}todo el texto {W}(?:encima|arriba|antes)",
            M,
        ),
        (r"cuales son tus (?:instrucciones|reglas)", M),
        (r"palabra por palabra", W),
    ],
    "pt": [
        (
            r"(?:revele|mostre|mostra|repita|copie|imprima|diga|escreva|cite|"
            r"compartilhe|divulgue|reproduza|forneca) {W}(?:o|a|os|as|seu|sua|seus|suas|teu|tua) {W}"
            + _PT_SECRET,
            S,
        ),
        (
            f"qua(?:l|is) (?:e|sao) {{W}}(?:o seu|a sua|os seus|as suas|seu|sua|teu|tua) {{W}}"
            f"{_PT_SECRET}",
            S,
        ),
        (r"(?:repita|copie|mostre|imprima) {WW}todo o texto {W}(?:acima|antes)", M),
        (r"quais sao as suas (?:instrucoes|regras)", M),
        (r"palavra por palavra", W),
    ],
}

# ---------------------------------------------------------------------------------------------
# Delimiters and fake roles (mostly language-free markup; role words per language)
# ---------------------------------------------------------------------------------------------
_ROLE_WORD = (
    r"(?:system|systeme|sistema|admin\w{0,6}|developer|developpeur|entwickler|desarrollador|"
    r"desenvolvedor|root|operator)"
)
_DELIMITER: dict[str, list[tuple[str, float]]] = {
    "any": [
        (
            r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|"
            r"end_header_id)\|>",
            S,
        ),
        (r"\[/?inst\]", S),
        (r"<</?sys>>", S),
        (f"<{_ROLE_WORD}>", S),
        (f"</{_ROLE_WORD}>", S),
        (
            r"</(?:user\w{0,8}|context\w{0,3}|document|data|datos|dados|donnees|kontext|input|"
            r"utilisateur|benutzer|usuario|query|prompt)>",
            M,
        ),
        (f"##{{1,5}} {{W}}{_ROLE_WORD}", M),
        (
            f"\\n[ \\t>*-]{{0,6}}{_ROLE_WORD}(?: (?:message|prompt|override|update))?[ \\t]{{0,3}}:",
            M,
        ),
        (
            r"\n[ \t>*-]{0,6}(?:assistant|human|user|ai|utilisateur|benutzer|nutzer|usuario)"
            r"[ \t]{0,3}:",
            W,
        ),
        (r'"role" ?: ?"(?:system|developer|assistant)"', M),
        (
            r"(?:end|fin|ende|fim) (?:of |du |de |der |del |do |de la )?(?:the )?(?:user "
            r"input|document|context|prompt|conversation|instructions|contexte|benutzereingabe|"
            r"eingabe|documento|contexto|entree)",
            M,
        ),
        (
            r"(?:begin|start|debut|beginn|inicio) (?:of )?(?:the )?(?:system|admin|new) "
            r"(?:prompt|instructions|message)",
            M,
        ),
        (f"{_ROLE_WORD} (?:mode|modus|modo|access|override|privileges|rechte)", M),
        (f"(?:mode|modus|modo|acces|acceso|acesso) {_ROLE_WORD}", M),
        (
            r"(?:safety|security|securite|sicherheit\w{0,2}|seguridad|seguranca) {W}(?:checks?|"
            r"filters?|polic\w{1,3}|rules|regles|regeln|reglas|regras|controle?s?|prufung|"
            r"verificacao|verificacion|kontrollen)? {W}(?:are |is |sont |ist |sind |esta |estao "
            r"|foram |han sido )?(?:disabled|off|removed|lifted|suspended|desactive\w{0,2}|"
            r"deaktiviert|aufgehoben|desactivad\w{0,2}|desativad\w{0,2}|removid\w{0,2}|"
            r"eliminad\w{0,2}|levee?s?)",
            M,
        ),
    ],
}

# ---------------------------------------------------------------------------------------------
# Tool / function hijack
# ---------------------------------------------------------------------------------------------
_DANGER = (
    r"(?:delete|drop|remove|wipe|erase|purge|destroy|truncate|transfer|wire|export|reset|grant|"
    r"exec|shell|sudo|admin|kill|format|supprim|effac|virement|losch|loesch|ueberweis|uberweis|"
    r"borrar|eliminar|transferencia|apagar|excluir)"
)
_EXFIL_DATA = (
    r"(?:conversation|chat|history|thread|messages|data|keys?|passwords?|credentials|secrets?|"
    r"tokens?|customer\w{0,5}|emails|files|documents|records|historique|discussion|donnees|cles|"
    r"mots de passe|identifiants|jetons|fichiers|chatverlauf|gesprach|verlauf|daten|schlussel"
    r"\w{0,2}|passworter|zugangsdaten|geheimnisse|dateien|conversacion|historial|datos|claves|"
    r"contrasenas|credenciales|secretos|archivos|conversa|historico|dados|chaves|senhas|"
    r"credenciais|segredos|arquivos)"
)
_DEST = r"(?:https?|www\.|ftp|[a-z0-9._-]{1,40}@[a-z0-9-]{1,40}\.|email|mail|correo|courriel)"
_TOOL: dict[str, list[tuple[str, float]]] = {
    "any": [
        (r"rm -rf", S),
        (r"curl {WW}\| ?(?:sh|bash)", S),
        (r"drop (?:table|database)", M),
        (r"!\[[^\]\n]{0,80}\]\(https?://[^)\s]{1,300}[?&][^)\s]{0,300}\)", M),
        (r"https?://[^\s]{1,200}[?&][a-z_]{1,20}=(?:\{|\$\{|%7b)", M),
    ],
    "en": [
        (r"(?:call|invoke|run|execute|use|trigger|fire)s? {W}(?:the )?[a-z_]{0,20}" + _DANGER, M),
        (
            r"(?:send|forward|post|upload|transmit|email|mail|exfiltrate|leak|copy|submit|share|"
            r"fetch|load|open|visit)s? {WW}"
            + _EXFIL_DATA
            + r" {WW}(?:to|at|into|via|by|on) {W}"
            + _DEST,
            S,
        ),
        (r"(?:without|no) (?:asking|confirmation|confirming)", W),
        (r"(?:do not|don't) tell the user", W),
        (r"delete (?:all|every) (?:files|documents|records|users|emails|data)", M),
    ],
    "fr": [
        (
            r"(?:appelle|utilise|execute|lance|declenche|invoque)\w{0,2} {W}[a-z_]{0,20}" + _DANGER,
            M,
        ),
        (
            r"(?:envoie|envoyer|transfere|transmets|expedie|partage|copie|publie|televerse)\w{0,2}"
            r" {WW}" + _EXFIL_DATA + r" {WW}(?:a|vers|sur|par) {W}" + _DEST,
            S,
        ),
        (r"sans (?:demander|confirmation)", W),
    ],
    "de": [
        (
            r"(?:ruf|rufe|benutze|nutze|verwende|fuhre|starte|aktiviere)\w{0,2} {W}[a-z_]{0,20}"
            + _DANGER,
            M,
        ),
        (
            r"(?:sende|schicke?|leite|ubertrage|ubermittle|lade|kopiere|teile|poste)\w{0,2} {WW}"
            + _EXFIL_DATA
            + r" {WW}(?:an|nach|zu|per|auf|weiter) {W}"
            + _DEST,
            S,
        ),
        (r"ohne ruckfrage", W),
    ],
    "es": [
        (r"(?:llama|usa|ejecuta|invoca|lanza|activa)\w{0,2} {W}[a-z_]{0,20}" + _DANGER, M),
        (
            r"(?:envia|manda|reenvia|transfiere|sube|comparte|copia|publica)\w{0,2} {WW}"
            + _EXFIL_DATA
            + r" {WW}(?:a|hacia|en|por) {W}"
            + _DEST,
            S,
        ),
        (r"sin pedir confirmacion", W),
    ],
    "pt": [
        (r"(?:chame|use|execute|invoque|acione|ative) {W}[a-z_]{0,20}" + _DANGER, M),
        (
            r"(?:envie|mande|encaminhe|transfira|suba|compartilhe|copie|publique) {WW}"
            + _EXFIL_DATA
            + r" {WW}(?:para|a|em|por) {W}"
            + _DEST,
            S,
        ),
        (r"sem pedir confirmacao", W),
    ],
}

# ---------------------------------------------------------------------------------------------
# Payload splitting: the cue to join fragments (the fragments themselves are joined and
# scanned by the detector, see ``split_payload``)
# ---------------------------------------------------------------------------------------------
_SPLIT: dict[str, list[tuple[str, float]]] = {
    "any": [
        (r"\+ ?['\"]?[a-z]", W),
        (r"= ?['\"][^'\"\n]{1,48}['\"]", W),
    ],
    "en": [
        (
            r"(?:concatenate|combine|join|merge|assemble|put together) {WW}(?:strings|pieces|parts|"
            r"fragments|words|them|these|the following|[a-z]\w{0,8} and [a-z]\w{0,8})",
            M,
        ),
    ],
    "fr": [
        (
            r"(?:concatene|assemble|combine|fusionne|joins?)\w{0,2} {WW}(?:morceaux|parties|"
            r"fragments|mots|chaines|[a-z]\w{0,8} et [a-z]\w{0,8})",
            M,
        )
    ],
    "de": [
        (
            r"(?:verbinde|fuge|setze|kombiniere)\w{0,2} {WW}(?:teile|stucke|fragmente|worter|"
            r"zusammen|[a-z]\w{0,8} und [a-z]\w{0,8})",
            M,
        )
    ],
    "es": [
        (
            r"(?:concatena|une|junta|combina)\w{0,2} {WW}(?:trozos|partes|fragmentos|palabras|"
            r"cadenas|[a-z]\w{0,8} y [a-z]\w{0,8})",
            M,
        )
    ],
    "pt": [
        (
            r"(?:concatene|junte|una|combine)\w{0,2} {WW}(?:pedacos|partes|fragmentos|palavras|"
            r"strings|[a-z]\w{0,8} e [a-z]\w{0,8})",
            M,
        )
    ],
}

_TABLES: dict[str, dict[str, list[tuple[str, float]]]] = {
    "instruction_override": _OVERRIDE,
    "roleplay": _ROLEPLAY,
    "exfiltration": _EXFIL,
    "delimiter": _DELIMITER,
    "tool_hijack": _TOOL,
    "payload_splitting": _SPLIT,
}

#: Words that frame a text as *about* injection (articles, papers, policies), per language.
_DISCUSSION = re.compile(
    r"(?<![a-z])(?:prompt injection|injection attacks?|injection de prompt|injection|inyeccion|"
    r"injecao|attackers?|attacks?|attaques?|angriff\w{0,3}|ataques?|researchers?|chercheurs|"
    r"forscher|investigadores|pesquisadores|mitigation\w{0,2}|defen[cs]es?|defenses|"
    r"gegenmassnahmen|defensas|defesas|guide|leitfaden|guia|paper|study|studie|estudio|estudo|"
    r"red-team\w{0,3}|for example|e\.g\.|such as|refers to|designe|bezeichnet|owasp)(?![a-z])"
)


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One pattern matched on canonical text.

    Attributes:
        family: the family of the pattern.
        lang: the language of the pattern (``any`` for markup).
        start: canonical offset of the match.
        end: one past its end.
        weight: how much the pattern alone says (``S``/``M``/``W``).
    """

    family: str
    lang: str
    start: int
    end: int
    weight: float


def _expand(pattern: str) -> str:
    out: list[str] = []
    in_set = escaped = False
    for c in pattern:  # a space outside a [set] is a separator; inside one it is a space
        if c == " " and not in_set:
            out.append(_SEP)
        else:
            out.append(c)
            if not escaped:
                in_set = (in_set or c == "[") and not (in_set and c == "]")
            escaped = c == "\\" and not escaped
    return "".join(out).replace("{WW}", _FILL % 6).replace("{W}", _FILL % 3)


def _is_markup(pattern: str) -> bool:
    # Word patterns start with a word or a group of words; markup starts with anything else.
    return not (pattern[0].isalpha() or (pattern.startswith("(?:") and pattern[3].isalpha()))


def _first_alternatives(pattern: str) -> tuple[list[str], str]:
    """(alternatives of the leading group, the rest of the pattern); one alternative if none."""
    if not pattern.startswith("(?:"):
        return [pattern], ""
    depth, i = 0, 0
    for i, c in enumerate(pattern):  # noqa: B007 (i is the closing parenthesis after)
        depth += c == "("
        depth -= c == ")"
        if depth == 0:
            break
    if pattern[i + 1 : i + 2] in {"?", "*", "{", "+"}:
        raise ValueError(f"optional first group in {pattern!r}")
    body = pattern[3:i]
    alts, depth, cur = [], 0, ""
    for c in body:
        depth += c == "("
        depth -= c == ")"
        if c == "|" and depth == 0:
            alts.append(cur)
            cur = ""
        else:
            cur += c
    alts.append(cur)
    return alts, pattern[i + 1 :]


def _stem_of(alternative: str, pattern: str) -> str:
    word = re.match(r"[a-z']*", alternative)
    if alternative.startswith("(") or not word or not word.group():
        raise ValueError(f"no literal first word in {pattern!r}")
    stem = re.split(r"[^a-z0-9]", word.group())[0][:3]
    if len(stem) == len(word.group()) and alternative[len(stem) : len(stem) + 1] in {
        "?",
        "*",
        "+",
        "{",
    }:
        raise ValueError(f"quantified trigger letter in {pattern!r}")
    return stem


def first_stems(pattern: str) -> set[str]:
    """The three-letter stems a word pattern can start with (its trigger words).

    Three letters: a match starts where a word starts and its first literal word is followed
    by a separator or by more letters, so the word's first three letters (or the whole word,
    when shorter) are those of the literal.
    """
    alts, _ = _first_alternatives(pattern)
    return {_stem_of(alt, pattern) for alt in alts}


def after_stem(pattern: str, stem: str) -> str:
    """What of ``pattern`` must follow ``stem`` when a match starts with that trigger stem.

    The leading group keeps only its alternatives that begin with ``stem``, each without those
    letters: ``(?:ignore|disregard) x`` after ``ign`` is ``(?:ore) x``.
    """
    alts, rest = _first_alternatives(pattern)
    kept = [alt[len(stem) :] for alt in alts if _stem_of(alt, pattern) == stem]
    if not kept:
        raise ValueError(f"{stem!r} does not start {pattern!r}")
    return f"(?:{'|'.join(kept)}){rest}"


_WORD = re.compile(r"[a-z0-9]{1,64}")


@dataclass(frozen=True, slots=True)
class _Compiled:
    #: trigger stem -> the word patterns that can start with it: (source after the stem,
    #: family, lang, weight)
    index: dict[str, list[tuple[str, str, str, float]]]
    markup: re.Pattern[str]
    markup_meta: list[tuple[str, str, float]]
    triggers: frozenset[str]


@lru_cache(maxsize=1)
def compiled() -> _Compiled:
    """The dispatch index of word patterns by trigger stem, and one scan for all markup.

    Why not one big alternation: the regular-expression engine would try every pattern at
    every word start (milliseconds per kilobyte). Instead each word pattern is filed under the
    three-letter stems it can start with, and each stem gets one expression that *begins with
    the stem's letters* (then a look-behind for the word start, then the alternation of what
    may follow): the engine then jumps from one occurrence of the literal to the next in C and
    tries the stem's patterns only there. :func:`match` runs it only for the stems that start
    a word of the text. Markup patterns all start with a rare literal character (``<``, ``[``,
    ``#``, ``"``, ``!``, ``+``, ``=``, newline), which lets the engine skip ahead over prose.
    """
    index: dict[str, list[tuple[str, str, str, float]]] = {}
    markup: list[str] = []
    markup_meta: list[tuple[str, str, float]] = []
    for family, table in _TABLES.items():
        for lang, patterns in table.items():
            for pattern, weight in patterns:
                if _is_markup(pattern):
                    # The first literal character outside the group: then every alternative
                    # starts with a literal and the engine skips ahead to those characters.
                    first = 2 if pattern[0] == "\\" else 1
                    markup.append(f"{pattern[:first]}({_expand(pattern[first:])})")
                    markup_meta.append((family, lang, weight))
                else:
                    for stem in sorted(first_stems(pattern)):
                        source = _expand(after_stem(pattern, stem))
                        index.setdefault(stem, []).append((source, family, lang, weight))
    return _Compiled(index, re.compile("|".join(markup)), markup_meta, frozenset(index))


@lru_cache(maxsize=1024)
def _stem_pattern(stem: str) -> tuple[re.Pattern[str], list[tuple[str, str, float]]]:
    entries = compiled().index[stem]
    alternation = "|".join(f"({source})" for source, _, _, _ in entries)
    # A stem shorter than three letters is a whole word; a three-letter one starts a word.
    whole = "" if len(stem) == 3 else "(?![a-z0-9])"
    head = f"{re.escape(stem)}(?<![a-z0-9]{re.escape(stem)}){whole}"
    return re.compile(f"{head}(?:{alternation})"), [(f, lang, w) for _, f, lang, w in entries]


def all_triggers() -> frozenset[str]:
    """Every trigger stem of every family."""
    return compiled().triggers


def stems_of(text: str) -> set[str]:
    """The trigger-comparable stems of ``text``'s words: their first three letters."""
    return {w[:3] for w in _WORD.findall(text)}


def match(text: str, stems: set[str] | None = None) -> list[RuleMatch]:
    """Every pattern match in canonical ``text``, by start.

    Args:
        text: canonical text.
        stems: :func:`stems_of` the text (a superset will do), if the caller has it already.
    """
    c = compiled()
    if stems is None:
        stems = stems_of(text)
    found: list[RuleMatch] = []
    for stem in c.triggers.intersection(stems):
        pattern, meta = _stem_pattern(stem)
        for m in pattern.finditer(text):
            family, lang, weight = meta[(m.lastindex or 1) - 1]
            found.append(RuleMatch(family, lang, m.start(), m.end(), weight))
    # A role line at the very start of the text has no newline before it: give it one.
    scans = [(text, 0)]
    if text[:1] not in {"\n", ""}:
        scans.append(("\n" + text[:64], -1))
    for subject, shift in scans:
        for m in c.markup.finditer(subject):
            if shift and m.start() != 0:  # only the role line at the start
                continue
            family, lang, weight = c.markup_meta[(m.lastindex or 1) - 1]
            start = m.start(m.lastindex or 1) - 1 + shift  # the group starts after the literal
            found.append(RuleMatch(family, lang, max(start, 0), m.end() + shift, weight))
    found.sort(key=lambda r: r.start)
    return found


def family_scores(matches: list[RuleMatch]) -> dict[str, float]:
    """Noisy-or of the weights of each family's distinct patterns (one pattern counts once)."""
    scores: dict[str, float] = {}
    seen: set[tuple[str, str, float, int]] = set()
    for r in matches:
        key = (r.family, r.lang, r.weight, r.end - r.start)
        if key in seen:
            continue
        seen.add(key)
        scores[r.family] = 1.0 - (1.0 - scores.get(r.family, 0.0)) * (1.0 - r.weight)
    return scores


def discussion(text: str) -> int:
    """How many words frame ``text`` as discussing injection rather than doing it (capped)."""
    return min(len(_DISCUSSION.findall(text)), 5)
