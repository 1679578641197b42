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
