"""Regenerate the costs service's price snapshot from LiteLLM's model price map (``make prices``).

Source: ``model_prices_and_context_window_backup.json`` as bundled in the installed ``litellm``
wheel (MIT-licensed data). The file is located through the package metadata and read as JSON;
litellm itself is never imported (importing it starts a download of a newer map, and even
``importlib.resources.files("litellm")`` imports the package).

Output: ``services/costs/src/llmops_costs/prices/litellm_snapshot.json``, in our format::

    {"format": 1, "version": "litellm-<v>", "generated_at": ..., "source": ..., "currency": "USD",
     "models": {"<key>": {"provider": ..., "mode": ..., "tiers": {"standard": [band, ...], ...},
                          "off_peak": {...}?, "units": {...}?, "alias_of": ...?, "notes": [...]?}}}

A *band* is the set of per-token rates that applies from ``min_input_tokens`` input tokens (all
prompt tokens, cached ones included) upwards::

    {"min_input_tokens": 0, "input": "0.0000025", "output": "0.00001",
     "cache_read": ..., "cache_write": ..., "cache_write_1h": ..., "reasoning": ..., "label": ...}

Prices are exact decimal strings copied from the source (never via a float). A rate left out of a
band falls back in the engine: ``cache_read`` and ``cache_write`` to ``input``, ``cache_write_1h``
to ``cache_write``, ``reasoning`` to ``output``; the generator leaves a rate out only when it equals
that fallback, so both spellings price identically. ``input``/``output`` are left out only when the
source has no such price at all: the engine then reports a missing price instead of billing zero.

LiteLLM spreads one model's prices over many keys (``input_cost_per_token_priority``,
``cache_read_input_token_cost_above_200k_tokens``, ``input_cost_per_token_above_272k_tokens_flex``,
``tiered_pricing`` ranges, ``off_peak_pricing`` windows ...) and resolves them at call time with
fallbacks. This script applies those resolution rules once, per service tier, at every threshold,
so the snapshot states outright which rate applies; the rules mirrored are those of litellm's
``generic_cost_per_token`` / ``_get_token_base_cost`` and ``batch_cost_calculator``, plus two
provider rules from its provider calculators (xAI thresholds are inclusive, Fireworks AI bills
cache reads at half the input rate when it publishes no cache price). Where a provider calculator of
litellm *ignores* prices present in the data (the ``*_priority`` prices of Fireworks AI models, the
long-context and cache-write prices of Perplexity's pass-through models), the snapshot follows the
data; ``tests/services/costs/test_pricing_vs_litellm.py`` lists and checks those differences.

Left out on purpose: modality token prices (audio/image/video tokens: the canonical usage has no
such buckets), OpenAI's 30-minute/12-hour cache-write prices, Dashscope's explicit-cache read price,
regional/FedRAMP uplift multipliers and ``_decisions`` call-type prices. A batch tier is published
only where the source has explicit batch prices (litellm otherwise assumes half the standard rate).

Tokenizer files: the same run refreshes ``prices/o200k_base.tiktoken.gz`` and
``prices/cl100k_base.tiktoken.gz``, the BPE ranks that :mod:`llmops_costs.tokens` needs to estimate
tokens offline (``tiktoken.get_encoding`` would download them). litellm's wheel bundles OpenAI's
files under ``litellm_core_utils/tokenizers/``, named like tiktoken's download cache: the sha1 of
the download URL. Each is checked against the sha256 that ``tiktoken_ext.openai_public`` declares
before it is copied, and gzipped (about 53% smaller) with a zero mtime so that a rerun with the
same input writes the same bytes; an unchanged file is not rewritten at all.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

# Belt and braces: nothing here imports litellm, but if anything ever did, it must stay offline.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "services/costs/src/llmops_costs/prices/litellm_snapshot.json"
SOURCE_FILE = "model_prices_and_context_window_backup.json"
FORMAT = 1
TOKENIZER_DIR = OUTPUT.parent
#: The tiktoken encodings shipped for offline token estimates (llmops_costs.tokens).
TOKENIZERS = ("o200k_base", "cl100k_base")
LITELLM_TOKENIZERS = "litellm_core_utils/tokenizers"

#: LiteLLM ``mode`` values the costs service prices.
MODES = ("chat", "completion", "responses", "embedding")

#: Our service tier -> litellm's key suffix (``None``: the unsuffixed standard keys).
SERVICE_TIERS: dict[str, str | None] = {
    "standard": None,
    "flex": "flex",
    "priority": "priority",
    "balanced": "balanced",
    "ultrafast": "ultrafast",
}
BATCH = "batch"

# litellm's ServiceTier suffixes, in the order its get_cost_per_unit tries them (longest first).
_TIER_SUFFIXES = ("_ultrafast", "_balanced", "_priority", "_auto", "_flex", "_fast")
_NON_STANDARD_SUFFIXES = (*_TIER_SUFFIXES, "_batches")
_RATE_PREFIXES = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
)
_TTL_1H = "cache_creation_input_token_cost_above_1hr"
#: Keys whose service-tier variants make a tier (modality-only variants do not).
_TIER_PREFIXES = (*_RATE_PREFIXES, "output_cost_per_reasoning_token")
_BATCH_TIER_KEY = re.compile(
    rf"^({'|'.join((*_RATE_PREFIXES, _TTL_1H))})_above_(\d+k?)_tokens_batches$"
)
_THRESHOLD = re.compile(r"_above_(\d+k?)_tokens")
#: Providers whose long-context thresholds count the threshold itself (litellm: ``>=``, not ``>``).
INCLUSIVE_THRESHOLD_PROVIDERS = frozenset({"xai"})
#: Fireworks AI bills cache reads at half the input rate when no cache price is published
#: (litellm FIREWORKS_AI_DEFAULT_CACHE_READ_RATE_RATIO).
FIREWORKS_CACHE_READ_RATIO = Decimal("0.5")

#: Non-token prices carried as they are (the canonical usage has no bucket for them yet).
UNIT_KEYS = (
    "input_cost_per_request",
    "input_cost_per_query",
    "input_cost_per_image",
    "output_cost_per_image",
    "input_cost_per_character",
    "input_cost_per_character_above_128k_tokens",
    "output_cost_per_character",
    "output_cost_per_character_above_128k_tokens",
    "cost_per_second",
    "input_cost_per_second",
    "output_cost_per_second",
    "input_cost_per_audio_per_second",
    "input_cost_per_video_per_second",
    "search_context_cost_per_query",
    "google_maps_grounding_cost_per_query",
    "code_interpreter_cost_per_session",
    "citation_cost_per_token",
)

Rates = dict[str, Decimal | None]


# --------------------------------------------------------------------------- source


def locate_source() -> tuple[str, Path]:
    """The installed litellm version and the path of its bundled price map (litellm not imported)."""
    spec = importlib.util.find_spec("litellm")  # finds the package directory, runs none of it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("litellm is not installed: `uv sync --all-packages` (dev group)")
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise SystemExit(f"{path} not found in the installed litellm")
    return importlib.metadata.version("litellm"), path


def load_source(path: Path) -> dict[str, dict[str, Any]]:
    """The price map with every JSON number that has a fraction or exponent read as a Decimal."""
    data: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"), parse_float=Decimal)
    data.pop("sample_spec", None)
    return data


def as_decimal(value: object) -> Decimal | None:
    """A price as an exact Decimal; None for an absent or unusable value."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def price_str(value: Decimal) -> str:
    """A Decimal in plain notation, without exponent or trailing zeros ("0.0000025", "0")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def parse_threshold(text: str) -> int:
    """``"200k"`` -> 200000, ``"128"`` -> 128."""
    return int(Decimal(text.removesuffix("k")) * (1000 if text.endswith("k") else 1))


def threshold_label(text: str) -> str:
    """The label of a long-context band, e.g. ``above_200k_tokens``."""
    return f"above_{text}_tokens"


def human_tokens(n: int) -> str:
    """200000 -> ``200k``."""
    return f"{n // 1000}k" if n % 1000 == 0 and n else str(n)


# --------------------------------------------------------------------------- tokenizers


@dataclass(frozen=True)
class Declared:
    """What tiktoken declares for one encoding: its download URL and the file's sha256."""

    url: str
    sha256: str


