"""Price LLM calls: the price table, its lookup rules and the pricing engine.

Pure logic: no I/O, no framework. The bundled snapshot is read by ``llmops_costs.prices``; a
price document (the snapshot, a price file) is checked by ``llmops_contracts.prices`` and held as
the price model of ``llmops_costs.rates``; this module looks models up in a :class:`PriceTable`
and prices canonical usage with :class:`decimal.Decimal`, exactly.

**Usage buckets** (OpenTelemetry GenAI, ``llmops_contracts.llm.Usage``): ``input_tokens``
includes cache reads and cache writes, ``reasoning_tokens`` is part of ``output_tokens``. So::

    uncached input = input_tokens - cache_read_input_tokens - cache_creation_input_tokens
    cache writes   = cache_creation_input_tokens, of which cache_creation_1h_input_tokens at 1 h
    visible output = output_tokens - reasoning_tokens

and each token is billed exactly once: uncached input at ``input``, reads at ``cache_read``, 5-minute
writes at ``cache_write``, 1-hour writes at ``cache_write_1h``, visible output at ``output`` and
reasoning at ``reasoning``, with the fallbacks of a band's missing rates (``rates.py``). A bucket
with tokens but no ``input``/``output`` price makes the call unpriced. A per-request fee
(``units.input_cost_per_request``) is added once per call.

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

Every rule only accepts a key whose provider is in the requested provider's family
(``rates.provider_family``). A key of another provider never prices a call: ``gpt-4o`` asked of
``azure`` is not priced with OpenAI's rates.

**Overrides** match a call of the same provider family whose model, or the model without its
provider prefix, or its undated name, equals the override's model. Of the overrides in effect at
the call time, the one with the latest ``effective_from`` wins; two overrides of the same model
starting at the same instant are rejected.

A missing price is a :class:`MissingPrice`, never a zero cost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import ValidationError

from llmops_contracts.llm import Usage
from llmops_contracts.prices import PriceDocument, problems
from llmops_costs.money import exact
from llmops_costs.rates import (
    BATCH,
    PROVIDER_ALIASES,
    STANDARD,
    Band,
    Bands,
    ModelPrices,
    OffPeak,
    PriceOverride,
    canonical_service_tier,
    latest_overrides,
    override_key,
    parse_document,
    provider_family,
    select_band,
)

_DATE_SUFFIX = re.compile(r"[-@](?:\d{4}-\d{2}-\d{2}|\d{8})$")
_ZERO = Decimal(0)

LookupRule = Literal[
    "exact", "provider_prefix", "without_prefix", "dated_base", "dated_unique", "override"
]


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


def _strip_date(model: str) -> str | None:
    m = _DATE_SUFFIX.search(model)
    return model[: m.start()] if m else None


def _without_prefix(model: str) -> str | None:
    return model.split("/", 1)[1] if "/" in model else None


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
    def from_document(
        cls, doc: PriceDocument, overrides: Iterable[PriceOverride] = ()
    ) -> PriceTable:
        """A table from a price document (``overrides`` after the ones it lists)."""
        return cls(
            [ModelPrices.from_spec(key, spec) for key, spec in doc.models.items()],
            version=doc.version,
            generated_at=doc.generated_at,
            source=doc.source,
            currency=doc.currency,
            overrides=[*(PriceOverride.from_spec(o) for o in doc.overrides), *overrides],
        )

    @classmethod
    def from_dict(cls, doc: object, overrides: Iterable[PriceOverride] = ()) -> PriceTable:
        """A table from the JSON value of a price document.

        Raises:
            ValueError: the document does not conform (every problem, and where).
        """
        return cls.from_document(parse_document(PriceDocument, doc), overrides)

    @classmethod
    def from_json(cls, text: str | bytes, overrides: Iterable[PriceOverride] = ()) -> PriceTable:
        """A table from the JSON text of a price document (see :meth:`from_dict`)."""
        try:
            doc = PriceDocument.model_validate_json(text)
        except ValidationError as exc:
            raise ValueError("; ".join(problems(exc))) from None
        return cls.from_document(doc, overrides)

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

    def to_document(self) -> PriceDocument:
        """The table as a price document."""
        given: dict[str, Any] = {"version": self.version, "currency": self.currency}
        if self.generated_at:
            given["generated_at"] = self.generated_at
        if self.source:
            given["source"] = self.source
        given["models"] = {k: m.to_spec() for k, m in self.models.items()}
        if self.overrides:
            given["overrides"] = [o.to_spec() for o in self.overrides]
        return PriceDocument(**given)

    def to_dict(self) -> dict[str, Any]:
        """The table as the JSON value of a price document."""
        return self.to_document().model_dump(mode="json")

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
    "latest_overrides",
    "override_key",
    "provider_family",
    "select_band",
]
