"""The audit service's orjson path must write exactly the reference canonical bytes.

``llmops_contracts.canonical.canonical_json`` is the definition of what is hashed; the service's
``fastjson`` produces it with orjson and falls back to the reference wherever orjson's text is
not proven identical. These tests compare the two over tricky and random inputs, and check that
parsing matches the standard library's (numbers, duplicate keys, what is refused).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
from typing import Any

import pytest

from llmops_audit import fastjson
from llmops_audit.admission import Incoming
from llmops_audit.chain import Head, _rest_canonical, chain_record
from llmops_audit.redaction import Redactor
from llmops_contracts.auditchain import record_hash
from llmops_contracts.canonical import canonical_json
from llmops_contracts.registry import InvalidMessage
from tests.contracts.test_canonical import TRICKY_FLOATS, _random_document

MORE_FLOATS = [
    1e21,
    1e-7,
    -0.0,
    5e-324,
    1e-5,
    1e-6,
    9.999999999999999e-5,
    1e-4,
    0.1,
    0.3,
    2.0 / 3,
    -412.5,
    1e15 + 0.5,
    123456789012345.6,
    1e16,
    4503599627370496.5,
    9007199254740993.0,
    1.7976931348623157e308,
    2.2250738585072014e-308,
    12.0,
    100.0,
    1.5e21,
    -1.5e-7,
]
INTEGERS = [0, -1, 2**53, 2**53 + 1, -(2**53) - 1, 10**15, 10**16, 2**63 - 1, -(2**63), 2**64 - 1]
KEYS = ["a", "b", "", "Z", "é", "\u20ac", "\ue000", "\uffff", "\U0001f600", "\U00010000", "k:1.0,"]
STRINGS = ["x\u2028y", "\x00\x1f\x7f", '"\\/', "\b\f\n\r\t", "é€😀", ":1e-7,", "[12.0]", ":-0.0}"]


def _random_doubles(rng: random.Random, count: int) -> list[float]:
    out = []
    while len(out) < count:
        value = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if math.isfinite(value):
            out.append(value)
    return out


def _tricky_document(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice(MORE_FLOATS + TRICKY_FLOATS + _random_doubles(rng, 1))
    if kind == 1:
        return rng.choice([*INTEGERS, rng.randrange(-(10**6), 10**6)])
    if kind == 2:
        return rng.choice(STRINGS + KEYS)
    if kind == 3:
        return rng.choice([None, True, False, rng.uniform(0, 1000), round(rng.uniform(0, 1e6), 2)])
    if kind == 4:
        return "".join(rng.choice(KEYS + STRINGS) for _ in range(3))
    if kind in (5, 6):
        keys = rng.sample(KEYS, rng.randrange(1, 6))
        return {k: _tricky_document(rng, depth + 1) for k in keys}
    return [_tricky_document(rng, depth + 1) for _ in range(rng.randrange(5))]


def _documents() -> list[Any]:
    rng = random.Random(11)
    docs: list[Any] = [_tricky_document(rng) for _ in range(3000)]
    docs += [_random_document(rng) for _ in range(2000)]
    docs += [{"a": x} for x in MORE_FLOATS + TRICKY_FLOATS] + [[x] for x in INTEGERS]
    docs += [{k: i for i, k in enumerate(KEYS)}, {"\ue000": 1, "\U0001f600": 2}]
    docs += [{"n": _random_doubles(rng, 50)}, [rng.uniform(-1e6, 1e6) for _ in range(200)]]
    docs += [[rng.uniform(1e-6, 1e-3) for _ in range(200)], {"x": 1e-5, "y": [0.00001]}]
    return docs


def test_canonical_is_the_reference_byte_for_byte() -> None:
    for doc in _documents():
        assert fastjson.canonical(doc) == canonical_json(doc).encode(), doc


def test_the_fast_path_is_taken_only_where_it_equals_the_reference() -> None:
    taken = 0
    for doc in _documents():
        text = fastjson.canonical_fast(doc)
        if text is not None:
            taken += 1
            assert text == canonical_json(doc).encode(), doc
            # and it is faithful: every number reads back as parsed
            assert json.loads(text) == doc
    assert taken > 100  # (most of these documents are built to need the reference)


@pytest.mark.parametrize(
    ("doc", "fast"),
    [
        ({"b": 412.5, "a": [95.25, 0.1, "x"], "c": {"d": 1200}}, True),
        ({"x": 12.0}, False),  # the reference writes 12
        ({"x": 1e21}, False),  # 1e+21
        ({"x": 1e-7}, False),
        ({"x": 1e-5}, False),  # orjson writes 0.00001, which repr does not confirm
        ({"x": -0.0}, False),
        ({"x": 5e-324}, False),
        ({"x": 2**53 + 1}, False),  # written as the double other languages read
        ({"\ue000": 1, "\U0001f600": 2}, False),  # UTF-16 order differs from code points
        ({"s": "v1.0", "t": "2026-11-27T09:29:59.5Z", "u": "5e-3"}, True),
        # number-like text inside a string may take the reference: slower, same bytes
        ({"s": "a:12.0,b"}, None),
        ({"s": ":1e-7]"}, None),
    ],
)
def test_what_takes_the_fast_path(doc: Any, fast: bool | None) -> None:
    text = fastjson.canonical_fast(doc)
    if fast is not None:
        assert (text is not None) == fast
    assert fastjson.canonical(doc) == canonical_json(doc).encode()


def test_random_doubles_in_every_range_match_the_reference() -> None:
    rng = random.Random(5)
    values = _random_doubles(rng, 20000)
    values += [rng.uniform(-1e4, 1e4) for _ in range(20000)]
    values += [10.0 ** rng.uniform(-8, 22) for _ in range(20000)]
    for chunk in range(0, len(values), 100):
        doc = {"v": values[chunk : chunk + 100]}
        assert fastjson.canonical(doc) == canonical_json(doc).encode()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_like_the_reference(value: float) -> None:
    # (the service never hashes them: loads refuses them first)
    with pytest.raises(ValueError, match="NaN and infinity"):
        canonical_json({"x": value})
    with pytest.raises(ValueError, match="is not a JSON number"):
        fastjson.loads(json.dumps({"x": value}).encode())


def test_nesting_too_deep_for_the_canonical_form_is_an_invalid_message() -> None:
    deep: Any = 0
    for _ in range(5_000):
        deep = [deep]
    with pytest.raises(InvalidMessage, match="nested too deep"):
        fastjson.canonical({"x": deep})


def test_a_lone_surrogate_cannot_be_canonical_text() -> None:
    with pytest.raises(UnicodeEncodeError, match="surrogate"):
        fastjson.canonical({"x": "\ud800"})
    with pytest.raises(UnicodeEncodeError, match="surrogate"):
        fastjson.canonical(["\udfff"])


def test_non_string_keys_are_refused_like_the_reference() -> None:
    with pytest.raises(ValueError, match="keys must be strings"):
        fastjson.canonical({1: "x"})


# --- parsing ---------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types (1 and 1.0 differ here), keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a == 0:
        return math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"b":2,"a":3}',
        b"[18446744073709551615, 18446744073709551616, -9223372036854775809]",
        b"[123456789012345678901234567890, -0, -0.0, 1E5, 1e-400, 0.1]",
        b'["\\ud83d\\ude00", "\\u00e9", "\\u2028"]',
        b'{"id":"1234567890123456789012"}',
        b" [1] ",
    ],
)
def test_loads_parses_like_the_standard_library(body: bytes) -> None:
    assert _same(fastjson.loads(body), json.loads(body))


def test_loads_reads_every_double_as_the_standard_library_does() -> None:
    rng = random.Random(9)
    texts = [repr(x) for x in _random_doubles(rng, 5000)]
    texts += [f"{rng.uniform(0, 1):.25f}" for _ in range(2000)]  # digits beyond a double
    texts += [f"{rng.randrange(10**17)}e{rng.randrange(-340, 290)}" for _ in range(2000)]
    body = ("[" + ",".join(texts) + "]").encode()
    assert _same(fastjson.loads(body), json.loads(body))


@pytest.mark.parametrize(
    "body",
    [
        *(b"[NaN]", b"[Infinity]", b"[-Infinity]", b"[1e400]", b"[1]x", b'["\x01"]', b"\xff", b""),
        *(
            "\ufeff[1]".encode(),
            "[1]".encode("utf-16"),
            b'["\xed\xa0\x80"]',
        ),  # not the wire's UTF-8
    ],
)
def test_loads_refuses_what_admission_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match=r"."):  # UnicodeDecodeError is a ValueError too
        fastjson.loads(body)


def test_lone_surrogate_escapes_parse_as_before() -> None:
    # admission then refuses them (tests/services/audit/test_audit_service.py)
    assert fastjson.loads(b'["\\ud800"]') == json.loads(b'["\\ud800"]')


def test_dumps_reads_back_as_the_same_value() -> None:
    for doc in _documents():
        if isinstance(doc, dict | list):
            assert _same(json.loads(fastjson.dumps(doc)), doc)
    assert json.loads(fastjson.dumps([2**70])) == [2**70]  # beyond orjson: stdlib


# --- the chained record ----------------------------------------------------------------------


def test_a_chained_record_hashes_as_the_reference_and_stores_a_faithful_event() -> None:
    rng = random.Random(3)
    head = Head(4, "ab" * 32)
    for i in range(1500):
        data = _tricky_document(rng) if i % 2 else _random_document(rng)
        envelope = {
            "specversion": "1.0",
            "id": "01936f4e-7b1a-7c3d-9e2f-0a1b2c3d4e5f",
            "type": "llmops.llm.call_completed.v1",
            "source": "app://bot",
            "tenant": "acme",
            "time": "2026-11-27T09:29:59.5+00:00",
            "data": data,
        }
        record = chain_record(
            Incoming("llmops.evt.llm.call_completed.acme", envelope),
            head,
            "2026-11-27T09:30:00.000000Z",
            Redactor(),
        )
        assert record.hash == record_hash(record.doc)
        assert record.hash == hashlib.sha256(canonical_json(record.doc).encode()).hexdigest()
        assert record.event_json is not None
        stored = json.loads(record.event_json)
        assert _same_numbers(stored, envelope)
        assert record_hash({**record.doc, "event": stored}) == record.hash


def _same_numbers(a: Any, b: Any) -> bool:
    """Equal as JSON values (key order aside); numbers compared exactly, not as doubles."""
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same_numbers(a[k], b[k]) for k in a)
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same_numbers, a, b))
    return type(a) is type(b) and (a == b or (a != a and b != b))


def test_the_document_rest_is_written_as_the_reference_writes_it() -> None:
    """``_rest_canonical`` (orjson, keys pre-sorted) is the reference's text of the non-event part."""
    rng = random.Random(5)
    texts = ["acme", 'a"b\\c', "tab\there\n", "\x00\x1f\x7f", "café ☕ 😀", "\ue000\uffff", ""]
    for i in range(2000):
        doc = {
            "tenant": rng.choice(texts),
            "seq": rng.choice([1, 2**31, 10**15 - 1, 10**15, 2**53 + 1, 2**70, i]),
            "event_id": rng.choice(texts),
            "event_type": rng.choice(texts),
            "event_subject": rng.choice(texts) + "llmops.evt.x.\U0001f600",
            "recorded_at": "2026-11-27T09:30:00.000000Z",
            "redaction_policy_version": rng.choice([None, "v1", "\ue001é"]),
            "event": {"id": i},
            "prev_hash": "0" * 64,
        }
        rest = {k: v for k, v in doc.items() if k != "event"}
        assert _rest_canonical(doc) == canonical_json(rest).encode()