def tiktoken_declared(name: str) -> Declared:
    """The URL and expected sha256 that ``tiktoken_ext.openai_public`` passes to its loader.

    tiktoken keeps both inside the encoding's constructor function, so the constructor is run
    with its loader swapped for a recorder: nothing is downloaded and the values are tiktoken's
    own, not a copy that could go stale.
    """
    import tiktoken_ext.openai_public as public  # type: ignore[import-untyped]

    seen: dict[str, str] = {}

    def record(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen["url"], seen["sha256"] = blobpath, expected_hash or ""
        return {}

    original = public.load_tiktoken_bpe
    public.load_tiktoken_bpe = record
    try:
        public.ENCODING_CONSTRUCTORS[name]()
    finally:
        public.load_tiktoken_bpe = original
    if not seen.get("sha256"):
        raise SystemExit(f"tiktoken declares no sha256 for {name}")
    return Declared(seen["url"], seen["sha256"])


def locate_tokenizer(name: str) -> tuple[Path, Declared]:
    """litellm's bundled copy of one BPE file (named by the sha1 of its URL) and tiktoken's hash."""
    declared = tiktoken_declared(name)
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("litellm is not installed: `uv sync --all-packages` (dev group)")
    cache_key = hashlib.sha1(declared.url.encode()).hexdigest()
    path = Path(next(iter(spec.submodule_search_locations))) / LITELLM_TOKENIZERS / cache_key
    if not path.is_file():
        raise SystemExit(f"{path} ({name}) not found in the installed litellm")
    return path, declared


def read_tokenizer(name: str) -> bytes:
    """One BPE file from litellm, verified against tiktoken's sha256."""
    path, declared = locate_tokenizer(name)
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != declared.sha256:
        raise SystemExit(f"{path}: sha256 {actual}, tiktoken expects {declared.sha256} ({name})")
    return data


def tokenizer_path(name: str, directory: Path = TOKENIZER_DIR) -> Path:
    """Where the shipped, gzipped BPE file of an encoding lives."""
    return directory / f"{name}.tiktoken.gz"


def shipped_tokenizer(name: str, directory: Path = TOKENIZER_DIR) -> bytes | None:
    """The decompressed shipped BPE file, or None when it is missing or unreadable."""
    path = tokenizer_path(name, directory)
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile):
        return None


