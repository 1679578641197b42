"""Admission: the checks an arriving message passes before the audit trail records it.

Audit records every well-formed envelope, so admission checks only the attributes the trail
relies on; everything else about the message is recorded as it arrived.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from llmops_audit import fastjson
from llmops_contracts import subjects
from llmops_contracts.envelope import TYPE_PATTERN, UUID_PATTERN
from llmops_contracts.registry import InvalidMessage, check_depth

_UUID = re.compile(UUID_PATTERN)
_TYPE = re.compile(TYPE_PATTERN)
#: A JSON escape of a UTF-16 surrogate (``\ud800`` to ``\udfff``).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

# Column widths of the trail (see the migration): a longer subject, type or source is refused.
MAX_SUBJECT, MAX_TYPE, MAX_SOURCE = 256, 128, 256


@dataclass(frozen=True)
class Incoming:
    """One message to record: where it arrived and its envelope as received (decoded JSON).

    ``tenant`` is the chain it joins, taken from the subject (see :func:`admit`); by default
    the envelope's, for messages built in code.
    """

    subject: str
    envelope: dict[str, Any]
    tenant: str = ""

    def __post_init__(self) -> None:
        if not self.tenant:
            object.__setattr__(self, "tenant", str(self.envelope["tenant"]))

    @property
    def event_id(self) -> str:
        """The envelope id."""
        return str(self.envelope["id"])


def admit(subject: str, body: bytes) -> Incoming:
    """Check the envelope attributes the audit trail relies on, and nothing more.

    Audit records every well-formed envelope, even one whose payload a consumer will refuse (the
    consumer's dead letter is recorded too) or whose type is newer than this service: the trail
    is of what was published. It needs a JSON object with a UUID ``id``, a versioned ``type``
    and a ``tenant`` that matches the subject (so subject permissions bound what an application
    can write into a tenant's chain).

    Raises:
        InvalidMessage: naming the bad attribute.
    """
    # Encoding and nesting first: deep JSON parses, but hashing and redaction walk it
    # recursively, so it would fail its batch on every delivery; and the depth is counted on
    # UTF-8 bytes, so UTF-16/32 text is refused before it (see llmops_contracts.jsonlimits).
    check_depth(body)
    try:
        envelope = fastjson.loads(body)
    except ValueError as exc:  # UnicodeDecodeError is one
        raise InvalidMessage(f"(message): not valid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(body):
        # Escaped surrogates decode (surrogates encoded as bytes are not UTF-8, refused above),
        # but a lone one cannot be written as UTF-8: it would fail the hash later and jam the
        # batch. Checked only when such an escape is present at all.
        try:
            json.dumps(envelope, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise InvalidMessage("(message): a string holds a lone UTF-16 surrogate") from None
    if len(subject) > MAX_SUBJECT:
        raise InvalidMessage(f"(subject): longer than {MAX_SUBJECT} characters")
    if not isinstance(envelope, dict):
        raise InvalidMessage("(message): not a JSON object")
    event_id, type_id, tenant = envelope.get("id"), envelope.get("type"), envelope.get("tenant")
    if not isinstance(event_id, str) or not _UUID.match(event_id):
        raise InvalidMessage("id: missing or not a UUID")
    if not isinstance(type_id, str) or not _TYPE.match(type_id) or len(type_id) > MAX_TYPE:
        raise InvalidMessage("type: missing, not a versioned llmops type id, or too long")
    if not isinstance(tenant, str) or not subjects.is_token(tenant):
        raise InvalidMessage("tenant: missing or not a valid subject token")
    chain, legacy = _chain_tenant(subject)
    if chain != tenant and not legacy:
        raise InvalidMessage(f"tenant: {tenant!r} does not match the subject's tenant {chain!r}")
    source = envelope.get("source")
    if not isinstance(source, str) or not 0 < len(source) <= MAX_SOURCE:
        raise InvalidMessage(f"source: missing, not a string, or longer than {MAX_SOURCE}")
    return Incoming(subject, envelope, chain)


def _chain_tenant(subject: str) -> tuple[str, bool]:
    """The tenant whose chain a message on ``subject`` joins (always the subject's), and
    whether the subject is an old tenant-less dead-letter subject.

    Permissions are granted on subjects, so a body naming another tenant must never choose the
    chain. Dead letters travel on ``llmops.dlq.<service>.<tenant>``; letters stored on the old
    ``llmops.dlq.<service>`` join the ``unknown`` chain whatever their body says.
    """
    if not subject.startswith(subjects.DLQ + "."):
        return subjects.tenant_of(subject), False
    parts = subjects.dlq_parts(subject)
    if parts is None:
        raise InvalidMessage(
            f"(subject): {subject!r} is not a dead-letter subject (llmops.dlq.<service>.<tenant>)"
        )
    return parts[1], subject.count(".") == 2
