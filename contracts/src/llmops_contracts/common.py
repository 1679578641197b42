"""Small value types shared by several domains."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from llmops_contracts.jsonlimits import check_finite

Metadata = Annotated[
    dict[str, str | int | float | bool | None],
    Field(description="Free-form flat key/value labels (strings, numbers, booleans)."),
]

#: Free-form JSON carried as is (a provider's usage object, tool arguments): any JSON object,
#: but only finite numbers and at most ``MAX_DEPTH`` levels deep (see ``jsonlimits``).
JsonObject = Annotated[dict[str, Any], AfterValidator(check_finite)]

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

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, use_enum_values=True, allow_inf_nan=False
    )


class ObjectRef(Part):
    """Where a payload too large for one NATS message is kept: an object of a JetStream
    object-store bucket, with the size and SHA-256 a reader checks after fetching it."""

    bucket: str = Field(max_length=64, description="Object-store bucket (``llmops-blobs``).")
    name: str = Field(max_length=256, description="Object name (``sha256/<hex digest>``).")
    size: int = Field(ge=0, description="Size of the object in bytes.")
    sha256: Sha256Hex = Field(description="SHA-256 of the object's bytes, lowercase hex.")

    def matches(self, data: bytes) -> bool:
        """Whether ``data`` is the object this reference describes (its size and SHA-256).

        Readers check after every fetch: the message vouches for the reference, not for what
        the bucket holds under that name now.
        """
        return len(data) == self.size and hashlib.sha256(data).hexdigest() == self.sha256


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