def write_tokenizers(directory: Path = TOKENIZER_DIR) -> list[str]:
    """Copy the BPE files from litellm; a file with the same content is left as it is.

    Comparing decompressed content (not gzip bytes) keeps a different zlib build from
    rewriting an unchanged file.
    """
    lines = []
    for name in TOKENIZERS:
        data = read_tokenizer(name)
        path = tokenizer_path(name, directory)
        if shipped_tokenizer(name, directory) == data:
            lines.append(f"{name}: up to date ({path.stat().st_size} bytes)")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        lines.append(f"{name}: wrote {path.stat().st_size} bytes ({len(data)} uncompressed)")
    return lines


def check_tokenizers(directory: Path = TOKENIZER_DIR) -> list[str]:
    """The shipped BPE files that are missing or do not match tiktoken's sha256."""
    stale = []
    for name in TOKENIZERS:
        data = shipped_tokenizer(name, directory)
        expected = tiktoken_declared(name).sha256
        if data is None or hashlib.sha256(data).hexdigest() != expected:
            stale.append(str(tokenizer_path(name, directory)))
    return stale


# --------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class Info:
    """One model's source entry with litellm's lookup rules."""

    raw: Mapping[str, Any]

    def has(self, key: str) -> bool:
        """Whether the key is set (litellm treats null as unset)."""
        return self.raw.get(key) is not None

    def rate(self, key: str) -> Decimal | None:
        """The key's price, or None."""
        return as_decimal(self.raw.get(key))

    def per_unit(self, key: str, default: Decimal | None) -> Decimal | None:
        """litellm ``get_cost_per_unit``: a service-tier key falls back to its standard key."""
        value = self.rate(key)
        if value is not None:
            return value
        if self.raw.get(key) is None:
            for suffix in _TIER_SUFFIXES:
                if suffix in key:
                    fallback = self.rate(key.replace(suffix, ""))
                    if fallback is not None:
                        return fallback
                    break
        return default


