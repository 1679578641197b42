"""Adapters of the guardrails service: where policies come from."""

from __future__ import annotations

from llmops_guardrails.config import GuardrailsSettings
from llmops_guardrails.service import BUILTIN_VERSION, Policy


class StaticPolicySource:
    """One built-in policy, configured from settings (per-tenant policies come later)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @classmethod
    def from_settings(cls, settings: GuardrailsSettings) -> StaticPolicySource:
        """The built-in ``default`` policy with the configured denylist and tool allowlist."""
        return cls(
            Policy(
                name="default",
                version=BUILTIN_VERSION,
                denylist=tuple(settings.denylist),
                tool_allowlist=frozenset(settings.tool_allowlist),
            )
        )

    def get(self, name: str, version: str | None = None) -> Policy | None:
        """The policy when name (and the pinned version, if any) match; None otherwise."""
        if name != self.policy.name or version not in (None, self.policy.version):
            return None
        return self.policy
