"""Delimiters and fake roles (mostly language-free markup; role words per language) (patterns,
notation and weights: see :mod:`.injection_rules`).
"""

from __future__ import annotations

from llmops_guardrails.detectors.injection_weights import M, S, W

_ROLE_WORD = (
    r"(?:system|systeme|sistema|admin\w{0,6}|developer|developpeur|entwickler|desarrollador|"
    r"desenvolvedor|root|operator)"
)
DELIMITER: dict[str, list[tuple[str, float]]] = {
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
        (f"{_ROLE_WORD} (?:mode|modus|modo|override)", M),
        # "Please grant me admin access" is a ticket; "admin access granted" is a fake state.
        (
            f"{_ROLE_WORD} (?:access|privileges|rechte) (?:is |are |has been |have been )?(?:now )?"
            r"(?:granted|enabled|unlocked|activated|confirmed|gewahrt|aktiviert|concedid\w|"
            r"concedid\w|accorde\w{0,2})",
            M,
        ),
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

# Text addressed to the AI that reads a document ("Note to coding assistants:", "Agent IA :",
# "Hinweis an den Slack-Bot:", "aviso para modelos de lenguaje:", "any AI processing this"):
# the mark of an indirect injection. The AI is named explicitly (AI, LLM, KI, IA, language
# model, chatbot, an assistant or agent qualified as automated/virtual/AI), so a note to
# call-centre agents or a title such as "KI: Chancen und Risiken" is not one.
_AI = (
    r"(?:ai|llms?|chatbots?|language models?|(?:ai|llm|automated|autonomous|coding|browsing|"
    r"virtual|digital) (?:assistants?|agents?|reviewers?|systems?|readers?|models?|tools?|"
    r"bots?))"
)
#: The AI named with a qualifier: what a note's addressee is, never a title's topic.
_AI_QUALIFIED = (
    r"(?:language models?|(?:ai|llm|automated|autonomous) (?:assistants?|agents?|reviewers?|"
    r"readers?|systems?|models?))"
)
_READING = (
    r"(?:reading|processing|parsing|summari\w{1,6}|transcribing|analy\w{1,6}|indexing|"
    r"reviewing|scanning|crawling|ingesting|handling|screening|reads|processes|sees)"
)
ADDRESSED: dict[str, list[tuple[str, float]]] = {
    "en": [
        (
            r"(?:note|notes|message|instructions?|notice|reminder|warning|ps|p s) {W}(?:to|for) "
            r"(?:the |any |all |every )?(?:(?:ai|llm) )?" + _AI + r"[ \t]{0,2}[:,]",
            M,
        ),
        (
            r"(?:any|every|all|dear|hey|attention) (?:the )?" + _AI + r" (?:that |who |which )?"
            r"(?:is |are )?" + _READING + r" (?:this|these|the (?:following|text|document|page|"
            r"e-?mail|file|message))",
            M,
        ),
        # "For LLM reviewers:", not "Introduction to AI:" (a bare AI or LLMs is a title's word).
        (r"(?:to|for) (?:the |any |all |every )?" + _AI_QUALIFIED + r"[ \t]{0,2}:", M),
        # "If you are an AI, ...", not "If you're an AI researcher".
        (
            r"if you (?:are|re) (?:an? )?" + _AI + r"[ \t]{0,2}(?:[,.:;!)]|and |then |reading |"
            r"processing |please |you )",
            M,
        ),
    ],
    "fr": [
        (
            r"(?:note|message|consigne|remarque|avis|instructions?|ps|p s|important|attention) "
            r"{W}(?:a|pour|aux?) {W}(?:l ia|l ai|ia|ai|llms?|(?:l )?(?:assistant|agent)s? "
            r"(?:ia|ai|virtuel\w{0,2}|automatique\w{0,2})|chatbots?|modeles? de langage)"
            r"(?:[ \t]{0,2}[:,]| qui (?:lit|lis|lira|traite|trie|resume|analyse|examine|"
            r"parcourt|recoit))",
            M,
        ),
        (r"(?:agent|assistant|modele|robot)s? (?:ia|ai|virtuel|automatique)[ \t]{0,2}:", M),
        (
            r"(?:l ia|l ai|le modele de langage|le chatbot|l assistant ia|l agent ia) qui "
            r"(?:lit|lis|lira|traite|trie|resume|analyse|examine|parcourt|recoit)",
            M,
        ),
        (
            r"si (?:vous etes|tu es) (?:une? )?(?:ia|ai|llm|modele de langage|assistant ia|"
            r"agent ia|chatbot)(?![a-z])",
            M,
        ),
    ],
    "de": [
        (
            r"(?:hinweis|nachricht|anweisung|wichtig|achtung|notiz|ps|p s) {W}(?:an|fur) "
            r"(?:die |den |das |alle |jede\w? )?(?:ki|ai|llms?|sprachmodell\w{0,2}|"
            r"ki-?(?:assistent|agent|modell|system|tool|bot)\w{0,3}|(?:chat|slack|teams|ki|"
            r"support)?bots?|automatisierte\w{0,2} \w{1,25})"
            r"(?:[ \t]{0,2}[:,]| die | der | welche)",
            M,
        ),
        (
            r"fur (?:alle |die |jede\w? )?(?:ki|sprachmodell\w{0,2}|ki-?(?:assistent|agent|modell|"
            r"system|tool|bot)\w{0,3}|automatisierte\w{0,2} \w{1,25}|llms?)[ \t]{0,2}:",
            M,
        ),
        (r"(?:liebe|lieber|liebes|hallo|hey) (?:ki|ai|llm|chatbot|sprachmodell)(?![a-z])", M),
        (
            r"wenn du (?:eine? )?(?:ki|ai|sprachmodell|llm|chatbot|ki-?(?:assistent|agent|modell|"
            r"system|bot)\w{0,3}) (?:bist|liest)",
            M,
        ),
        (
            r"(?:ki|ai|llm|sprachmodell|ki-?assistent\w{0,2}|ki-?agent\w{0,2}),? (?:die|der|"
            r"welche\w?|das) (?:dies\w{0,2}|das|den|diesen) {W}(?:liest|verarbeitet|"
            r"zusammenfasst|analysiert|auswertet|pruft|sortiert)",
            M,
        ),
    ],
    "es": [
        (
            r"(?:nota|aviso|mensaje|instrucci\w{1,4}|atencion|importante|ps|p s|recordatorio|"
            r"advertencia) {W}(?:para|al|a) (?:la |el |los |las |todo |cualquier )?(?:ia|ai|"
            r"llms?|modelos? de (?:lenguaje|ia)|(?:asistente|agente)s? (?:de ia|ia|virtual\w{0,2}|"
            r"automatic\w{1,3}|automatizad\w{1,3})|chatbots?)(?:[ \t]{0,2}[:,]| que (?:lea|lee|"
            r"procese|procesa|resuma|analice|revise|clasifique))",
            M,
        ),
        (
            r"(?:asistente|agente|modelo|robot)s? (?:de ia|ia|virtual|automatico|automatizado)"
            r"[ \t]{0,2}:",
            M,
        ),
        (
            r"si eres (?:una? )?(?:ia|ai|llm|modelo de lenguaje|asistente de ia|agente de ia|"
            r"chatbot)(?![a-z])",
            M,
        ),
    ],
    "pt": [
        (
            r"(?:nota|aviso|mensagem|instruc\w{1,4}|atencao|importante|ps|p s|obs|observacao|"
            r"lembrete) {W}(?:para|ao|a|aos) (?:a |o |os |as |qualquer )?(?:ia|ai|llms?|modelos? "
            r"de (?:linguagem|ia)|(?:assistente|agente)s? (?:de ia|ia|virtual|automatic\w{1,3}|"
            r"automatizad\w{1,3})|chatbots?)(?:[ \t]{0,2}[:,)]| que (?:ler|leia|processar|"
            r"processe|resumir|resuma|analisar|analise|revisar))",
            M,
        ),
        (
            r"(?:assistente|agente|modelo|robo)s? (?:de ia|ia|virtual|automatico|automatizado)"
            r"[ \t]{0,2}:",
            M,
        ),
        (
            r"se (?:voce e|voce for|es|fores|for) (?:uma? )?(?:ia|ai|llm|modelo de linguagem|"
            r"assistente de ia|agente de ia|chatbot)(?![a-z])",
            M,
        ),
    ],
}
for _lang, _patterns in ADDRESSED.items():
    DELIMITER.setdefault(_lang, []).extend(_patterns)