def tiered_pricing(info: Info) -> list[tuple[int, int, Mapping[str, Any]]]:
    """The ``tiered_pricing`` ranges (start, end, tier), sorted by start."""
    tiers = info.raw.get("tiered_pricing")
    if not isinstance(tiers, list):
        return []
    ranged = []
    for tier in tiers:
        bounds = tier.get("range") if isinstance(tier, Mapping) else None
        if isinstance(bounds, list) and len(bounds) == 2:
            ranged.append((int(as_decimal(bounds[0]) or 0), int(as_decimal(bounds[1]) or 0), tier))
    return sorted(ranged, key=lambda r: r[0])


def select_range(info: Info, tokens: int) -> Mapping[str, Any] | None:
    """litellm ``select_tier_for_input``: ``start < tokens <= end``, else the last range."""
    ranged = tiered_pricing(info)
    if not ranged or tokens <= 0:
        return None
    for start, end, tier in ranged:
        if start < tokens <= end:
            return tier
    return ranged[-1][2]


def _tier_value(tier: Mapping[str, Any], key: str, fallback: str | None = None) -> Decimal:
    primary = as_decimal(tier.get(key))
    if primary is not None:
        return primary
    if fallback is None:
        return Decimal(0)
    return as_decimal(tier.get(fallback)) or Decimal(0)


def _exceeds(tokens: int, threshold: int, inclusive: bool) -> bool:
    return tokens > threshold or (inclusive and tokens == threshold)


def _suffixed(base: str, suffix: str | None) -> str:
    return base if suffix is None else f"{base}_{suffix}"


def _reasoning(info: Info, suffix: str | None, output: Decimal | None) -> Decimal | None:
    """litellm ``_resolve_reasoning_token_cost``; None when reasoning bills as output."""
    key = _suffixed("output_cost_per_reasoning_token", suffix)
    if info.has(key) and (value := info.per_unit(key, None)) is not None:
        return value
    if suffix is not None and info.has(_suffixed("output_cost_per_token", suffix)):
        return None
    return info.per_unit("output_cost_per_reasoning_token", None)


def _off_peak(
    info: Info, op: Mapping[str, Any] | None, key: str, rate: Decimal | None
) -> Decimal | None:
    if op is None:
        return rate
    value = as_decimal(op.get(key))
    return rate if value is None else value


