"""Price documents: a price table (the costs service's bundled snapshot, a price file) and a
tenant's price overrides, as ``llmops costs prices load`` sends them.

The costs service prices from them (``docs/costs.md``, Prices); the CLI checks a price file
with the same models before sending it, so both refuse the same documents with the same words.

**Rates** are USD per unit (per token for the band rates) as decimal strings, never floats:
``"0.0000025"``, at least 0, with at most ``MONEY_MAX_PLACES`` decimal places and
``MONEY_MAX_DIGITS`` digits, like money everywhere else, so exact sums of costs stay exact. A
document serialises back as it was given: the fields it set, rates in plain notation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    ValidationError,
    WithJsonSchema,
    model_serializer,
    model_validator,
)
from pydantic_core import ErrorDetails

from llmops_contracts.common import MONEY_MAX_DIGITS, MONEY_MAX_PLACES, JsonObject, Part

#: The per-token rates of a band, one per usage bucket, in this order everywhere.
RATE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning")


def price(value: object) -> Decimal:
    """A rate as an exact decimal: a decimal string (or an integer), >= 0, within the money
    bounds.

    Raises:
        ValueError: anything else, with the value in the message.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"a price is a decimal string >= 0, got {value!r}")
    try:
        rate = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"a price is a decimal string >= 0, got {value!r}") from None
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"a price is a decimal string >= 0, got {value!r}")
    _, digits, exponent = rate.as_tuple()
    assert isinstance(exponent, int)  # finite
    if len(digits) + max(exponent, 0) > MONEY_MAX_DIGITS or -exponent > MONEY_MAX_PLACES:
        raise ValueError(
            f"a price has at most {MONEY_MAX_PLACES} decimal places and {MONEY_MAX_DIGITS} "
            f"digits, got {value!r}"
        )
    return rate


def _plain(value: Decimal) -> str:
    return format(value, "f")


#: A rate in a price document (see the module docstring).
Rate = Annotated[
    Decimal,
    PlainValidator(price),
    PlainSerializer(_plain, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": ["string", "integer"],
            "minimum": 0,
            "description": f"USD, a decimal string >= 0 (at most {MONEY_MAX_PLACES} decimal "
            f"places and {MONEY_MAX_DIGITS} digits), never a float.",
        }
    ),
]


def instant(value: object) -> datetime:
    """An ISO 8601 date-time with a time zone.

    Raises:
        ValueError: anything else (a number, a date, a time without a zone).
    """
    parsed = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.utcoffset() is None:
        raise ValueError(f"an ISO 8601 date-time with a time zone, got {value!r}")
    return parsed


#: A moment from which (or until which) an override applies.
Instant = Annotated[
    datetime,
    PlainValidator(instant),
    PlainSerializer(lambda at: at.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 date-time with a time zone.",
        }
    ),
]


def window(value: object) -> tuple[time, time]:
    """The ``(start, end)`` of an ``"HH:MM-HH:MM"`` window (UTC).

    Raises:
        ValueError: not a window.
    """
    try:
        start, end = str(value).split("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        raise ValueError(f"a window is 'HH:MM-HH:MM' (UTC), got {value!r}") from None


def _windows(value: object) -> str | list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError(f"hours_utc is a window or a list of windows, got {value!r}")
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"a window is 'HH:MM-HH:MM' (UTC), got {item!r}")
        window(item)
    return value  # type: ignore[return-value]  # a str or a list of str, checked above


#: Off-peak hours (UTC): one ``"HH:MM-HH:MM"`` window or a list of them; start inclusive, end
#: exclusive, a window may wrap past midnight, and start == end is the whole day.
HoursUtc = Annotated[
    str | list[str],
    PlainValidator(_windows),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "One 'HH:MM-HH:MM' window (UTC) or a list of them.",
        }
    ),
]

#: ISO weekday numbers of the day names a document may use.
WEEKDAYS = {
    "mon": 1, "monday": 1, "tue": 2, "tues": 2, "tuesday": 2, "wed": 3, "wednesday": 3,
    "thu": 4, "thur": 4, "thurs": 4, "thursday": 4, "fri": 5, "friday": 5,
    "sat": 6, "saturday": 6, "sun": 7, "sunday": 7,
}  # fmt: skip


