"""RFC 8785 canonical JSON and the audit hash chain built on it (llmops_contracts.auditchain).

A third party recomputes audit hashes from the documented canonical form alone, so these tests pin
the form byte for byte: the RFC's own examples and Appendix B number vectors, string escaping,
key order, and the chain's record hash, checkpoint signatures and verifier verdicts.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import struct
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from llmops_contracts import canonical
from llmops_contracts.auditchain import (
    CHECKPOINT_FIELDS,
    GENESIS_HASH,
    RECORD_FIELDS,
    KeyRing,
    checkpoint_message,
    key_id_for,
    record_document,
    record_hash,
    timestamp,
    verify_chain,
)
from llmops_contracts.canonical import canonical_json, es_number


def bits(hex_bits: str) -> float:
    """The IEEE 754 double with these 64 bits (as RFC 8785 Appendix B lists them)."""
    return float(struct.unpack(">d", bytes.fromhex(hex_bits))[0])


# --- structure and strings -------------------------------------------------------------------


def test_keys_are_sorted_at_every_depth_and_there_is_no_white_space() -> None:
    doc = {"b": [3, {"z": 1, "a": [None, True, False]}], "a": {"y": "x", "c": {}}, "A": []}
    assert (
        canonical_json(doc) == '{"A":[],"a":{"c":{},"y":"x"},"b":[3,{"a":[null,true,false],"z":1}]}'
    )


def test_rfc8785_section_3_2_2_example_is_reproduced_byte_for_byte() -> None:
    source = r"""{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"""
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(source)) == expected
    # RFC 8785 section 3.2.4: the euro sign travels as its raw UTF-8 bytes.
    assert b'"string":"\xe2\x82\xac$\\u000f' in canonical_json(json.loads(source)).encode()


def test_keys_sort_by_code_point_in_the_basic_multilingual_plane() -> None:
    keys = ["\u20ac", "\r", "\ufb33", "1", "\u0080", "\u00f6", "a", "B", "aa"]
    text = canonical_json(dict.fromkeys(keys, 0))
    assert list(json.loads(text)) == [
        "\r",
        "1",
        "B",
        "a",
        "aa",
        "\u0080",
        "\u00f6",
        "\u20ac",
        "\ufb33",
    ]


def test_rfc8785_section_3_2_3_sorting_example_including_an_astral_key() -> None:
    source = (
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With '
        'Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", '
        '"\\u00f6": "Latin Small Letter O With Diaeresis"}'
    )
    order = list(json.loads(canonical_json(json.loads(source))))
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("char", "escaped"),
    [
        ("\b", "\\b"),
        ("\t", "\\t"),
        ("\n", "\\n"),
        ("\f", "\\f"),
        ("\r", "\\r"),
        ("\x00", "\\u0000"),
        ("\x01", "\\u0001"),
        ("\x0b", "\\u000b"),
        ("\x1f", "\\u001f"),
        ('"', '\\"'),
        ("\\", "\\\\"),
    ],
)
def test_only_quotes_backslash_and_control_characters_are_escaped(char: str, escaped: str) -> None:
    assert canonical_json(f"a{char}b") == f'"a{escaped}b"'


@pytest.mark.parametrize(
    "char", ["/", "\x7f", "'", "<", "\u2028", "\u2029", "é", "€", "\U0001f600"]
)
def test_everything_else_is_written_raw_as_utf8(char: str) -> None:
    text = canonical_json({"k": char})
    assert text == '{"k":"' + char + '"}'
    assert text.encode("utf-8") == b'{"k":"' + char.encode("utf-8") + b'"}'


def test_non_ascii_keys_and_values_stay_unescaped() -> None:
    assert canonical_json({"clé": "naïve ☃"}).encode() == '{"clé":"naïve ☃"}'.encode()


def test_a_string_that_looks_like_an_internal_number_marker_is_left_alone() -> None:
    # canonical.py swaps special floats in through private string markers; a real string that
    # resembles one must come out as written.
    tricky = ["\ue0000:1", "\ue000", 1e-7, "\ue000abc:1"]
    assert canonical_json(tricky) == '["\ue0000:1","\ue000",1e-7,"\ue000abc:1"]'


# --- numbers ---------------------------------------------------------------------------------

#: RFC 8785 Appendix B (IEEE 754 bits -> canonical text), excluding the two 2^53 vectors that
#: have their own (failing) test below.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("hex_bits", "expected"), APPENDIX_B)
def test_rfc8785_appendix_b_number_vectors(hex_bits: str, expected: str) -> None:
    assert canonical_json(bits(hex_bits)) == expected
    assert canonical_json([bits(hex_bits)]) == f"[{expected}]"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (bits("4340000000000000"), "9007199254740992"),
        (bits("c340000000000000"), "-9007199254740992"),
        (9007199254740994.0, "9007199254740994"),
        (1e16 - 2, "9999999999999998"),
    ],
)
def test_integer_valued_doubles_from_2_pow_53_to_1e16_have_no_fraction(
    value: float, expected: str
) -> None:
    assert canonical_json(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.0, "-1"),
        (12.0, "12"),
        (1e15, "1000000000000000"),
        (2.0**53 - 1, "9007199254740991"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (-1e21, "-1e+21"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (0.0001, "0.0001"),
        (0.00001, "0.00001"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.30000000000000004"),
        (4.5, "4.5"),
        (333333333.3333333, "333333333.3333333"),
        (123456789012345.67, "123456789012345.67"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"),
        (1e300, "1e+300"),
        (-1.25e-10, "-1.25e-10"),
        (7, "7"),
        (-42, "-42"),
        (2**53 - 1, "9007199254740991"),
    ],
)
def test_numbers_are_written_like_ecmascript(value: float, expected: str) -> None:
    assert canonical_json(value) == expected


@pytest.mark.parametrize(
    ("value", "ecmascript"),
    [(2**53 + 1, "9007199254740992"), (10**21, "1e+21"), (-(2**63), "-9223372036854776000")],
)
def test_integers_beyond_double_precision_match_other_implementations_or_are_refused(
    value: int, ecmascript: str
) -> None:
    try:
        text = canonical_json({"n": value})
    except ValueError:
        return  # refusing non-I-JSON input is also conforming
    assert text == '{"n":' + ecmascript + "}"


def test_booleans_are_not_numbers() -> None:
    assert canonical_json([True, False, 1, 0]) == "[true,false,1,0]"


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, [1, math.nan], {"a": {"b": [math.inf]}}],
)
def test_nan_and_infinities_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="NaN"):
        canonical_json(value)


@pytest.mark.parametrize("key", [1, 1.5, None, True, ("a",)])
def test_non_string_keys_are_refused(key: Any) -> None:
    with pytest.raises(ValueError, match="keys must be strings"):
        canonical_json({"nested": {key: 1}})


_ES_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?(e[+-][1-9][0-9]*)?$")


def _random_doubles(rng: random.Random, n: int) -> list[float]:
    values = []
    while len(values) < n:
        choice = rng.random()
        if choice < 0.4:  # any finite bit pattern
            value = bits(f"{rng.getrandbits(64):016x}")
        elif choice < 0.8:  # log-uniform across the decimal/exponent switch points
            value = 10 ** rng.uniform(-9, 24) * rng.choice((1, -1))
        else:  # short decimals, as people write them
            value = round(rng.uniform(-1e6, 1e6), rng.randint(0, 6))
        if not math.isfinite(value):
            continue
        if value.is_integer() and 2**53 <= abs(value) < 1e16:
            continue  # the known bug above; kept out so this property test stays meaningful
        values.append(value)
    return values


def test_random_doubles_round_trip_in_shortest_ecmascript_form() -> None:
    """An independent check of the number form on 20,000 doubles.

    The text parses back to the same double, has the ECMAScript grammar (no '+0', no trailing
    zeros, no '.0'), uses exponent notation exactly outside 1e-6 <= |x| < 1e21, and carries as
    many significant digits as Python's shortest repr.
    """
    rng = random.Random(8785)
    for value in _random_doubles(rng, 20_000):
        text = canonical_json(value)
        assert float(text) == value, (value, text)
        assert _ES_NUMBER.match(text), (value, text)
        magnitude = abs(value)
        assert ("e" in text) == (magnitude != 0 and not 1e-6 <= magnitude < 1e21), (value, text)
        mantissa = repr(magnitude).split("e")[0].replace(".", "").strip("0")
        ours = text.lstrip("-").split("e")[0].replace(".", "").strip("0")
        assert ours == mantissa or value == 0, (value, text)
        assert es_number(value) == text or value == 0 or value.is_integer()


def test_canonical_form_is_idempotent() -> None:
    rng = random.Random(3)
    docs: list[Any] = [
        {"b": 1.0, "a": [1e21, 1e-7, -0.0, "x\u2028y\n", {"é": None}], "": {"": []}},
        {"numbers": _random_doubles(rng, 500), "s": "".join(chr(c) for c in range(0x20))},
        [{"k" + chr(0x100 + i): i / 7} for i in range(50)],
    ]
    for doc in docs:
        once = canonical_json(doc)
        assert canonical_json(json.loads(once)) == once
        # Same values: numbers compared as the doubles they denote (JSON has no int/float).
        assert json.loads(once, parse_int=float) == json.loads(json.dumps(doc), parse_int=float)


def _random_document(rng: random.Random, depth: int = 0) -> Any:
    """A random value shaped like ``json.loads`` output."""
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 7, 2**53 - 1, -(2**31), rng.randrange(-(10**6), 10**6)])
    if kind in (2, 3):
        return _random_doubles(rng, 1)[0] if kind == 2 else rng.choice(TRICKY_FLOATS)
    if kind in (4, 5):
        pieces = ["a", "é", "\u20ac", "\U0001f600", "\n", "\x00", '"', "\\", ":1.0,", "[1e-05]"]
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(6)))
    if kind in (6, 7):
        keys = ["a", "b", "Z", "é", "k:1.0,", "\ufb33", ""]
        return {rng.choice(keys) + str(i): _random_document(rng, depth + 1) for i in range(5)}
    return [_random_document(rng, depth + 1) for _ in range(rng.randrange(5))]


TRICKY_FLOATS = [0.0, -0.0, 1.0, -12.0, 1e-05, 1e-7, 1e16, 1e21, 5e-324, 0.1, 4.5, 1e300, 2.0**60]


def test_the_parsed_fast_path_equals_canonical_json() -> None:
    """``canonical_json_parsed`` (one json.dumps pass, for json.loads-shaped values) must write
    exactly what ``canonical_json`` writes: the audit service hashes with it."""
    fast = getattr(canonical, "canonical_json_parsed", None)
    if fast is None:
        pytest.skip("llmops_contracts.canonical has no canonical_json_parsed")
    rng = random.Random(7)
    documents: list[Any] = [_random_document(rng) for _ in range(3000)]
    documents += [{"a": x} for x in TRICKY_FLOATS] + [[x] for x in TRICKY_FLOATS] + TRICKY_FLOATS
    documents += [{"s": ":1.0,", "n": 1.5}, ["1e-05"], {"1e+16": [1, "2.0"]}]
    for doc in documents:
        assert fast(doc) == canonical_json(doc), doc
    for bad in (math.nan, [math.inf], {"a": -math.inf}):
        with pytest.raises(ValueError, match=r"NaN|not JSON compliant"):
            fast(bad)


# --- the chain -------------------------------------------------------------------------------

PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def ed25519(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """The verification primitive a KeyRing is handed (here: the cryptography package's)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


RING = KeyRing([PUBLIC], ed25519)


def record(seq: int, prev_hash: str, *, tenant: str = "acme", **changes: Any) -> dict[str, Any]:
    """A hashed record as the audit service stores it."""
    doc: dict[str, Any] = {
        "tenant": tenant,
        "seq": seq,
        "event_id": f"01900000-0000-7000-8000-{seq:012x}",
        "event_type": "llmops.llm.call_completed.v1",
        "event_subject": f"llmops.evt.llm.call_completed.{tenant}",
        "recorded_at": "2026-11-27T09:30:00.000000Z",
        "redaction_policy_version": None,
        "event": {"id": f"e{seq}", "data": {"latency_ms": 12.5, "n": seq}},
        "prev_hash": prev_hash,
    }
    doc.update(changes)
    doc["hash"] = record_hash(doc)
    return doc


def chain(n: int, tenant: str = "acme") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for seq in range(1, n + 1):
        out.append(record(seq, out[-1]["hash"] if out else GENESIS_HASH, tenant=tenant))
    return out


def test_genesis_is_64_zeros() -> None:
    assert GENESIS_HASH == "0" * 64


def test_record_hash_is_sha256_of_the_documented_canonical_document() -> None:
    rec = record(1, GENESIS_HASH)
    expected_text = (
        '{"event":{"data":{"latency_ms":12.5,"n":1},"id":"e1"},'
        '"event_id":"01900000-0000-7000-8000-000000000001",'
        '"event_subject":"llmops.evt.llm.call_completed.acme",'
        '"event_type":"llmops.llm.call_completed.v1",'
        f'"prev_hash":"{"0" * 64}",'
        '"recorded_at":"2026-11-27T09:30:00.000000Z",'
        '"redaction_policy_version":null,"seq":1,"tenant":"acme"}'
    )
    assert canonical_json(record_document(rec)) == expected_text
    assert rec["hash"] == hashlib.sha256(expected_text.encode()).hexdigest()


def test_record_hash_ignores_keys_outside_the_document() -> None:
    rec = record(1, GENESIS_HASH)
    assert record_hash({**rec, "hash": "f" * 64, "source": "x", "actor_user": "u"}) == rec["hash"]


@pytest.mark.parametrize("name", RECORD_FIELDS)
def test_record_hash_changes_with_every_field(name: str) -> None:
    rec = record(1, GENESIS_HASH)
    changed = dict(rec)
    changed[name] = {
        "tenant": "acme2",
        "seq": 2,
        "event_id": "01900000-0000-7000-8000-0000000000ff",
        "event_type": "llmops.llm.call_completed.v2",
        "event_subject": "llmops.evt.llm.call_completed.other",
        "recorded_at": "2026-11-27T09:30:00.000001Z",
        "redaction_policy_version": "v1",
        "event": {"id": "e1", "data": {"latency_ms": 12.5, "n": 2}},
        "prev_hash": "1" * 64,
    }[name]
    assert record_hash(changed) != rec["hash"]


def test_a_nested_float_change_in_the_event_changes_the_hash() -> None:
    rec = record(1, GENESIS_HASH)
    assert (
        record_hash({**rec, "event": {"id": "e1", "data": {"latency_ms": 12.50000001, "n": 1}}})
        != rec["hash"]
    )
    # ...while the same value written differently hashes the same (canonical numbers).
    assert (
        record_hash({**rec, "event": {"data": {"n": 1.0, "latency_ms": 12.5}, "id": "e1"}})
        == rec["hash"]
    )


def test_a_record_missing_a_field_cannot_be_hashed() -> None:
    rec = record(1, GENESIS_HASH)
    del rec["prev_hash"]
    with pytest.raises(ValueError, match="prev_hash"):
        record_hash(rec)


def test_timestamp_is_utc_with_microseconds() -> None:
    moment = datetime(2026, 11, 27, 11, 30, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert timestamp(moment) == "2026-11-27T09:30:00.000005Z"
    assert timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"


def checkpoint(key: Ed25519PrivateKey = PRIVATE, **changes: Any) -> dict[str, Any]:
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    cp: dict[str, Any] = {
        "tenant": "acme",
        "seq": 3,
        "hash": "a" * 64,
        "created_at": "2026-11-27T09:30:00.000000Z",
        "kind": "periodic",
        "key_id": key_id_for(public),
    }
    cp.update(changes)
    cp["signature"] = key.sign(checkpoint_message(cp)).hex()
    return cp


def test_checkpoint_signature_is_ed25519_over_the_canonical_fields() -> None:
    cp = checkpoint()
    doc = {name: cp[name] for name in CHECKPOINT_FIELDS}
    assert checkpoint_message(cp) == canonical_json(doc).encode()
    assert len(cp["signature"]) == 128
    Ed25519PublicKey.from_public_bytes(PUBLIC).verify(
        bytes.fromhex(cp["signature"]), canonical_json(doc).encode()
    )
    assert RING.valid(cp)
    assert RING.problem(cp) is None


def test_a_key_id_is_derived_from_the_public_key() -> None:
    assert key_id_for(PUBLIC) == "ed25519-" + hashlib.sha256(PUBLIC).hexdigest()[:16]
    assert list(RING.keys) == [key_id_for(PUBLIC)]


def test_a_checkpoint_does_not_verify_with_another_key() -> None:
    stranger = Ed25519PrivateKey.generate()
    assert RING.problem(checkpoint(stranger)) == (
        f"signed by an unknown key {checkpoint(stranger)['key_id']!r}"
    )
    # Another key's signature under our key's id is simply invalid.
    claimed = checkpoint(stranger, key_id=key_id_for(PUBLIC))
    assert RING.problem(claimed) == "checkpoint signature is invalid"
    assert not KeyRing([], ed25519).valid(checkpoint())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("tenant", "evil"),
        ("seq", 4),
        ("hash", "b" * 64),
        ("created_at", "2026-11-27T09:30:00.000001Z"),
        ("kind", "purge"),
    ],
)
def test_changing_any_signed_field_invalidates_a_checkpoint(name: str, value: Any) -> None:
    cp = checkpoint()
    assert RING.problem({**cp, name: value}) == "checkpoint signature is invalid"


@pytest.mark.parametrize("signature", [None, "", "zz" * 64, "ab" * 63, "0" * 128])
def test_a_checkpoint_without_a_good_signature_is_invalid(signature: str | None) -> None:
    cp = checkpoint()
    if signature is None:
        del cp["signature"]
    else:
        cp["signature"] = signature
    assert not RING.valid(cp)
    incomplete = checkpoint()
    del incomplete["created_at"]
    assert not RING.valid(incomplete)


def test_a_clean_chain_verifies() -> None:
    records = chain(20)
    report = verify_chain(
        records, checkpoints=[checkpoint(seq=10, hash=records[9]["hash"])], keys=RING
    )
    assert report.ok
    assert (report.checked, report.first_seq, report.last_seq) == (20, 1, 20)
    assert report.last_hash == records[-1]["hash"]
    assert report.checkpoints_checked == 1
    assert report.first_break is None


def test_a_modified_record_is_named() -> None:
    records = chain(10)
    records[4] = {**records[4], "event_type": "llmops.llm.other.v1"}
    broken = verify_chain(records).first_break
    assert broken is not None
    assert (broken.seq, broken.event_id, broken.kind) == (5, records[4]["event_id"], "modified")


def test_a_missing_record_is_reported_at_the_next_seq() -> None:
    records = chain(10)
    del records[4]
    broken = verify_chain(records).first_break
    assert broken is not None
    assert (broken.seq, broken.kind) == (6, "missing")
    assert "5..5" in broken.detail


def test_records_fed_out_of_order_are_reordered() -> None:
    records = chain(10)
    records[3], records[4] = records[4], records[3]
    report = verify_chain(records)
    # seq 5 arrives where 4 was expected: a gap at first, then seq 4 comes after seq 5.
    assert [b.kind for b in report.breaks][:2] == ["missing", "reordered"]
    assert report.breaks[1].seq == 4


def test_a_relinked_record_is_reordered_and_a_foreign_link_is_inserted() -> None:
    records = chain(6)
    # seq 4 re-linked (and re-hashed) to seq 2: it points back into the chain.
    relinked = record(4, records[1]["hash"])
    report = verify_chain([*records[:3], relinked])
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (4, "reordered")
    forged = record(4, "f" * 64)
    report = verify_chain([*records[:3], forged])
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (4, "inserted")


def test_a_rewritten_chain_disagrees_with_its_signed_checkpoint() -> None:
    records = chain(10)
    signed = checkpoint(seq=8, hash=records[7]["hash"])
    # A forger inserts a record at 3 and re-chains everything after it consistently.
    forged: list[dict[str, Any]] = records[:2]
    forged.append(record(3, forged[-1]["hash"], event={"forged": True}))
    for old in records[2:]:
        forged.append(record(old["seq"] + 1, forged[-1]["hash"]))
    assert verify_chain(forged).ok  # self-consistent...
    report = verify_chain(forged, checkpoints=[signed], keys=RING)  # ...but not what was signed
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (8, "checkpoint")


def test_a_checkpoint_with_a_bad_signature_breaks_the_chain() -> None:
    records = chain(5)
    bad = {**checkpoint(seq=3, hash=records[2]["hash"]), "signature": "0" * 128}
    report = verify_chain(records, checkpoints=[bad], keys=RING)
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (3, "checkpoint")
    assert verify_chain(records, checkpoints=[bad]).ok  # without keys only hashes are matched


def test_records_missing_up_to_a_checkpoint_are_named_from_the_first_one_gone() -> None:
    records = chain(10)
    report = verify_chain(records[:7], checkpoints=[checkpoint(seq=9, hash=records[8]["hash"])])
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (8, "missing")
    assert "records 8..9 are gone" in report.first_break.detail


def test_two_checkpoints_signing_different_hashes_at_one_seq_cannot_both_hold() -> None:
    records = chain(5)
    good = checkpoint(seq=3, hash=records[2]["hash"])
    other = checkpoint(seq=3, hash="c" * 64, created_at="2026-11-27T09:31:00.000000Z")
    broken = verify_chain(records, checkpoints=[good, other], keys=RING).first_break
    assert broken is not None
    assert (broken.seq, broken.kind) == (3, "checkpoint")


def test_an_anchored_chain_verifies_from_its_anchor_only() -> None:
    records = chain(10)
    anchor = checkpoint(seq=4, hash=records[3]["hash"], kind="purge")
    assert verify_chain(records[4:], anchor=anchor).ok
    assert verify_chain(records[4:]).first_break is not None  # without it, 1..4 are missing
    wrong = checkpoint(seq=4, hash="c" * 64, kind="purge")
    broken = verify_chain(records[4:], anchor=wrong).first_break
    assert broken is not None
    assert (broken.seq, broken.kind) == (5, "inserted")


def test_an_empty_chain_verifies() -> None:
    report = verify_chain([])
    assert report.ok
    assert report.checked == 0