def resolve(info: Info, provider: str, suffix: str | None, tokens: int, off_peak: bool) -> Rates:
    """The rates litellm bills a call of ``tokens`` input tokens at, for a service-tier suffix."""
    inclusive = provider in INCLUSIVE_THRESHOLD_PROVIDERS
    op_block = info.raw.get("off_peak_pricing") if off_peak else None
    op = op_block if isinstance(op_block, Mapping) else None
    if provider == "fireworks_ai" and not info.has("cache_read_input_token_cost"):
        base_input = info.rate("input_cost_per_token")
        if base_input is not None:
            patched = dict(info.raw)
            patched["cache_read_input_token_cost"] = base_input * FIREWORKS_CACHE_READ_RATIO
            if op is not None and "cache_read_input_token_cost" not in op:
                op_input = as_decimal(op.get("input_cost_per_token"))
                op = {
                    **op,
                    "cache_read_input_token_cost": (
                        op_input * FIREWORKS_CACHE_READ_RATIO
                        if op_input is not None
                        else patched["cache_read_input_token_cost"]
                    ),
                }
            info = Info(patched)

    tier = select_range(info, tokens)
    if tier is not None and "input_cost_per_token" in tier:
        # All-or-nothing range pricing: every token of the call at the selected range's rates.
        output = (
            _tier_value(tier, "output_cost_per_token")
            if "output_cost_per_token" in tier
            else info.per_unit("output_cost_per_token", None)
        )
        inp: Decimal | None = _tier_value(tier, "input_cost_per_token")
        cache_read: Decimal | None = _tier_value(
            tier, "cache_read_input_token_cost", "input_cost_per_token"
        )
        cache_write: Decimal | None = _tier_value(
            tier, "cache_creation_input_token_cost", "input_cost_per_token"
        )
        inp, output = (
            _off_peak(info, op, "input_cost_per_token", inp),
            _off_peak(info, op, "output_cost_per_token", output),
        )
        cache_read = _off_peak(info, op, "cache_read_input_token_cost", cache_read)
        cache_write = _off_peak(info, op, "cache_creation_input_token_cost", cache_write)
        one_hour = as_decimal(tier.get(_TTL_1H))
        if op is not None and as_decimal(op.get("output_cost_per_reasoning_token")) is not None:
            reasoning = as_decimal(op.get("output_cost_per_reasoning_token"))
        elif "output_cost_per_reasoning_token" in tier:
            reasoning = _tier_value(tier, "output_cost_per_reasoning_token")
        elif "output_cost_per_token" in tier:
            reasoning = None
        else:
            reasoning = _reasoning(info, suffix, output)
        return {
            "input": inp,
            "output": output,
            "cache_read": cache_read,
            "cache_write": cache_write,
            "cache_write_1h": cache_write if one_hour is None else one_hour,
            "reasoning": reasoning,
        }

    inp = info.per_unit(_suffixed("input_cost_per_token", suffix), None)
    output = info.per_unit(_suffixed("output_cost_per_token", suffix), None)
    if not output:  # litellm: an output rate of 0 (or none) means all output is image tokens
        image = info.per_unit("output_cost_per_image_token", None)
        if image is not None:
            output = image
    cache_write = info.per_unit(_suffixed("cache_creation_input_token_cost", suffix), None)
    cache_read = info.per_unit(_suffixed("cache_read_input_token_cost", suffix), None)
    one_hour_key = _suffixed(_TTL_1H, suffix)

    tier_suffix = "" if suffix is None else f"_{suffix}"
    prefixes = tuple(f"{p}_above_" for p in _RATE_PREFIXES)
    threshold_keys = [
        k
        for k in info.raw
        if k.startswith(prefixes)
        and "_tokens" in k
        and (not k.endswith(_NON_STANDARD_SUFFIXES) or (tier_suffix and k.endswith(tier_suffix)))
    ]
    for key in sorted(threshold_keys, key=lambda k: parse_threshold(_above(k))):
        if not info.has(key):
            continue
        text = _above(key)
        if not _exceeds(tokens, parse_threshold(text), inclusive):
            continue
        inp = info.per_unit(_suffixed(f"input_cost_per_token_above_{text}_tokens", suffix), inp)
        output = info.per_unit(
            _suffixed(f"output_cost_per_token_above_{text}_tokens", suffix), output
        )
        cache_write = info.per_unit(
            _suffixed(f"cache_creation_input_token_cost_above_{text}_tokens", suffix), cache_write
        )
        preferred = _suffixed(f"{_TTL_1H}_above_{text}_tokens", suffix)
        one_hour_key = preferred if info.has(preferred) else one_hour_key
        cache_read = info.per_unit(
            _suffixed(f"cache_read_input_token_cost_above_{text}_tokens", suffix), cache_read
        )

    # An absent cache price bills cached tokens as ordinary input (off-peak input, when open).
    missing_cache = _off_peak(info, op, "input_cost_per_token", inp)
    cache_read = missing_cache if cache_read is None else cache_read
    cache_write = missing_cache if cache_write is None else cache_write
    inp = _off_peak(info, op, "input_cost_per_token", inp)
    output = _off_peak(info, op, "output_cost_per_token", output)
    cache_read = _off_peak(info, op, "cache_read_input_token_cost", cache_read)
    cache_write = _off_peak(info, op, "cache_creation_input_token_cost", cache_write)
    one_hour = info.per_unit(one_hour_key, None)
    op_reasoning = as_decimal(op.get("output_cost_per_reasoning_token")) if op else None
    return {
        "input": inp,
        "output": output,
        "cache_read": cache_read,
        "cache_write": cache_write,
        "cache_write_1h": cache_write if one_hour is None else one_hour,
        "reasoning": op_reasoning if op_reasoning is not None else _reasoning(info, suffix, output),
    }


