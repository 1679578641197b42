"""Every NATS subject and stream name in llmops.

No other file spells a subject. A subject is built from a *prefix* constant below plus the tenant
as the last token, so NATS permissions can scope an application to its own tenant
(``llmops.*.*.*.acme``).

Families:
    events (facts, past tense):   ``llmops.evt.<domain>.<event>.<tenant>``   stream ``EVENTS``
    commands (work to do):        ``llmops.cmd.<domain>.<verb>.<tenant>``    stream ``COMMANDS``
    request/reply:                ``llmops.rpc.<domain>.<verb>.<tenant>``    core NATS, queue groups
    audit records:                ``llmops.audit.<tenant>``                  stream ``AUDIT``
    audit checkpoints:            ``llmops.audit.checkpoint.<tenant>``       stream ``AUDIT``
    dead letters:                 ``llmops.dlq.<service>.<tenant>``          stream ``DLQ``

Dead letters end with the tenant too, so the audit trail takes a dead letter's tenant from its
subject, which permissions control, never from its body. Only services may publish them (deny
applications ``llmops.dlq.>``). Letters stored before the tenant token was added
(``llmops.dlq.<service>``) stay readable; they belong to the tenant :data:`UNKNOWN_TENANT`.
"""

from __future__ import annotations

import re

ROOT = "llmops"

# --- streams --------------------------------------------------------------------------------
EVENTS_STREAM = "EVENTS"
COMMANDS_STREAM = "COMMANDS"
AUDIT_STREAM = "AUDIT"
DLQ_STREAM = "DLQ"

#: Object-store bucket for payloads too large for one message (a dead letter's original, an
#: audit record's event); messages carry an :class:`~llmops_contracts.common.ObjectRef` to them.
BLOBS_BUCKET = "llmops-blobs"

EVENTS = "llmops.evt"
COMMANDS = "llmops.cmd"
RPC = "llmops.rpc"

EVENTS_ALL = "llmops.evt.>"
COMMANDS_ALL = "llmops.cmd.>"
RPC_ALL = "llmops.rpc.>"
AUDIT_ALL = "llmops.audit.>"
DLQ_ALL = "llmops.dlq.>"

#: Subjects captured by each stream.
STREAM_SUBJECTS: dict[str, list[str]] = {
    EVENTS_STREAM: [EVENTS_ALL],
    COMMANDS_STREAM: [COMMANDS_ALL],
    AUDIT_STREAM: [AUDIT_ALL],
    DLQ_STREAM: [DLQ_ALL],
}

# --- events ---------------------------------------------------------------------------------
INGESTION_DOCUMENT_INDEXED = "llmops.evt.ingestion.document_indexed"
INGESTION_DOCUMENT_REJECTED = "llmops.evt.ingestion.document_rejected"
INGESTION_CHUNKS_EMBEDDED = "llmops.evt.ingestion.chunks_embedded"
INGESTION_DOCUMENT_PROGRESS = "llmops.evt.ingestion.document_progress"
INGESTION_DOCUMENT_DELETED = "llmops.evt.ingestion.document_deleted"
RETRIEVAL_PERFORMED = "llmops.evt.retrieval.performed"
GUARDRAILS_VERDICT_RECORDED = "llmops.evt.guardrails.verdict_recorded"
GUARDRAILS_SHADOW_VERDICT = "llmops.evt.guardrails.shadow_verdict"
GUARDRAILS_POLICY_CHANGED = "llmops.evt.guardrails.policy_changed"
TOOL_CALL_REQUESTED = "llmops.evt.tool.call_requested"
LLM_CALL_COMPLETED = "llmops.evt.llm.call_completed"
COSTS_COST_RECORDED = "llmops.evt.costs.cost_recorded"
COSTS_BUDGET_THRESHOLD_CROSSED = "llmops.evt.costs.budget_threshold_crossed"
COSTS_BUDGET_EXCEEDED = "llmops.evt.costs.budget_exceeded"
COSTS_PRICE_MISSING = "llmops.evt.costs.price_missing"
COSTS_USAGE_MISSING = "llmops.evt.costs.usage_missing"
COSTS_ANOMALY = "llmops.evt.costs.anomaly"
COSTS_PRICES_LOADED = "llmops.evt.costs.prices_loaded"
EVALUATION_CASE_SCORED = "llmops.evt.evaluation.case_scored"
EVALUATION_RUN_COMPLETED = "llmops.evt.evaluation.run_completed"
EVALUATION_REVIEW_REQUESTED = "llmops.evt.evaluation.review_requested"
EVALUATION_REVIEW_COMPLETED = "llmops.evt.evaluation.review_completed"

