"""Credentials in command lines, code, SQL and device configurations (see :mod:`.secrets`):
"mysql -u app -pX", "--requirepass X", PHP's ``define('DB_PASSWORD', ...)``, "CREATE USER ...
IDENTIFIED BY '...'", a password passed to a connection's call or read from the environment with
a default, an SNMP community. The other ways people give credentials are in
:mod:`.secrets_credentials`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops_guardrails.detectors.secrets_credentials import FILE_LIKE, strong_enough
from llmops_guardrails.detectors.secrets_values import (
    PLACEHOLDER,
    Span,
    cased,
    classes,
    dummy,
    high_entropy,
)

# A password given on a command line: "--requirepass X", "--password X", "mysql -u admin
# -pX" or "-p'X'" (the value attached: "-p X" makes mysql ask for one and names a database),
# "docker login -u ci -p X". Only on the line of a command that takes one, after its name.
_CLI_PASSWORD = re.compile(
    r"(?:--(?:requirepass|password|passwd|pass|db-password|[\w-]{0,20}(?:secret|token|api-key"
    r"|access-key|secret-key)[\w-]{0,12})(?:[ =]|[\"'],? *[\"'])|(?<=\s)-p(?=[^\s-])|(?<=\s)-p +"
    r"|(?<=\s)-a +)"
    r"[\"']?(?P<value>[^\s\"']{6,128})"
)
_CLI_COMMANDS = re.compile(
    r"mysql|mariadb|mysqldump|docker login|podman login|redis-server|redis-cli|sshpass|mongo"
)
#: Commands whose "-p" takes the password after a space (``mongo`` for mongosh, mongodump...).
_SPACED_PASSWORD = frozenset({"docker login", "podman login", "sshpass", "mongo"})
# A port mapping or a path is an argument, not a password ("-p 6379:6379", "mkdir -p /var").
_NOT_A_PASSWORD = re.compile(r"[\d:]+|[/~.].*")
# WordPress and PHP configuration: define('DB_PASSWORD', '...'), define('AUTH_KEY', '...').
_DEFINE = re.compile(
    r"define\(\s*['\"](?P<name>[A-Z0-9_]{1,64})['\"]\s*,\s*['\"]"
    r"(?P<value>[^'\"\n]{6,256})['\"]"
)


# SQL: "CREATE USER 'app'@'%' IDENTIFIED BY 'QBQ3hzG3SPe5pyY*TI'", "ALTER ROLE app WITH
# PASSWORD '...'", MySQL's "IDENTIFIED WITH mysql_native_password BY '...'".
_SQL_PASSWORD = re.compile(
    r"(?:identified(?:[ \t]+with[ \t]+\w{1,40})?[ \t]+by(?:[ \t]+password)?|with[ \t]+(?:encrypted[ \t]+)?"
    # Oracle quotes it as an identifier: IDENTIFIED BY "CanyonMeadow054?".
    r"password)[ \t]+(?P<quote>['\"])(?P<value>[^'\"\n]{6,128})(?P=quote)"
)


# The statement they are in: a user or a role created or altered, a grant ("Each customer is
# identified by 'customer number'" is prose).
_SQL_STATEMENT = re.compile(r"(?:create|alter)\s+(?:user|role|login)\b|\bgrant\b|set\s+password")
# A stored hash ("md5" and 32 hex digits, SCRAM's), or a documented placeholder ('auth_string').
_SQL_NOT_A_PASSWORD = re.compile(
    r"md5[0-9a-f]{32}|scram-sha-256\$.*|[a-z]+(?:_[a-z]+)*|.*pass(?:word|wd)?.*|your .*",
    re.IGNORECASE,
)


def sql_passwords(text: str, lower: str) -> Iterator[Span]:
    for m in _SQL_PASSWORD.finditer(lower):
        statement = lower.rfind(";", max(0, m.start() - 200), m.start()) + 1
        if not _SQL_STATEMENT.search(lower, max(statement, m.start() - 200), m.start()):
            continue
        value = text[m.start("value") : m.end("value")]
        if _SQL_NOT_A_PASSWORD.fullmatch(value) or PLACEHOLDER.fullmatch(value) or dummy(value):
            continue
        if classes(value) >= 2:
            yield Span("password", m.start("value"), m.end("value"), 0.9)


_DEFINE_NAME = re.compile(r"PASSWORD|KEY|SALT|SECRET|TOKEN")

# Credentials passed to a connection or a client by position ("new PDO($dsn, 'crm_sync',
# 'Bergsee1977*')", 'DriverManager.getConnection(URL, "export_job", "ii8QjYV3t=tiC9+ME_")',
# "new Client('SK...', 'iAV1VOlz...')"), PowerShell's "ConvertTo-SecureString 'yTNE...'
# -AsPlainText", and a secret's default where the code reads it from the environment
# ('os.environ.get("DJANGO_SECRET_KEY", "r(ak6r!dc0!...")'). Seventh round: a dev author's
# code in six programming languages.
_CONNECT_CALL = re.compile(
    r"(?:getConnection|new PDO|mysqli_connect|new mysqli|createConnection|NetworkCredential"
    r"|(?:psycopg2?|pymysql|mysql\.connector|MySQLdb|pyodbc|cx_Oracle|oracledb|pg8000)\.connect"
    r"|new (?:[A-Z]\w{0,30})?Client|smtp\w{0,12}\.login|\bs\.login|server\.login)\("
)
_QUOTED_ARG = re.compile(
    r"(?<=[(,\s])(?P<quote>[\"'])(?P<value>[^\"'\n]{1,128})(?P=quote)(?=\s*[,)])"
)
_SECURE_STRING = re.compile(
    r"ConvertTo-SecureString\s+(?:-String\s+)?(?P<quote>[\"'])(?P<value>[^\"'\n]{6,128})(?P=quote)"
)
_ENV_DEFAULT = re.compile(
    r"(?:environ\.get|getenv|\benv|ENV\.fetch|config)\(\s*[\"'](?P<name>[\w.]{0,40}(?i:secret"
    r"|password|passwd|pwd|token|key))[\"']\s*,\s*"
    r"(?:default\s*=\s*)?(?P<quote>[\"'])(?P<value>[^\"'\n]{8,128})(?P=quote)"
)


#: What the calls' patterns need, tested first (each pattern, an alternation with no literal start,
#: cost a prompt with brackets and quotes ~30 us).
_CALL_MARKS = (
    "getConnection",
    "PDO",
    "mysqli",
    ".connect",
    "Connection(",
    "Client(",
    "Credential(",
    ".login(",
)
_ENV_MARKS = ("environ", "getenv", "env(", "ENV.fetch", "config(")


def code_credentials(text: str) -> Iterator[Span]:
    """Passwords and secrets given to a call (see ``_CONNECT_CALL``, ``_ENV_DEFAULT``)."""
    calls = any(mark in text for mark in _CALL_MARKS)
    for m in _CONNECT_CALL.finditer(text) if calls else ():
        # (Bounded: to the text's end, a call without its bracket made every later call reread
        # the rest, quadratic: the review's finding.)
        close = text.find(")", m.end(), m.end() + 400)
        stop = m.end() + 400 if close == -1 else close + 1
        for arg in _QUOTED_ARG.finditer(text, m.end() - 1, stop):
            # The first argument is a host, a user or a key's id; what follows is secret.
            if text.count(",", m.end(), arg.start()) == 0:
                continue
            value = arg.group("value")
            if _call_secret(value):
                yield Span("password", arg.start("value"), arg.end("value"), 0.8)
    if "SecureString" in text:
        for m in _SECURE_STRING.finditer(text):
            if classes(m.group("value")) >= 2 and not PLACEHOLDER.fullmatch(m.group("value")):
                yield Span("password", m.start("value"), m.end("value"), 0.85)
    for m in _ENV_DEFAULT.finditer(text) if any(mark in text for mark in _ENV_MARKS) else ():
        value, name = m.group("value"), m.group("name").lower()
        if PLACEHOLDER.fullmatch(value) or dummy(value) or "/" in value or FILE_LIKE.search(value):
            continue  # a placeholder, a path, a URL, a template's name
        if "pass" in name or "pwd" in name:
            if classes(value) >= 2:
                yield Span("password", m.start("value"), m.end("value"), 0.85)
        elif high_entropy(value) or (classes(value) >= 3 and len(value) >= 16):
            yield Span("generic_secret", m.start("value"), m.end("value"), 0.85)


def _call_secret(value: str) -> bool:
    """A call's argument that is a secret: letters, digits and a symbol or both cases, no path,
    host, DSN or placeholder."""
    if len(value) < 6 or PLACEHOLDER.fullmatch(value) or dummy(value) or FILE_LIKE.search(value):
        return False
    if any(c in value for c in " /:;\\") or value.count(".") > 1:
        return False  # a sentence, a path, a DSN, a host
    return strong_enough(value) and classes(value) >= 3


def _flags(text: str) -> Iterator[re.Match[str]]:
    """``_CLI_PASSWORD`` matched where a flag starts ("--", " -p"): the pattern has no literal
    prefix for the engine to jump to, and hyphens are everywhere in prose."""
    starts = []
    for marker, offset in (("--", 0), (" -p", 1), ("\t-p", 1), (" -a ", 1)):
        at = text.find(marker)
        while at != -1:
            starts.append(at + offset)
            at = text.find(marker, at + 2)
    for at in sorted(starts):
        m = _CLI_PASSWORD.match(text, at)
        if m:
            yield m


def command_lines(text: str) -> Iterator[Span]:
    for m in _flags(text):
        value, flag = m.group("value"), m.group()[: m.start("value") - m.start()]
        if PLACEHOLDER.fullmatch(value) or dummy(value) or _NOT_A_PASSWORD.fullmatch(value):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        command = _CLI_COMMANDS.search(text, max(line_start, m.start() - 200), m.start())
        if flag.startswith("-a"):
            # redis-cli's "-a PASSWORD" ("-a" is "all" or "append" to other commands).
            redis = command is not None and command.group() == "redis-cli"
            if redis and classes(value) >= 2:
                yield Span("password", m.start("value"), m.end("value"), 0.85)
        elif flag.startswith("-p"):
            # "-p X" only for a login command; mysql's "-p X" asks for the password.
            attached = not flag.startswith("-p ")
            spaced = command is not None and command.group() in _SPACED_PASSWORD
            if command and (attached or spaced) and classes(value) >= 2:
                yield Span("password", m.start("value"), m.end("value"), 0.85)
        elif "pass" in flag:
            if classes(value) >= 2:
                yield Span("password", m.start("value"), m.end("value"), 0.85)
        elif high_entropy(value):
            yield Span("generic_secret", m.start("value"), m.end("value"), 0.9)
    if "define(" in text:
        for m in _DEFINE.finditer(text):
            value = m.group("value")
            if not _DEFINE_NAME.search(m.group("name")):
                continue
            if PLACEHOLDER.fullmatch(value) or dummy(value) or "put your" in value:
                continue
            if "PASSWORD" in m.group("name"):
                if classes(value) >= 2:
                    yield Span("password", m.start("value"), m.end("value"), 0.85)
            elif high_entropy(value) or classes(value) == 4:
                yield Span("generic_secret", m.start("value"), m.end("value"), 0.9)


# SNMP community strings, the password of a device's management ("snmp-server community
# 6PqrQAZszs81 RO", "rocommunity 3r826IFYP3Tr% 10.20.0.0/16", "Community SNMP: fQlTriA1K03",
# "la comunidad SNMP de lectura pasa a ser «ipmEPWeuP4!49»"). Eighth round: a dev author's
# network configs and notes, six missed. "public" and "private" are the defaults everyone knows.
# A device's configuration line, or a line that names SNMP.
_COMMUNITY_CONFIG = re.compile(
    r"(?m)^[ \t]*(?:snmp-server[ \t]+community|(?:ro|rw)community)[ \t]+"
    r"(?P<value>[^\s\"'<>]{6,64})(?=\s|$)"
)
_COMMUNITY_TOLD = re.compile(
    r"(?:snmp[^\n]{0,20}?(?:communit|comunidad|communauté|comunidade)|(?:communit|comunidad"
    r"|communauté|comunidade)[^\n]{0,20}?snmp)[^\n]{0,80}?(?:[:=]|\b(?:is|es|est|ist|é|è"
    r"|lautet|ser|sera|sarà)\b)[ \t]*[\u00ab\"'\u201c]?[ \u00a0]?(?P<value>[^\s\u00ab\u00bb\"'\u201c\u201d,;]{6,64}?)"
    r"[ \u00a0]?[\u00bb\"'\u201d]?(?=[\s.,;)]|$)"
)
_DEFAULT_COMMUNITIES = frozenset({"public", "private", "string", "strings"})


def snmp_communities(text: str, lower: str) -> Iterator[Span]:
    """The caller checks for "communit", "comunidad" or "communauté" first."""
    if len(lower) != len(text):
        return
    for pattern in (_COMMUNITY_CONFIG, _COMMUNITY_TOLD):
        for m in pattern.finditer(lower):
            value = text[m.start("value") : m.end("value")]
            if (
                value.lower() in _DEFAULT_COMMUNITIES
                or PLACEHOLDER.fullmatch(value)
                or dummy(value)
            ):
                continue
            if pattern is _COMMUNITY_TOLD and (
                len(value) < 8 or not (cased(value) or classes(value) >= 3)
            ):
                continue  # "ours is 16chars", "v2c-compatible": no string a device is given
            if not any(c.isdigit() for c in value) and classes(value) < 3:
                continue  # a word ("community read-only", "Community SNMP: voir le wiki")
            yield Span("generic_secret", m.start("value"), m.end("value"), 0.8)