def weekday(value: object) -> int:
    """The ISO weekday (1 is Monday) of ``1``..``7`` or a day name (``"sat"``, ``"Sunday"``).

    Raises:
        ValueError: anything else.
    """
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        return value
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return WEEKDAYS[value.strip().lower()]
    raise ValueError(f"weekday must be 1 (Monday) .. 7 (Sunday) or a day name: {value!r}")


def _weekday_as_given(value: object) -> int | str:
    weekday(value)
    return value  # type: ignore[return-value]  # an int or a str, checked by weekday()


Weekday = Annotated[
    int | str,
    PlainValidator(_weekday_as_given),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": 7}, {"type": "string"}],
            "description": "1 (Monday) .. 7 (Sunday), or a day name such as 'sat'.",
        }
    ),
]


class _Document(Part):
    """A part of a price document: serialised with the fields it was given, and no others."""

    @model_serializer(mode="wrap")
    def _as_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {name: value for name, value in data.items() if name in self.model_fields_set}


class BandSpec(_Document):
    """Per-token USD rates applying from ``min_input_tokens`` prompt tokens upwards.

    A rate left out falls back: ``cache_read`` and ``cache_write`` to ``input``,
    ``cache_write_1h`` to ``cache_write``, ``reasoning`` to ``output``.
    """

    min_input_tokens: Annotated[int, Field(ge=0, strict=True)] = Field(
        default=0,
        description="Prompt tokens (cached ones included) from which the band applies.",
    )
    label: Annotated[str, Field(max_length=50)] | None = Field(
        default=None, description="Name of the band, e.g. 'above_200k_tokens'."
    )
    input: Rate | None = Field(default=None, description="Per uncached input token.")
    output: Rate | None = Field(default=None, description="Per visible output token.")
    cache_read: Rate | None = Field(default=None, description="Per input token read from cache.")
    cache_write: Rate | None = Field(
        default=None, description="Per input token written to the cache (5-minute TTL)."
    )
    cache_write_1h: Rate | None = Field(
        default=None, description="Per input token written to the cache with a 1-hour TTL."
    )
    reasoning: Rate | None = Field(default=None, description="Per reasoning output token.")


def _bands_in_order(bands: list[BandSpec]) -> list[BandSpec]:
    if bands[0].min_input_tokens != 0:
        raise ValueError("the first band must start at min_input_tokens 0")
    starts = [b.min_input_tokens for b in bands]
    if starts != sorted(set(starts)):
        raise ValueError("bands must have strictly increasing min_input_tokens")
    return bands


#: A service tier's bands, the first from 0 tokens, the others from increasing counts.
Bands = Annotated[list[BandSpec], Field(min_length=1), AfterValidator(_bands_in_order)]
#: A service tier's name (``standard``, ``batch``, ``priority``, ``flex`` ...), any case.
TierName = Annotated[str, Field(max_length=32)]


class WeekdayWindowSpec(_Document):
    """Off-peak hours (UTC) that apply on some weekdays only."""

    hours_utc: HoursUtc = Field(default_factory=list, description="The windows on those days.")
    weekdays: list[Weekday] | None = Field(
        default=None, description="The days (ISO: 1 is Monday); every day when absent."
    )


class OffPeakSpec(_Document):
    """Discounted rates during off-peak hours (e.g. DeepSeek's night-time prices)."""

    tiers: dict[TierName, Bands] = Field(description="The off-peak rates, per service tier.")
    hours_utc: HoursUtc = Field(default_factory=list, description="Off-peak windows on every day.")
    windows: list[WeekdayWindowSpec] = Field(
        default_factory=list, description="Off-peak windows on some weekdays only."
    )
    weekday_timezone: str | None = Field(
        default=None,
        description="IANA time zone whose calendar the weekdays are read on (default UTC).",
    )


def _per_request_fee(units: dict[str, Any]) -> dict[str, Any]:
    fee = units.get("input_cost_per_request")
    if fee is not None:
        try:
            price(fee)
        except ValueError as exc:
            raise ValueError(f"input_cost_per_request: {exc}") from None
    return units


class _ModelPricesSpec(_Document):
    mode: str = Field(default="chat", description="chat, completion, responses, embedding ...")
    tiers: dict[TierName, Bands] = Field(
        default_factory=dict, description="Per-token rates, per service tier."
    )
    off_peak: OffPeakSpec | None = Field(default=None, description="Off-peak rates, if any.")
    units: Annotated[JsonObject, AfterValidator(_per_request_fee)] = Field(
        default_factory=dict,
        description="Non-token prices as published (per request, image, second ...); "
        "input_cost_per_request is charged once per call.",
    )
    alias_of: str | None = Field(default=None, description="The model this key is an alias of.")


