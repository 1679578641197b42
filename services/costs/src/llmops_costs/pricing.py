"""Price LLM calls: the price table, per-tenant overrides and the pricing engine.

Pure logic: no I/O, no framework. The bundled snapshot is read by ``llmops_costs.prices``; this
module turns its JSON text (or any document in the same format, e.g. a tenant's price file) into a
:class:`PriceTable` and prices canonical usage with :class:`decimal.Decimal`, exactly.

**Format** (written by ``tools/prices.py``, see its docstring): every model has rate *bands* per
service tier. A band holds per-token USD rates and applies from ``min_input_tokens`` upwards; the
band applying to a call is the last one whose ``min_input_tokens <= usage.input_tokens``. Like
LiteLLM, the long-context threshold is compared with *all* prompt tokens, cached ones included
(OTel ``input_tokens``), and one band prices every token of the call.

**Usage buckets** (OpenTelemetry GenAI, ``llmops_contracts.llm.Usage``): ``input_tokens``
includes cache reads and cache writes, ``reasoning_tokens`` is part of ``output_tokens``. So::

    uncached input = input_tokens - cache_read_input_tokens - cache_creation_input_tokens
    cache writes   = cache_creation_input_tokens, of which cache_creation_1h_input_tokens at 1 h
    visible output = output_tokens - reasoning_tokens

and each token is billed exactly once: uncached input at ``input``, reads at ``cache_read``, 5-minute
writes at ``cache_write``, 1-hour writes at ``cache_write_1h``, visible output at ``output`` and
reasoning at ``reasoning``. A rate a band leaves out falls back: ``cache_read`` and ``cache_write`` to
``input`` (a provider without a cache price bills cached tokens as input), ``cache_write_1h`` to
``cache_write``, ``reasoning`` to ``output`` (reasoning is billed separately only where priced
separately). A bucket with tokens but no ``input``/``output`` price makes the call unpriced. A
per-request fee (``units.input_cost_per_request``) is added once per call.

**Lookup** of ``(provider, model)``, first match wins (the rule is recorded on the result):

1. ``provider_prefix``: the key ``"<provider>/<model>"``, unless the model already starts with
   that prefix. This comes first, as in LiteLLM: where both ``deepseek-chat`` and
   ``deepseek/deepseek-chat`` exist, the provider's own entry wins;
2. ``exact``: the key equal to ``model``; then ``"<family>/<model>"`` when the provider was named
   by a variant of its family (``bedrock_converse`` also finds ``bedrock/...``);
3. ``without_prefix``: ``model`` minus a leading ``"<segment>/"`` (``openai/gpt-4o``), then 1-2;
4. ``dated_base``: ``model`` ends with a date (``-2024-08-06``, ``-20250929``, ``@20240620``) and
   its undated name matches by rules 1-3;
5. ``dated_unique``: ``model`` has no date and exactly one dated key of the provider family
   matches it by rules 1-3; several dated keys make the model *ambiguous* (a missing price).

Every rule only accepts a key whose provider is in the requested provider's family.
Provider names are OpenTelemetry ``gen_ai.provider.name`` values or LiteLLM provider ids:
``aws.bedrock`` is ``bedrock``, ``gcp.vertex_ai`` is ``vertex_ai``, ``x_ai`` is ``xai`` ...; a family
groups LiteLLM's variants (``vertex_ai-anthropic_models`` is ``vertex_ai``, ``bedrock_converse`` is
``bedrock``). A key of another provider never prices a call: ``gpt-4o`` asked of ``azure`` is not
priced with OpenAI's rates.

**Service tiers**: ``None``/``default``/``auto``/``standard`` price at ``standard``; ``fast`` is
``priority``; ``batch``/``batches`` is ``batch``. A tier the model does not price falls back to
``standard``, and the result says so (``service_tier_fallback``).

**Overrides**: a :class:`PriceOverride` gives one tenant its own prices for one model from
``effective_from`` (inclusive) to ``effective_until`` (exclusive, open-ended when None). It matches
a call of the same provider family whose model, or the model without its provider prefix, or its
undated name, equals the override's model. Of the overrides in effect at the call time, the one
with the latest ``effective_from`` wins; two overrides of the same model starting at the same
instant are rejected.

A missing price is a :class:`MissingPrice`, never a zero cost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from llmops_contracts.common import MONEY_MAX_DIGITS, MONEY_MAX_PLACES
from llmops_contracts.llm import Usage
from llmops_costs.money import exact

STANDARD = "standard"
BATCH = "batch"
RATE_FIELDS = ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning")

#: Service-tier spellings (OpenAI, Anthropic, Gemini, our contract) -> the table's tier names.
SERVICE_TIER_ALIASES: Mapping[str, str] = {
    "": STANDARD,
    "default": STANDARD,
    "auto": STANDARD,
    "standard": STANDARD,
    "standard_only": STANDARD,
    "on_demand": STANDARD,
    "batch": BATCH,
    "batches": BATCH,
    "flex": "flex",
    "priority": "priority",
    "fast": "priority",
    "balanced": "balanced",
    "ultrafast": "ultrafast",
}

#: OpenTelemetry ``gen_ai.provider.name`` values -> LiteLLM provider ids.
PROVIDER_ALIASES: Mapping[str, str] = {
    "aws.bedrock": "bedrock",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure.ai.inference": "azure_ai",
    "az.ai.inference": "azure_ai",
    "gcp.vertex_ai": "vertex_ai",
    "gcp.gemini": "gemini",
    "gcp.gen_ai": "gemini",
    "mistral_ai": "mistral",
    "x_ai": "xai",
    "ibm.watsonx.ai": "watsonx",
}

#: LiteLLM provider variants -> their family (the provider a caller names).
PROVIDER_FAMILIES: Mapping[str, str] = {
    "bedrock_converse": "bedrock",
    "bedrock_mantle": "bedrock",
    "cohere_chat": "cohere",
    "text-completion-openai": "openai",
    "text-completion-codestral": "codestral",
    "text-completion-inception": "inception",
    "azure_text": "azure",
}

_DATE_SUFFIX = re.compile(r"[-@](?:\d{4}-\d{2}-\d{2}|\d{8})$")
_ZERO = Decimal(0)

LookupRule = Literal[
    "exact", "provider_prefix", "without_prefix", "dated_base", "dated_unique", "override"
]


def provider_family(provider: str) -> str:
    """The family of a provider name: ``gcp.vertex_ai`` and ``vertex_ai-anthropic_models`` are ``vertex_ai``."""
    name = provider.strip().lower()
    name = PROVIDER_ALIASES.get(name, name)
    if name in PROVIDER_FAMILIES:
        return PROVIDER_FAMILIES[name]
    for family in ("vertex_ai", "fireworks_ai"):
        if name.startswith(f"{family}-"):
            return family
    return name


def canonical_service_tier(service_tier: str | None) -> str:
    """The table tier a call's service tier asks for (unknown names are returned lowercased)."""
    if service_tier is None:
        return STANDARD
    name = service_tier.strip().lower()
    return SERVICE_TIER_ALIASES.get(name, name)