def _above(key: str) -> str:
    return key.rsplit("_above_", 1)[1].split("_tokens")[0]


def _batch_prefix_rate(info: Info, prefix: str, tokens: int, inclusive: bool) -> Decimal | None:
    """litellm ``_batch_rate_for_prefix``: the highest crossed ``*_above_N_tokens_batches`` key."""
    thresholds = sorted(
        {
            m.group(2)
            for k in info.raw
            if info.has(k) and (m := _BATCH_TIER_KEY.match(k)) and m.group(1) == prefix
        },
        key=parse_threshold,
        reverse=True,
    )
    flat = info.rate(f"{prefix}_batches")
    for text in thresholds:
        if _exceeds(tokens, parse_threshold(text), inclusive):
            tiered = info.rate(f"{prefix}_above_{text}_tokens_batches")
            return flat if tiered is None else tiered
    return flat


def _standard_rate(info: Info, key: str, tokens: int) -> Decimal | None:
    """litellm ``_standard_rate``: a standard rate at its crossed threshold (always ``>``)."""
    crossed = [
        k
        for k in info.raw
        if k.startswith(f"{key}_above_")
        and k.endswith("_tokens")
        and info.has(k)
        and tokens > parse_threshold(_above(k))
    ]
    chosen = max(crossed, key=lambda k: parse_threshold(_above(k))) if crossed else key
    return info.per_unit(chosen, None)


def resolve_batch(info: Info, provider: str, tokens: int) -> Rates:
    """The rates of a batch-API call (litellm ``batch_cost_calculator`` with explicit batch prices)."""
    inclusive = provider in INCLUSIVE_THRESHOLD_PROVIDERS
    inp = _batch_prefix_rate(info, "input_cost_per_token", tokens, inclusive)
    output = _batch_prefix_rate(info, "output_cost_per_token", tokens, inclusive)
    batch_read = _batch_prefix_rate(info, "cache_read_input_token_cost", tokens, inclusive)
    batch_write = _batch_prefix_rate(info, "cache_creation_input_token_cost", tokens, inclusive)
    one_hour = _batch_prefix_rate(info, _TTL_1H, tokens, inclusive)
    cache_read = (
        batch_read
        if batch_read is not None
        else _standard_rate(info, "cache_read_input_token_cost", tokens)
    )
    cache_write = inp if batch_write is None else batch_write
    return {
        "input": inp,
        "output": output,
        # No cache-read price at all: litellm bills cached tokens as batch input.
        "cache_read": inp if cache_read is None else cache_read,
        "cache_write": cache_write,
        "cache_write_1h": cache_write if one_hour is None else one_hour,
        "reasoning": None,
    }


def has_batch_prices(info: Info, mode: str) -> bool:
    """A batch tier is published only with explicit batch input and output prices.

    Embeddings need no output price. litellm assumes half the standard rate for a missing batch
    price; we do not invent prices, so such a call is priced at the standard tier and flagged.
    """
    return info.has("input_cost_per_token_batches") and (
        info.has("output_cost_per_token_batches") or mode == "embedding"
    )


def service_tiers(info: Info) -> list[str]:
    """The non-standard service tiers the model prices."""
    found = []
    for name, suffix in SERVICE_TIERS.items():
        if suffix is not None and any(
            k.endswith(f"_{suffix}") and k.startswith(_TIER_PREFIXES) and info.has(k)
            for k in info.raw
        ):
            found.append(name)
    return found


