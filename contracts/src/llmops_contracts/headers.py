"""NATS header names llmops uses beside the JSON body.

Headers repeat a few envelope attributes so that routing, de-duplication and log context need no
JSON parsing: JetStream de-duplicates on ``Nats-Msg-Id``; services bind the others to their logs.
"""

from __future__ import annotations

from typing import Any

from llmops_contracts.envelope import Envelope

MSG_ID = "Nats-Msg-Id"
TYPE = "Llmops-Type"
CORRELATION_ID = "Llmops-Correlation-Id"
TRACEPARENT = "traceparent"
#: Set on a request/reply answer that is an error; the body is ``{"error": kind, "reason": ...}``.
ERROR = "Llmops-Error"
#: Set on a message republished from the dead-letter queue: ``DLQ:<sequence of the letter>``.
REPLAY_OF = "Llmops-Replay-Of"

#: A message as NATS takes it: (subject, body, headers).
Wire = tuple[str, bytes, dict[str, str]]


def headers_for(message: Envelope[Any]) -> dict[str, str]:
    """NATS headers of an outgoing envelope: de-duplication id, type, trace and correlation."""
    headers = {MSG_ID: message.id, TYPE: message.type}
    if message.traceparent:
        headers[TRACEPARENT] = message.traceparent
    if message.correlation_id:
        headers[CORRELATION_ID] = message.correlation_id
    return headers


def wire(message: Envelope[Any]) -> Wire:
    """(subject, body, headers) of an envelope on its own subject: the one way every producer
    (services, the client, the benches) turns an envelope into a NATS message."""
    return message.subject(), message.to_json(), headers_for(message)


def jetstream_answer(body: bytes, status: str | None) -> str | None:
    """What JetStream answered to a publish: ``stored``, ``refused`` or ``unavailable``; ``None``
    when the reply is not JetStream's.

    JetStream answers a stored message ``{"stream":...,"seq":...}``, a refusal
    ``{"error":{...}}`` (code 503 when the stream has no leader), and a subject no stream captures
    with an empty status-503 message. Any other reply on the publish's reply subject came from a
    plain subscriber of the subject that answered the publish too (FastStream answers a
    handler's ``None`` with an empty body, llmops endpoints an error with ``{"error": "invalid",
    ...}``): taken as the answer, it fails a publish JetStream stores a moment later, or counts
    one as stored with no stream at all. Checked against the exact bytes of nats-server 2.15.
    """
    if not body:
        return "unavailable" if status == "503" else None
    if body.startswith(b'{"error":{'):
        return "unavailable" if b'"code":503' in body else "refused"
    return "stored" if body.startswith(b'{"stream":') else None
