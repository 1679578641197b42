"""Dead letters never fail on size: what would not fit one message is kept by reference."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError

from llmops_contracts.common import ObjectRef
from llmops_contracts.dlq import FailureKind
from llmops_contracts.llm import LlmCallCompleted
from llmops_shared.broker import MessageScope
from llmops_shared.dlq import MAX_ERROR, DeadLetterer
from llmops_shared.settings import ServiceSettings
from tests.unit.test_batch import Letters, Message

LIMIT = 64 * 1024


class Blobs:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def max_payload(self) -> int:
        return LIMIT

    async def put(self, data: bytes) -> ObjectRef:
        digest = hashlib.sha256(data).hexdigest()
        self.objects[digest] = data
        return ObjectRef(bucket="b", name=f"sha256/{digest}", size=len(data), sha256=digest)


def message(data: bytes, headers: dict[str, str] | None = None) -> Any:
    meta = SimpleNamespace(num_delivered=1, sequence=SimpleNamespace(stream=7), stream="EVENTS")
    return SimpleNamespace(
        data=data, subject="llmops.evt.llm.call_completed.acme", headers=headers, metadata=meta
    )


async def test_a_small_letter_carries_the_payload() -> None:
    blobs = Blobs()
    letter, body = await DeadLetterer("costs", None, blobs).letter(  # type: ignore[arg-type]
        message(b"\xff not utf-8"), FailureKind.INVALID, "x" * (MAX_ERROR + 50)
    )
    assert letter.data.payload_encoding == "base64"
    assert letter.data.payload_ref is None
    assert letter.data.error.endswith("... (50 more characters)")
    assert blobs.objects == {}
    assert len(body) < LIMIT


async def test_a_payload_too_large_to_carry_is_kept_by_reference() -> None:
    blobs, payload = Blobs(), b"\xfe" * (LIMIT - 100)  # fits a message; base64 would not
    letter, body = await DeadLetterer("costs", None, blobs).letter(  # type: ignore[arg-type]
        message(payload, {"Nats-Msg-Id": "m1", "Llmops-Correlation-Id": "c" * 300}),
        FailureKind.INVALID,
        "not JSON",
    )
    ref = letter.data.payload_ref
    assert ref is not None
    assert (letter.data.payload, letter.data.payload_encoding) == ("", "ref")
    assert blobs.objects[ref.sha256] == payload
    assert ref.size == len(payload)
    assert letter.data.original_headers["Nats-Msg-Id"] == "m1"
    assert letter.correlation_id is None  # too long for the attribute; kept in the headers
    assert len(body) < LIMIT


async def test_headers_too_large_to_carry_are_kept_by_reference_too() -> None:
    blobs, headers = Blobs(), {f"X-H{i}": "v" * 1000 for i in range(70)}
    letter, body = await DeadLetterer("audit", None, blobs).letter(  # type: ignore[arg-type]
        message(b"{}", headers), FailureKind.INVALID, "id: missing"
    )
    assert letter.data.original_headers == {}
    assert letter.data.headers_ref is not None
    assert json.loads(blobs.objects[letter.data.headers_ref.sha256]) == headers
    assert len(body) < LIMIT


async def test_a_single_message_whose_dead_letter_fails_is_retried_not_rejected() -> None:
    """The per-message path (non-batch subscribers): NATS away while dead-lettering."""
    scope = MessageScope(ServiceSettings())
    scope.letters = Letters(broken=True)  # type: ignore[assignment]
    msg = Message("{}")
    with_scope = scope(msg, context=None)
    try:
        LlmCallCompleted.model_validate({})
    except ValidationError as invalid:
        handled = await with_scope._handle_failure(msg, invalid)  # type: ignore[arg-type]
    assert handled  # suppressed: FastStream must not reject (terminate) it
    assert msg.actions == [("nak", 1.0)]