def breakpoints(info: Info) -> list[tuple[int, str]]:
    """Input-token counts where a rate may change, with the label of the band they open."""
    points: dict[int, str] = {}
    for key in info.raw:
        if "cost" not in key or not info.has(key):
            continue
        m = _THRESHOLD.search(key)
        if m:
            t = parse_threshold(m.group(1))
            points.setdefault(t, threshold_label(m.group(1)))
    for start, end, _ in tiered_pricing(info):
        for t in (start, end):
            if t > 0:
                points.setdefault(t, threshold_label(human_tokens(t)))
    # A threshold T splits at T (inclusive rule) and at T + 1 (the usual ``>`` rule).
    out: list[tuple[int, str]] = []
    for t, label in sorted(points.items()):
        out.append((t, label))
        out.append((t + 1, label))
    return out


def compact(rates: Rates) -> dict[str, str]:
    """Leave out the rates that equal their engine fallback; format the rest."""
    out: dict[str, str] = {}
    inp, output = rates["input"], rates["output"]
    if inp is not None:
        out["input"] = price_str(inp)
    if output is not None:
        out["output"] = price_str(output)
    write = rates["cache_write"]
    if rates["cache_read"] is not None and rates["cache_read"] != inp:
        out["cache_read"] = price_str(rates["cache_read"])
    if write is not None and write != inp:
        out["cache_write"] = price_str(write)
    effective_write = write if write is not None else inp
    if rates["cache_write_1h"] is not None and rates["cache_write_1h"] != effective_write:
        out["cache_write_1h"] = price_str(rates["cache_write_1h"])
    if rates["reasoning"] is not None and rates["reasoning"] != output:
        out["reasoning"] = price_str(rates["reasoning"])
    return out


def bands(resolver: Any, info: Info) -> list[dict[str, Any]]:
    """The bands of one tier: the rates at 1 input token, then wherever they change."""
    first = compact(resolver(1))
    result: list[dict[str, Any]] = [{"min_input_tokens": 0, **first}]
    current = first
    for tokens, label in breakpoints(info):
        rates = compact(resolver(tokens))
        if rates != current:
            result.append({"min_input_tokens": tokens, "label": label, **rates})
            current = rates
    return result


def priced_per_token(info: Info) -> bool:
    """Whether the model has any per-token price (else it is priced per second, character ...)."""
    return any(
        info.has(k) for k in ("input_cost_per_token", "output_cost_per_token", "tiered_pricing")
    )