def _price(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{what}: a price must be a decimal string, got {value!r}")
    try:
        price = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{what}: not a decimal number: {value!r}") from exc
    if not price.is_finite() or price < 0:
        raise ValueError(f"{what}: a price must be finite and >= 0, got {value!r}")
    # Bounded like money in the contracts, so that exact sums of costs stay exact.
    _, digits, exponent = price.as_tuple()
    assert isinstance(exponent, int)  # finite
    if len(digits) + max(exponent, 0) > MONEY_MAX_DIGITS or -exponent > MONEY_MAX_PLACES:
        raise ValueError(
            f"{what}: a price has at most {MONEY_MAX_PLACES} decimal places and "
            f"{MONEY_MAX_DIGITS} digits, got {value!r}"
        )
    return price


def _name(value: object, what: str, longest: int) -> str:
    """A name stored with every call it prices (its column holds ``longest`` characters)."""
    text = str(value)
    if len(text) > longest:
        raise ValueError(f"{what}: at most {longest} characters, got {len(text)}")
    return text


def _price_str(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# --------------------------------------------------------------------------- price model


@dataclass(frozen=True, slots=True)
class Band:
    """Per-token USD rates applying from ``min_input_tokens`` prompt tokens upwards."""

    min_input_tokens: int = 0
    input: Decimal | None = None
    output: Decimal | None = None
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    reasoning: Decimal | None = None
    label: str | None = None
    #: The rates of (input, cache read, 5 min write, 1 h write, output, reasoning), fallbacks applied.
    effective: tuple[Decimal | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        read = self.input if self.cache_read is None else self.cache_read
        write = self.input if self.cache_write is None else self.cache_write
        write_1h = write if self.cache_write_1h is None else self.cache_write_1h
        reasoning = self.output if self.reasoning is None else self.reasoning
        rates = (self.input, read, write, write_1h, self.output, reasoning)
        object.__setattr__(self, "effective", rates)

    @property
    def cache_read_rate(self) -> Decimal | None:
        """The cache-read rate, falling back to the input rate."""
        return self.effective[1]

    @property
    def cache_write_rate(self) -> Decimal | None:
        """The 5-minute cache-write rate, falling back to the input rate."""
        return self.effective[2]

    @property
    def cache_write_1h_rate(self) -> Decimal | None:
        """The 1-hour cache-write rate, falling back to the 5-minute one."""
        return self.effective[3]

    @property
    def reasoning_rate(self) -> Decimal | None:
        """The reasoning rate, falling back to the output rate."""
        return self.effective[5]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], what: str = "band") -> Band:
        """A band from its JSON object."""
        unknown = set(data) - {*RATE_FIELDS, "min_input_tokens", "label"}
        if unknown:
            raise ValueError(f"{what}: unknown fields {sorted(unknown)}")
        minimum = data.get("min_input_tokens", 0)
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
            raise ValueError(f"{what}: min_input_tokens must be an integer >= 0")
        rates = {
            name: _price(data[name], f"{what}.{name}")
            for name in RATE_FIELDS
            if data.get(name) is not None
        }
        label = data.get("label")
        label = _name(label, f"{what}.label", 50) if label else None
        return cls(min_input_tokens=minimum, label=label, **rates)

    def to_dict(self) -> dict[str, Any]:
        """The band as a JSON object (prices as decimal strings)."""
        out: dict[str, Any] = {"min_input_tokens": self.min_input_tokens}
        if self.label:
            out["label"] = self.label
        for name in RATE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = _price_str(value)
        return out


Bands = tuple[Band, ...]


def _bands(data: object, what: str) -> Bands:
    if not isinstance(data, list) or not data:
        raise ValueError(f"{what}: a tier is a non-empty list of bands")
    bands = tuple(Band.from_dict(b, f"{what}[{i}]") for i, b in enumerate(data))
    if bands[0].min_input_tokens != 0:
        raise ValueError(f"{what}: the first band must start at min_input_tokens 0")
    starts = [b.min_input_tokens for b in bands]
    if starts != sorted(set(starts)):
        raise ValueError(f"{what}: bands must have strictly increasing min_input_tokens")
    return bands


def _tiers(data: object, what: str) -> Mapping[str, Bands]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}: tiers must be an object")
    return {
        _name(name, f"{what}.{name}", 32).lower(): _bands(bands, f"{what}.{name}")
        for name, bands in data.items()
    }


