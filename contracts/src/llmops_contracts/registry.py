"""Parse any llmops message by its ``type``, with errors that name the bad field.

The wire is UTF-8 JSON (RFC 8259, without a byte order mark): a message in any other encoding
is invalid, whatever the standard library could read (see :mod:`llmops_contracts.jsonlimits`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, cast

from pydantic import ValidationError

from llmops_contracts import (
    audit,
    costs,
    dlq,
    evaluation,
    guardrails,
    ingestion,
    jsonlimits,
    llm,
    retrieval,
    subjects,
    tools,
)
from llmops_contracts.envelope import Envelope, Kind, Payload
from llmops_contracts.jsonlimits import MAX_DEPTH, encoding_problem, nesting_exceeds

#: Every payload type of the suite, in documentation order.
PAYLOADS: tuple[type[Payload], ...] = (
    ingestion.SubmitDocument,
    ingestion.DeleteDocument,
    ingestion.ExpireDocuments,
    ingestion.DocumentIndexed,
    ingestion.DocumentProgress,
    ingestion.DocumentDeleted,
    ingestion.DocumentRejected,
    ingestion.ChunksEmbedded,
    retrieval.RetrievalQuery,
    retrieval.RetrievalResult,
    retrieval.RetrievalPerformed,
    retrieval.RebuildIndex,
    retrieval.IndexRebuilt,
    guardrails.GuardrailCheckRequest,
    guardrails.GuardrailVerdict,
    guardrails.VerdictRecorded,
    guardrails.ShadowVerdictRecorded,
    guardrails.PolicyChanged,
    guardrails.GuardrailPolicyRequest,
    guardrails.GuardrailPolicyResult,
    guardrails.GuardrailStreamChunk,
    guardrails.GuardrailStreamVerdict,
    tools.ToolCallRequested,
    llm.LlmCallCompleted,
    costs.CostRecorded,
    costs.BudgetThresholdCrossed,
    costs.BudgetExceeded,
    costs.PriceMissing,
    costs.UsageMissing,
    costs.CostAnomaly,
    costs.PricesLoad,
    costs.PricesLoaded,
    costs.CostReportQuery,
    costs.CostReport,
    costs.BudgetsRequest,
    costs.Budgets,
    costs.BudgetCheck,
    costs.BudgetDecision,
    evaluation.RunEval,
    evaluation.CaseScored,
    evaluation.RunCompleted,
    evaluation.ReviewRequested,
    evaluation.ReviewCompleted,
    audit.AuditRecord,
    audit.AuditCheckpoint,
    audit.AuditQuery,
    audit.AuditQueryResult,
    audit.AuditVerify,
    audit.AuditVerifyResult,
    audit.AuditPurge,
    audit.AuditPurgeResult,
    dlq.DeadLetter,
)

_BY_TYPE: dict[str, type[Payload]] = {p.SPEC.type: p for p in PAYLOADS}
if len(_BY_TYPE) != len(PAYLOADS):  # pragma: no cover - a programming error caught at import
    raise RuntimeError("two payloads declare the same type id")


class InvalidMessage(ValueError):
    """A message that can never be processed: not JSON, unknown type, or failing its schema.

    Attributes:
        reason: one line naming what is wrong (and the field, where there is one).
        type_id: the message's ``type`` when it could be read.
    """

    def __init__(self, reason: str, *, type_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.type_id = type_id


def types() -> list[str]:
    """Every registered type id."""
    return list(_BY_TYPE)


def payload_class(type_id: str) -> type[Payload]:
    """The payload model of a type id.

    Raises:
        InvalidMessage: when the type id is not registered.
    """
    try:
        return _BY_TYPE[type_id]
    except KeyError:
        raise InvalidMessage(f"type: unknown message type {type_id!r}", type_id=type_id) from None


@cache
def envelope_model(type_id: str) -> type[Envelope[Any]]:
    """The envelope model specialised for one type id (cached)."""
    generic: Any = Envelope  # parametrised at run time by the registered class
    return cast("type[Envelope[Any]]", generic[payload_class(type_id)])


def by_kind(*kinds: Kind) -> list[type[Payload]]:
    """Payload classes of the given kinds, in registry order."""
    return [p for p in PAYLOADS if p.SPEC.kind in kinds]


def format_errors(error: ValidationError) -> str:
    """One line per validation error, each starting with the dotted path of the bad field."""
    lines = []
    for err in error.errors(include_url=False):
        path = ".".join(str(p) for p in err["loc"]) or "(message)"
        lines.append(f"{path}: {err['msg']}")
    return "; ".join(lines)


def check_subject(message: Envelope[Any], subject: str) -> None:
    """Check that a message arrived on the subject its type and tenant belong to.

    Applications are scoped to their tenant by NATS permissions on the subject's last token, so a
    message whose ``tenant`` differs from its subject's would escape that scoping.

    Args:
        message: the parsed envelope.
        subject: the subject it was received on.

    Raises:
        InvalidMessage: when the tenant or the type does not match the subject.
    """
    spec = payload_class(message.type).SPEC
    if spec.subject is None:
        return
    if spec.kind is Kind.DEAD_LETTER:
        _check_dead_letter_subject(message, subject)
        return
    prefix, _, tenant = subject.rpartition(".")
    if tenant != message.tenant:
        raise InvalidMessage(
            f"tenant: {message.tenant!r} does not match the subject's tenant {tenant!r}",
            type_id=message.type,
        )
    if prefix != spec.subject:
        raise InvalidMessage(
            f"type: {message.type!r} does not belong on subject {subject!r}", type_id=message.type
        )


def _check_dead_letter_subject(message: Envelope[Any], subject: str) -> None:
    """A dead letter's tenant is its subject's (``llmops.dlq.<service>.<tenant>``).

    Letters on the old tenant-less ``llmops.dlq.<service>`` subjects are read as they are.
    """
    parts = subjects.dlq_parts(subject)
    if parts is None:
        raise InvalidMessage(
            f"type: {message.type!r} does not belong on subject {subject!r}", type_id=message.type
        )
    legacy = subject.count(".") == 2
    if not legacy and parts[1] != message.tenant:
        raise InvalidMessage(
            f"tenant: {message.tenant!r} does not match the subject's tenant {parts[1]!r}",
            type_id=message.type,
        )


_TYPE_PEEK = re.compile(rb'"type"\s*:\s*"(llmops\.[a-z0-9_]+\.[a-z0-9_]+\.v[0-9]+)"')


def _parse_fast(raw: bytes) -> Envelope[Any] | None:
    """Validate straight from JSON when the type can be peeked from the bytes (the common case).

    pydantic-core parsing JSON itself is faster than ``json.loads`` and then validating
    (measured: docs/decisions.md).
    A wrong peek (a nested "type" key) fails the envelope's own type check, and any failure falls
    back to the slow path, which also produces the precise error message.
    """
    found = _TYPE_PEEK.search(raw)
    if found is None:
        return None
    payload = _BY_TYPE.get(found.group(1).decode())
    if payload is None:
        return None
    try:
        return envelope_model(payload.SPEC.type).model_validate_json(raw)
    except ValidationError:
        return None


def parse(
    raw: bytes | str | Mapping[str, Any],
    *,
    expect: str | None = None,
    subject: str | None = None,
) -> Envelope[Any]:
    """Parse and validate one message, selecting the payload model by its ``type``.

    Args:
        raw: the wire bytes, a JSON string, or an already decoded object.
        expect: if given, the only acceptable type id.
        subject: if given, the subject it arrived on; see :func:`check_subject`.

    Returns:
        The validated envelope with a typed ``data``.

    Raises:
        InvalidMessage: with a reason naming the bad field; never another exception, whatever
            the input (hostile JSON is invalid, not fatal).
    """
    if isinstance(raw, bytes | str):
        obj = _decode(raw)
        if isinstance(obj, Envelope):
            if expect is None or obj.type == expect:
                if subject is not None:
                    check_subject(obj, subject)
                return obj
            obj = _loads(raw if isinstance(raw, bytes) else raw.encode())
    else:
        obj = raw
    if not isinstance(obj, Mapping):
        raise InvalidMessage("(message): not a JSON object")
    type_id = obj.get("type")
    if not isinstance(type_id, str):
        raise InvalidMessage("type: missing or not a string")
    if expect is not None and type_id != expect:
        raise InvalidMessage(f"type: expected {expect!r}, got {type_id!r}", type_id=type_id)
    model = envelope_model(type_id)
    try:
        message = model.model_validate(obj)
    except ValidationError as exc:
        raise InvalidMessage(format_errors(exc), type_id=type_id) from None
    except RecursionError:  # a mapping built in code, deeper than any parse would let through
        raise InvalidMessage(TOO_DEEP, type_id=type_id) from None
    if subject is not None:
        check_subject(message, subject)
    return message


#: The reason given for JSON nested deeper than :data:`~llmops_contracts.jsonlimits.MAX_DEPTH`.
TOO_DEEP = f"(message): nested deeper than {MAX_DEPTH} levels of arrays and objects"


def check_depth(data: bytes) -> None:
    """Refuse JSON text nested deeper than ``MAX_DEPTH`` (see :mod:`llmops_contracts.jsonlimits`).

    The depth is counted on UTF-8 bytes, so text that is not UTF-8 at a glance (UTF-16 or
    UTF-32, whose escaped quotes the count would miss) is refused first.

    Raises:
        InvalidMessage: when it is nested too deep, or not UTF-8.
    """
    problem = encoding_problem(data)
    if problem is not None:
        raise InvalidMessage(f"(message): not valid JSON: {problem}")
    if nesting_exceeds(data, MAX_DEPTH):
        raise InvalidMessage(TOO_DEEP)


#: A ``\uD800``-``\uDFFF`` escape: half of a pair, or a lone surrogate (rare: checked then).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _decode(raw: bytes | str) -> Envelope[Any] | Any:
    """The validated envelope when the fast path takes it, else the decoded JSON value."""
    if isinstance(raw, str):
        try:
            raw = raw.encode()
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 text holds one
            raise InvalidMessage("(message): not valid JSON: a lone UTF-16 surrogate") from None
    check_depth(raw)
    if _SURROGATE_ESCAPE.search(raw) is not None:
        _refuse_lone_surrogates(raw)
    fast = _parse_fast(raw)
    return fast if fast is not None else _loads(raw)


def _refuse_lone_surrogates(raw: bytes) -> None:
    """Refuse JSON whose strings hold an escaped lone surrogate (``"\\ud800"``).

    It parses, and a plain ``str`` field accepts it, but no UTF-8 text can hold it: the first
    write or hash of the value fails, so a service would retry a message that can never succeed.
    """
    try:
        jsonlimits.check_finite(_loads(raw))
    except ValueError as exc:
        raise InvalidMessage(f"(message): not valid JSON: {exc}") from None


def _loads(raw: bytes) -> Any:
    """Decode UTF-8 JSON the way ``json.loads`` does, but refusing non-finite numbers.

    Raises:
        InvalidMessage: not JSON, not UTF-8, or a non-finite number.
    """
    try:
        return jsonlimits.loads(raw)
    except ValueError as exc:  # UnicodeDecodeError is one
        raise InvalidMessage(f"(message): not valid JSON: {exc}") from None
    except RecursionError:  # unreachable after check_depth; kept so nothing else escapes
        raise InvalidMessage(TOO_DEEP) from None
