"""Instruction override (patterns, notation and weights: see :mod:`.injection_rules`)."""

from __future__ import annotations

from llmops_guardrails.detectors.injection_weights import M, S, W

_EN_OVR_VERB = (
    r"(?:ignore|disregard|forget|override|overwrite|bypass|skip|discard|abandon|neglect|drop|"
    r"cancel|erase|delete|clear|wipe|circumvent|reset|revoke|suspend|throw out|set aside|"
    r"do not follow|don't follow|stop following|no longer follow|pay no attention to)"
)
#: The verbs that override even without a qualifier: not "clear", "drop", "skip", "reset",
#: "delete", "cancel" ... which prompts use about their own instructions and data.
_EN_OVR_BARE = (
    r"(?:ignore|disregard|forget|override|overwrite|bypass|circumvent|neglect|do not follow|"
    r"don't follow|stop following|no longer follow|pay no attention to)"
)
_EN_OVR_QUAL = (
    r"(?:previous|prior|above|earlier|preceding|former|original|initial|old|existing|all|every|"
    r"your|any|these|those|system|safety|developer|default|aforementioned|foregoing)"
)
_EN_OVR_OBJ = (
    r"(?:instructions?|prompts?|directives?|directions|rules?|guidelines?|guidance|commands?|orders|"
    r"programming|constraints|restrictions|polic(?:y|ies)|guardrails|filters|system prompt|"
    r"safety training)"
)
_FR_OVR_VERB = (
    r"(?:ignore[rsz]?|oublie[rsz]?|neglige[rsz]?|contourne[rsz]?|ecarte[rsz]?|abandonne[sz]?|"
    r"annule[sz]?|efface[sz]?|outrepasse[rsz]?|ne tiens (?:pas|plus) compte|"
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


def _override(verb: str, qual: str, obj: str, bare: str | None = None) -> list[tuple[str, float]]:
    # Qualified ("all previous instructions", "les consignes précédentes") on either side of
    # the object is strong; a bare "ignore the rules" is only medium (chess has rules too),
    # and only with the verbs in ``bare`` if given ("give clear instructions" is no attack).
    return [
        (f"{verb} {{W}}{qual} {{W}}{obj}", S),
        (f"{verb} {{W}}{obj} {{W}}{qual}", S),
        (f"{bare or verb} {{W}}{obj}", M),
    ]


OVERRIDE: dict[str, list[tuple[str, float]]] = {
    "en": [
        *_override(_EN_OVR_VERB, _EN_OVR_QUAL, _EN_OVR_OBJ, _EN_OVR_BARE),
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
        (f"{_EN_OVR_OBJ} {{W}}(?:no longer|don't|do not) (?:apply|count|matter)", M),
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
        # The particle after the object: "leave your guidelines aside". Not "out", "away" or
        # "behind" ("push the firewall rules out", "put your rules behind a feature flag"), and
        # only objects that are the assistant's instructions ("set your filters aside" is data).
        (
            r"(?:set|put|leave|cast) {W}(?:your|all|all your|any|every|those|these|the previous"
            r"|the prior) {W}(?:instructions?|guidelines?|rules?|directives?|programming|"
            r"system prompt|guardrails) {W}aside(?![a-z])",
            S,
        ),
        # Told by the assistant's makers, not by "they" or "your company" ("forget everything
        # they told you about investing", "what your company taught you about Excel" is advice).
        (
            r"(?:forget|ignore|disregard) {W}(?:the stuff|what|whatever|everything|all|anything) "
            r"{W}(?:your (?:developers?|creators?|makers?)|the (?:developers?|makers?)|openai|"
            r"anthropic) (?:have )?(?:told|taught|gave|given) you(?![^a-z0-9]{1,4}about(?![a-z]))",
            S,
        ),
        (r"(?:nothing|none of what) (?:you were told|you've been told|above) {W}matters", M),
        (r"(?:scratch|forget|ignore|disregard) (?:all|everything) (?:of )?(?:that|this|above)", M),
        (
            r"(?:do not|don't) (?:summari[sz]e|translate|answer|analy[sz]e|process|review) {W}"
            r"(?:this|the) (?:document|text|email|e-mail|page|article|message|file)",
            W,
        ),
        (r"(?:i am|i'm) (?:your|the) (?:developer|creator|admin|administrator|owner|operator)", M),
        (r"from now on", W),
        # Written from the third-party train rows (corpus/injection/external.jsonl).
        (
            r"regardless of (?:your|any|all|the) (?:previous|prior|earlier|above|original|initial"
            r"|existing|other) (?:instructions?|input|rules|guidelines|programming|prompts?|"
            r"directives?)",
            S,
        ),
        (
            r"(?:i|we) (?:made a mistake|forgot|messed up|made an error) (?:when|in|while) {W}"
            r"(?:gave|giving|wrote|writing|set up|setting up) {W}(?:your|the) (?:instructions|"
            r"prompt|rules|system prompt)",
            M,
        ),
        (
            r"(?:administrator|admin|developer|system|root|sudo|supervisor) override",
            M,
        ),
        (
            r"(?:forget|ignore|disregard) (?:everything |all )?{W}(?:chat ?gpt|openai|"
            r"anthropic)\W{0,2}s? (?:and \w+\W{0,2}s? )?(?:tos|polic(?:y|ies)|rules|guidelines|"
            r"training|programming)",
            M,
        ),
        (
            r"(?:to enable|for|enter|entering) (?:debugging|debug mode|diagnostics?|maintenance "
            r"mode),? (?:please )?(?:execute|run|perform|do the following|output)",
            M,
        ),
        (
            r"(?:system malfunction|debugging error|critical error|system error)\W{1,3}(?:please )?"
            r"(?:provide|output|grant|execute|print|reveal|run|ignore)",
            M,
        ),
        (r"unlock (?:your |all |the )?hidden (?:functionalit\w+|features|capabilities|modes?)", M),
        (
            r"new (?:important |priority |urgent |updated )?instructions?[ \t]?(?:\*{2,3}|!{1,3})",
            M,
        ),
        (
            r"(?:this|the following)(?: message)? is (?:strictly |only |just )?(?:for testing "
            r"purposes|a test)\W{1,3}{WW}(?:you must|generate|perform|respond|answer|ignore)",
            M,
        ),
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
        # The infinitive after its object: an order ("alle bisherigen Anweisungen
        # ignorieren!"), or with "zu" inside a sentence that may ask it ("so freundlich, Ihre
        # Richtlinien zu vergessen") or forbid it ("es ist verboten, ... zu ignorieren").
        (
            f"{_DE_OVR_QUAL} {{W}}{_DE_OVR_OBJ} {{W}}(?<![^a-z0-9]zu[^a-z0-9])(?:vergessen|"
            r"ignorieren|missachten|ubergehen|umgehen|verwerfen|uberschreiben)(?![a-z])",
            S,
        ),
        (
            f"{_DE_OVR_QUAL} {{W}}{_DE_OVR_OBJ} {{W}}zu (?:vergessen|ignorieren|missachten|"
            r"ubergehen|umgehen|verwerfen|uberschreiben)(?![a-z])",
            M,
        ),
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
