"""Must-show of issue 4: our computed cost equals LiteLLM's ``cost_per_token`` for the same usage.

LiteLLM (a dev dependency only; the costs service never imports it) is imported here with
``LITELLM_LOCAL_MODEL_COST_MAP=True`` set first, under the suite's socket guard: the import makes no
network call (without that variable it would try to download a newer price map and the guard would
fail it). LiteLLM may point ``TIKTOKEN_CACHE_DIR`` at its bundled encodings (ARCHITECTURE.md 6;
1.110.2 did not at import): harmless here, and the fixture puts the variable back afterwards.

**Mapping our canonical usage (OpenTelemetry GenAI buckets) to LiteLLM's ``Usage``**

=================================  ===============================================================
ours (``llmops_contracts.llm``)    LiteLLM
=================================  ===============================================================
``input_tokens`` (incl. cached)    ``prompt_tokens``: LiteLLM's prompt tokens also INCLUDE cached
                                   tokens; its generic calculator bills ``prompt_tokens -
                                   cached_tokens - cache_write_tokens`` at the input rate. (Only
                                   its ``custom_cost_per_token`` path treats ``cache_*`` kwargs
                                   Anthropic-style, as *not* included; we never use that path.)
``cache_read_input_tokens``        ``prompt_tokens_details.cached_tokens``
``cache_creation_input_tokens``    ``prompt_tokens_details.cache_write_tokens``
``cache_creation_1h_input_tokens`` ``prompt_tokens_details.cache_creation_token_details
                                   .ephemeral_1h_input_tokens`` (the rest as ``ephemeral_5m``)
``output_tokens`` (incl. reasoning) ``completion_tokens`` (LiteLLM's also include reasoning)
``reasoning_tokens``               ``completion_tokens_details.reasoning_tokens``; LiteLLM's
                                   ``Usage`` derives ``text_tokens = completion - reasoning``
service tier ``priority``/``flex`` ``service_tier=...``
service tier ``batch``             ``call_type="retrieve_batch"`` (its ``batch_cost_calculator``)
embeddings                         ``call_type="embedding"``
=================================  ===============================================================

``cost_per_token`` gets the buckets in ``usage_object`` (the only way to pass reasoning and 1-hour
writes) and the plain ``prompt_tokens``/``completion_tokens``/``cache_read_input_tokens``/
``cache_creation_input_tokens`` keywords too; with a usage object LiteLLM reads the object.
``model`` is our table key and ``custom_llm_provider`` its LiteLLM provider, so both sides look the
same entry up (off-peak prices are compared at pinned billing instants).

**Legitimate differences** (:data:`KNOWN_DIFFERENCES`). Where LiteLLM's number differs, it must
equal what *our* engine computes under LiteLLM's assumption, so every difference is explained and
checked, never skipped; the summary lists the models per difference.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmops_contracts.llm import Usage
from llmops_costs.prices import load_snapshot
from llmops_costs.pricing import (
    BATCH,
    STANDARD,
    MissingPrice,
    ModelPrices,
    PricedCall,
    PriceTable,
)

ROOT = Path(__file__).resolve().parents[3]
REL_TOLERANCE = 1e-12
MIN_MODELS = 200

#: Pinned billing instants (LiteLLM's off-peak windows read the clock).
PEAK = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # Wednesday 02:30 UTC
OFF_PEAK_INSTANTS = (
    datetime(2026, 11, 25, 12, 0, tzinfo=UTC),  # Wednesday 12:00 UTC
    datetime(2026, 11, 28, 2, 30, tzinfo=UTC),  # Saturday
)

#: LiteLLM's calculators for these providers take no ``service_tier``: every call is priced at
#: standard rates even where the price map has tier prices (e.g. Fireworks AI ``*_priority``).
PROVIDERS_WITHOUT_TIERS = frozenset(
    {"fireworks_ai", "xai", "deepseek", "tencent", "perplexity", "lemonade"}
    | {"dashscope", "qwencloud", "qwen_ai_platform"}
)

KNOWN_DIFFERENCES: dict[str, str] = {
    "service_tier_ignored": (
        "LiteLLM's calculator for this provider ignores service_tier and bills standard rates; "
        "we bill the tier prices the map publishes (e.g. Fireworks AI *_priority)."
    ),
    "perplexity_calculator": (
        "LiteLLM's Perplexity calculator ignores long-context thresholds and cache-write prices "
        "(writes are billed as input) that the map publishes for Perplexity's pass-through models "
        "(perplexity/openai/..., perplexity/xai/...); we apply them."
    ),
    "per_request_fee": (
        "input_cost_per_request (legacy pplx-*-online models): LiteLLM never adds it; we add it "
        "once per call."
    ),
    "duplicate_prefix": (
        "LiteLLM collapses a repeated provider prefix, so 'perplexity/perplexity/sonar' is priced "
        "as 'perplexity/sonar', a different entry; we price the key asked for."
    ),
    "no_token_price": (
        "The model has no per-token price for a bucket with tokens (e.g. TwelveLabs models priced "
        "per video second or per query): LiteLLM bills those tokens at $0, we return MissingPrice."
    ),
}


@dataclass(frozen=True)
class Case:
    """One comparison: a model, a service tier, a usage, an instant."""

    key: str
    provider: str
    tier: str | None
    scenario: str
    usage: Usage
    at: datetime
    embedding: bool


@dataclass
class Outcome:
    """What a comparison found."""

    case: Case
    ours: PricedCall | MissingPrice
    theirs: float
    expected: Decimal
    reasons: tuple[str, ...]
    matched: bool


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def litellm() -> Iterator[ModuleType]:
    """LiteLLM, imported offline under the suite's socket guard."""
    assert socket.getaddrinfo.__name__ == "_guarded_getaddrinfo", "the socket guard is not active"
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # before the first import, always
    tiktoken_dir = os.environ.get("TIKTOKEN_CACHE_DIR")
    import litellm as module

    module.suppress_debug_info = True
    logging.getLogger("LiteLLM").setLevel(logging.CRITICAL)
    yield module
    # litellm may have pointed TIKTOKEN_CACHE_DIR at its bundled encodings: put it back.
    if tiktoken_dir is None:
        os.environ.pop("TIKTOKEN_CACHE_DIR", None)
    else:
        os.environ["TIKTOKEN_CACHE_DIR"] = tiktoken_dir


