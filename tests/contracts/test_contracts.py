"""Contracts: golden payloads keep parsing, published schemas match the code, the wire is strict."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import Field, ValidationError

from llmops.export import drift, rendered
from llmops_contracts import headers, registry, subjects, wrap
from llmops_contracts.costs import Budget, BudgetCheck
from llmops_contracts.envelope import Kind, new_event_id
from llmops_contracts.llm import LlmCallCompleted, Usage
from llmops_contracts.prices import BandSpec, PriceDocument, price, problems
from llmops_contracts.registry import InvalidMessage, parse

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
GOLDEN = Path(__file__).parent / "golden"


def _golden() -> list[Path]:
    return sorted(GOLDEN.glob("*.json"))


def test_every_type_has_a_golden_payload() -> None:
    have = {p.stem for p in _golden()}
    assert set(registry.types()) <= have, set(registry.types()) - have


@pytest.mark.parametrize("path", _golden(), ids=lambda p: p.stem)
def test_golden_payload_parses_and_matches_its_published_schema(path: Path) -> None:
    raw = json.loads(path.read_text())
    message = parse(raw)
    assert message.type == path.stem
    # What the code emits parses back unchanged.
    assert parse(message.to_json()) == message
    # The committed JSON Schema accepts it too, so non-Python producers agree with the models.
    payload = registry.payload_class(message.type)
    schema_file = CONTRACTS / "schemas" / payload.SPEC.domain / "v1" / f"{payload.SPEC.name}.json"
    schema = json.loads(schema_file.read_text())
    Draft202012Validator.check_schema(schema)
    errors = list(Draft202012Validator(schema).iter_errors(raw))
    assert not errors, [e.message for e in errors]


def test_published_schema_rejects_unknown_envelope_fields() -> None:
    schema = json.loads((CONTRACTS / "schemas/llm/v1/call_completed.json").read_text())
    raw = json.loads((GOLDEN / "llmops.llm.call_completed.v1.json").read_text())
    raw["surprise"] = 1
    assert schema["additionalProperties"] is False
    assert not Draft202012Validator(schema).is_valid(raw)
    assert schema["title"] == "llmops.llm.call_completed.v1"
    assert schema["$id"].endswith("llmops.llm.call_completed.v1")


def _properties(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            found.append((f"{path}.{name}", prop))
        for key, value in node.items():
            found += _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _properties(value, f"{path}[{i}]")
    return found


def test_every_published_field_has_a_description() -> None:
    from llmops_contracts.schema import json_schemas

    missing = [
        f"{file}:{prop_path}"
        for file, doc in json_schemas().items()
        for prop_path, prop in _properties(doc)
        if not prop.get("description")
    ]
    assert not missing, missing


def test_committed_contracts_match_the_code() -> None:
    problems = drift(CONTRACTS)
    assert not problems, f"contracts drifted: {problems}; run `make contracts` and commit"


def test_a_model_edit_is_caught_as_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    class Edited(LlmCallCompleted):
        region: str | None = Field(default=None, description="A field added without regenerating.")

    monkeypatch.setitem(registry._BY_TYPE, LlmCallCompleted.SPEC.type, Edited)
    registry.envelope_model.cache_clear()
    try:
        assert "schemas/llm/v1/call_completed.json" in drift(CONTRACTS)
        assert "asyncapi.yaml" in drift(CONTRACTS)
    finally:
        monkeypatch.undo()
        registry.envelope_model.cache_clear()
    assert drift(CONTRACTS) == []


def test_asyncapi_lists_every_subject_with_its_messages() -> None:
    import yaml

    doc = yaml.safe_load(rendered()["asyncapi.yaml"])
    assert doc["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in doc["channels"].values()}
    assert "llmops.evt.llm.call_completed.{tenant}" in addresses
    assert "llmops.dlq.{service}.{tenant}" in addresses
    with_subjects = [p for p in registry.PAYLOADS if p.SPEC.subject is not None]
    assert len(doc["channels"]) == len(with_subjects)
    assert len(doc["components"]["messages"]) == len(registry.PAYLOADS)
    query = doc["operations"]["receive_retrieval_query"]
    assert query["reply"]["messages"][0]["$ref"].endswith("llmops_retrieval_result_v1")
    # Every $ref resolves inside the document.
    refs = [v for _, v in _walk(doc) if isinstance(v, str) and v.startswith("#/")]
    for ref in refs:
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node[part]


def _walk(node: Any) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((k, v))
            out += _walk(v)
    elif isinstance(node, list):
        for v in node:
            out += _walk(v)
    return out


# --- envelope rules -----------------------------------------------------------------------------


def _call(**usage: int) -> LlmCallCompleted:
    return LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o",
        latency_ms=10,
        usage=Usage(**{"input_tokens": 10, "output_tokens": 2, **usage}),
    )


def test_ids_are_uuidv7_and_time_ordered() -> None:
    ids = [new_event_id() for _ in range(2000)]
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(ids)) == len(ids)
    millis = [u.int >> 80 for u in parsed]
    assert millis == sorted(millis)


@pytest.mark.parametrize("tenant", ["a.b", "*", ">", "", "has space", "-lead", "x" * 65])
def test_tenant_must_be_a_subject_token(tenant: str) -> None:
    with pytest.raises(ValueError, match="tenant"):
        wrap(_call(), tenant=tenant, source="app://t")


def test_type_must_match_the_payload() -> None:
    raw = json.loads(wrap(_call(), tenant="acme", source="app://t").to_json())
    raw["type"] = "llmops.tool.call_requested.v1"
    with pytest.raises(InvalidMessage, match=r"data\."):
        parse(raw)


def test_errors_name_the_bad_field() -> None:
    raw = json.loads(wrap(_call(), tenant="acme", source="app://t").to_json())
    raw["data"]["usage"]["input_tokens"] = "lots"
    with pytest.raises(InvalidMessage) as caught:
        parse(raw)
    assert caught.value.reason.startswith("data.usage.input_tokens:")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"id": "x"}', "type: missing"),
        (b'{"type": "llmops.nope.never.v1"}', "unknown message type"),
    ],
)
def test_unparseable_messages_are_invalid(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        parse(raw)


def test_usage_subsets_cannot_exceed_their_totals() -> None:
    with pytest.raises(ValueError, match="input_tokens must include cached"):
        _call(cache_read_input_tokens=11)
    with pytest.raises(ValueError, match="reasoning_tokens"):
        _call(reasoning_tokens=3)


def test_subject_must_carry_the_messages_tenant_and_type() -> None:
    message = wrap(_call(), tenant="acme", source="app://t")
    assert parse(message.to_json(), subject=message.subject()) == message
    with pytest.raises(InvalidMessage, match="tenant"):
        parse(message.to_json(), subject=subjects.for_tenant(subjects.LLM_CALL_COMPLETED, "globex"))
    with pytest.raises(InvalidMessage, match="does not belong"):
        parse(message.to_json(), subject=subjects.for_tenant(subjects.TOOL_CALL_REQUESTED, "acme"))


def test_every_subject_is_in_exactly_one_stream_or_core() -> None:
    for payload in registry.PAYLOADS:
        spec = payload.SPEC
        if spec.subject is None:
            assert spec.kind is Kind.REPLY
            continue
        stream = subjects.stream_for(spec.subject + ".acme")
        expected = {
            Kind.EVENT: subjects.EVENTS_STREAM,
            Kind.COMMAND: subjects.COMMANDS_STREAM,
            Kind.REQUEST: None,
            Kind.AUDIT: subjects.AUDIT_STREAM,
            Kind.DEAD_LETTER: subjects.DLQ_STREAM,
        }[spec.kind]
        assert stream == expected, spec.type


def test_causation_carries_correlation_and_trace() -> None:
    parent = wrap(
        _call(),
        tenant="acme",
        source="app://t",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    child = wrap(_call(), tenant="acme", source="llmops/costs", causation=parent)
    assert child.causation_id == parent.id
    assert child.correlation_id == parent.id
    assert child.traceparent == parent.traceparent
    assert child.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_derived_ids_are_deterministic_per_tenant_and_key() -> None:
    from llmops_contracts.envelope import derived_id

    cause = wrap(_call(), tenant="acme", source="app://t")
    twin = cause.model_copy(update={"tenant": "globex"})
    first = derived_id(cause, "llmops.costs.cost_recorded.v1")
    assert first == derived_id(cause, "llmops.costs.cost_recorded.v1")
    assert first != derived_id(cause, "other")
    assert first != derived_id(twin, "llmops.costs.cost_recorded.v1")
    parsed = uuid.UUID(first)
    assert parsed.version == 7
    assert parsed.int >> 80 == int(cause.time.timestamp() * 1000)


def test_uuid7_text_is_what_the_uuid_module_writes() -> None:
    import random

    from llmops_contracts.envelope import _uuid7

    rng = random.Random(5)
    for _ in range(5000):
        ms, rand = rng.getrandbits(48), rng.getrandbits(80)
        text = _uuid7(ms, rand)
        parsed = uuid.UUID(text)
        assert text == str(parsed)
        assert parsed.version == 7
        assert parsed.int >> 80 == ms


def test_money_token_counts_and_tiers_from_outside_are_bounded() -> None:
    # What consumers must hold exactly: sums of amounts in an exact decimal context, token sums
    # in 64-bit columns, a tier in its column. The published price tables need 24 places.
    finest = Decimal("0.000000032857142857142855")
    assert BudgetCheck(estimated_cost=finest).estimated_cost == finest
    assert Usage(input_tokens=10**12, output_tokens=0).input_tokens == 10**12
    refused = {
        "places": lambda: BudgetCheck(estimated_cost=Decimal("1e-25")),
        "digits": lambda: Budget(id="b", scope="tenant", limit=Decimal("1." + "3" * 40)),
        "provided_cost": lambda: LlmCallCompleted(
            provider="openai", request_model="m", latency_ms=1, provided_cost="9" * 41
        ),
        "tokens": lambda: Usage(input_tokens=10**12 + 1, output_tokens=0),
        "reasoning": lambda: Usage(input_tokens=0, output_tokens=0, reasoning_tokens=10**13),
        "tier": lambda: BudgetCheck(service_tier="t" * 65),
        "call tier": lambda: LlmCallCompleted(
            provider="openai", request_model="m", latency_ms=1, service_tier="t" * 65
        ),
    }
    for what, build in refused.items():
        try:
            build()
        except ValidationError:
            continue
        pytest.fail(f"{what} was accepted")


def test_published_price_documents_take_the_bundled_snapshot_and_refuse_float_rates() -> None:
    snapshot = json.loads(
        (ROOT / "services/costs/src/llmops_costs/prices/litellm_snapshot.json").read_text()
    )
    schema = json.loads((CONTRACTS / "schemas/costs/v1/price_document.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert not [e.message for e in Draft202012Validator(schema).iter_errors(snapshot)]
    # The model reads it back to the same document, rates as written.
    assert PriceDocument.model_validate(snapshot).model_dump(mode="json") == snapshot
    override = json.loads((GOLDEN / "llmops.costs.prices_load.v1.json").read_text())["data"][
        "overrides"
    ][0]
    schema = json.loads((CONTRACTS / "schemas/costs/v1/price_override.json").read_text())
    assert Draft202012Validator(schema).is_valid(override)
    floating = {**override, "prices": {"tiers": {"standard": [{"input": 0.000002}]}}}
    assert not Draft202012Validator(schema).is_valid(floating)


def test_price_documents_name_every_problem_and_where_it_is() -> None:
    bad = {
        "version": "",
        "currency": "EUR",
        "models": {
            "gpt-4o": {
                "provider": "openai",
                "tiers": {
                    "standard": [{"min_input_tokens": 5, "input": "-1", "label": "x" * 51}],
                    "batch": [],
                },
                "units": {"input_cost_per_request": 0.5},
                "surprise": 1,
            }
        },
        "overrides": [
            {
                "provider": "acme",
                "model": "m",
                "effective_from": "2026-11-01",
                "effective_until": "2026-10-01T00:00:00+00:00",
                "prices": {"tiers": {}},
            },
            {
                "provider": "acme",
                "model": "m",
                "effective_from": "2026-11-01T00:00:00+00:00",
                "effective_until": "2026-10-01T00:00:00+00:00",
                "prices": {"tiers": {}},
            },
        ],
    }
    with pytest.raises(ValidationError) as refused:
        PriceDocument.model_validate(bad)
    assert sorted(problems(refused.value)) == sorted(
        [
            "version: a price table needs a non-empty version string",
            "currency: only USD prices are supported, got 'EUR'",
            "models['gpt-4o'].tiers.standard[0].label: at most 50 characters, got 51",
            "models['gpt-4o'].tiers.standard[0].input: a price is a decimal string >= 0, got '-1'",
            "models['gpt-4o'].tiers.batch: List should have at least 1 item after validation, "
            "not 0",
            "models['gpt-4o'].units: input_cost_per_request: a price is a decimal string >= 0, "
            "got 0.5",
            "models['gpt-4o']: unknown field(s) surprise",
            "overrides[0].effective_from: an ISO 8601 date-time with a time zone, got '2026-11-01'",
            "overrides[1]: effective_until must follow effective_from",
        ]
    )
    with pytest.raises(ValidationError) as unordered:
        BandSpec.model_validate({"min_input_tokens": True})
    assert problems(unordered.value, "band") == [
        "band.min_input_tokens: Input should be a valid integer"
    ]
    for good in ("0.000000032857142857142855", "1E+3", 7):
        assert price(good) == Decimal(good)
    for value in ("0.0000000328571428571428551", "1" * 41, "1E+40", "NaN", "-0.1", 0.5, True):
        with pytest.raises(ValueError, match="a price"):
            price(value)


def test_a_keep_list_must_hold_the_chunks_of_its_own_part() -> None:
    from llmops_contracts.ingestion import Chunk, ChunksEmbedded

    def event(keep: list[str] | None) -> ChunksEmbedded:
        chunks = [Chunk(chunk_id=f"c{i}", ordinal=i, text="t") for i in range(2)]
        return ChunksEmbedded(
            document_id="d",
            collection="kb",
            embedding_model="bm25",
            dimensions=0,
            chunks=chunks,
            keep=keep,
        )

    assert event(None).keep is None
    assert event(["c0", "c1", "older"]).keep == ["c0", "c1", "older"]
    # another document's ids: the index would write this part and drop it at once
    with pytest.raises(ValidationError, match="keep must list every chunk of this part"):
        event(["other-doc-chunk"])


@pytest.mark.parametrize(
    ("body", "status", "answer"),
    [
        (b'{"stream":"LLMOPS_EVENTS","seq":7}', None, "stored"),
        (b'{"stream":"LLMOPS_EVENTS","seq":7,"duplicate":true}', None, "stored"),
        (
            b'{"error":{"code":400,"err_code":10060,"description":"expected stream does not match"},"stream":"S","seq":0}',
            None,
            "refused",
        ),
        (b'{"error":{"code":503,"err_code":10074,"description":"no leader"}}', None, "unavailable"),
        (b"", "503", "unavailable"),  # no stream captures the subject: "no responders"
        (b"", None, None),  # FastStream's reply to a handler that returned None
        (b'{"error": "invalid", "reason": "no"}', None, None),  # an llmops endpoint's error
        (b'{"ok": true}', None, None),
        (b'{"seq":7,"stream":"S"}', None, None),  # not JetStream's byte order: someone else's
    ],
)
def test_only_jetstream_answers_count_as_acknowledgements(
    body: bytes, status: str | None, answer: str | None
) -> None:
    assert headers.jetstream_answer(body, status) == answer
