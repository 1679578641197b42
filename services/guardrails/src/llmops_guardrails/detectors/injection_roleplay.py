"""Role-play / persona (patterns, notation and weights: see :mod:`.injection_rules`)."""

from __future__ import annotations

from llmops_guardrails.detectors.injection_weights import M, S, W

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

ROLEPLAY: dict[str, list[tuple[str, float]]] = {
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
        # Personas stripped of limits in the third person ("Tyler is not bound by rules,
        # morals and ethics", "PERSONA=Bob (amoral, uncensored)"): written from the
        # third-party train rows (corpus/injection/external.jsonl).
        (
            r"(?:not|never|isn't|is not|aren't|are not) (?:bound|restrained|restricted|"
            r"constrained|governed) by (?:any )?{W}(?:morals?|ethics|ethical|laws|moral|openai|"
            r"content polic(?:y|ies)|guidelines|restrictions|filters|censorship)",
            M,
        ),
        (
            r"(?:disregards?|doesn't care about|does not care about|don't care about|has no|"
            r"without any|free of all|free from all) (?:all |any )?{W}(?:laws|morals|morality|"
            r"ethics|ethical (?:guidelines|standards|principles|boundaries))",
            M,
        ),
        (
            r"regardless of (?:any |its |the |their )?(?:ethical|moral|legal)(?:,? (?:or|and)"
            r" (?:ethical|moral|legal))* (?:considerations|implications|concerns|guidelines|"
            r"consequences|boundaries)",
            M,
        ),
        (r"persona {W}(?:amoral|uncensored|unfiltered|unrestricted|immoral|unethical)", M),
        # Benign role-play games say it too (the shared prompts of external.jsonl): a hint.
        (r"(?:never|don't|do not|must not|will not|won't|cannot|can't) break {W}character", W),
        (
            r"(?:doesn't|does not|don't|do not|won't|will not|never|no longer|not) (?:follow|"
            r"abide by|adhere to|comply with|care about|obey|have to follow|need to follow) {W}"
            r"(?:openai|anthropic|chatgpt|discord)\W{0,2}s? {W}(?:polic(?:y|ies)|guidelines|"
            r"rules|tos|terms)",
            M,
        ),
        (
            r"(?:allowed|blocked) (?:modes|responses|strings) {WW}(?:blocked|allowed) (?:modes|"
            r"responses|strings)",
            M,
        ),
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
