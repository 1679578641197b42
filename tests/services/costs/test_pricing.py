"""Unit tests of the price table and the pricing engine (pure logic, hand-made tables)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from llmops_contracts.llm import Usage
from llmops_costs.prices import load_snapshot, snapshot_text
from llmops_costs.pricing import (
    Band,
    MissingPrice,
    ModelPrices,
    PricedCall,
    PriceOverride,
    PriceTable,
    canonical_service_tier,
    provider_family,
)

AT = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # a Wednesday, 02:30 UTC
D = Decimal


def model(key: str, provider: str = "openai", **data: Any) -> dict[str, Any]:
    """A model object of a price document."""
    data.setdefault("tiers", {"standard": [{"min_input_tokens": 0, "input": "1", "output": "2"}]})
    return {key: {"provider": provider, "mode": "chat", **data}}


def table(*models: dict[str, Any], version: str = "test-1", **kw: Any) -> PriceTable:
    """A table of the given model objects."""
    doc: dict[str, Any] = {"version": version, "models": {}}
    for m in models:
        doc["models"].update(m)
    return PriceTable.from_dict(doc, **kw)


def priced(result: PricedCall | MissingPrice) -> PricedCall:
    """The result, asserted to be priced."""
    assert isinstance(result, PricedCall), result
    return result


# Rates chosen so every bucket has its own price: a token billed in the wrong bucket shows.
RICH = model(
    "rich",
    tiers={
        "standard": [
            {
                "min_input_tokens": 0,
                "input": "0.000003",
                "output": "0.000015",
                "cache_read": "0.0000003",
                "cache_write": "0.00000375",
                "cache_write_1h": "0.000006",
                "reasoning": "0.00002",
            },
            {
                "min_input_tokens": 200001,
                "label": "above_200k_tokens",
                "input": "0.000006",
                "output": "0.0000225",
                "cache_read": "0.0000006",
                "cache_write": "0.0000075",
                "cache_write_1h": "0.000012",
                "reasoning": "0.00003",
            },
        ],
        "priority": [{"min_input_tokens": 0, "input": "0.000005", "output": "0.000025"}],
        "batch": [{"min_input_tokens": 0, "input": "0.0000015", "output": "0.0000075"}],
    },
)


# --------------------------------------------------------------------------- the buckets


def test_each_token_is_billed_once_in_its_own_bucket() -> None:
    usage = Usage(
        input_tokens=10_000,
        output_tokens=2_000,
        cache_read_input_tokens=6_000,
        cache_creation_input_tokens=1_500,
        cache_creation_1h_input_tokens=500,
        reasoning_tokens=800,
    )
    call = priced(table(RICH).price_call(usage, "rich", "openai", None, AT))
    b = call.breakdown
    # input_tokens INCLUDES reads and writes; output_tokens INCLUDES reasoning.
    assert (b.input_tokens, b.cache_read_tokens) == (2_500, 6_000)
    assert (b.cache_write_5m_tokens, b.cache_write_1h_tokens) == (1_000, 500)
    assert (b.output_tokens, b.reasoning_tokens) == (1_200, 800)
    billed_input = (
        b.input_tokens + b.cache_read_tokens + b.cache_write_5m_tokens + b.cache_write_1h_tokens
    )
    assert billed_input == usage.input_tokens
    assert b.output_tokens + b.reasoning_tokens == usage.output_tokens

    assert b.input == D("0.0075")  # 2500 x 0.000003
    assert b.cache_read == D("0.0018")  # 6000 x 0.0000003
    assert b.cache_write_5m == D("0.00375")  # 1000 x 0.00000375
    assert b.cache_write_1h == D("0.003")  # 500 x 0.000006
    assert b.output == D("0.018")  # 1200 x 0.000015
    assert b.reasoning == D("0.016")  # 800 x 0.00002
    assert call.cost == D("0.05005") == b.total
    assert (call.tier, call.service_tier, call.lookup_rule) == ("standard", "standard", "exact")
    assert call.price_table_version == "test-1"


def test_rates_a_model_does_not_publish_fall_back_without_double_counting() -> None:
    # No cache prices: cached tokens are ordinary input; no reasoning price: reasoning is output.
    plain = table(model("plain"))
    usage = Usage(
        input_tokens=100,
        output_tokens=50,
        cache_read_input_tokens=30,
        cache_creation_input_tokens=20,
        cache_creation_1h_input_tokens=5,
        reasoning_tokens=10,
    )
    call = priced(plain.price_call(usage, "plain", "openai", None, AT))
    assert call.cost == D(100 * 1 + 50 * 2)  # exactly as if nothing were cached or reasoned
    # A 5-minute write price but no 1-hour one: 1-hour writes bill at the 5-minute rate.
    writes = table(
        model(
            "w",
            tiers={
                "standard": [
                    {"min_input_tokens": 0, "input": "1", "output": "2", "cache_write": "3"}
                ]
            },
        )
    )
    call = priced(writes.price_call(usage, "w", "openai", None, AT))
    assert call.breakdown.cache_write_5m == D(15 * 3)
    assert call.breakdown.cache_write_1h == D(5 * 3)
    assert call.cost == D(50 * 1 + 20 * 3 + 50 * 2 + 30 * 1)


def test_costs_are_exact_decimals() -> None:
    odd = table(
        model(
            "odd",
            tiers={
                "standard": [
                    {
                        "min_input_tokens": 0,
                        "input": "0.000000123456789012345678",
                        "output": "0.1",
                        "cache_read": "0.0000000123",
                    }
                ]
            },
        )
    )
    usage = Usage(input_tokens=987_654_321_987, output_tokens=3, cache_read_input_tokens=7)
    call = priced(odd.price_call(usage, "odd", "openai", None, AT))
    assert isinstance(call.cost, Decimal)
    # 30 significant digits, none lost ...
    assert call.cost == D("121932.931245902284454473402440")
    # ... where Decimal's default 28-digit context rounds.
    rounded = (
        D(987_654_321_980) * D("0.000000123456789012345678") + 3 * D("0.1") + 7 * D("0.0000000123")
    )
    assert rounded == D("121932.9312459022844544734024")
    # Three calls of 0.1: a float sum is 0.30000000000000004, ours is 0.3.
    tenth = priced(
        odd.price_call(Usage(input_tokens=0, output_tokens=1), "odd", "openai", None, AT)
    )
    assert tenth.cost * 3 == D("0.3")


def test_prices_are_exact_strings_in_the_bundled_snapshot() -> None:
    def no_floats(text: str) -> Any:
        raise AssertionError(f"a price is written as a JSON float: {text}")

    doc = json.loads(snapshot_text(), parse_float=no_floats)
    band = doc["models"]["gpt-4o"]["tiers"]["standard"][0]
    assert band["input"] == "0.0000025"
    assert all(isinstance(band[k], str) for k in band if k not in ("min_input_tokens", "label"))


# --------------------------------------------------------------------------- tiers


def test_a_long_prompt_prices_every_token_of_the_call_at_the_long_context_band() -> None:
    t = table(RICH)
    at_threshold = Usage(input_tokens=200_000, output_tokens=1_000)
    above = Usage(input_tokens=200_001, output_tokens=1_000)
    base = priced(t.price_call(at_threshold, "rich", "openai", None, AT))
    long = priced(t.price_call(above, "rich", "openai", None, AT))
    assert base.tier == "standard"
    assert base.band.min_input_tokens == 0
    assert long.tier == "standard/above_200k_tokens"
    assert long.cost == 200_001 * D("0.000006") + 1_000 * D("0.0000225")

    # Cached tokens count toward the threshold (they are part of input_tokens).
    cached = Usage(input_tokens=250_000, output_tokens=10, cache_read_input_tokens=200_000)
    call = priced(t.price_call(cached, "rich", "openai", None, AT))
    assert call.tier == "standard/above_200k_tokens"
    assert call.breakdown.cache_read == 200_000 * D("0.0000006")


def test_service_tiers_choose_their_rates_and_an_unpriced_tier_falls_back_visibly() -> None:
    t = table(RICH)
    usage = Usage(input_tokens=1_000, output_tokens=100)
    for asked, applied in [("priority", "priority"), ("fast", "priority"), ("batch", "batch")]:
        call = priced(t.price_call(usage, "rich", "openai", asked, AT))
        assert (call.service_tier, call.tier, call.service_tier_fallback) == (
            applied,
            applied,
            False,
        )
    assert priced(t.price_call(usage, "rich", "openai", "priority", AT)).cost == D("0.0075")
    assert priced(t.price_call(usage, "rich", "openai", "batch", AT)).cost == D("0.00225")
    for standard in (None, "default", "auto", "standard", "STANDARD"):
        call = priced(t.price_call(usage, "rich", "openai", standard, AT))
        assert (call.service_tier, call.service_tier_fallback) == ("standard", False)
    flex = priced(t.price_call(usage, "rich", "openai", "flex", AT))
    assert (flex.requested_service_tier, flex.service_tier) == ("flex", "standard")
    assert flex.service_tier_fallback
    assert flex.cost == priced(t.price_call(usage, "rich", "openai", None, AT)).cost


def test_off_peak_rates_apply_inside_the_windows_only() -> None:
    standard = [{"min_input_tokens": 0, "input": "4", "output": "8"}]
    cheap = [{"min_input_tokens": 0, "input": "1", "output": "2"}]
    off_peak = {
        "windows": [
            {"hours_utc": ["16:30-00:30"], "weekdays": [1, 2, 3, 4, 5]},
            {"hours_utc": "00:00-00:00", "weekdays": ["sat", "sun"]},
        ],
        "tiers": {"standard": cheap},
    }
    t = table(model("night", "deepseek", tiers={"standard": standard}, off_peak=off_peak))
    usage = Usage(input_tokens=1, output_tokens=1)

    def cost_at(when: datetime) -> tuple[Decimal, str]:
        call = priced(t.price_call(usage, "night", "deepseek", None, when))
        return call.cost, call.tier

    wednesday = datetime(2026, 11, 25, tzinfo=UTC)
    assert cost_at(wednesday.replace(hour=12)) == (D(12), "standard")
    assert cost_at(wednesday.replace(hour=16, minute=30)) == (
        D(3),
        "standard/off_peak",
    )  # start inclusive
    assert cost_at(wednesday.replace(hour=0, minute=29)) == (
        D(3),
        "standard/off_peak",
    )  # wraps midnight
    assert cost_at(wednesday.replace(hour=0, minute=30)) == (D(12), "standard")  # end exclusive
    assert cost_at(datetime(2026, 11, 28, 12, tzinfo=UTC)) == (
        D(3),
        "standard/off_peak",
    )  # Saturday
    # An aware local time is converted to UTC first.
    tokyo = wednesday.replace(hour=12).astimezone(ZoneInfo("Asia/Tokyo"))
    assert cost_at(tokyo) == (D(12), "standard")


def test_a_call_time_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        table(RICH).price_call(
            Usage(input_tokens=1, output_tokens=1), "rich", "openai", None, datetime(2026, 1, 1)
        )


# --------------------------------------------------------------------------- missing prices


def test_an_unknown_model_is_a_missing_price_never_zero() -> None:
    result = table(RICH).price_call(
        Usage(input_tokens=10, output_tokens=5), "mystery-9", "openai", None, AT
    )
    assert isinstance(result, MissingPrice)
    assert (result.reason, result.price_table_version, result.price_key) == (
        "unknown_model",
        "test-1",
        None,
    )
    assert "mystery-9" in result.detail
    assert not hasattr(result, "cost")


def test_a_needed_price_the_model_lacks_is_missing_but_an_unused_one_is_not() -> None:
    embedding = model(
        "embed",
        tiers={"standard": [{"min_input_tokens": 0, "input": "0.0000001"}]},
        mode="embedding",
    )
    per_second = model("by-the-second", tiers={}, units={"input_cost_per_second": "0.001"})
    t = table(embedding, per_second)
    ok = priced(t.price_call(Usage(input_tokens=100, output_tokens=0), "embed", "openai", None, AT))
    assert ok.cost == D("0.00001")
    bad = t.price_call(Usage(input_tokens=100, output_tokens=3), "embed", "openai", None, AT)
    assert isinstance(bad, MissingPrice)
    assert (bad.reason, bad.price_key) == ("bucket_not_priced", "embed")
    assert "output" in bad.detail
    unit = t.price_call(
        Usage(input_tokens=100, output_tokens=3), "by-the-second", "openai", None, AT
    )
    assert isinstance(unit, MissingPrice)
    assert unit.reason == "not_priced_per_token"
    assert "input_cost_per_second" in unit.detail


def test_a_per_request_fee_is_added_once_per_call() -> None:
    t = table(model("online", "perplexity", units={"input_cost_per_request": "0.005"}))
    call = priced(
        t.price_call(Usage(input_tokens=10, output_tokens=10), "online", "perplexity", None, AT)
    )
    assert call.breakdown.per_request == D("0.005")
    assert call.cost == D(10 * 1 + 10 * 2) + D("0.005")


# --------------------------------------------------------------------------- lookup


def test_lookup_rules_in_order() -> None:
    t = table(
        model("gpt-x"),
        model(
            "azure/gpt-x",
            "azure",
            tiers={"standard": [{"min_input_tokens": 0, "input": "5", "output": "5"}]},
        ),
        model("chat-m", "deepseek"),
        model(
            "deepseek/chat-m",
            "deepseek",
            tiers={"standard": [{"min_input_tokens": 0, "input": "7", "output": "7"}]},
        ),
        model("vertex_ai/claude-z@20250101", "vertex_ai-anthropic_models"),
        model("claude-y-20250101", "anthropic"),
        model("claude-y-20250601", "anthropic"),
        model("claude-w-20250101", "anthropic"),
        model("o9"),
    )

    def rule(provider: str, name: str) -> tuple[str | None, str | None]:
        found = t.lookup(provider, name)
        if isinstance(found, MissingPrice):
            return None, found.reason
        return found.prices.key, found.rule

    assert rule("openai", "gpt-x") == ("gpt-x", "exact")
    assert rule("openai", "openai/gpt-x") == ("gpt-x", "without_prefix")
    # The provider's own entry first (as LiteLLM does), and never another provider's entry.
    assert rule("deepseek", "chat-m") == ("deepseek/chat-m", "provider_prefix")
    assert rule("azure", "gpt-x") == ("azure/gpt-x", "provider_prefix")
    assert rule("azure.ai.openai", "gpt-x") == ("azure/gpt-x", "provider_prefix")  # OTel name
    assert rule("anthropic", "gpt-x") == (None, "unknown_model")
    # Provider families: a Vertex AI variant answers to gcp.vertex_ai.
    assert rule("gcp.vertex_ai", "claude-z@20250101") == (
        "vertex_ai/claude-z@20250101",
        "provider_prefix",
    )
    # Dates: a new snapshot falls back to its undated model; an undated name to its one dated model.
    assert rule("openai", "o9-2026-01-01") == ("o9", "dated_base")
    assert rule("anthropic", "claude-w") == ("claude-w-20250101", "dated_unique")
    assert rule("gcp.vertex_ai", "claude-z") == ("vertex_ai/claude-z@20250101", "dated_unique")
    ambiguous = t.lookup("anthropic", "claude-y")
    assert isinstance(ambiguous, MissingPrice)
    assert ambiguous.reason == "ambiguous_model"
    assert ambiguous.candidates == ("claude-y-20250101", "claude-y-20250601")


def test_provider_names_and_service_tiers_are_normalised() -> None:
    assert provider_family("aws.bedrock") == provider_family("bedrock_converse") == "bedrock"
    assert (
        provider_family("gcp.vertex_ai")
        == provider_family("vertex_ai-language-models")
        == "vertex_ai"
    )
    assert provider_family("x_ai") == "xai"
    assert provider_family("text-completion-openai") == "openai"
    assert canonical_service_tier("Default") == "standard"
    assert canonical_service_tier("batches") == "batch"
    assert canonical_service_tier("scale") == "scale"


# --------------------------------------------------------------------------- overrides


def _override(
    start: datetime, price: str, until: datetime | None = None, **kw: Any
) -> PriceOverride:
    kw.setdefault("tenant", "acme")
    kw.setdefault("model", "rich")
    return PriceOverride(
        provider="openai",
        effective_from=start,
        effective_until=until,
        prices=ModelPrices.flat(kw["model"], "openai", input=price, output=price),
        **kw,
    )


def test_the_override_in_effect_at_the_call_time_wins() -> None:
    jan, mar, jun = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 3, 6))
    t = table(RICH).with_overrides(
        [
            _override(jan, "0.000001", version="acme-2026"),
            _override(mar, "0.0000005", until=jun, version="acme-spring"),
        ]
    )
    usage = Usage(input_tokens=1_000, output_tokens=1_000)

    def at(when: datetime, tenant: str = "acme") -> PricedCall:
        return priced(t.price_call(usage, "rich", "openai", None, when, tenant=tenant))

    table_cost = D(1_000) * D("0.000003") + D(1_000) * D("0.000015")
    assert at(jan - timedelta(seconds=1)).cost == table_cost  # before any agreement
    assert at(jan - timedelta(seconds=1)).price_table_version == "test-1"
    assert (at(jan).cost, at(jan).price_table_version) == (D("0.002"), "acme-2026")  # inclusive
    assert at(mar).cost == D("0.001")  # the later agreement supersedes
    assert at(mar).lookup_rule == "override"
    assert at(mar).overridden
    assert (at(jun).cost, at(jun).price_table_version) == (
        D("0.002"),
        "acme-2026",
    )  # until: exclusive
    assert at(mar, tenant="globex").cost == table_cost  # other tenants keep the table
    # An override also prices the model's dated and prefixed names, and models the table lacks.
    assert priced(
        t.price_call(usage, "rich-2026-04-01", "openai", None, mar, tenant="acme")
    ).cost == D("0.001")
    assert priced(t.price_call(usage, "openai/rich", "openai", None, mar, tenant="acme")).cost == D(
        "0.001"
    )
    private = table(RICH, overrides=[_override(jan, "0.00001", model="acme-ft-7")])
    call = priced(private.price_call(usage, "acme-ft-7", "openai", None, mar, tenant="acme"))
    assert call.cost == D("0.02")
    assert call.price_table_version == "override:acme:2026-01-01T00:00:00Z"


def test_conflicting_or_naive_overrides_are_rejected() -> None:
    jan = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="start at"):
        table(RICH, overrides=[_override(jan, "1"), _override(jan, "2")])
    with pytest.raises(ValueError, match="timezone-aware"):
        _override(datetime(2026, 1, 1), "1")
    with pytest.raises(ValueError, match="follow"):
        _override(jan, "1", until=jan)


# --------------------------------------------------------------------------- documents


def test_a_price_document_round_trips_and_bad_prices_are_rejected() -> None:
    jan = datetime(2026, 1, 1, tzinfo=UTC)
    t = table(RICH, overrides=[_override(jan, "0.000001")])
    again = PriceTable.from_json(json.dumps(t.to_dict()))
    usage = Usage(
        input_tokens=300_000, output_tokens=10, cache_creation_input_tokens=7, reasoning_tokens=3
    )
    for tenant in (None, "acme"):
        assert again.price_call(
            usage, "rich", "openai", "priority", jan, tenant=tenant
        ) == t.price_call(usage, "rich", "openai", "priority", jan, tenant=tenant)

    bad_bands: list[tuple[Any, str]] = [
        ([{"min_input_tokens": 0, "input": 0.000001}], "decimal string"),
        ([{"min_input_tokens": 0, "input": "-1"}], ">= 0"),
        ([{"min_input_tokens": 0, "input": "NaN"}], ">= 0"),
        ([{"min_input_tokens": 5, "input": "1"}], "start at"),
        (
            [{"min_input_tokens": 0, "input": "1"}, {"min_input_tokens": 0, "input": "2"}],
            "increasing",
        ),
        ([{"min_input_tokens": 0, "inptu": "1"}], r"unknown field\(s\) inptu"),
    ]
    for bands, message in bad_bands:
        with pytest.raises(ValueError, match=message):
            table(model("m", tiers={"standard": bands}))
    with pytest.raises(ValueError, match="version"):
        PriceTable.from_dict({"models": {}})


def test_band_fallback_properties() -> None:
    band = Band(input=D(1), output=D(2))
    assert (band.cache_read_rate, band.cache_write_rate, band.cache_write_1h_rate) == (
        D(1),
        D(1),
        D(1),
    )
    assert band.reasoning_rate == D(2)
    assert Band(input=D(1), cache_write=D(3)).cache_write_1h_rate == D(3)


# --------------------------------------------------------------------------- the bundled snapshot


@pytest.fixture(scope="module")
def snapshot() -> PriceTable:
    """The bundled snapshot, loaded once."""
    return load_snapshot()


def test_the_bundled_snapshot_covers_the_chat_and_embedding_models(snapshot: PriceTable) -> None:
    assert snapshot.version.startswith("litellm-")
    assert snapshot.source
    assert "(MIT)" in snapshot.source
    assert snapshot.generated_at
    assert len(snapshot) > 3_000
    modes = {m.mode for m in snapshot.models.values()}
    assert modes == {"chat", "completion", "responses", "embedding"}
    usage = Usage(
        input_tokens=10_000,
        output_tokens=1_000,
        cache_read_input_tokens=8_000,
        cache_creation_input_tokens=1_000,
        cache_creation_1h_input_tokens=400,
        reasoning_tokens=300,
    )
    call = priced(snapshot.price_call(usage, "claude-opus-5-5", "anthropic", None, AT))
    assert call.price_table_version == snapshot.version
    assert call.breakdown.cache_write_1h > 0
    assert call.band.cache_write_1h is not None


def test_the_costs_service_never_imports_litellm() -> None:
    code = (
        "import sys, llmops_costs.app, llmops_costs.prices, llmops_costs.pricing;"
        "llmops_costs.prices.load_snapshot();"
        "assert 'litellm' not in sys.modules, 'litellm imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_prices_and_names_are_bounded_so_sums_stay_exact_and_columns_hold_them() -> None:
    def band(**rates: str) -> dict[str, Any]:
        return model("m", tiers={"standard": [{"min_input_tokens": 0, **rates}]})

    # The longest the bundled snapshot publishes (24 places) loads; one place more does not.
    assert table(band(input="0.000000032857142857142855", output="1")).models["m"]
    with pytest.raises(ValueError, match="at most 24 decimal places"):
        table(band(input="0.0000000328571428571428551", output="1"))
    with pytest.raises(ValueError, match="40 digits"):
        table(band(input="1" * 41, output="1"))
    with pytest.raises(ValueError, match="40 digits"):
        table(band(input="1E+40", output="1"))
    too_long = {
        "label": band(input="1", output="1", label="x" * 51),
        "tiers": model("m", tiers={"t" * 33: [{"min_input_tokens": 0, "input": "1"}]}),
        "models": model("m" * 301),
        "provider": model("m", provider="p" * 65),
    }
    for what, doc in too_long.items():
        with pytest.raises(ValueError, match=f"{what}.*characters"):
            table(doc)
    with pytest.raises(ValueError, match="characters"):
        table(model("m"), version="v" * 201)
    override = {
        "tenant": "acme",
        "provider": "openai",
        "model": "m",
        "effective_from": "2026-01-01T00:00:00+00:00",
        "prices": {"tiers": {"standard": [{"min_input_tokens": 0, "input": "1", "output": "1"}]}},
    }
    assert PriceOverride.from_dict({**override, "version": "v" * 200}).version == "v" * 200
    with pytest.raises(ValueError, match=r"override\.version: at most 200 characters"):
        PriceOverride.from_dict({**override, "version": "v" * 201})
    with pytest.raises(ValueError, match=r"override\.model: at most 200 characters"):
        PriceOverride.from_dict({**override, "model": "m" * 201})
