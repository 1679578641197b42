"""Hostile JSON is invalid, not fatal: depth, non-finite numbers, missing ids, any bytes at all."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from llmops_contracts import jsonlimits, new_event_id, wrap
from llmops_contracts.jsonlimits import MAX_DEPTH, check_finite, nesting_exceeds
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_contracts.registry import TOO_DEEP, InvalidMessage, parse
from llmops_contracts.tools import ToolCallRequested

SUBJECT = "llmops.evt.llm.call_completed.acme"


def call_body(**data: Any) -> dict[str, Any]:
    call = LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o-mini",
        latency_ms=1.0,
        usage=Usage(input_tokens=3, output_tokens=2),
    )
    body = json.loads(wrap(call, tenant="acme", source="app://t").to_json())
    body["data"].update(data)
    return body


def nested(depth: int) -> Any:
    """An object ``depth`` arrays/objects deep (alternating, so both kinds count)."""
    value: Any = 1
    for i in range(depth):
        value = {"k": value} if (depth - i) % 2 else [value]
    return value


def reference_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(reference_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(reference_depth, value), default=0)
    return 0


# --- nesting ---------------------------------------------------------------------------------


def test_the_limit_is_exact_counting_the_envelope_itself() -> None:
    # envelope (1) > data (2) > raw_usage (3) > ...: the limit counts from the outermost object
    at_limit = call_body(raw_usage=nested(MAX_DEPTH - 2))
    assert parse(json.dumps(at_limit), subject=SUBJECT).data.raw_usage is not None
    over = call_body(raw_usage=nested(MAX_DEPTH - 1))
    with pytest.raises(InvalidMessage) as caught:
        parse(json.dumps(over), subject=SUBJECT)
    assert caught.value.reason == TOO_DEEP


@pytest.mark.parametrize("depth", [100, 600, 1_200, 5_000, 100_000])
def test_deep_nesting_is_invalid_at_any_depth_never_a_recursion_error(depth: int) -> None:
    # 600 deep is the 1.6 KB call that costs priced and audit could never hash; 5,000 and up
    # raised RecursionError out of json.loads.
    body = json.dumps(call_body(raw_usage={"x": 0})).replace(
        '{"x": 0}', '{"x": ' + "[" * depth + "]" * depth + "}"
    )
    with pytest.raises(InvalidMessage, match="nested deeper than 64"):
        parse(body.encode(), subject=SUBJECT)


def test_brackets_inside_strings_do_not_count() -> None:
    text = "[{" * 500 + '\\"' + "]}" * 3 + "\\\\"
    body = call_body(raw_usage={"note": text}, finish_reasons=["[" * 300])
    message = parse(json.dumps(body), subject=SUBJECT)
    assert message.data.raw_usage == {"note": text}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=3), children, max_size=3)
    ),
    max_leaves=200,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, limit=st.integers(min_value=0, max_value=8))
def test_the_byte_scan_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    for text in (json.dumps(value), json.dumps(value, separators=(",", ":"), ensure_ascii=False)):
        assert nesting_exceeds(text.encode(), limit) == (reference_depth(value) > limit), text


def escaped_quote_then_deep(depth: int) -> dict[str, Any]:
    """A call whose string ``"\\""`` is followed by ``depth`` nested arrays: in UTF-8 the escaped
    quote is cut out before counting, in UTF-16/32 it was taken for a string's end, so the
    brackets after it counted as inside a string."""
    return call_body(raw_usage={"q": '"', "a": nested_arrays(depth)})


def nested_arrays(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


#: The encodings the standard library reads besides UTF-8 (``json.detect_encoding``).
OTHER_ENCODINGS = ["utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-32"]


@pytest.mark.parametrize("encoding", OTHER_ENCODINGS)
@pytest.mark.parametrize("depth", [1, 600])
def test_json_in_another_encoding_than_utf8_is_invalid_deep_or_not(
    encoding: str, depth: int
) -> None:
    # 600 deep passed the nesting count in UTF-16/32 and then failed audit's hash on every
    # delivery; shallow ones are refused the same way: the wire is UTF-8.
    body = json.dumps(escaped_quote_then_deep(depth))
    assert not nesting_exceeds(body.encode(encoding))  # what the count alone made of it
    with pytest.raises(InvalidMessage) as caught:
        parse(body.encode(encoding), subject=SUBJECT)
    assert caught.value.reason == (
        "(message): not valid JSON: a NUL byte: UTF-16 or UTF-32 text? The wire is UTF-8"
    )
    assert nesting_exceeds(body.encode()) == (depth > MAX_DEPTH)  # the same text in UTF-8


def test_a_byte_order_mark_is_invalid() -> None:
    body = json.dumps(call_body()).encode()
    assert parse(body, subject=SUBJECT).tenant == "acme"
    with pytest.raises(InvalidMessage) as caught:
        parse(b"\xef\xbb\xbf" + body, subject=SUBJECT)
    assert caught.value.reason == (
        "(message): not valid JSON: a byte order mark: the wire is UTF-8 without one"
    )


@pytest.mark.parametrize(
    "data",
    [
        "[1]".encode("utf-16"),
        "[1]".encode("utf-32-le"),
        b"\xef\xbb\xbf[1]",
        b'["\xed\xa0\x80"]',  # a surrogate encoded as bytes: not UTF-8
        b'["\xff"]',
    ],
)
def test_loads_reads_nothing_but_utf8(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"."):  # UnicodeDecodeError is a ValueError too
        jsonlimits.loads(data)
    assert jsonlimits.loads('["é", 1.5]'.encode()) == ["é", 1.5]


def test_check_finite_walks_without_recursion() -> None:
    deep: Any = 0
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        check_finite({"x": deep})
    assert check_finite({"x": nested(MAX_DEPTH - 1)})


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
@pytest.mark.parametrize("where", ["latency_ms", "raw_usage"])
def test_non_finite_numbers_are_refused_in_typed_and_free_form_fields(
    literal: str, where: str
) -> None:
    body = json.dumps(call_body(raw_usage={"x": 1}), separators=(",", ":"))
    target = '"latency_ms":1.0' if where == "latency_ms" else '"raw_usage":{"x":1}'
    value = literal if where == "latency_ms" else '{"x":' + literal + "}"
    key = target.split(":", 1)[0]
    hostile = body.replace(target, f"{key}:{value}")
    assert hostile != body
    with pytest.raises(InvalidMessage, match=r"JSON number|range of a double"):
        parse(hostile.encode(), subject=SUBJECT)


@pytest.mark.parametrize(
    "build",
    [
        lambda: LlmCallCompleted(provider="p", request_model="m", latency_ms=float("inf")),
        lambda: LlmCallCompleted(
            provider="p", request_model="m", latency_ms=1, raw_usage={"x": [float("nan")]}
        ),
        lambda: ToolCallRequested(tool_name="t", arguments={"a": {"b": float("-inf")}}),
    ],
)
def test_models_built_in_code_refuse_non_finite_numbers_too(build: Any) -> None:
    with pytest.raises(ValidationError, match=r"finite|not a JSON number"):
        build()


# --- ids -------------------------------------------------------------------------------------


def test_an_incoming_envelope_without_id_is_invalid_naming_id() -> None:
    body = call_body()
    del body["id"]
    for raw in (json.dumps(body), json.dumps(body).encode(), body):
        with pytest.raises(InvalidMessage) as caught:
            parse(raw, subject=SUBJECT)
        assert caught.value.reason.startswith("id: Field required")


def test_wrap_still_makes_an_id_for_envelopes_built_in_code() -> None:
    call = LlmCallCompleted(provider="p", request_model="m", latency_ms=1)
    first, second = (wrap(call, tenant="acme", source="app://t") for _ in range(2))
    assert first.id != second.id
    given_id = new_event_id()
    assert wrap(call, tenant="acme", source="app://t", id=given_id).id == given_id


# --- anything at all -------------------------------------------------------------------------


def _raises_only_invalid(raw: bytes | str) -> None:
    with contextlib.suppress(InvalidMessage):
        parse(raw, subject=SUBJECT)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=300))
def test_any_bytes_parse_or_are_invalid(raw: bytes) -> None:
    _raises_only_invalid(raw)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(min_value=0, max_value=2_000),
    insert=st.sampled_from(
        [b"\xff", b"\xc3", b"[" * 70, b"NaN", b"1e999", b'"', b"\\ud800", b"\x00", b"}", b"-"]
    ),
    cut=st.integers(min_value=0, max_value=3),
)
def test_a_valid_message_mutated_anywhere_parses_or_is_invalid(
    position: int, insert: bytes, cut: int
) -> None:
    valid = json.dumps(call_body(raw_usage={"a": [1, 2]})).encode()
    at = position % len(valid)
    _raises_only_invalid(valid[:at] + insert + valid[at + cut :])
    _raises_only_invalid((valid[:at] + insert + valid[at + cut :]).decode("utf-8", "replace"))


def test_text_with_a_lone_surrogate_is_invalid() -> None:
    with pytest.raises(InvalidMessage, match="surrogate"):
        parse('{"type": "\ud800"}')


@pytest.mark.parametrize("raw_usage", ['{"x":"\\ud800"}', '{"\\udc00":1}', '{"x":["\\ud83d"]}'])
def test_a_lone_surrogate_escape_in_free_form_json_is_invalid(raw_usage: str) -> None:
    body = json.dumps(call_body(raw_usage={"x": 1}), separators=(",", ":"))
    hostile = body.replace('"raw_usage":{"x":1}', '"raw_usage":' + raw_usage)
    assert hostile != body
    with pytest.raises(InvalidMessage, match="surrogate"):
        parse(hostile.encode(), subject=SUBJECT)


@pytest.mark.parametrize("escape", ["\\ud800", "\\uDFFF", "x\\ud83d"])
def test_a_lone_surrogate_escape_in_any_string_field_is_invalid(escape: str) -> None:
    # a plain ``str`` field (here the model name; a document's text alike) took it, and the
    # service that stored or hashed it failed on every delivery instead of dead-lettering it
    body = json.dumps(call_body(request_model="PLACEHOLDER"), separators=(",", ":"))
    with pytest.raises(InvalidMessage, match=r"^\(message\): not valid JSON: .*surrogate"):
        parse(body.replace("PLACEHOLDER", escape).encode(), subject=SUBJECT)
    pair = body.replace("PLACEHOLDER", "\\ud83d\\ude00 and \\\\ud800")
    assert parse(pair.encode(), subject=SUBJECT).data.request_model == "\U0001f600 and \\ud800"


# --- dead letters ----------------------------------------------------------------------------


def test_a_dead_letters_tenant_is_checked_against_its_subject() -> None:
    golden = Path(__file__).parent / "golden" / "llmops.dlq.dead_letter.v1.json"
    letter = json.loads(golden.read_text())  # tenant acme
    assert parse(letter, subject="llmops.dlq.costs.acme").tenant == "acme"
    assert parse(letter, subject="llmops.dlq.costs").tenant == "acme"  # old subject: as read
    with pytest.raises(InvalidMessage, match="tenant: 'acme' does not match"):
        parse(letter, subject="llmops.dlq.costs.globex")
    with pytest.raises(InvalidMessage, match="does not belong on subject"):
        parse(letter, subject="llmops.dlq.costs.x.acme")
