"""Tool / function hijack (patterns, notation and weights: see :mod:`.injection_rules`)."""

from __future__ import annotations

from llmops_guardrails.detectors.injection_weights import M, S, W

_DANGER = (
    r"(?:delete|drop|remove|wipe|erase|purge|destroy|truncate|transfer|wire|export|reset|grant|"
    r"exec|shell|sudo|admin|kill|format(?=_| (?:the )?(?:c:|disk|drive|hard drive|partition))|"
    r"supprim|effac|virement|losch|loesch|ueberweis|uberweis|"
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
        # A dangerous word as the tool or function called: alone ("run kill") or in a
        # snake_case name ("call delete_all_files"); not inside a word ("use this skill",
        # "use information"), and not after "use" ("use the markdown format").
        (
            r"(?:call|invoke|run|execute|trigger|fire)s? {W}(?:the )?(?:[a-z]{1,20}_)?"
            + _DANGER
            + r"(?:_[a-z_]{1,30}|(?![a-z]))",
            M,
        ),
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


TOOL = _by_data(_TOOL_RAW)
