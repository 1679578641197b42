"""Sealed vault tokens: reversible redaction that keeps no state in the service.

A reversible check hands the caller its vault (which placeholder hides which value) sealed with
AES-256-GCM under the service's vault key: ``v1.`` + base64url(nonce ‖ ciphertext). The tenant is
the associated data, so a token opens only for the tenant it was issued to; the expiry is inside
the sealed text, so it cannot be moved; any change to a byte fails the tag. Only the guardrails
service holds the key: the caller carries values it already had, unreadable to anyone on the
way (logs, the model provider, the audit trail — verdict events record no token).

Why a token rather than a vault kept by the service: every replica can open it (they share the
key), a restart loses nothing, and a caller who never comes back leaves nothing behind.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from llmops_guardrails.detectors import redaction
from llmops_guardrails.detectors.base import Hit
from llmops_guardrails.detectors.redaction import Vault

PREFIX = "v1."
NONCE_BYTES = 12


class VaultTokenError(ValueError):
    """A token that cannot be opened: malformed, sealed for another tenant or key, or expired."""


def new_key() -> bytes:
    """A random 256-bit vault key."""
    return AESGCM.generate_key(bit_length=256)


def parse_key(text: str) -> bytes:
    """A vault key from its base64 form (32 bytes once decoded)."""
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("vault key: not base64") from exc
    if len(key) != 32:
        raise ValueError(f"vault key: {len(key)} bytes, want 32 (base64 of a 256-bit key)")
    return key


def seal(key: bytes, tenant: str, mapping: Mapping[str, str], expires: datetime) -> str:
    """The token of ``mapping`` for ``tenant``, valid until ``expires``."""
    plain = json.dumps(
        {"p": dict(mapping), "exp": expires.timestamp()}, separators=(",", ":")
    ).encode()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plain, tenant.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def open_token(key: bytes, tenant: str, token: str, now: datetime) -> dict[str, str]:
    """The mapping sealed in ``token``.

    Raises:
        VaultTokenError: the token is malformed, not this tenant's or this key's, or expired.
    """
    if not token.startswith(PREFIX):
        raise VaultTokenError("vault: not a vault token")
    body = token[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise VaultTokenError("vault: not a vault token") from exc
    if len(raw) <= NONCE_BYTES:
        raise VaultTokenError("vault: not a vault token")
    try:
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], tenant.encode())
    except InvalidTag as exc:
        raise VaultTokenError(
            "vault: the token does not open (altered, another tenant's, or another key's)"
        ) from exc
    data = json.loads(plain)
    if data["exp"] <= now.timestamp():
        raise VaultTokenError("vault: the token has expired")
    mapping = data["p"]
    return {str(k): str(v) for k, v in mapping.items()}


@dataclass(frozen=True, slots=True)
class Reversed:
    """What a reversible check answers: its redaction renumbered, its token, the restoration."""

    redacted: str | None
    token: str | None
    restored: str | None


def reverse(
    key: bytes,
    tenant: str,
    content: str,
    hidden: Sequence[Hit],
    *,
    token: str | None,
    seal_for: datetime | None,
    now: datetime,
) -> Reversed:
    """Redact ``content``'s ``hidden`` hits in a vault, seal it, and restore an earlier one.

    Args:
        key: the vault key.
        tenant: the tenant the tokens belong to.
        content: the checked text.
        hidden: the hits the policy redacts in it.
        token: an earlier verdict's vault token, whose placeholders are restored.
        seal_for: seal this check's vault, valid until then (None: no token wanted).
        now: to check the earlier token's expiry.

    With an earlier vault, this check's redactions are numbered after its placeholders (a new
    value never takes a number the caller's values hold), and only the earlier vault's
    placeholders are restored: a value this check hid stays hidden.

    Raises:
        VaultTokenError: the earlier token does not open.
    """
    earlier = open_token(key, tenant, token, now) if token is not None else {}
    vault = Vault.from_mapping("", earlier)
    redacted = redaction.redact(content, hidden, vault).text if hidden else None
    sealed = seal(key, tenant, vault.mapping(), seal_for) if seal_for and len(vault) else None
    restored = None
    if earlier:
        restored = Vault.from_mapping("", earlier).restore(
            redacted if redacted is not None else content
        )
    return Reversed(redacted, sealed, restored)