def model_entry(info: Info, provider: str, mode: str) -> dict[str, Any]:
    """Our snapshot entry of one source model."""
    entry: dict[str, Any] = {"provider": provider, "mode": mode, "tiers": {}}
    if priced_per_token(info):
        tiers: dict[str, Any] = {}
        for name in ("standard", *service_tiers(info)):
            suffix = SERVICE_TIERS[name]
            tiers[name] = bands(lambda n, s=suffix: resolve(info, provider, s, n, False), info)
        if has_batch_prices(info, mode):
            tiers[BATCH] = bands(lambda n: resolve_batch(info, provider, n), info)
        entry["tiers"] = tiers
        op = info.raw.get("off_peak_pricing")
        if isinstance(op, Mapping):
            entry["off_peak"] = {
                **{
                    k: _jsonable(op[k])
                    for k in ("hours_utc", "windows", "weekday_timezone")
                    if k in op
                },
                "tiers": {
                    name: bands(
                        lambda n, s=SERVICE_TIERS[name]: resolve(info, provider, s, n, True), info
                    )
                    for name in tiers
                    if name != BATCH
                },
            }
    units = {k: _jsonable(info.raw[k]) for k in UNIT_KEYS if info.has(k)}
    if units:
        entry["units"] = units
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return price_str(value)
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def build(
    version: str, source: Mapping[str, Mapping[str, Any]], generated_at: str
) -> dict[str, Any]:
    """The whole snapshot document."""
    models: dict[str, Any] = {}
    for key, raw in source.items():
        target_key = raw.get("alias_of")
        target = source.get(target_key) if isinstance(target_key, str) else raw
        if target is None or "alias_of" in target:
            continue  # litellm drops an alias of nothing or of another alias
        mode, provider = target.get("mode"), target.get("litellm_provider")
        if mode not in MODES or not isinstance(provider, str):
            continue
        entry = model_entry(Info(target), provider, mode)
        if target is not raw:
            entry["alias_of"] = target_key
        models[key] = entry
    return {
        "format": FORMAT,
        "version": f"litellm-{version}",
        "generated_at": generated_at,
        "source": f"litellm {version} {SOURCE_FILE} (MIT)",
        "currency": "USD",
        "modes": list(MODES),
        "models": dict(sorted(models.items())),
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """JSON with one model per line: small diffs when prices change."""
    head = {k: v for k, v in doc.items() if k != "models"}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v)},")
    lines.append('  "models": {')
    items = list(doc["models"].items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}{comma}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def stats(doc: Mapping[str, Any]) -> Iterable[str]:
    """Lines summarising the snapshot."""
    models = doc["models"]
    by_mode: dict[str, int] = {}
    by_provider: dict[str, int] = {}
    features: dict[str, int] = {}
    for entry in models.values():
        by_mode[entry["mode"]] = by_mode.get(entry["mode"], 0) + 1
        by_provider[entry["provider"]] = by_provider.get(entry["provider"], 0) + 1
        tiers = entry["tiers"]
        flags = {
            "per-token priced": bool(tiers),
            "not per-token (units only)": not tiers,
            "long-context bands": any(len(b) > 1 for b in tiers.values()),
            "cache read price": any("cache_read" in band for b in tiers.values() for band in b),
            "cache write price": any("cache_write" in band for b in tiers.values() for band in b),
            "1h cache write price": any(
                "cache_write_1h" in band for b in tiers.values() for band in b
            ),
            "reasoning price": any("reasoning" in band for b in tiers.values() for band in b),
            "batch tier": BATCH in tiers,
            "priority tier": "priority" in tiers,
            "flex tier": "flex" in tiers,
            "off-peak": "off_peak" in entry,
            "units": "units" in entry,
            "alias": "alias_of" in entry,
        }
        for name, on in flags.items():
            features[name] = features.get(name, 0) + int(on)
    yield f"{doc['version']}: {len(models)} models"
    yield "by mode: " + ", ".join(
        f"{k} {v}" for k, v in sorted(by_mode.items(), key=lambda i: -i[1])
    )
    yield "features: " + ", ".join(f"{k} {v}" for k, v in features.items())
    top = sorted(by_provider.items(), key=lambda i: -i[1])
    yield f"providers ({len(top)}): " + ", ".join(f"{k} {v}" for k, v in top)


def main(argv: list[str] | None = None) -> int:
    """Regenerate (default) or check (``--check``) the snapshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed snapshot's models drifted"
    )
    parser.add_argument(
        "--tokenizers",
        type=Path,
        default=TOKENIZER_DIR,
        help="directory of the gzipped tiktoken BPE files (default: the costs package)",
    )
    args = parser.parse_args(argv)
    version, path = locate_source()
    generated = datetime.now(UTC)  # clock-ok: when the snapshot was generated (provenance)
    now = generated.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    doc = build(version, load_source(path), now)
    if args.check:
        status = 0
        current = json.loads(args.output.read_text("utf-8"))
        if (
            current.get("version") != doc["version"]
            or current.get("models") != json.loads(dumps(doc))["models"]
        ):
            sys.stderr.write(f"{args.output} is stale: run `make prices`\n")
            status = 1
        else:
            sys.stdout.write(f"{args.output} is up to date ({doc['version']})\n")
        for stale in check_tokenizers(args.tokenizers):
            sys.stderr.write(f"{stale} is missing or does not match tiktoken: run `make prices`\n")
            status = 1
        return status
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(dumps(doc), "utf-8")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    sys.stdout.write(f"wrote {shown}\n")
    for line in stats(doc):
        sys.stdout.write(line + "\n")
    for line in write_tokenizers(args.tokenizers):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
