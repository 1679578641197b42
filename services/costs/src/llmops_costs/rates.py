"""The price model: rate bands per service tier, off-peak rates, a model's prices and a
tenant's overrides, built from the price documents of ``llmops_contracts.prices``.

Pure logic: no I/O, no framework. Documents are checked by their contract (rates, names, band
order, periods); this module holds them in the shape pricing reads, and writes them back.

**Bands**: every model has rate *bands* per service tier. A band holds per-token USD rates and
applies from ``min_input_tokens`` upwards; the band applying to a call is the last one whose
``min_input_tokens <= usage.input_tokens``. Like LiteLLM, the long-context threshold is compared
with *all* prompt tokens, cached ones included (OTel ``input_tokens``), and one band prices every
token of the call. A rate a band leaves out falls back: ``cache_read`` and ``cache_write`` to
``input`` (a provider without a cache price bills cached tokens as input), ``cache_write_1h`` to
``cache_write``, ``reasoning`` to ``output`` (reasoning is billed separately only where priced
separately).

**Service tiers**: ``None``/``default``/``auto``/``standard`` price at ``standard``; ``fast`` is
``priority``; ``batch``/``batches`` is ``batch``. A tier the model does not price falls back to
``standard``, and the result says so (``service_tier_fallback``).

**Providers**: names are OpenTelemetry ``gen_ai.provider.name`` values or LiteLLM provider ids:
``aws.bedrock`` is ``bedrock``, ``gcp.vertex_ai`` is ``vertex_ai``, ``x_ai`` is ``xai`` ...; a family
groups LiteLLM's variants (``vertex_ai-anthropic_models`` is ``vertex_ai``, ``bedrock_converse`` is
``bedrock``).

**Overrides**: a :class:`PriceOverride` gives one tenant its own prices for one model from
``effective_from`` (inclusive) to ``effective_until`` (exclusive, open-ended when None). Of two
overrides of one model (:func:`override_key`) loaded at different times, the later one is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from llmops_contracts.common import Part
from llmops_contracts.prices import (
    BandSpec,
    ModelSpec,
    OffPeakSpec,
    OverridePricesSpec,
    PriceOverrideSpec,
    price,
    problems,
    weekday,
    window,
)

STANDARD = "standard"
BATCH = "batch"

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


DocumentT = TypeVar("DocumentT", bound=Part)


def parse_document(kind: type[DocumentT], data: object, where: str = "") -> DocumentT:
    """A price document of ``kind`` from its JSON value.

    Raises:
        ValueError: it does not conform, with every problem and where it is.
    """
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        raise ValueError("; ".join(problems(exc, where))) from None


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
    def from_spec(cls, spec: BandSpec) -> Band:
        """A band from its document."""
        return cls(
            min_input_tokens=spec.min_input_tokens,
            label=spec.label or None,
            input=spec.input,
            output=spec.output,
            cache_read=spec.cache_read,
            cache_write=spec.cache_write,
            cache_write_1h=spec.cache_write_1h,
            reasoning=spec.reasoning,
        )

    def to_spec(self) -> BandSpec:
        """The band as a document (the rates it has, and its label if any)."""
        given: dict[str, Any] = {"min_input_tokens": self.min_input_tokens}
        if self.label:
            given["label"] = self.label
        for name in ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning"):
            value = getattr(self, name)
            if value is not None:
                given[name] = value
        return BandSpec(**given)


Bands = tuple[Band, ...]


def _tiers(specs: Mapping[str, list[BandSpec]]) -> Mapping[str, Bands]:
    return {name.lower(): tuple(Band.from_spec(b) for b in bands) for name, bands in specs.items()}


def _tier_specs(tiers: Mapping[str, Bands]) -> dict[str, list[BandSpec]]:
    return {name: [b.to_spec() for b in bands] for name, bands in tiers.items()}


def select_band(bands: Bands, input_tokens: int) -> Band:
    """The band pricing a call with ``input_tokens`` prompt tokens (cached ones included)."""
    chosen = bands[0]
    for band in bands[1:]:
        if band.min_input_tokens > input_tokens:
            break
        chosen = band
    return chosen


def _windows(value: str | list[str]) -> tuple[tuple[time, time], ...]:
    return tuple(window(w) for w in ([value] if isinstance(value, str) else value))


def _in_window(now: time, hours: tuple[time, time]) -> bool:
    # Start inclusive, end exclusive; a window may wrap past midnight; start == end is all day.
    start, end = hours
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
    #: The document it was built from (written back as given).
    spec: OffPeakSpec | None = field(default=None, compare=False)

    @classmethod
    def from_spec(cls, spec: OffPeakSpec) -> OffPeak:
        """Off-peak rules and rates from their document."""
        zone: tzinfo | None = None
        if spec.weekday_timezone:
            try:
                zone = ZoneInfo(spec.weekday_timezone)
            except (ZoneInfoNotFoundError, ValueError):
                zone = None  # calls are then a MissingPrice, never priced on the UTC calendar
        return cls(
            tiers=_tiers(spec.tiers),
            hours_utc=_windows(spec.hours_utc),
            windows=tuple(
                WeekdayWindows(
                    hours_utc=_windows(rule.hours_utc),
                    weekdays=None
                    if rule.weekdays is None
                    else frozenset(weekday(d) for d in rule.weekdays),
                )
                for rule in spec.windows
            ),
            weekday_timezone=spec.weekday_timezone or None,
            weekday_zone=zone,
            spec=spec,
        )

    def to_spec(self) -> OffPeakSpec:
        """The off-peak block as a document."""
        if self.spec is not None:
            return self.spec
        return OffPeakSpec(tiers=_tier_specs(self.tiers))

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
        object.__setattr__(self, "per_request", None if fee is None else price(fee))

    @classmethod
    def from_spec(
        cls, key: str, spec: ModelSpec | OverridePricesSpec, provider: str | None = None
    ) -> ModelPrices:
        """A model's prices from their document (``provider`` when the document names none)."""
        named = spec.provider or provider
        if not named:
            raise ValueError(f"models[{key!r}].provider: required")
        return cls(
            key=key,
            provider=named,
            mode=spec.mode,
            tiers=_tiers(spec.tiers),
            off_peak=None if spec.off_peak is None else OffPeak.from_spec(spec.off_peak),
            units=dict(spec.units),
            alias_of=spec.alias_of,
        )

    @classmethod
    def from_dict(cls, key: str, data: Mapping[str, Any]) -> ModelPrices:
        """A model's prices from its JSON object in a price document."""
        return cls.from_spec(key, parse_document(ModelSpec, data, f"models[{key!r}]"))

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

        rates = {
            "input": input,
            "output": output,
            "cache_read": cache_read,
            "cache_write": cache_write,
            "cache_write_1h": cache_write_1h,
            "reasoning": reasoning,
        }
        given = {name: rate for name, rate in rates.items() if rate is not None}
        band = Band.from_spec(parse_document(BandSpec, given, key))
        return cls(key=key, provider=provider, mode=mode, tiers={STANDARD: (band,)})

    def _given(self) -> dict[str, Any]:
        given: dict[str, Any] = {
            "provider": self.provider,
            "mode": self.mode,
            "tiers": _tier_specs(self.tiers),
        }
        if self.off_peak is not None:
            given["off_peak"] = self.off_peak.to_spec()
        if self.units:
            given["units"] = dict(self.units)
        if self.alias_of:
            given["alias_of"] = self.alias_of
        return given

    def to_spec(self) -> ModelSpec:
        """The model's prices as a document."""
        return ModelSpec(**self._given())

    def to_override_spec(self) -> OverridePricesSpec:
        """The model's prices as the prices of an override."""
        return OverridePricesSpec(**self._given())


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
    def from_spec(cls, spec: PriceOverrideSpec, tenant: str | None = None) -> PriceOverride:
        """An override from its document, for ``tenant`` (else the one it names)."""
        owner = tenant if tenant is not None else spec.tenant
        if owner is None:
            raise ValueError("override.tenant: required")
        return cls(
            tenant=owner,
            provider=spec.provider,
            model=spec.model,
            effective_from=spec.effective_from,
            effective_until=spec.effective_until,
            prices=ModelPrices.from_spec(spec.model, spec.prices, spec.provider),
            version=spec.version or "",
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceOverride:
        """An override from its JSON object (``prices`` in the model format of a document)."""
        return cls.from_spec(parse_document(PriceOverrideSpec, data, "override"))

    @classmethod
    def from_json(cls, text: str | bytes) -> PriceOverride:
        """An override from the JSON text of its document (see :meth:`from_dict`)."""
        try:
            spec = PriceOverrideSpec.model_validate_json(text)
        except ValidationError as exc:
            raise ValueError("; ".join(problems(exc, "override"))) from None
        return cls.from_spec(spec)

    def to_spec(self) -> PriceOverrideSpec:
        """The override as a document (with its tenant)."""
        return PriceOverrideSpec(
            tenant=self.tenant,
            provider=self.provider,
            model=self.model,
            effective_from=self.effective_from,
            effective_until=self.effective_until,
            version=self.version,
            prices=self.prices.to_override_spec(),
        )

    def to_dict(self) -> dict[str, Any]:
        """The override as a JSON object."""
        return self.to_spec().model_dump(mode="json")


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