class ModelSpec(_ModelPricesSpec):
    """Everything a price table says about the prices of one model."""

    provider: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="Provider (OpenTelemetry gen_ai.provider.name or a LiteLLM provider id)."
    )


class OverridePricesSpec(_ModelPricesSpec):
    """The prices of an override, in the model format (the provider defaults to the override's)."""

    provider: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="Provider; the override's when absent."
    )


class PriceOverrideSpec(_Document):
    """A tenant's own (custom or negotiated) prices for one model, over a period."""

    tenant: str | None = Field(
        default=None,
        description="Whose prices; a load applies the sending tenant's and refuses another.",
    )
    provider: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="Provider of the model."
    )
    model: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The model (also matches its dated and provider-prefixed names)."
    )
    effective_from: Instant = Field(description="When the prices start to apply (inclusive).")
    effective_until: Instant | None = Field(
        default=None, description="When they stop applying (exclusive); open-ended when absent."
    )
    version: Annotated[str, Field(max_length=200)] | None = Field(
        default=None,
        description="Recorded on every call it prices (default override:<tenant>:<start>).",
    )
    prices: OverridePricesSpec = Field(description="The prices, in the model format.")

    @model_validator(mode="after")
    def _a_period(self) -> Self:
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValueError("effective_until must follow effective_from")
        return self


def _a_version(version: str) -> str:
    if not version:
        raise ValueError("a price table needs a non-empty version string")
    return version


def _usd(currency: str) -> str:
    if currency != "USD":
        raise ValueError(f"only USD prices are supported, got {currency!r}")
    return currency


class PriceDocument(_Document):
    """A price table: a versioned set of model prices (the bundled snapshot's format)."""

    format: int | None = Field(default=None, description="Format of the document (1).")
    version: Annotated[
        str,
        Field(max_length=200, json_schema_extra={"minLength": 1}),
        AfterValidator(_a_version),
    ] = Field(description="Version recorded on every call the table prices.")
    generated_at: str | None = Field(default=None, description="When the table was generated.")
    source: str | None = Field(default=None, description="Where its prices come from.")
    currency: Annotated[str, AfterValidator(_usd)] = Field(
        default="USD", description="Currency of every rate: USD."
    )
    modes: list[str] | None = Field(default=None, description="The model modes it covers.")
    models: dict[Annotated[str, Field(max_length=300)], ModelSpec] = Field(
        description="Model prices by key (``gpt-4o``, ``openai/gpt-4o``, ``bedrock/...``)."
    )
    overrides: list[PriceOverrideSpec] = Field(
        default_factory=list, description="Tenant overrides kept with the table."
    )


def problems(error: ValidationError, where: str = "") -> list[str]:
    """One line per problem of a price document, naming its place under ``where``:
    ``overrides[0].effective_from: an ISO 8601 date-time with a time zone, got ...``."""
    lines: list[str] = []
    unknown: dict[str, list[str]] = {}
    for detail in error.errors():
        loc = detail["loc"]
        if detail["type"] == "extra_forbidden":
            unknown.setdefault(_place(where, loc[:-1]), []).append(str(loc[-1]))
            continue
        lines.append(f"{_place(where, loc) or 'document'}: {_message(detail)}")
    for place, names in unknown.items():
        lines.append(f"{place or 'document'}: unknown field(s) {', '.join(names)}")
    return lines


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _place(where: str, loc: Sequence[int | str]) -> str:
    text = where
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += " (the key)"
        elif _NAME.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def _message(detail: ErrorDetails) -> str:
    kind, ctx = detail["type"], detail.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    if kind == "string_too_long":
        return f"at most {ctx['max_length']} characters, got {len(str(detail['input']))}"
    if kind == "missing":
        return "required"
    if kind in ("model_type", "dict_type"):
        return "an object"
    return detail["msg"]


__all__ = [
    "RATE_KEYS",
    "BandSpec",
    "ModelSpec",
    "OffPeakSpec",
    "OverridePricesSpec",
    "PriceDocument",
    "PriceOverrideSpec",
    "WeekdayWindowSpec",
    "instant",
    "price",
    "problems",
    "weekday",
    "window",
]
