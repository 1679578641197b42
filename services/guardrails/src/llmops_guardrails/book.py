"""The policies a replica enforces, in memory, and the port of the store they come from.

Checks read :class:`PolicyBook` without waiting for anything; the service refreshes it from the
:class:`PolicyStore` when the store says a pointer moved (see ``service.py`` and ``store.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from llmops_guardrails.engine import CompiledPolicy, compile_policy
from llmops_guardrails.policies import BUILTIN_VERSION, DEFAULT_POLICY, PolicyDocument, render
from llmops_shared.clock import SYSTEM_CLOCK, Clock

#: The two version pointers of a policy: the one in force, and a candidate run in shadow.
ENFORCED, SHADOW = "enforced", "shadow"
#: Compiled versions kept for checks that pin one (beyond those in force).
CACHED_VERSIONS = 1024


class PolicyStore(Protocol):
    """Port: every version of every tenant's policies, and the two pointers of each policy."""

    async def create_document(
        self, tenant: str, policy: str, version: str, document: str
    ) -> str | None:
        """Store a version's document unless the version exists; return the stored document
        when it does (then nothing is written)."""
        ...

    async def document(self, tenant: str, policy: str, version: str) -> str | None:
        """A version's document, or None."""
        ...

    async def versions(self, tenant: str, policy: str) -> list[str]:
        """The policy's versions, in the order they were pushed."""
        ...

    async def pointer(self, tenant: str, policy: str, slot: str) -> str | None:
        """The version in a slot (``enforced`` or ``shadow``), or None."""
        ...

    async def point(self, tenant: str, policy: str, slot: str, version: str | None) -> None:
        """Put a version in a slot (None empties it)."""
        ...

    async def policies(self, tenant: str) -> list[str]:
        """The tenant's policy ids with at least one stored version, sorted."""
        ...

    async def pointed(self) -> list[tuple[str, str]]:
        """Every ``(tenant, policy)`` with a version in a slot (what replicas load at start)."""
        ...


@dataclass(frozen=True)
class Active:
    """The versions of one policy a replica applies: enforced, and a shadow candidate."""

    enforced: CompiledPolicy
    shadow: CompiledPolicy | None = None


class PolicyBook:
    """What this replica enforces, in memory: checks read it without waiting for the store.

    Args:
        builtin: the built-in default policy (compiled on first use: it loads detector weights).
        clock: times the tool gates' rate windows.
    """

    def __init__(self, builtin: PolicyDocument, clock: Clock = SYSTEM_CLOCK) -> None:
        self._builtin_document = builtin
        self.clock = clock
        self._builtin: CompiledPolicy | None = None
        self._active: dict[tuple[str, str], Active] = {}
        self._versions: dict[tuple[str, str, str], CompiledPolicy] = {}

    @property
    def builtin(self) -> CompiledPolicy:
        """The built-in policy, compiled."""
        if self._builtin is None:
            document = self._builtin_document
            self._builtin = compile_policy(document, render(document), self.clock)
        return self._builtin

    def active(self, tenant: str, policy: str) -> Active | None:
        """The tenant's versions of a policy in force; the built-in one for ``default``."""
        found = self._active.get((tenant, policy))
        if found is None and policy == DEFAULT_POLICY:
            return Active(self.builtin)
        return found

    def set(
        self,
        tenant: str,
        policy: str,
        enforced: CompiledPolicy | None,
        shadow: CompiledPolicy | None,
    ) -> None:
        """Apply the versions now in the slots (no enforced version: the policy is gone,
        except that ``default`` falls back to the built-in one, shadow and all)."""
        if enforced is None and policy == DEFAULT_POLICY and shadow is not None:
            enforced = self.builtin
        if enforced is None:
            self._active.pop((tenant, policy), None)
        else:
            self._active[(tenant, policy)] = Active(enforced, shadow)

    def cached(self, tenant: str, policy: str, version: str) -> CompiledPolicy | None:
        """A compiled version, when this replica has one."""
        active = self._active.get((tenant, policy))
        for candidate in (active.enforced, active.shadow) if active else ():
            if candidate is not None and candidate.version == version:
                return candidate
        if policy == DEFAULT_POLICY and version == BUILTIN_VERSION:
            return self.builtin
        return self._versions.get((tenant, policy, version))

    def keep(self, tenant: str, compiled: CompiledPolicy) -> None:
        """Remember a compiled version (oldest forgotten beyond ``CACHED_VERSIONS``)."""
        if len(self._versions) >= CACHED_VERSIONS:
            self._versions.pop(next(iter(self._versions)))
        self._versions[(tenant, compiled.id, compiled.version)] = compiled
