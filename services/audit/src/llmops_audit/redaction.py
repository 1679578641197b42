"""Redaction: each tenant's versioned policy, applied to an envelope before it is hashed."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llmops_audit import fastjson

ACTIONS = ("keep", "hash", "drop")


@dataclass(frozen=True)
class Rule:
    """One redaction rule: an action for every value at ``path`` (``*`` matches any key/index)."""

    path: tuple[str, ...]
    action: str

    def matches(self, path: Sequence[str]) -> bool:
        """Whether ``path`` is exactly the rule's path (with wildcards)."""
        return len(path) == len(self.path) and all(
            want in ("*", got) for want, got in zip(self.path, path, strict=True)
        )


@dataclass(frozen=True)
class Policy:
    """A versioned redaction policy; applied to the envelope before it is hashed."""

    version: str
    rules: tuple[Rule, ...]

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Policy:
        """Load ``{"version": ..., "rules": [{"path": "data.x", "action": "drop"}]}``."""
        version = raw.get("version")
        if not isinstance(version, str) or not version:
            raise ValueError("a redaction policy needs a 'version'")
        rules = []
        for i, rule in enumerate(raw.get("rules", [])):
            path, action = str(rule.get("path", "")), rule.get("action")
            if not path.startswith("data.") or action not in ACTIONS:
                raise ValueError(
                    f"rule {i}: path must start with 'data.' and action be one of {ACTIONS}"
                )
            rules.append(Rule(tuple(path.split(".")), str(action)))
        return cls(version, tuple(rules))


def _hashes(policy: Policy) -> bool:
    return any(r.action == "hash" for r in policy.rules)


class Redactor:
    """Applies each tenant's policy (or the default policy) with salted hashing."""

    def __init__(
        self,
        policies: dict[str, Policy] | None = None,
        default: Policy | None = None,
        salt: bytes | None = None,
    ) -> None:
        self.policies = policies or {}
        self.default = default
        self.salt = salt
        hashing = [p for p in [*self.policies.values(), default] if p and _hashes(p)]
        if hashing and not salt:
            raise ValueError("a redaction policy hashes fields: set LLMOPS_AUDIT_REDACTION_SALT")

    @classmethod
    def from_file(cls, path: str | None, salt: bytes | None) -> Redactor:
        """Load ``{"default": policy, "tenants": {"acme": policy}}`` (JSON); none: keep all."""
        if path is None:
            return cls(salt=salt)
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        tenants = {t: Policy.from_dict(p) for t, p in (raw.get("tenants") or {}).items()}
        default = Policy.from_dict(raw["default"]) if raw.get("default") else None
        return cls(tenants, default, salt)

    def policy_for(self, tenant: str) -> Policy | None:
        """The policy that applies to a tenant."""
        return self.policies.get(tenant, self.default)

    def apply(self, tenant: str, envelope: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The envelope after redaction, and the policy version (None: nothing applied)."""
        policy = self.policy_for(tenant)
        if policy is None or not policy.rules:
            return envelope, None if policy is None else policy.version
        key = hmac.new(self.salt or b"", tenant.encode(), hashlib.sha256).digest()
        return self._walk(envelope, (), policy.rules, key), policy.version

    def _walk(self, node: Any, path: tuple[str, ...], rules: tuple[Rule, ...], key: bytes) -> Any:
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = ((str(i), v) for i, v in enumerate(node))
        else:
            return node
        out: dict[str, Any] = {}
        for name, value in items:
            here = (*path, name)
            action = next((r.action for r in reversed(rules) if r.matches(here)), None)
            if action == "drop":
                continue
            if action == "hash":
                digest = hmac.new(key, fastjson.canonical(value), hashlib.sha256).hexdigest()
                out[name] = f"hmac-sha256:{digest}"
            else:
                out[name] = self._walk(value, here, rules, key)
        return out if isinstance(node, dict) else list(out.values())