@pytest.fixture(scope="module")
def table() -> PriceTable:
    """Our bundled snapshot."""
    return load_snapshot()


# --------------------------------------------------------------------------- cases


def _rank(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _features(m: ModelPrices) -> set[str]:
    bands = [b for bs in m.tiers.values() for b in bs]
    found = {m.mode}
    found |= {f"tier:{t}" for t in m.tiers if t != STANDARD}
    checks = {
        "reasoning": any(b.reasoning is not None for b in bands),
        "cache_read": any(b.cache_read is not None for b in bands),
        "cache_write": any(b.cache_write is not None for b in bands),
        "cache_write_1h": any(b.cache_write_1h is not None for b in bands),
        "long_context": any(len(bs) > 1 for bs in m.tiers.values()),
        "many_bands": any(len(bs) > 2 for bs in m.tiers.values()),
        "off_peak": m.off_peak is not None,
        "per_request": m.per_request is not None,
        "no_input_price": any(b.input is None for b in bands),
    }
    return found | {name for name, on in checks.items() if on}


def sample_keys(table: PriceTable, per_provider: int = 3, per_feature: int = 8) -> list[str]:
    """A deterministic sample: a few models of every provider, plus models of every feature."""
    priced = sorted((k for k, m in table.models.items() if m.tiers), key=_rank)
    chosen: list[str] = []
    seen: Counter[str] = Counter()
    for key in priced:
        provider = table.models[key].provider
        if seen[provider] < per_provider:
            chosen.append(key)
            seen[provider] += 1
    covered: Counter[str] = Counter()
    for key in chosen:
        covered.update(_features(table.models[key]))
    for key in priced:
        wanted = [f for f in _features(table.models[key]) if covered[f] < per_feature]
        if wanted and key not in chosen:
            chosen.append(key)
            covered.update(_features(table.models[key]))
    return sorted(chosen)


def cases_for(table: PriceTable, key: str) -> Iterator[Case]:
    """Usages exercising every bucket, band boundary and tier the model prices."""
    m = table.models[key]
    embedding = m.mode == "embedding"
    scenarios: dict[str, Usage] = {
        "plain": Usage(input_tokens=1234, output_tokens=0 if embedding else 567)
    }
    if not embedding:
        scenarios["cached+reasoning"] = Usage(
            input_tokens=5000,
            output_tokens=800,
            cache_read_input_tokens=3000,
            cache_creation_input_tokens=500,
            reasoning_tokens=300,
        )
        scenarios["1h-writes"] = Usage(
            input_tokens=5000,
            output_tokens=800,
            cache_read_input_tokens=1000,
            cache_creation_input_tokens=1000,
            cache_creation_1h_input_tokens=400,
            reasoning_tokens=100,
        )
        starts = sorted({b.min_input_tokens for bs in m.tiers.values() for b in bs} - {0})
        for start in starts:  # both sides of every band boundary, with every bucket used
            for name, n in ((f"at {start}", start), (f"below {start}", start - 1)):
                scenarios[name] = Usage(
                    input_tokens=n,
                    output_tokens=900,
                    cache_read_input_tokens=2000,
                    cache_creation_input_tokens=300,
                    cache_creation_1h_input_tokens=100,
                    reasoning_tokens=200,
                )
    instants = (PEAK, *OFF_PEAK_INSTANTS) if m.off_peak else (PEAK,)
    for tier in (None, *(t for t in m.tiers if t != STANDARD)):
        for name, usage in scenarios.items():
            for at in instants:
                yield Case(key, m.provider, tier, name, usage, at, embedding)


# --------------------------------------------------------------------------- the two sides


def litellm_cost(litellm: ModuleType, case: Case) -> float:
    """LiteLLM's ``cost_per_token`` (prompt + completion) for the case, mapped as documented."""
    from litellm._internal_context import pinned_billing_time
    from litellm.types.utils import CacheCreationTokenDetails, PromptTokensDetailsWrapper
    from litellm.types.utils import Usage as LiteUsage

    u = case.usage
    one_hour = u.cache_creation_1h_input_tokens
    details = PromptTokensDetailsWrapper(
        cached_tokens=u.cache_read_input_tokens,
        cache_write_tokens=u.cache_creation_input_tokens,
        cache_creation_token_details=CacheCreationTokenDetails(
            ephemeral_5m_input_tokens=u.cache_creation_input_tokens - one_hour,
            ephemeral_1h_input_tokens=one_hour,
        )
        if one_hour
        else None,
    )
    usage = LiteUsage(
        prompt_tokens=u.input_tokens,
        completion_tokens=u.output_tokens,
        total_tokens=u.input_tokens + u.output_tokens,
        reasoning_tokens=u.reasoning_tokens or None,
        prompt_tokens_details=details,
    )
    batch = case.tier == BATCH
    with pinned_billing_time(case.at):
        prompt, completion = litellm.cost_per_token(
            model=case.key,
            custom_llm_provider=case.provider,
            prompt_tokens=u.input_tokens,
            completion_tokens=u.output_tokens,
            cache_read_input_tokens=u.cache_read_input_tokens,
            cache_creation_input_tokens=u.cache_creation_input_tokens,
            usage_object=usage,
            service_tier=None if batch else case.tier,
            call_type="retrieve_batch"
            if batch
            else ("embedding" if case.embedding else "completion"),
        )
    return float(prompt + completion)


def _price(prices: ModelPrices, case: Case, tier: str | None) -> PricedCall | MissingPrice:
    return PriceTable([prices], version="view").price_call(
        case.usage, prices.key, prices.provider, tier, case.at
    )


def litellm_view(table: PriceTable, case: Case) -> tuple[Decimal, tuple[str, ...]]:
    """What LiteLLM should return, by OUR engine under LiteLLM's known assumptions.

    Each known difference is applied in turn and named only if it changes this case's price.
    """
    found = table.lookup(case.provider, case.key)
    assert not isinstance(found, MissingPrice), found
    prices, tier = found.prices, case.tier
    current = _price(prices, case, tier)
    reasons: list[str] = []

    def apply(reason: str, new_prices: ModelPrices, new_tier: str | None) -> None:
        nonlocal prices, tier, current
        new = _price(new_prices, case, new_tier)
        if getattr(new, "cost", new) != getattr(current, "cost", current):
            reasons.append(reason)
        prices, tier, current = new_prices, new_tier, new

    prefix = f"{case.provider}/"
    collapsed = case.key.removeprefix(prefix)
    if case.key.startswith(prefix * 2) and collapsed in table.models:
        other = table.lookup(case.provider, collapsed)
        assert not isinstance(other, MissingPrice), other
        apply("duplicate_prefix", other.prices, tier)
    if case.provider in PROVIDERS_WITHOUT_TIERS and tier not in (None, BATCH):
        apply("service_tier_ignored", prices, None)
    if case.provider == "perplexity" and tier != BATCH:
        base_only = (replace(prices.tiers[STANDARD][0], cache_write=None, cache_write_1h=None),)
        apply("perplexity_calculator", replace(prices, tiers={STANDARD: base_only}), tier)
    if "input_cost_per_request" in prices.units:
        units = {k: v for k, v in prices.units.items() if k != "input_cost_per_request"}
        apply("per_request_fee", replace(prices, units=units), tier)
    if isinstance(current, MissingPrice) and current.reason == "bucket_not_priced":
        zero = Decimal(0)
        zeroed = {
            name: tuple(replace(b, input=b.input or zero, output=b.output or zero) for b in bs)
            for name, bs in prices.tiers.items()
        }
        apply("no_token_price", replace(prices, tiers=zeroed), tier)
    assert isinstance(current, PricedCall), current
    return current.cost, tuple(reasons)


def close(ours: Decimal, theirs: float) -> bool:
    """Equal within the relative tolerance (LiteLLM computes in floats)."""
    a = float(ours)
    return a == theirs or abs(a - theirs) <= REL_TOLERANCE * max(abs(a), abs(theirs))


def compare(litellm: ModuleType, table: PriceTable, keys: list[str]) -> list[Outcome]:
    """Every case of every key, compared."""
    outcomes = []
    for key in keys:
        for case in cases_for(table, key):
            ours = table.price_call(case.usage, case.key, case.provider, case.tier, case.at)
            theirs = litellm_cost(litellm, case)
            expected, reasons = litellm_view(table, case)
            if isinstance(ours, PricedCall) and not reasons:
                matched = close(ours.cost, theirs)
            else:
                matched = close(expected, theirs)
            outcomes.append(Outcome(case, ours, theirs, expected, reasons, matched))
    return outcomes


def check(outcomes: list[Outcome]) -> dict[str, Any]:
    """Assert every outcome matched or is an explained difference; return the summary."""
    failures = [o for o in outcomes if not o.matched]
    lines = [
        f"{o.case.key} ({o.case.provider}) tier={o.case.tier} {o.case.scenario} at={o.case.at:%a %H:%M}: "
        f"ours={getattr(o.ours, 'cost', o.ours)} litellm={o.theirs!r} expected={o.expected} {o.reasons}"
        for o in failures[:25]
    ]
    assert not failures, f"{len(failures)} unexplained differences:\n" + "\n".join(lines)
    for o in outcomes:
        # A missing price is never a zero cost: it is only ever explained by no_token_price.
        if isinstance(o.ours, MissingPrice):
            assert "no_token_price" in o.reasons, o
            assert o.ours.reason in ("bucket_not_priced", "not_priced_per_token"), o.ours
        if not o.reasons:
            assert isinstance(o.ours, PricedCall)
    identical = [o for o in outcomes if not o.reasons]
    explained: dict[str, set[str]] = defaultdict(set)
    for o in outcomes:
        for reason in o.reasons:
            explained[reason].add(o.case.key)
    assert set(explained) <= set(KNOWN_DIFFERENCES), set(explained) - set(KNOWN_DIFFERENCES)
    models = {o.case.key for o in outcomes}
    fully_equal = models - {o.case.key for o in outcomes if o.reasons}
    summary = {
        "models": len(models),
        "models_identical_in_every_case": len(fully_equal),
        "providers": len({o.case.provider for o in outcomes}),
        "cases": len(outcomes),
        "cases_identical": len(identical),
        "cases_explained": len(outcomes) - len(identical),
        "explained_models": {k: sorted(v) for k, v in sorted(explained.items())},
        "coverage": dict(_coverage(identical)),
    }
    print(json.dumps(summary, indent=1, default=str))
    return summary


def _coverage(outcomes: list[Outcome]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for o in outcomes:
        assert isinstance(o.ours, PricedCall)
        b = o.ours.breakdown
        seen.update(
            name
            for name, on in {
                "chat": not o.case.embedding,
                "embedding": o.case.embedding,
                "cache_read priced": b.cache_read_tokens > 0 and o.ours.band.cache_read is not None,
                "cache_write priced": b.cache_write_5m_tokens > 0
                and o.ours.band.cache_write is not None,
                "1h write priced": b.cache_write_1h_tokens > 0
                and o.ours.band.cache_write_1h is not None,
                "reasoning priced": b.reasoning_tokens > 0 and o.ours.band.reasoning is not None,
                "reasoning as output": b.reasoning_tokens > 0 and o.ours.band.reasoning is None,
                "long-context band": o.ours.band.min_input_tokens > 0,
                "batch": o.ours.service_tier == BATCH,
                "priority": o.ours.service_tier == "priority",
                "flex": o.ours.service_tier == "flex",
                "off-peak": o.ours.tier.endswith("off_peak"),
            }.items()
            if on
        )
    return seen


# --------------------------------------------------------------------------- tests


def test_a_sample_of_models_prices_like_litellm(litellm: ModuleType, table: PriceTable) -> None:
    keys = sample_keys(table)
    assert len(keys) >= MIN_MODELS
    summary = check(compare(litellm, table, keys))
    assert summary["models_identical_in_every_case"] >= MIN_MODELS
    assert summary["providers"] >= 100
    coverage = summary["coverage"]
    for feature in (
        "chat",
        "embedding",
        "cache_read priced",
        "cache_write priced",
        "1h write priced",
        "reasoning priced",
        "reasoning as output",
        "long-context band",
        "batch",
        "priority",
        "flex",
        "off-peak",
    ):
        assert coverage.get(feature, 0) >= 5, f"the sample never compared {feature!r}: {coverage}"


@pytest.mark.slow
def test_every_model_prices_like_litellm(litellm: ModuleType, table: PriceTable) -> None:
    """The whole price map (about 20 s): every per-token priced model, every case."""
    keys = sorted(k for k, m in table.models.items() if m.tiers)
    summary = check(compare(litellm, table, keys))
    assert summary["models"] == len(keys)


def test_a_batch_call_without_batch_prices_is_not_guessed(
    litellm: ModuleType, table: PriceTable
) -> None:
    """LiteLLM assumes half the standard price when a model publishes no batch price; we do not
    invent a discount: the call is priced at the standard tier and flagged."""
    key = next(
        k
        for k in sorted(table.models, key=_rank)
        if (m := table.models[k]).provider == "openai"
        and m.tiers
        and BATCH not in m.tiers
        and all(b.input and b.output for b in m.tiers[STANDARD])
    )
    usage = Usage(input_tokens=1000, output_tokens=500)
    ours = table.price_call(usage, key, "openai", "batch", PEAK)
    assert isinstance(ours, PricedCall)
    assert (ours.service_tier, ours.service_tier_fallback) == (STANDARD, True)
    case = Case(key, "openai", BATCH, "plain", usage, PEAK, embedding=False)
    assert close(ours.cost / 2, litellm_cost(litellm, case))


def test_the_snapshot_is_current_with_the_installed_litellm() -> None:
    """The committed snapshot is what `make prices` builds from the installed litellm wheel, and
    building it reads the price map without importing litellm."""
    code = (
        "import runpy, sys\n"
        "sys.argv = ['tools/prices.py', '--check']\n"
        "try:\n"
        "    runpy.run_path('tools/prices.py', run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    status = done.code\n"
        "assert 'litellm' not in sys.modules, 'tools/prices.py imported litellm'\n"
        "sys.exit(status)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "up to date" in done.stdout
