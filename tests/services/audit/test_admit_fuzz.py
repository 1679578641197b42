"""Property: whatever bytes arrive, audit's admit refuses them as invalid or admits something it
can hash; costs' parse refuses them as invalid or gives a valid call. Nothing else escapes."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmops_audit import fastjson
from llmops_audit.admission import admit
from llmops_contracts import wrap
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_contracts.registry import InvalidMessage, parse

SUBJECT = "llmops.evt.llm.call_completed.acme"
VALID = wrap(
    LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o-mini",
        latency_ms=1.5,
        usage=Usage(input_tokens=3, output_tokens=2),
        raw_usage={"a": [1, 2.5, {"b": None}]},
    ),
    tenant="acme",
    source="app://fuzz",
).to_json()

FRAGMENTS = [
    b"\xff",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"[" * 70,
    b"{" * 40,
    b"NaN",
    b"-Infinity",
    b"1e400",
    b"12345678901234567890123",
    b'"',
    b"\\ud800",
    b"\\u0000",
    b"\x00",
    b"}",
    b",",
    b'"id":null,',
    b'"tenant":"globex",',
]


def both_edges(raw: bytes) -> None:
    with contextlib.suppress(InvalidMessage):
        item = admit(SUBJECT, raw)
        # what audit admits it must be able to hash, or it would retry the batch for ever
        fastjson.canonical(item.envelope)
        assert item.tenant == "acme"
    with contextlib.suppress(InvalidMessage):
        message = parse(raw, subject=SUBJECT)
        assert message.tenant == "acme"
        json.loads(message.to_json())  # and it serialises back to JSON


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(VALID)),
            st.sampled_from(FRAGMENTS),
            st.integers(min_value=0, max_value=4),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_mutated_call_is_invalid_or_fully_usable_at_both_edges(
    edits: list[tuple[int, bytes, int]],
) -> None:
    raw = VALID
    for at, fragment, cut in edits:
        at %= len(raw) + 1
        raw = raw[:at] + fragment + raw[at + cut :]
    both_edges(raw)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(raw=st.binary(max_size=400))
def test_any_bytes_are_invalid_or_fully_usable_at_both_edges(raw: bytes) -> None:
    both_edges(raw)