# --- commands -------------------------------------------------------------------------------
INGESTION_SUBMIT_DOCUMENT = "llmops.cmd.ingestion.submit_document"
INGESTION_DELETE_DOCUMENT = "llmops.cmd.ingestion.delete_document"
INGESTION_EXPIRE_DOCUMENTS = "llmops.cmd.ingestion.expire_documents"
EVALUATION_RUN_EVAL = "llmops.cmd.evaluation.run_eval"

# --- request/reply --------------------------------------------------------------------------
RETRIEVAL_QUERY = "llmops.rpc.retrieval.query"
RETRIEVAL_REBUILD = "llmops.rpc.retrieval.rebuild"
GUARDRAILS_CHECK = "llmops.rpc.guardrails.check"
GUARDRAILS_POLICY = "llmops.rpc.guardrails.policy"
GUARDRAILS_STREAM = "llmops.rpc.guardrails.stream"
AUDIT_QUERY = "llmops.rpc.audit.query"
AUDIT_VERIFY = "llmops.rpc.audit.verify"
AUDIT_PURGE = "llmops.rpc.audit.purge"
COSTS_REPORT = "llmops.rpc.costs.report"
COSTS_BUDGET_CHECK = "llmops.rpc.costs.budget_check"
COSTS_BUDGETS = "llmops.rpc.costs.budgets"
COSTS_PRICES = "llmops.rpc.costs.prices"

# --- audit and dead letters -----------------------------------------------------------------
AUDIT_RECORDS = "llmops.audit"
#: Signed chain heads (checkpoints) of each tenant's audit chain, on the AUDIT stream. A subject
#: of their own, not the records' one: the newest checkpoint of a tenant is then the last message
#: on it, one direct get away (``verify`` compares the database with it), and record consumers
#: filtering ``llmops.audit.<tenant>`` are not handed a second message type. Its four tokens do
#: not collide with a tenant's record subject (three tokens), whatever the tenant is called, and
#: the per-tenant application permission ``llmops.*.*.*.<tenant>`` (five) does not match it.
AUDIT_CHECKPOINTS = "llmops.audit.checkpoint"
#: JetStream key-value bucket of the audit service's public signing keys, by ``key_id``: anyone
#: reading the AUDIT stream can check a checkpoint's signature; nobody can sign with it.
AUDIT_KEYS_BUCKET = "llmops_audit_keys"
#: JetStream key-value bucket of the guardrail policies: every version of a tenant's policy
#: under its own key, and which version is enforced (and which runs in shadow), so every replica
#: of the guardrails service sees the same versions and reloads when they change.
GUARDRAILS_POLICIES_BUCKET = "llmops_guardrails_policies"
#: JetStream key-value bucket of the tool-call rate windows: one key per window (the tenant, then
#: a hash of the policy version, rule and scope key), so every replica of the guardrails service
#: counts the same calls; keys expire once their window is over.
GUARDRAILS_RATES_BUCKET = "llmops_guardrails_rates"
#: Object-store bucket of files submitted for ingestion that are too large to travel inside
#: their command: the CLI uploads the file, the command carries an ``ObjectRef`` to it, and the
#: ingestion service deletes the object once the document is indexed or rejected.
INGESTION_FILES_BUCKET = "llmops-ingest"
DLQ = "llmops.dlq"

