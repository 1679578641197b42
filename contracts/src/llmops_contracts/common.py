"""Small value types shared by several domains."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Metadata = Annotated[
    dict[str, str | int | float | bool | None],
    Field(description="Free-form flat key/value labels (strings, numbers, booleans)."),
]

#: An amount of money received from outside (USD): bounded so exact sums of amounts stay exact
#: and every database column holds them (published prices need up to 24 decimal places).
MONEY_MAX_DIGITS = 40
MONEY_MAX_PLACES = 24
Money = Annotated[Decimal, Field(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_MAX_PLACES)]

#: A token count: bounded so sums of many calls fit a 64-bit column.
TokenCount = Annotated[int, Field(ge=0, le=10**12)]

Sha256Hex = Annotated[
    str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 digest, lowercase hex.")
]


class Part(BaseModel):
    """Base for nested value objects: unknown fields are rejected, like payloads."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_enum_values=True)


class ObjectRef(Part):
    """Where a payload too large for one NATS message is kept: an object of a JetStream
    object-store bucket, with the size and SHA-256 a reader checks after fetching it."""

    bucket: str = Field(max_length=64, description="Object-store bucket (``llmops-blobs``).")
    name: str = Field(max_length=256, description="Object name (``sha256/<hex digest>``).")
    size: int = Field(ge=0, description="Size of the object in bytes.")
    sha256: Sha256Hex = Field(description="SHA-256 of the object's bytes, lowercase hex.")


class PromptRef(Part):
    """Which managed prompt (and version) produced a call."""

    name: str = Field(
        min_length=1, max_length=200, description="Prompt name in the prompt registry."
    )
    version: str | None = Field(
        default=None, max_length=64, description="Prompt version, if pinned."
    )
    label: str | None = Field(
        default=None, max_length=64, description="Label resolved to the version, e.g. 'production'."
    )


class Actor(Part):
    """Who and what an interaction belongs to, for filtering and cost attribution."""

    app: str | None = Field(default=None, max_length=200, description="Application id.")
    user: str | None = Field(
        default=None, max_length=200, description="End-user id (pseudonymous)."
    )
    session: str | None = Field(
        default=None, max_length=200, description="Conversation or session id."
    )