def select_band(bands: Bands, input_tokens: int) -> Band:
    """The band pricing a call with ``input_tokens`` prompt tokens (cached ones included)."""
    chosen = bands[0]
    for band in bands[1:]:
        if band.min_input_tokens > input_tokens:
            break
        chosen = band
    return chosen


_WEEKDAYS = {
    "mon": 1, "monday": 1, "tue": 2, "tues": 2, "tuesday": 2, "wed": 3, "wednesday": 3,
    "thu": 4, "thur": 4, "thurs": 4, "thursday": 4, "fri": 5, "friday": 5,
    "sat": 6, "saturday": 6, "sun": 7, "sunday": 7,
}  # fmt: skip


def _weekday(value: object, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        return value
    if isinstance(value, str) and value.strip().lower() in _WEEKDAYS:
        return _WEEKDAYS[value.strip().lower()]
    raise ValueError(f"{what}: weekday must be 1 (Monday) .. 7 (Sunday) or a day name: {value!r}")


def _window(value: object, what: str) -> tuple[time, time]:
    try:
        start, end = str(value).split("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError as exc:
        raise ValueError(f"{what}: a window is 'HH:MM-HH:MM' (UTC), got {value!r}") from exc


def _windows(value: object, what: str) -> tuple[tuple[time, time], ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError(f"{what}: hours_utc must be a window or a list of windows")
    return tuple(_window(w, f"{what}[{i}]") for i, w in enumerate(items))


def _in_window(now: time, window: tuple[time, time]) -> bool:
    # Start inclusive, end exclusive; a window may wrap past midnight; start == end is all day.
    start, end = window
    if start < end:
        return start <= now < end
    return now >= start or now < end


@dataclass(frozen=True, slots=True)
class WeekdayWindows:
    """Off-peak hours (UTC) that apply only on some weekdays (ISO: 1 is Monday)."""

    hours_utc: tuple[tuple[time, time], ...]
    weekdays: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class OffPeak:
    """Discounted rates during off-peak hours (e.g. DeepSeek's night-time prices)."""

    tiers: Mapping[str, Bands]
    hours_utc: tuple[tuple[time, time], ...] = ()
    windows: tuple[WeekdayWindows, ...] = ()
    #: The calendar the weekdays are read on (IANA name; default UTC).
    weekday_timezone: str | None = None
    #: That calendar's zone; None when this host does not know it (see ``calendar_known``).
    weekday_zone: tzinfo | None = field(default=None, compare=False)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], what: str = "off_peak") -> OffPeak:
        """Off-peak rules and rates from their JSON object."""
        zone_name = data.get("weekday_timezone")
        zone: tzinfo | None = None
        if zone_name:
            try:
                zone = ZoneInfo(str(zone_name))
            except (ZoneInfoNotFoundError, ValueError):
                zone = None  # calls are then a MissingPrice, never priced on the UTC calendar
        windows = []
        for i, rule in enumerate(data.get("windows") or ()):
            days = rule.get("weekdays")
            windows.append(
                WeekdayWindows(
                    hours_utc=_windows(rule.get("hours_utc", []), f"{what}.windows[{i}]"),
                    weekdays=None
                    if days is None
                    else frozenset(_weekday(d, f"{what}.windows[{i}]") for d in days),
                )
            )
        return cls(
            tiers=_tiers(data.get("tiers"), f"{what}.tiers"),
            hours_utc=_windows(data.get("hours_utc", []), f"{what}.hours_utc"),
            windows=tuple(windows),
            weekday_timezone=str(zone_name) if zone_name else None,
            weekday_zone=zone,
            raw={k: v for k, v in data.items() if k != "tiers"},
        )

    def to_dict(self) -> dict[str, Any]:
        """The off-peak block as a JSON object."""
        return {**self.raw, "tiers": {n: [b.to_dict() for b in bs] for n, bs in self.tiers.items()}}

    @property
    def calendar_known(self) -> bool:
        """False when the weekday time zone is not available on this host."""
        return self.weekday_timezone is None or self.weekday_zone is not None

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` (timezone-aware) falls in an off-peak window."""
        utc = at.astimezone(UTC)
        now = utc.time()
        if any(_in_window(now, w) for w in self.hours_utc):
            return True
        weekday = utc.astimezone(self.weekday_zone or UTC).isoweekday()
        return any(
            (rule.weekdays is None or weekday in rule.weekdays)
            and any(_in_window(now, w) for w in rule.hours_utc)
            for rule in self.windows
        )


@dataclass(frozen=True, slots=True)
class ModelPrices:
    """Everything the table knows about the prices of one model."""

    key: str
    provider: str
    tiers: Mapping[str, Bands]
    mode: str = "chat"
    off_peak: OffPeak | None = None
    #: Non-token prices (per request, per image, per second ...), as published.
    units: Mapping[str, Any] = field(default_factory=dict)
    alias_of: str | None = None
    #: The provider family.
    family: str = field(init=False, repr=False, compare=False)
    #: A fee charged once per call, if the model has one (``units.input_cost_per_request``).
    per_request: Decimal | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "family", provider_family(self.provider))
        fee = self.units.get("input_cost_per_request")
        what = f"{self.key}.units.input_cost_per_request"
        object.__setattr__(self, "per_request", None if fee is None else _price(fee, what))

    @classmethod
    def from_dict(cls, key: str, data: Mapping[str, Any]) -> ModelPrices:
        """A model's prices from its JSON object in a price file."""
        what = f"models[{key!r}]"
        _name(key, what, 300)
        provider = data.get("provider")
        if not isinstance(provider, str) or not provider:
            raise ValueError(f"{what}: provider is required")
        _name(provider, f"{what}.provider", 64)
        off_peak = data.get("off_peak")
        units = data.get("units") or {}
        if not isinstance(units, Mapping):
            raise ValueError(f"{what}.units must be an object")
        return cls(
            key=key,
            provider=provider,
            mode=str(data.get("mode", "chat")),
            tiers=_tiers(data.get("tiers", {}), f"{what}.tiers"),
            off_peak=None if off_peak is None else OffPeak.from_dict(off_peak, f"{what}.off_peak"),
            units=dict(units),
            alias_of=data.get("alias_of"),
        )

    @classmethod
    def flat(
        cls,
        key: str,
        provider: str,
        *,
        input: Decimal | str,
        output: Decimal | str,
        cache_read: Decimal | str | None = None,
        cache_write: Decimal | str | None = None,
        cache_write_1h: Decimal | str | None = None,
        reasoning: Decimal | str | None = None,
        mode: str = "chat",
    ) -> ModelPrices:
        """One standard-tier band of per-token prices (e.g. a negotiated price)."""

        def opt(value: Decimal | str | None, name: str) -> Decimal | None:
            return None if value is None else _price(value, f"{key}.{name}")

        band = Band(
            input=_price(input, f"{key}.input"),
            output=_price(output, f"{key}.output"),
            cache_read=opt(cache_read, "cache_read"),
            cache_write=opt(cache_write, "cache_write"),
            cache_write_1h=opt(cache_write_1h, "cache_write_1h"),
            reasoning=opt(reasoning, "reasoning"),
        )
        return cls(key=key, provider=provider, mode=mode, tiers={STANDARD: (band,)})

    def to_dict(self) -> dict[str, Any]:
        """The model's prices as a JSON object."""
        out: dict[str, Any] = {
            "provider": self.provider,
            "mode": self.mode,
            "tiers": {n: [b.to_dict() for b in bs] for n, bs in self.tiers.items()},
        }
        if self.off_peak is not None:
            out["off_peak"] = self.off_peak.to_dict()
        if self.units:
            out["units"] = dict(self.units)
        if self.alias_of:
            out["alias_of"] = self.alias_of
        return out


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """A tenant's own (custom or negotiated) prices for one model, over a period."""

    tenant: str
    provider: str
    model: str
    effective_from: datetime
    prices: ModelPrices
    effective_until: datetime | None = None
    #: Recorded on every call it prices (as the price-table version).
    version: str = ""

    def __post_init__(self) -> None:
        for name in ("effective_from", "effective_until"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"override {self.model!r}: {name} must be timezone-aware")
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValueError(f"override {self.model!r}: effective_until must follow effective_from")
        if not self.version:
            stamp = self.effective_from.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            object.__setattr__(self, "version", f"override:{self.tenant}:{stamp}")

    def in_effect(self, at: datetime) -> bool:
        """Whether the override applies at ``at``."""
        return self.effective_from <= at and (
            self.effective_until is None or at < self.effective_until
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceOverride:
        """An override from its JSON object (``prices`` in the model format of a price file)."""
        try:
            model = _name(data["model"], "override.model", 200)
            provider = _name(data["provider"], "override.provider", 64)
            start = datetime.fromisoformat(str(data["effective_from"]))
            until = data.get("effective_until")
            prices = dict(data["prices"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"override: {exc}") from exc
        prices.setdefault("provider", provider)
        return cls(
            tenant=str(data["tenant"]),
            provider=provider,
            model=model,
            effective_from=start,
            effective_until=None if until is None else datetime.fromisoformat(str(until)),
            prices=ModelPrices.from_dict(model, prices),
            version=_name(data.get("version") or "", "override.version", 200),
        )

    def to_dict(self) -> dict[str, Any]:
        """The override as a JSON object."""
        return {
            "tenant": self.tenant,
            "provider": self.provider,
            "model": self.model,
            "effective_from": self.effective_from.isoformat(),
            "effective_until": None
            if self.effective_until is None
            else self.effective_until.isoformat(),
            "version": self.version,
            "prices": self.prices.to_dict(),
        }


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The cost of each usage bucket (USD) and the tokens it was computed from."""

    input_tokens: int
    cache_read_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int
    reasoning_tokens: int
    input: Decimal
    cache_read: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    output: Decimal
    reasoning: Decimal
    per_request: Decimal

    @property
    def total(self) -> Decimal:
        """The sum of the buckets."""
        with exact():
            return (
                self.input
                + self.cache_read
                + self.cache_write_5m
                + self.cache_write_1h
                + self.output
                + self.reasoning
                + self.per_request
            )


@dataclass(frozen=True, slots=True)
class PricedCall:
    """A call's computed cost, and which prices produced it."""

    cost: Decimal
    breakdown: CostBreakdown
    #: The table version (``litellm-1.110.2``) or the override's version that priced the call.
    price_table_version: str
    #: The table key (or override model) that matched.
    price_key: str
    provider: str
    #: The service tier whose rates applied.
    service_tier: str
    #: The service tier the call asked for (canonical spelling).
    requested_service_tier: str
    #: The requested tier is not priced for the model: standard rates applied.
    service_tier_fallback: bool
    #: The tier that applied, e.g. ``standard``, ``priority/above_272k_tokens``, ``standard/off_peak``.
    tier: str
    band: Band
    lookup_rule: LookupRule
    currency: str = "USD"

    @property
    def overridden(self) -> bool:
        """Whether a tenant override priced the call."""
        return self.lookup_rule == "override"


MissingReason = Literal[
    "unknown_model",
    "ambiguous_model",
    "not_priced_per_token",
    "tier_not_priced",
    "bucket_not_priced",
    "timezone_unavailable",
]


@dataclass(frozen=True, slots=True)
class MissingPrice:
    """No price for the call: never a zero cost. ``reason`` says why, ``detail`` for humans."""

    provider: str
    model: str
    reason: MissingReason
    detail: str
    price_table_version: str
    #: The key that matched (if the model was found but a needed price is absent).
    price_key: str | None = None
    #: Keys that would have matched (an ambiguous model).
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lookup:
    """A model found in the table."""

    prices: ModelPrices
    rule: LookupRule


# --------------------------------------------------------------------------- table


def _strip_date(model: str) -> str | None:
    m = _DATE_SUFFIX.search(model)
    return model[: m.start()] if m else None


def _without_prefix(model: str) -> str | None:
    return model.split("/", 1)[1] if "/" in model else None


def override_key(o: PriceOverride) -> tuple[str, str, str, datetime]:
    """What makes an override unique: (tenant, provider family, model without the family's
    prefix, effective_from). ``openai/gpt-4o`` and ``gpt-4o`` of ``openai`` are one model."""
    family = provider_family(o.provider)
    return (o.tenant, family, o.model.removeprefix(f"{family}/"), o.effective_from)


def latest_overrides(
    overrides: Iterable[PriceOverride],
) -> tuple[list[PriceOverride], list[PriceOverride]]:
    """(kept, replaced): of overrides with the same :func:`override_key`, the last one given is
    kept (callers list them in the order they were loaded)."""
    kept: dict[tuple[str, str, str, datetime], PriceOverride] = {}
    replaced: list[PriceOverride] = []
    for o in overrides:
        key = override_key(o)
        if key in kept:
            replaced.append(kept.pop(key))
        kept[key] = o
    return list(kept.values()), replaced


class PriceTable:
    """The price table: a versioned set of model prices plus per-tenant overrides. Immutable."""

    def __init__(
        self,
        models: Mapping[str, ModelPrices] | Iterable[ModelPrices],
        *,
        version: str,
        generated_at: str | None = None,
        source: str | None = None,
        currency: str = "USD",
        overrides: Iterable[PriceOverride] = (),
    ) -> None:
        items = models.values() if isinstance(models, Mapping) else models
        self.models: Mapping[str, ModelPrices] = {m.key: m for m in items}
        self.version = version
        self.generated_at = generated_at
        self.source = source
        self.currency = currency
        self.overrides: tuple[PriceOverride, ...] = tuple(overrides)
        # (family, undated name) -> the dated names it stands for, for the dated_unique rule.
        self._undated: dict[tuple[str, str], set[str]] = {}
        for key, prices in self.models.items():
            for name in (key, _without_prefix(key)):
                base = _strip_date(name) if name else None
                if name and base:
                    self._undated.setdefault((prices.family, base), set()).add(name)
        self._overrides: dict[tuple[str, str, str], list[PriceOverride]] = {}
        for o in self.overrides:
            tenant, family, name, _ = override_key(o)
            bucket = self._overrides.setdefault((tenant, family, name), [])
            if any(other.effective_from == o.effective_from for other in bucket):
                raise ValueError(
                    f"two overrides of {o.model!r} for tenant {o.tenant!r} start at "
                    f"{o.effective_from.isoformat()}"
                )
            bucket.append(o)
        self._lookups: dict[tuple[str, str], Lookup | MissingPrice] = {}

    # -- construction

    @classmethod
    def from_dict(
        cls, doc: Mapping[str, Any], overrides: Iterable[PriceOverride] = ()
    ) -> PriceTable:
        """A table from a price document (the snapshot format; ``overrides`` optional)."""
        if not isinstance(doc, Mapping) or not isinstance(doc.get("models"), Mapping):
            raise ValueError("a price document is an object with a 'models' object")
        version = doc.get("version")
        if not isinstance(version, str) or not version:
            raise ValueError("a price document needs a non-empty 'version'")
        _name(version, "version", 200)
        currency = str(doc.get("currency", "USD"))
        if currency != "USD":
            raise ValueError(f"only USD prices are supported, got {currency!r}")
        models = [ModelPrices.from_dict(str(k), v) for k, v in doc["models"].items()]
        listed = [PriceOverride.from_dict(o) for o in doc.get("overrides", ())]
        return cls(
            models,
            version=version,
            generated_at=doc.get("generated_at"),
            source=doc.get("source"),
            currency=currency,
            overrides=[*listed, *overrides],
        )

    @classmethod
    def from_json(cls, text: str | bytes, overrides: Iterable[PriceOverride] = ()) -> PriceTable:
        """A table from the JSON text of a price document."""
        return cls.from_dict(json.loads(text), overrides)

    def with_overrides(self, overrides: Iterable[PriceOverride]) -> PriceTable:
        """A copy of the table with these overrides (replacing the current ones)."""
        return PriceTable(
            self.models,
            version=self.version,
            generated_at=self.generated_at,
            source=self.source,
            currency=self.currency,
            overrides=overrides,
        )

    def to_dict(self) -> dict[str, Any]:
        """The table as a price document."""
        doc: dict[str, Any] = {"version": self.version, "currency": self.currency}
        if self.generated_at:
            doc["generated_at"] = self.generated_at
        if self.source:
            doc["source"] = self.source
        doc["models"] = {k: m.to_dict() for k, m in self.models.items()}
        if self.overrides:
            doc["overrides"] = [o.to_dict() for o in self.overrides]
        return doc

    def __len__(self) -> int:
        return len(self.models)

    # -- lookup

    def _match(
        self, family: str, provider: str, model: str
    ) -> tuple[ModelPrices, LookupRule] | None:
        candidates: list[tuple[str, LookupRule]] = []
        if not model.startswith(f"{provider}/"):
            candidates.append((f"{provider}/{model}", "provider_prefix"))
        candidates.append((model, "exact"))
        if family != provider and not model.startswith(f"{family}/"):
            candidates.append((f"{family}/{model}", "provider_prefix"))
        for key, rule in candidates:
            found = self.models.get(key)
            if found is not None and found.family == family:
                return found, rule
        return None

    def _by_rules(
        self, family: str, provider: str, model: str
    ) -> tuple[ModelPrices, LookupRule] | None:
        found = self._match(family, provider, model)
        if found is not None:
            return found
        stripped = _without_prefix(model)
        if stripped:
            found = self._match(family, provider, stripped)
            if found is not None:
                return found[0], "without_prefix"
        return None

    def lookup(self, provider: str, model: str) -> Lookup | MissingPrice:
        """Find a model's table prices by the documented rules (memoised)."""
        cache_key = (provider, model)
        hit = self._lookups.get(cache_key)
        if hit is None:
            hit = self._lookup(provider, model)
            if len(self._lookups) < 100_000:
                self._lookups[cache_key] = hit
        return hit

    def _lookup(self, provider: str, model: str) -> Lookup | MissingPrice:
        family = provider_family(provider)
        given = PROVIDER_ALIASES.get(provider.strip().lower(), provider.strip().lower())
        name = model.strip()
        found = self._by_rules(family, given, name)
        if found:
            return Lookup(*found)
        for candidate in (name, _without_prefix(name)):
            base = _strip_date(candidate) if candidate else None
            if base:
                found = self._by_rules(family, given, base)
                if found:
                    return Lookup(found[0], "dated_base")
        prefixes = tuple(f"{p}/" for p in dict.fromkeys((given, family)))
        dated = sorted(
            {
                next((v.removeprefix(p) for p in prefixes if v.startswith(p)), v)
                for candidate in (name, _without_prefix(name))
                if candidate
                for v in self._undated.get((family, candidate), ())
            }
        )
        if len(dated) == 1:
            found = self._by_rules(family, given, dated[0])
            if found:
                return Lookup(found[0], "dated_unique")
        if len(dated) > 1:
            return MissingPrice(
                provider=provider,
                model=model,
                reason="ambiguous_model",
                detail=f"{model!r} matches {len(dated)} dated models of {family!r}: name one",
                price_table_version=self.version,
                candidates=tuple(dated),
            )
        return MissingPrice(
            provider=provider,
            model=model,
            reason="unknown_model",
            detail=f"no price for {model!r} of provider {provider!r} in {self.version}",
            price_table_version=self.version,
        )

    def override_for(
        self, tenant: str, provider: str, model: str, at: datetime
    ) -> PriceOverride | None:
        """The tenant's override in effect at ``at`` for the model, if any."""
        if not self._overrides:
            return None
        family = provider_family(provider)
        name = model.strip()
        candidates = [name.removeprefix(f"{family}/"), _without_prefix(name)]
        candidates += [_strip_date(c) for c in list(candidates) if c]
        for candidate in dict.fromkeys(c for c in candidates if c):
            live = [
                o for o in self._overrides.get((tenant, family, candidate), ()) if o.in_effect(at)
            ]
            if live:
                return max(live, key=lambda o: o.effective_from)
        return None

    # -- pricing

    def price_call(
        self,
        usage: Usage,
        model: str,
        provider: str,
        service_tier: str | None = None,
        at: datetime | None = None,
        *,
        tenant: str | None = None,
    ) -> PricedCall | MissingPrice:
        """Price one call's canonical usage; a missing price is a MissingPrice, never zero.

        Args:
            usage: Canonical usage (OTel buckets: cached tokens inside ``input_tokens``,
                reasoning tokens inside ``output_tokens``).
            model: The model that answered (what the provider bills).
            provider: ``gen_ai.provider.name`` or a LiteLLM provider id.
            service_tier: The call's service tier (``None`` is standard).
            at: When the call happened (timezone-aware); selects overrides and off-peak rates.
            tenant: Whose overrides apply.
        """
        if at is None or at.utcoffset() is None:
            raise ValueError("price_call needs a timezone-aware call time 'at'")
        override = self.override_for(tenant, provider, model, at) if tenant is not None else None
        rule: LookupRule
        if override is not None:
            prices, rule, version = override.prices, "override", override.version
        else:
            found = self.lookup(provider, model)
            if isinstance(found, MissingPrice):
                return found
            prices, rule, version = found.prices, found.rule, self.version
        return _price_with(prices, usage, service_tier, at, rule, version, provider, model)


def _missing(
    prices: ModelPrices, reason: MissingReason, detail: str, version: str, provider: str, model: str
) -> MissingPrice:
    return MissingPrice(
        provider=provider,
        model=model,
        reason=reason,
        detail=detail,
        price_table_version=version,
        price_key=prices.key,
    )


def _price_with(
    prices: ModelPrices,
    usage: Usage,
    service_tier: str | None,
    at: datetime,
    rule: LookupRule,
    version: str,
    provider: str,
    model: str,
) -> PricedCall | MissingPrice:
    if not prices.tiers:
        return _missing(
            prices,
            "not_priced_per_token",
            f"{prices.key} is priced per {', '.join(sorted(prices.units)) or 'nothing'}, not per token",
            version,
            provider,
            model,
        )
    requested = canonical_service_tier(service_tier)
    tier_set: Mapping[str, Bands] = prices.tiers
    off_peak = False
    if prices.off_peak is not None:
        if not prices.off_peak.calendar_known:
            return _missing(
                prices,
                "timezone_unavailable",
                f"off-peak calendar {prices.off_peak.weekday_timezone!r} is unknown on this host "
                "(install the system tz database or the tzdata package)",
                version,
                provider,
                model,
            )
        if prices.off_peak.is_open(at):
            tier_set, off_peak = prices.off_peak.tiers, True
    applied = requested if requested in tier_set else STANDARD
    bands = tier_set.get(applied)
    if bands is None:
        return _missing(
            prices,
            "tier_not_priced",
            f"{prices.key} has no {requested!r} or standard prices",
            version,
            provider,
            model,
        )
    band = select_band(bands, usage.input_tokens)

    reads = usage.cache_read_input_tokens
    writes_1h = usage.cache_creation_1h_input_tokens
    writes_5m = usage.cache_creation_input_tokens - writes_1h
    uncached = usage.input_tokens - reads - usage.cache_creation_input_tokens
    reasoning = usage.reasoning_tokens
    visible = usage.output_tokens - reasoning
    tokens = (uncached, reads, writes_5m, writes_1h, visible, reasoning)
    rates = band.effective
    if any(n and rate is None for n, rate in zip(tokens, rates, strict=True)):
        names = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning")
        unpriced = [
            name for name, n, r in zip(names, tokens, rates, strict=True) if n and r is None
        ]
        return _missing(
            prices,
            "bucket_not_priced",
            f"{prices.key} has no price for {', '.join(unpriced)} tokens",
            version,
            provider,
            model,
        )
    with exact():
        costs = [
            n * r if n and r is not None else _ZERO for n, r in zip(tokens, rates, strict=True)
        ]
        fee = prices.per_request or _ZERO
        total = costs[0] + costs[1] + costs[2] + costs[3] + costs[4] + costs[5] + fee
    breakdown = CostBreakdown(
        input_tokens=uncached,
        cache_read_tokens=reads,
        cache_write_5m_tokens=writes_5m,
        cache_write_1h_tokens=writes_1h,
        output_tokens=visible,
        reasoning_tokens=reasoning,
        input=costs[0],
        cache_read=costs[1],
        cache_write_5m=costs[2],
        cache_write_1h=costs[3],
        output=costs[4],
        reasoning=costs[5],
        per_request=fee,
    )
    label = "/".join(p for p in (applied, band.label, "off_peak" if off_peak else None) if p)
    return PricedCall(
        cost=total,
        breakdown=breakdown,
        price_table_version=version,
        price_key=prices.key,
        provider=prices.provider,
        service_tier=applied,
        requested_service_tier=requested,
        service_tier_fallback=applied != requested,
        tier=label,
        band=band,
        lookup_rule=rule,
    )


__all__ = [
    "BATCH",
    "STANDARD",
    "Band",
    "CostBreakdown",
    "Lookup",
    "MissingPrice",
    "ModelPrices",
    "OffPeak",
    "PriceOverride",
    "PriceTable",
    "PricedCall",
    "canonical_service_tier",
    "provider_family",
    "select_band",
]
