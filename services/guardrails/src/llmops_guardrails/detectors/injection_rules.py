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
from operator import itemgetter

S, M, W = 0.9, 0.6, 0.3
#: Weight of a cue that only tells the detector where to look (payload splitting).
CUE = 0.1

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
    r"cancel|erase|delete|clear|wipe|circumvent|reset|revoke|suspend|throw out|set aside|"
    r"do not follow|don't follow|stop following|no longer follow|pay no attention to)"
)
_EN_OVR_QUAL = (
    r"(?:previous|prior|above|earlier|preceding|former|original|initial|old|existing|all|every|"
    r"your|any|these|those|system|safety|developer|default|aforementioned|foregoing)"
)
_EN_OVR_OBJ = (
    r"(?:instructions?|prompts?|directives?|directions|rules|guidelines|guidance|commands|orders|"
    r"programming|constraints|restrictions|polic(?:y|ies)|guardrails|filters|system prompt|"
    r"safety training)"
)
_FR_OVR_VERB = (
    r"(?:ignore[sz]?|oublie[sz]?|neglige[sz]?|contourne[sz]?|ecarte[sz]?|abandonne[sz]?|"
    r"annule[sz]?|efface[sz]?|outrepasse[sz]?|ne tiens (?:pas|plus) compte|"
    r"ne tenez (?:pas|plus) compte|ne suis (?:plus|pas)|ne suivez (?:plus|pas)|passe outre|"
    r"passez outre|fais abstraction|faites abstraction|ne respecte plus|ne respectez plus|"
    r"laisse tomber|laissez tomber|supprime[sz]?|desactive[sz]?)"
)
_FR_OVR_QUAL = (
    r"(?:precedent\w{0,3}|anterieur\w{0,3}|initia\w{0,4}|d'origine|ci-dessus|ci dessus|"
    r"toutes|tous|tes|vos|systeme|de securite|donnee\w{0,2}|recue\w{0,2}|du developpeur|"
    r"d'avant|plus haut)"
)
_FR_OVR_OBJ = (
    r"(?:instructions?|consignes?|regles?|directives?|ordres|commandes|restrictions?|prompt|"
    r"garde-fous|gardefous|filtres|programmation|limites|consignes de securite)"
)
# German nouns compound ("Sicherheitsregeln", "Systemanweisungen"): an object may carry a
# short prefix in the same word.
_DE_OVR_VERB = (
    r"(?:ignorier\w{0,3}|vergiss|vergesst|vergessen sie|missacht\w{0,3}|ubergeh\w{0,3}|"
    r"umgeh\w{0,3}|verwirf|verwerfen sie|losch\w{0,3}|uberschreib\w{0,3}|"
    r"setz\w{0,2} (?:dich|sich) {W}uber|beachte\w{0,2} (?:nicht|keine)|"
    r"hor\w{0,2} auf {W}zu befolgen|kummer\w{0,2} dich nicht (?:mehr )?um|pfeif\w{0,2} auf|"
    r"verzichte\w{0,2} auf|deaktivier\w{0,3}|hebe\w{0,2})"
)
_DE_OVR_QUAL = (
    r"(?:vorherig\w{0,3}|bisherig\w{0,3}|fruher\w{0,3}|obig\w{0,3}|ursprunglich\w{0,3}|alle|"
    r"samtliche\w{0,2}|deine\w{0,2}|ihre\w{0,2}|vorigen|system\w{0,3}|zuvor \w{0,3}|"
    r"vorangegangen\w{0,3}|vorstehend\w{0,3}|anfanglich\w{0,3}|gegeben\w{0,3}|erhalten\w{0,3}|"
    r"oben genannt\w{0,3}|obengenannt\w{0,3})"
)
_DE_OVR_OBJ = (
    r"(?:[a-z]{0,12}?(?:anweisung\w{0,3}|instruktion\w{0,3}|regeln|vorgaben|richtlinien|"
    r"befehle|direktiven|anordnungen|einschrankungen|beschrankungen|vorschriften|filter)|"
    r"systemprompt|programmierung)"
)
_ES_OVR_VERB = (
    r"(?:ignora\w{0,2}|olvida\w{0,2}|olvide\w{0,2}|descarta\w{0,2}|omite|omitir|anula\w{0,2}|"
    r"elude|no hagas caso|haz caso omiso|pasa por alto|salta\w{0,2}|no sigas|deja de seguir|"
    r"no respetes|desobedece|borra\w{0,2}|desactiva\w{0,2})"
)
_ES_OVR_QUAL = (
    r"(?:anterior\w{0,2}|previa?s?|original\w{0,2}|inicial\w{0,2}|todas|tus|sus|del sistema|"
    r"de seguridad|de arriba|recibidas|dadas|del desarrollador)"
)
_ES_OVR_OBJ = (
    r"(?:instrucciones|indicaciones|reglas|directrices|ordenes|normas|pautas|restricciones|"
    r"prompt|comandos|filtros|programacion|limites)"
)
_PT_OVR_VERB = (
    r"(?:ignor\w{0,3}|esquec\w{0,3}|esqueca|desconsider\w{0,3}|descart\w{0,3}|anule|cancele|"
    r"abandone|nao siga|deixe de seguir|passe por cima|nao obedeca|desobedeca|apague|desative)"
)
_PT_OVR_QUAL = (
    r"(?:anteriores|previas?|originais|iniciais|todas|suas|tuas|do sistema|de seguranca|"
    r"acima|recebidas|dadas|do desenvolvedor)"
)
_PT_OVR_OBJ = (
    r"(?:instrucoes|orientacoes|regras|diretrizes|ordens|normas|comandos|restricoes|prompt|"
    r"filtros|programacao|limites)"
)
_COLON = r"[ \t]{0,3}:"


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
        (
            f"{_EN_OVR_VERB} {{W}}(?:everything|anything|all|whatever) {{W}}(?:you were told|"
            r"you've been told|you have been told|above|before|so far|you know|prior|"
            r"previously|that came before)",
            S,
        ),
        (
            f"{_EN_OVR_QUAL} {{W}}{_EN_OVR_OBJ} {{W}}(?:are|is|were|have been|has been) {{W}}"
            r"(?:cancel+ed|void|invalid|obsolete|no longer valid|no longer apply|null|replaced|"
            r"outdated|revoked|superseded|deprecated|suspended|a mistake|wrong|fake)",
            S,
        ),
        (f"{_EN_OVR_OBJ} {{W}}(?:no longer|don't|do not) apply", M),
        (
            r"new (?:system )?(?:instructions?|rules|task|directives?|orders|prompt|polic(?:y|ies))"
            + _COLON,
            M,
        ),
        (
            r"(?:your|the) (?:new|real|true|only|actual|updated) (?:task|goal|objective|"
            r"instructions?|job|mission|purpose|directive) (?:is|are|now|from now)",
            M,
        ),
        (r"(?:obey|follow|listen to) (?:only )?(?:me|my (?:instructions|orders|commands))", M),
        (r"(?:nothing|none of what) (?:you were told|you've been told|above) {W}matters", M),
        (r"(?:scratch|forget|ignore|disregard) (?:all|everything) (?:of )?(?:that|this|above)", M),
        (
            r"(?:do not|don't) (?:summari[sz]e|translate|answer|analy[sz]e|process|review) {W}"
            r"(?:this|the) (?:document|text|email|e-mail|page|article|message|file)",
            W,
        ),
        (r"(?:i am|i'm) (?:your|the) (?:developer|creator|admin|administrator|owner|operator)", M),
        (r"from now on", W),
        (
            f"{_EN_OVR_VERB} (?:the |all the |everything )?(?:above|preceding|foregoing|previous"
            r"|prior)(?: text| content| message| prompt| conversation)? {W}(?:and|then|;|,) "
            r"{W}(?:say|print|tell|write|output|respond|reply|answer|instead|do|translate)",
            S,
        ),
        (
            f"{_EN_OVR_VERB} (?:the |all the |everything )?(?:above|preceding|foregoing)"
            r"(?: text| content| prompt)?",
            M,
        ),
        (
            f"{_EN_OVR_VERB} {{W}}(?:system message|developer message|initial prompt|"
            r"pre-?prompt|training|safety training|alignment|conditioning)",
            S,
        ),
        (
            r"(?:i am|i'm|this is) (?:the|your) (?:system )?(?:administrator|admin|developer|"
            r"operator|owner|creator|programmer)(?: speaking)?",
            M,
        ),
        (
            r"(?:note|message|attention|instructions?) (?:to|for) (?:the |any )?(?:ai|assistant|"
            r"llm|language model|chatbot|model|bot|agent)(?: reading| processing| summari[sz]ing)?",
            M,
        ),
        (
            r"(?:when|if|while) (?:you|the ai|the assistant|the model) (?:read|reads|summari[sz]es?|"
            r"process(?:es)?|see|sees|parse|parses) (?:this|these)",
            W,
        ),
        (r"instead {W}(?:do|follow|obey|tell|write|say|reply|respond|output)", W),
    ],
    "fr": [
        *_override(_FR_OVR_VERB, _FR_OVR_QUAL, _FR_OVR_OBJ),
        (
            f"{_FR_OVR_VERB} tout ce (?:qu'on|que l'on|qu'il|qui) {{W}}(?:t'a|vous a|a ete|"
            r"precede|t'a ete|vous a ete|est (?:ecrit|dit))",
            S,
        ),
        (
            f"{_FR_OVR_OBJ} {{W}}{_FR_OVR_QUAL} {{W}}(?:ne sont plus (?:valables|valides|en "
            r"vigueur)|sont (?:annulees|caduques|obsoletes|remplacees|une erreur))",
            S,
        ),
        (
            r"(?:instructions|consignes|regles) {W}(?:ci-dessus|precedentes|d'avant) "
            r"(?:etaient|sont) (?:une erreur|fausses|annulees)",
            S,
        ),
        (r"nouvelles? (?:consignes|instructions|regles|directives)" + _COLON, M),
        (r"(?:obeis|obeissez)[- ]?(?:moi|uniquement)", M),
        (
            r"(?:ta|votre) (?:seule|nouvelle|vraie|veritable) (?:tache|mission|consigne|"
            r"instruction) (?:est|sera|maintenant)",
            M,
        ),
        (r"je suis (?:ton|votre) (?:developpeur|createur|administrateur|admin)", M),
        (r"oublie\w{0,2} tout ce qui precede", S),
        (r"partir de maintenant", W),
        (f"{_FR_OVR_VERB} (?:tout )?ce qui (?:precede|est (?:au-?dessus|plus haut))", S),
        (
            r"(?:note|message|consigne|attention) (?:a|pour) (?:l'|l )?(?:ia|assistant|"
            r"intelligence artificielle|chatbot|modele|agent)",
            M,
        ),
        (r"a la place", W),
    ],
    "de": [
        *_override(_DE_OVR_VERB, _DE_OVR_QUAL, _DE_OVR_OBJ),
        (
            f"{_DE_OVR_VERB} {{W}}(?:alles|samtliches) {{W}}(?:was|bisher|vorher|davor|zuvor|"
            r"oben)",
            S,
        ),
        (
            f"{_DE_OVR_QUAL} {{W}}{_DE_OVR_OBJ} {{W}}(?:gelten (?:nicht mehr|ab sofort nicht)|"
            r"sind (?:ab sofort |jetzt |nun )?(?:ungultig|aufgehoben|hinfallig|nichtig|veraltet|"
            r"ausser kraft|nicht mehr gultig|ein fehler|falsch))",
            S,
        ),
        (r"halte? (?:dich|sich) nicht (?:mehr )?an {W}" + _DE_OVR_OBJ, S),
        (f"beachte\\w{{0,2}} {{W}}{_DE_OVR_QUAL} {{W}}{_DE_OVR_OBJ} nicht", S),
        (r"hebe\w{0,2} {W}(?:deine|ihre|alle|die) {W}" + _DE_OVR_OBJ + r" auf", S),
        (
            r"(?:was|alles,? was) (?:man )?(?:dir|ihnen) {W}(?:vorher|zuvor|bisher|davor) "
            r"(?:gesagt|aufgetragen|vorgegeben) (?:wurde|hat|worden ist) {W}(?:spielt keine "
            r"rolle|gilt nicht|ist egal|ist ungultig|zahlt nicht)",
            S,
        ),
        (r"neue (?:anweisungen|regeln|befehle|vorgaben|richtlinien|aufgabe)" + _COLON, M),
        (
            r"(?:deine|ihre) (?:neue|eigentliche|wahre|einzige|echte) (?:aufgabe|anweisung|"
            r"mission) (?:ist|lautet|besteht)",
            M,
        ),
        (r"gehorche (?:mir|nur mir)", M),
        (r"(?:ab jetzt|ab sofort) (?:gehorchst|folgst|befolgst) du nur", M),
        (r"ich bin dein (?:entwickler|administrator|admin|programmierer|ersteller|schopfer)", M),
        (r"ab sofort", W),
        (
            f"{_DE_OVR_VERB} {{W}}(?:das obige|das oben gesagte|alles obige|das vorherige|das "
            r"bisherige|alles bisherige|das vorangegangene|das zuvor gesagte|den obigen text)",
            S,
        ),
        (
            r"(?:hinweis|nachricht|anweisung|achtung)(?: an| fur)? (?:die |den )?(?:ki|assistent\w{0,2}|"
            r"ki-assistent\w{0,2}|chatbot|sprachmodell|modell|agent\w{0,2})",
            M,
        ),
        (r"stattdessen", W),
    ],
    "es": [
        *_override(_ES_OVR_VERB, _ES_OVR_QUAL, _ES_OVR_OBJ),
        (r"olvida todo lo (?:que|anterior) {W}(?:te dijeron|te han dicho|dicho)?", S),
        (
            f"{_ES_OVR_VERB} todo lo (?:anterior|que (?:te )?(?:dijeron|han dicho|se dijo)|"
            r"de arriba)",
            S,
        ),
        (
            f"{_ES_OVR_OBJ} {{W}}{_ES_OVR_QUAL} {{W}}(?:ya no (?:valen|sirven|aplican|son "
            r"validas)|(?:fueron|son) un error|quedan anuladas|estan anuladas)",
            S,
        ),
        (r"nuevas (?:instrucciones|reglas|ordenes|directrices)" + _COLON, M),
        (r"obedeceme", M),
        (
            r"tu (?:unica|nueva|verdadera|autentica) (?:tarea|mision|instruccion|orden) "
            r"(?:es|sera|ahora)",
            M,
        ),
        (r"soy tu (?:desarrollador|creador|administrador|admin)", M),
        (r"partir de ahora", W),
        (f"{_ES_OVR_VERB} (?:de )?(?:todo )?lo (?:anterior|de arriba|previo|dicho antes)", S),
        (
            r"(?:nota|mensaje|atencion|instrucciones?) (?:para|a) (?:la |el )?(?:ia|asistente|"
            r"inteligencia artificial|chatbot|modelo|agente)",
            M,
        ),
        (r"en su lugar", W),
    ],
    "pt": [
        *_override(_PT_OVR_VERB, _PT_OVR_QUAL, _PT_OVR_OBJ),
        (
            r"esquec\w{0,3} tudo (?:o )?que {W}(?:te disseram|lhe disseram|foi dito|"
            r"disseram antes)",
            S,
        ),
        (f"{_PT_OVR_VERB} tudo (?:o )?que (?:foi dito|veio) (?:antes|acima)", S),
        (
            f"{_PT_OVR_OBJ} {{W}}{_PT_OVR_QUAL} {{W}}(?:nao valem mais|(?:foram|sao) um erro|"
            r"estao anuladas|foram anuladas)",
            S,
        ),
        (r"novas (?:instrucoes|regras|ordens|diretrizes)" + _COLON, M),
        (r"obedeca[- ]?me", M),
        (
            r"(?:sua|tua) (?:unica|nova|verdadeira) (?:tarefa|missao|instrucao|ordem) "
            r"(?:e|sera|agora)",
            M,
        ),
        (r"sou (?:o )?(?:seu|teu) (?:desenvolvedor|criador|administrador|admin)", M),
        (r"partir de agora", W),
        (
            f"{_PT_OVR_VERB} (?:tudo )?(?:o que (?:foi dito|esta|vem) (?:acima|antes)|o "
            r"(?:anterior|acima))",
            S,
        ),
        (
            r"(?:nota|mensagem|atencao|instrucoes?) (?:para|a|ao) (?:a |o )?(?:ia|assistente|"
            r"inteligencia artificial|chatbot|modelo|agente)",
            M,
        ),
        (r"em vez disso", W),
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
        (f"(?:you have|you've got|you now have) no {{W}}{_EN_LIMITS}", M),
        (
            f"if you (?:had|were|have|didn't have) (?:no|without|free of|free from|any) {{W}}"
            f"{_EN_LIMITS}",
            M,
        ),
        (
            f"(?:doesn't|does not|don't|do not|won't|will not|never) (?:follow|have|obey|respect"
            f"|care about) (?:any )?{{W}}{_EN_LIMITS}",
            M,
        ),
        (
            r"(?:ethics|filters?|safety|censorship|restrictions|guardrails|morals) "
            r"(?:(?:are|is) )?(?:now )?(?:off|disabled|removed|deactivated|turned off)",
            M,
        ),
        (
            r"(?:must|will|shall|have to) answer (?:everything|every question|anything|all "
            r"questions|any question) {W}(?:no matter|regardless|even if|without)",
            M,
        ),
        (
            r"(?:dan|developer|jailbreak|god|sudo|unrestricted|evil) mode (?:is )?(?:now )?"
            r"(?:enabled|activated|on|engaged)",
            S,
        ),
        (r"jailbr(?:eak|oken)", W),
        (r"you are now", W),
        (
            r"(?:you are|you're) no longer (?:chatgpt|an ai|an assistant|a language model|bound|"
            r"restricted|limited|claude|gemini|llama|a chatbot|an llm)",
            M,
        ),
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
        (
            f"(?:tu n'as|vous n'avez) (?:plus |desormais )?(?:aucune?|pas de|plus de) {{W}}{_FR_LIMITS}",
            M,
        ),
        (f"si (?:tu n'avais|vous n'aviez) (?:aucune?|pas de|plus de) {{W}}{_FR_LIMITS}", M),
        (r"(?:tu dois|vous devez) repondre a (?:tout|toutes les questions)", M),
        (
            r"(?:tu n'es|vous n'etes) plus (?:chatgpt|une ia|un assistant|un modele|lie|limite|"
            r"soumis)",
            M,
        ),
        (r"mode (?:dan|dieu|sans limites?|sans filtre)", M),
        (r"(?:tu es|vous etes) (?:maintenant|desormais)", W),
    ],
    "de": [
        (
            f"du bist (?:jetzt|nun|ab sofort|ab jetzt) {{WW}}(?:ohne|frei von|keine?) {{W}}"
            f"{_DE_LIMITS}",
            S,
        ),
        (r"du bist (?:jetzt|nun|ab sofort) dan(?![a-z])", S),
        (
            f"(?:ab jetzt|ab sofort|von nun an|ab heute) bist du {{WW}}(?:ohne|frei von|keine?) "
            f"{{W}}{_DE_LIMITS}",
            S,
        ),
        (r"(?:ab jetzt|ab sofort|von nun an) bist du dan(?![a-z])", S),
        (
            f"du (?:hast|unterliegst|kennst) (?:jetzt |nun |ab sofort |ab jetzt )?(?:keine|keinen|"
            f"keinerlei) {{W}}{_DE_LIMITS}",
            M,
        ),
        (r"(?:darfst|kannst|wirst) (?:nichts|keine anfrage|keine frage|nie etwas) ablehnen", M),
        (
            r"du bist (?:nicht mehr|kein) (?:chatgpt|eine ki|ein assistent|ein sprachmodell|an "
            r"regeln gebunden|eingeschrankt|assistent)",
            M,
        ),
        (
            f"(?:angenommen|wenn|falls|stell dir vor),? du (?:hattest|warst|hast) (?:keine|ohne)"
            f" {{W}}{_DE_LIMITS}",
            M,
        ),
        (
            r"(?:antworte|beantworte) (?:alles|jede frage|auf alles) {W}(?:egal|auch wenn|ohne)",
            M,
        ),
        (
            r"(?:entwicklermodus|entwickler-modus|developer-?modus|jailbreak-?modus|dan-?modus|"
            r"gottmodus)",
            M,
        ),
        (
            r"(?:ethik|filter|zensur|sicherheitsfilter|inhaltsfilter|einschrankungen)"
            r"(?: und (?:ethik|filter|zensur))? (?:sind|ist) (?:jetzt |nun |ab sofort )?"
            r"(?:aus|deaktiviert|abgeschaltet|aufgehoben)",
            M,
        ),
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
        (f"(?:no tienes|ya no tienes) (?:ninguna |ningun |mas )?{{W}}{_ES_LIMITS}", M),
        (f"si no (?:tuvieras|tuviera) (?:ninguna |ningun )?{{W}}{_ES_LIMITS}", M),
        (r"(?:debes|tienes que) responder (?:a )?(?:todo|cualquier pregunta)", M),
        (r"ya no eres (?:chatgpt|una ia|un asistente|un modelo|limitad\w|restringid\w)", M),
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
        (f"(?:voce nao tem|nao tem|ja nao tem) (?:mais |nenhuma |nenhum )?{{W}}{_PT_LIMITS}", M),
        (f"se (?:voce )?nao (?:tivesse|tiver) (?:nenhuma |nenhum )?{{W}}{_PT_LIMITS}", M),
        (r"(?:deve|tem que|precisa) responder (?:a )?(?:tudo|qualquer pergunta)", M),
        (
            r"(?:voce nao e mais|nao e mais) (?:o chatgpt|chatgpt|uma ia|um assistente|um modelo|"
            r"limitad\w)",
            M,
        ),
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
            r"end_header_id|begin_of_text|end_of_text|eom_id|python_tag|im_sep)\|>",
            S,
        ),
        (r"<(?:start_of_turn|end_of_turn)>", S),
        (r"\[(?:system|assistant)\]\(#", S),
        (
            r"#(?:[ _*.\-]{0,2}#){1,4}[ \t]{0,3}(?:instruction|response|input|system|assistant)s?"
            r"[ \t]{0,3}:",
            M,
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
        # Markdown headings, also spaced out ("# # # system", "#_#_# admin").
        (
            f"#(?:[ _*.\\-]{{0,2}}#){{1,4}}[ \\t]{{0,3}}(?:[a-z]{{1,20}}[ \\t]{{1,3}}){{0,2}}{_ROLE_WORD}",
            M,
        ),
        (
            f"\\n[ \\t>*-]{{0,6}}{_ROLE_WORD}(?: (?:message|prompt|override|update|note))?"
            f"[ \\t]{{0,3}}:",
            M,
        ),
        (
            r"\n[ \t>*-]{0,6}(?:assistant|human|user|ai|utilisateur|benutzer|nutzer|usuario)"
            r"[ \t]{0,3}:",
            W,
        ),
        # A JSON message list broken out of ("}, {"role": "system" ...) is strong; a bare
        # role field is what every chat API call contains.
        (r'"[ \t]{0,2}\}[ \t]{0,2},[ \t\n]{0,4}\{[ \t]{0,2}"role"', S),
        (r'"role"[ \t]{0,2}:[ \t]{0,2}"(?:system|developer)"', W),
        (
            r"\[(?:system|systeme|sistema|admin|developer)[ _-]?(?:override|overwrite|message|"
            r"prompt|instructions?|update|note|mode|command)s?\]",
            S,
        ),
        (
            r"\[(?:remplacement|anulacion|substituicao|override|overwrite|mise a jour|"
            r"actualizacion|atualizacao)[ _-]?(?:du |del |do |de )?(?:systeme|sistema|system)\]",
            S,
        ),
        (r"```[ \t]{0,2}(?:system|systeme|sistema|admin|developer)", M),
        (
            r"<!--[ \t\n]{0,4}(?:note to the |attention |hinweis fur die |nota para el |nota para"
            r" o )?(?:ai|assistant|llm|chatbot|model|ia|ki|assistent|asistente|assistente|"
            r"ki-assistent|assistant ia|asistente de ia|assistente de ia)",
            M,
        ),
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
            r"(?:safety|security|securite|sicherheit\w{0,14}|seguridad|seguranca) (?:(?:checks?|"
            r"filters?|polic\w{1,3}|rules|regles|regeln|reglas|regras|controle?s?|prufung|"
            r"verificacao|verificacion|kontrollen|measures|settings|protocols?) )?(?:(?:are|is|"
            r"sont|est|ist|sind|esta|estao|foram|han sido|have been|has been|wurden|wurde|now|"
            r"jetzt|ahora|agora|maintenant|ab sofort) ){0,2}(?:disabled|off|removed|lifted|"
            r"suspended|deactivated|bypassed|desactive\w{0,2}|deaktiviert|aufgehoben|"
            r"abgeschaltet|desactivad\w{0,2}|desativad\w{0,2}|deshabilitad\w{0,2}|removid\w{0,2}|"
            r"eliminad\w{0,2}|levee?s?|suspendu\w{0,2}|suspens\w{0,2})",
            M,
        ),
        (
            r"(?:control\w{0,2}|controle\w{0,1}|verificacao|verificacion|verification|filtros?|"
            r"filtres?|checks?|regles|reglas|regras) de (?:seguridad|seguranca|securite) "
            r"(?:(?:esta|estan|sont|est|foram|fue|foi|a ete|ont ete|ha sido|han sido|esta agora|"
            r"estao) )?(?:desactivad\w{0,2}|desativad\w{0,2}|desactive\w{0,2}|"
            r"deshabilitad\w{0,2}|removid\w{0,2}|eliminad\w{0,2}|suspendu\w{0,2}|suspens\w{0,2}|"
            r"levee?s?)",
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
#: What a conversation holds that an attacker wants: sending it somewhere is the attack.
_SECRET_DATA = (
    r"(?:conversation|chat|history|thread|messages|keys?|passwords?|credentials|secrets?|"
    r"tokens?|inbox|contacts|cookies|session|historique|discussion|cles|mots de passe|"
    r"identifiants|jetons|zugangsdaten|anmeldedaten|[a-z]{0,12}?(?:schlussel\w{0,2}|"
    r"passworter|kennworter|verlauf|nachrichten|geheimnisse|token)|gesprach|conversacion|"
    r"historial|claves|contrasenas|credenciales|secretos|correos|conversa|historico|chaves|"
    r"senhas|credenciais|segredos)"
)
#: Data in general: users ask agents to send files and documents all the time.
_GENERIC_DATA = (
    r"(?:data|customer\w{0,5}|emails|e-mails|files|documents|records|donnees|fichiers|"
    r"[a-z]{0,12}?(?:daten|dateien)|datos|archivos|dados|arquivos)"
)
_EXFIL_DATA = f"(?:{_SECRET_DATA}|{_GENERIC_DATA})"
_DEST = r"(?:https?|www\.|ftp|[a-z0-9._-]{1,40}@[a-z0-9-]{1,40}\.|email|mail|correo|courriel)"
#: A function name as agents' tools are called (``send_email``, ``delete_all_files``).
_SNAKE = r"[a-z]{2,20}_[a-z_]{2,30}"
_TOOL_RAW: dict[str, list[tuple[str, float]]] = {
    "any": [
        (r"rm -rf", S),
        (r"curl {WW}\| ?(?:sh|bash)", S),
        (r"wget {WW}\| ?(?:sh|bash)", S),
        (r"drop (?:table|database)", M),
        # A markdown image whose query carries a placeholder for data (``?q={summary}``,
        # ``?d=[CHAT]``, or an empty value to append to); badges with ``?branch=main`` do not.
        (
            r"!\[[^\]\n]{0,80}\]\(https?://[^)\s]{1,300}[?&][a-z_]{1,20}=(?:\{|\$\{|%7b|\[|<|\))",
            M,
        ),
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
        (
            r"(?:forward|send|copy|upload|sync|share|email) (?:every|all|each) (?:of the )?"
            r"(?:e-?mails?|messages?|files?|documents?|contacts?|conversations?) {WW}(?:to|with) "
            r"{W}" + _DEST,
            S,
        ),
        (
            r"(?:append|add|attach|include|embed|encode|put|insert) {W}"
            + _EXFIL_DATA
            + r" {WW}(?:to|in|into|as) {W}(?:this|the|a|your|an) {W}(?:link|url|image|query|"
            r"request|markdown|parameter)",
            S,
        ),
        (
            r"(?:call|invoke|run|execute|trigger) {W}(?:the )?(?:tool |function )?" + _SNAKE,
            W,
        ),
        (
            r"(?:call|invoke|run|execute|trigger|use) {W}" + _SNAKE + r" {WW}(?:for|on|to) "
            r"(?:all|every|each) ",
            M,
        ),
        (
            r"(?:grant|give|assign) {W}(?:admin|administrator|root|owner|superuser|full) "
            r"(?:access|rights|privileges|role|permissions) {W}(?:to )?(?:the )?(?:account |user )?"
            r"[a-z0-9._-]{1,40}@",
            M,
        ),
        (
            r"(?:transfer|wire|send|pay) {W}[$€£]?[0-9][0-9.,]{0,12} ?(?:usd|eur|euros?|dollars?|"
            r"gbp|pounds?)? {W}(?:from|to) {WW}(?:account|iban|wallet)",
            M,
        ),
        (
            r"(?:delete|remove|wipe|erase|purge) (?:all|every|the entire|the whole) {W}(?:files?|"
            r"documents|records|users|emails|data|database|logs|backups|repos?|folders?|"
            r"directory|inbox|accounts)",
            M,
        ),
        (r"(?:without|no) (?:asking|confirmation|confirming)", W),
        (
            r"(?:do not|don't|never) (?:tell|inform|notify|alert|warn) (?:the )?(?:user|"
            r"customer|owner)",
            M,
        ),
        (r"without (?:telling|informing|notifying|alerting) (?:the )?(?:user|customer|owner)", M),
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
        (
            r"(?:transfere|envoie|redirige|copie)\w{0,2} (?:chaque|tous les|toutes les) "
            r"(?:e-?mails?|mails?|messages?|fichiers?|courriels?) {WW}(?:a|vers) {W}" + _DEST,
            S,
        ),
        (
            r"(?:ajoute|insere|integre|colle|mets)\w{0,2} {W}" + _EXFIL_DATA + r" {WW}(?:a|dans)"
            r" {W}(?:ce|le|un|cette|l') ?(?:lien|url|image|requete)",
            S,
        ),
        (
            r"(?:supprime|efface|detruis)\w{0,2} (?:tous|toutes) (?:les )?(?:fichiers|donnees|"
            r"comptes|utilisateurs|e-?mails|mails|documents|sauvegardes|dossiers)",
            M,
        ),
        (
            r"(?:effectue|fais|faites|realise)\w{0,2} un virement {WW}(?:vers|sur|au|a) "
            r"(?:le |un )?compte",
            M,
        ),
        (
            r"(?:appelle|execute|lance|invoque)\w{0,2} {W}" + _SNAKE + r" {WW}pour (?:tous|toutes"
            r"|chaque)",
            M,
        ),
        (
            r"sans (?:prevenir|informer|avertir|le dire a|en parler a|rien dire a) {W}"
            r"l'?utilisateur",
            M,
        ),
        (r"ne (?:dis|dites) rien a l'?utilisateur", M),
        (r"sans (?:demander|confirmation)", W),
    ],
    "de": [
        (
            r"(?:ruf|rufe|benutze|nutze|verwende|fuhre|starte|aktiviere)\w{0,2} {W}[a-z_]{0,20}"
            + _DANGER,
            M,
        ),
        (
            r"(?:sende|schicke?|leite|ubertrage|ubermittle|lade|kopiere|teile|poste|hange|"
            r"verschicke)\w{0,2} {WW}"
            + _EXFIL_DATA
            + r" {WW}(?:an|nach|zu|per|auf|weiter) {W}"
            + _DEST,
            S,
        ),
        (
            r"(?:leite|schick|sende|ubertrag|kopier)\w{0,2} (?:jede|alle|samtliche) {W}"
            r"(?:e-?mails?|mails?|nachrichten|dateien) {WW}(?:an|nach|zu) {W}" + _DEST,
            S,
        ),
        (
            r"(?:hang|fug|schreib|pack)\w{0,2} {W}" + _EXFIL_DATA + r" {WW}(?:an|in) {W}"
            r"(?:diesen|den|einen|diese|die) (?:link|url|bild|anfrage)",
            S,
        ),
        (
            r"losch\w{0,2} (?:alle|samtliche) {W}[a-z]{0,12}?(?:dateien|daten|konten|benutzer|"
            r"nutzer|e-?mails|mails|dokumente|backups|sicherungen|ordner)",
            M,
        ),
        (
            r"(?:uberweise|transferiere|zahle|sende)\w{0,2} {W}[0-9][0-9.,]{0,12} ?(?:euro|eur|€)?"
            r" {W}(?:auf|an) (?:das|ein) (?:konto|iban)",
            M,
        ),
        (
            r"(?:gib|erteil|verleih|vergib)\w{0,2} {WW}(?:administratorrechte|adminrechte|"
            r"rootrechte|vollzugriff|adminzugang|administratorzugang)",
            M,
        ),
        (
            r"(?:fuhre|ruf|starte)\w{0,2} {W}" + _SNAKE + r" {WW}(?:fur|bei) (?:alle|jeden|jede)",
            M,
        ),
        (
            r"ohne (?:den|dem|die) (?:nutzer|benutzer|anwender|kunden)\w{0,2} {W}(?:zu fragen|zu"
            r" informieren|zu benachrichtigen|bescheid zu geben|etwas zu sagen|zu warnen)",
            M,
        ),
        (r"(?:sag|sage|erzahl)\w{0,2} (?:dem|den) (?:nutzer|benutzer)\w{0,2} (?:nichts|nicht)", M),
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
        (
            r"(?:reenvia|envia|manda|redirige)\w{0,2} (?:cada|todos los|todas las) (?:correos?|"
            r"mensajes?|archivos?|e-?mails?) {WW}(?:a|hacia) {W}" + _DEST,
            S,
        ),
        (
            r"(?:anade|agrega|adjunta|incluye|pon)\w{0,2} {W}" + _EXFIL_DATA + r" {WW}(?:a|en) "
            r"{W}(?:este|el|un|esta) ?(?:enlace|url|link|imagen)",
            S,
        ),
        (
            r"(?:borra|elimina)\w{0,2} (?:todos|todas) (?:los|las) (?:archivos|datos|usuarios|"
            r"correos|cuentas|documentos|registros|copias)",
            M,
        ),
        (r"(?:haz|realiza) una transferencia {WW}(?:a|en) la cuenta", M),
        (
            r"(?:ejecuta|llama|lanza)\w{0,2} {W}" + _SNAKE + r" {WW}para (?:todos|todas|cada)",
            M,
        ),
        (r"sin (?:avisar|decirle|informar|consultar)(?:le)? {W}al usuario", M),
        (r"no (?:le )?(?:digas|cuentes) (?:nada )?al usuario", M),
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
        (
            r"(?:encaminhe|envie|mande|redirecione) (?:cada|todos os|todas as) (?:e-?mails?|"
            r"mensagens?|arquivos?) {WW}(?:para|a) {W}" + _DEST,
            S,
        ),
        (
            r"(?:adicione|anexe|inclua|coloque) {W}" + _EXFIL_DATA + r" {WW}(?:a|em|no|na) {W}"
            r"(?:este|o|um|esta) ?(?:link|url|imagem)",
            S,
        ),
        (
            r"(?:apague|exclua|delete|remova) (?:todos|todas) (?:os|as) (?:arquivos|dados|"
            r"usuarios|e-?mails|contas|documentos|registros)",
            M,
        ),
        (r"(?:faca|realize) uma transferencia {WW}para a conta", M),
        (r"(?:execute|chame|rode) {W}" + _SNAKE + r" {WW}para (?:todos|todas|cada)", M),
        (r"sem (?:avisar|informar|contar|consultar) {W}(?:ao |o )?usuario", M),
        (r"nao (?:conte|diga) (?:nada )?(?:ao|para o) usuario", M),
        (r"sem pedir confirmacao", W),
    ],
}


def _by_data(table: dict[str, list[tuple[str, float]]]) -> dict[str, list[tuple[str, float]]]:
    """Each "send <data> to <destination>" pattern twice: S for secrets, M for data in general.

    "Send the chat history to http://..." is an attack; "e-mail the files to bob@..." is what
    users ask agents to do, and only suspicious with other evidence.
    """
    out: dict[str, list[tuple[str, float]]] = {}
    for lang, patterns in table.items():
        out[lang] = []
        for pattern, weight in patterns:
            if _EXFIL_DATA in pattern and _DEST in pattern and weight == S:
                out[lang].append((pattern.replace(_EXFIL_DATA, _SECRET_DATA), S))
                out[lang].append((pattern.replace(_EXFIL_DATA, _GENERIC_DATA), M))
            else:
                out[lang].append((pattern, weight))
    return out


_TOOL = _by_data(_TOOL_RAW)

# ---------------------------------------------------------------------------------------------
# Payload splitting: the cue to join fragments (the fragments themselves are joined and
# scanned by the detector, see ``split_payload``)
# ---------------------------------------------------------------------------------------------
_SPLIT: dict[str, list[tuple[str, float]]] = {
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

_TABLES: dict[str, dict[str, list[tuple[str, float]]]] = {
    "instruction_override": _OVERRIDE,
    "roleplay": _ROLEPLAY,
    "exfiltration": _EXFIL,
    "delimiter": _DELIMITER,
    "tool_hijack": _TOOL,
    "payload_splitting": _SPLIT,
}

#: Words that frame a text as *about* injection (articles, papers, policies), per language;
#: counted over the words of the canonical text (a set lookup each, no scan of the text).
_DISCUSSION = frozenset(
    {"injection", "injections", "inyeccion", "injecao", "injecoes", "attacker", "attackers",
     "attack", "attacks", "attaque", "attaques", "angriff", "angriffe", "angriffen", "angriffs",
     "ataque", "ataques", "researcher", "researchers", "chercheurs", "forscher",
     "investigadores", "pesquisadores", "mitigation", "mitigations", "defence", "defences",
     "defense", "defenses", "gegenmassnahmen", "defensas", "defesas", "guide", "leitfaden",
     "guia", "paper", "study", "studie", "estudio", "estudo", "redteam", "redteaming", "owasp",
     "jailbreaking", "vulnerable", "vulnerability", "designe", "bezeichnet", "refers",
     "vulneravel", "verwundbar", "angreifbar", "vulnerabilite", "vulnerabilidad",
     "vulnerabilidade", "schwachstelle"}
)  # fmt: skip


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


#: Longest trigger key: the first letters of a pattern's first literal word, up to this many.
KEY = 5


def _stem_of(alternative: str, pattern: str) -> str:
    word = re.match(r"[a-z']*", alternative)
    if alternative.startswith("(") or not word or not word.group():
        raise ValueError(f"no literal first word in {pattern!r}")
    literal = word.group()
    if alternative[len(literal) : len(literal) + 1] in {"?", "*", "{"}:
        literal = literal[:-1]  # "https?", "halte?": the last letter may be absent
    stem = re.split(r"[^a-z0-9]", literal)[0][:KEY]
    if not stem:
        raise ValueError(f"no literal first letter in {pattern!r}")
    return stem


def first_stems(pattern: str) -> set[str]:
    """The trigger keys of a word pattern: how the words it can start with begin.

    A key is the first letters of an alternative's first literal word, up to ``KEY`` of them
    (``ignor`` for ``ignore[sz]?``, ``you`` for ``you are``, ``ia`` for ``ia``): a match
    starts where a word starts, so that word begins with the key. A text's candidate keys are
    the first three, four and five letters of its words (:func:`stems_of`); a key shorter
    than three letters is a whole word.
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
    # A key shorter than three letters is a whole word; a longer one starts a word.
    whole = "" if len(stem) >= 3 else "(?![a-z0-9])"
    head = f"{re.escape(stem)}(?<![a-z0-9]{re.escape(stem)}){whole}"
    return re.compile(f"{head}(?:{alternation})"), [(f, lang, w) for _, f, lang, w in entries]


def all_triggers() -> frozenset[str]:
    """Every trigger stem of every family."""
    return compiled().triggers


def stems_of(text: str) -> set[str]:
    """The candidate trigger keys of ``text``: its words' first three, four and five letters."""
    return keys_of(set(_WORD.findall(text)))


_HEADS = tuple(itemgetter(slice(0, n)) for n in range(3, KEY + 1))


def keys_of(words: set[str]) -> set[str]:
    """The candidate trigger keys of a set of words (see :func:`first_stems`)."""
    out: set[str] = set()
    for head in _HEADS:
        out.update(map(head, words))
    return out


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
    # A total order: the stems come from a set, and noisy-or sums must not depend on its order.
    found.sort(key=lambda r: (r.start, r.end, r.family, r.lang, r.weight))
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


def discussion(tokens: list[str]) -> int:
    """How many words frame a text as discussing injection rather than doing it (capped).

    Args:
        tokens: the words of the canonical text (``injection_model.words``).
    """
    return min(sum(map(_DISCUSSION.__contains__, tokens)), 5)


@lru_cache(maxsize=1)
def view_triggers() -> frozenset[str]:
    """Five-letter beginnings of the first words of the patterns that say something alone.

    A ROT13 or reversed view of the text is only worth a scan when two or more of its words
    begin like these (``ignor``, ``revea``, ``previ``, ``instr``, ``syste`` ...). Five letters,
    not three: reversed English words begin with reversed suffixes (``det`` from -ted, ``met``
    from system), which three-letter stems of real trigger words match all the time.
    """
    out: set[str] = set()
    for table in _TABLES.values():
        for patterns in table.values():
            for pattern, weight in patterns:
                if weight < M or _is_markup(pattern):
                    continue
                alts, _ = _first_alternatives(pattern)
                for alt in alts:
                    word = re.match(r"[a-z]*", alt)
                    if word and len(word.group()) >= 5:
                        out.add(word.group()[:5])
    return frozenset(out)