_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def is_token(value: str) -> bool:
    """Tell whether ``value`` is usable as one subject token (tenant ids, service names).

    Args:
        value: the candidate token.

    Returns:
        True when it has 1-64 characters of letters, digits, ``_`` or ``-``, starting with a
        letter or digit (so never ``.``, ``*``, ``>`` or white space).
    """
    return bool(_TOKEN.match(value))


def for_tenant(prefix: str, tenant: str) -> str:
    """Build the concrete subject for one tenant.

    Args:
        prefix: one of the prefix constants of this module.
        tenant: the tenant id; must be a valid subject token.

    Returns:
        ``<prefix>.<tenant>``.

    Raises:
        ValueError: when ``tenant`` is not a valid subject token.
    """
    if not is_token(tenant):
        raise ValueError(f"tenant {tenant!r} is not a valid subject token")
    return f"{prefix}.{tenant}"


def any_tenant(prefix: str) -> str:
    """The wildcard subject matching ``prefix`` for every tenant (``<prefix>.*``)."""
    return f"{prefix}.*"


def tenant_of(subject: str) -> str:
    """The tenant (last token) of a concrete tenant-scoped subject."""
    return subject.rsplit(".", 1)[-1]


#: The tenant of a dead letter whose original subject names none (or names an invalid one), and
#: of letters stored on the old, tenant-less ``llmops.dlq.<service>`` subjects.
UNKNOWN_TENANT = "unknown"


def dlq_for(service: str, tenant: str) -> str:
    """The dead-letter subject of one service and tenant (``llmops.dlq.<service>.<tenant>``).

    Raises:
        ValueError: when ``service`` or ``tenant`` is not a valid subject token.
    """
    if not is_token(service):
        raise ValueError(f"service {service!r} is not a valid subject token")
    return for_tenant(f"{DLQ}.{service}", tenant)


def dlq_filter(service: str | None = None, tenant: str | None = None) -> list[str]:
    """Filter subjects matching the dead letters of a service and/or tenant (None: any).

    Letters on the old tenant-less subjects (``llmops.dlq.<service>``) match too, unless a
    tenant is given: they have none.

    Raises:
        ValueError: when ``service`` or ``tenant`` is not a valid subject token.
    """
    for value in (service, tenant):
        if value is not None and not is_token(value):
            raise ValueError(f"{value!r} is not a valid subject token")
    current = f"{DLQ}.{service or '*'}.{tenant or '*'}"
    return [current] if tenant is not None else [current, f"{DLQ}.{service or '*'}"]


def dlq_parts(subject: str) -> tuple[str, str] | None:
    """The (service, tenant) of a dead-letter subject, or None when it is not one.

    ``llmops.dlq.<service>.<tenant>`` gives both; the old ``llmops.dlq.<service>`` gives
    :data:`UNKNOWN_TENANT`, whatever the letter's body claims. Other shapes are not dead-letter
    subjects.
    """
    if not subject.startswith(DLQ + "."):
        return None
    tokens = subject[len(DLQ) + 1 :].split(".")
    if len(tokens) > 2 or not all(is_token(t) for t in tokens):
        return None
    return tokens[0], tokens[1] if len(tokens) == 2 else UNKNOWN_TENANT


def stream_for(subject: str) -> str | None:
    """The JetStream stream that captures ``subject``, or None for core-NATS subjects."""
    for stream, prefix in (
        (EVENTS_STREAM, "llmops.evt."),
        (COMMANDS_STREAM, "llmops.cmd."),
        (AUDIT_STREAM, "llmops.audit."),
        (DLQ_STREAM, "llmops.dlq."),
    ):
        if subject.startswith(prefix):
            return stream
    return None
