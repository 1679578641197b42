"""Tool-call permission policy: may this agent call this tool with these arguments, now?

Answered before the agent executes the call, per tenant (the policy is the tenant's), app and
agent, deny by default. Pure: no I/O, time from an injected :class:`~llmops_shared.clock.Clock`.

The ``tools:`` section of a policy YAML (parsed by :meth:`ToolPolicy.from_dict`)::

    tools:
      default: deny              # deny (the default) | allow: what happens to unlisted tools
      deny: [shell_exec]         # never allowed, whatever the allow rules say
      allow:
        - name: search_docs      # the tool's name, exactly
          apps: [support-bot]    # optional: only these apps (absent = every app)
          agents: [triage]       # optional: only these agents (absent = every agent)
          args_schema:           # optional: a JSON Schema the arguments must satisfy
            type: object
            properties: {query: {type: string, maxLength: 500}}
            required: [query]
            additionalProperties: false
          rate: {calls: 10, per_s: 60, scope: tenant}  # optional: at most `calls` allowed
                                                       # calls per sliding `per_s` seconds,
                                                       # counted per tenant | app | agent
        - name: refund
          apps: [billing]
          args_schema: {type: object, properties: {amount: {type: number, maximum: 100}}}

Several rules may name one tool (say, different schemas for different apps): the first rule
whose ``apps`` and ``agents`` admit the caller decides. Evaluation order, and the reason codes
of a denial (``ToolDecision.reasons``; never an argument's value, which may be sensitive):

1. ``denied_tool``: the tool is on the ``deny`` list;
2. ``unlisted_tool`` (under ``default: deny``) or ``app_not_allowed`` / ``agent_not_allowed``
   (rules exist for the tool, none admits this app or agent);
3. ``args_schema:<keyword>@<json path>``: the arguments break the rule's schema (every
   violation, e.g. ``args_schema:maximum@$.amount``); ``args_too_deep`` when they nest deeper
   than validation can walk;
4. ``rate_limited``: the rule's window is full; ``retry_after_s`` says when a slot frees.

Only allowed calls consume rate: a denied call (bad arguments, say) never spends a slot.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from llmops_guardrails.json_schema import compile_schema
from llmops_shared.clock import SYSTEM_CLOCK, Clock

Scope = Literal["tenant", "app", "agent"]


class RateLimit(BaseModel):
    """At most ``calls`` allowed calls in any ``per_s``-second sliding window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: int = Field(ge=1, description="Calls allowed per window.")
    per_s: float = Field(gt=0, description="Window length in seconds.")
    scope: Scope = Field("tenant", description="Whose calls share the window.")


class ToolRule(BaseModel):
    """One ``allow`` entry: a tool, who may call it, with which arguments, how often."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="The tool's name, exactly.")
    apps: tuple[str, ...] | None = Field(None, description="Apps admitted (None: all).")
    agents: tuple[str, ...] | None = Field(None, description="Agents admitted (None: all).")
    args_schema: dict[str, Any] | None = Field(None, description="JSON Schema of the arguments.")
    rate: RateLimit | None = Field(None, description="Per-tool rate limit.")
    _validator: Any = PrivateAttr(default=None)

    @field_validator("args_schema")
    @classmethod
    def _schema_is_valid(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is not None:
            try:
                compile_schema(schema)
            except ValueError as e:
                raise ValueError(f"invalid args_schema: {e}") from e
        return schema

    @model_validator(mode="after")
    def _compile(self) -> ToolRule:
        # Compiled once per policy version: building a validator costs more than using it.
        if self.args_schema is not None:
            self._validator = compile_schema(self.args_schema)
        return self

    def admits(self, app: str, agent: str) -> bool:
        """Whether this rule applies to calls from ``app`` / ``agent``."""
        return (self.apps is None or app in self.apps) and (
            self.agents is None or agent in self.agents
        )

    def argument_errors(self, arguments: Any) -> list[str]:
        """Reason codes for every schema violation of ``arguments`` (empty: valid)."""
        if self._validator is None:
            return []
        try:
            return sorted(
                f"args_schema:{e.validator}@{e.json_path}"
                for e in self._validator.iter_errors(arguments)
            )
        except RecursionError:  # nested past the stack: refused, never a crash
            return ["args_too_deep"]


class ToolPolicy(BaseModel):
    """The ``tools:`` section of one tenant's policy (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Literal["deny", "allow"] = Field("deny", description="Fate of unlisted tools.")
    deny: tuple[str, ...] = Field((), description="Tools never allowed.")
    allow: tuple[ToolRule, ...] = Field((), description="Rules, first admitting one wins.")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ToolPolicy:
        """Parse a ``tools:`` section (``None``/empty: deny everything).

        Raises:
            pydantic.ValidationError: the section is malformed (a ``ValueError``; its message
                names the field).
        """
        return cls.model_validate(dict(data or {}))


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call an agent is about to make.

    Attributes:
        tenant: the tenant (rate windows are per tenant at least).
        app: the calling application.
        agent: the agent within it.
        name: the tool.
        arguments: its arguments, as parsed JSON (usually an object).
    """

    tenant: str
    app: str
    agent: str
    name: str
    arguments: Any = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolDecision:
    """The answer: allowed or not, and why.

    Attributes:
        allowed: whether the agent may make the call.
        reasons: reason codes of a denial (see the module docstring); empty when allowed.
        rule: index of the ``allow`` rule that decided, if one did.
        retry_after_s: for ``rate_limited``, seconds until a slot frees.
    """

    allowed: bool
    reasons: tuple[str, ...] = ()
    rule: int | None = None
    retry_after_s: float | None = None


class ToolGate:
    """Decides tool calls against one policy, keeping the rate windows between calls.

    One gate per policy version and replica (the windows are in memory: with N replicas a
    limit is enforced per replica, so a tenant gets at most N times ``calls`` in total).

    Args:
        policy: the tenant's tool policy (or its dict form).
        clock: where "now" comes from (a ``FixedClock`` in tests).
    """

    def __init__(self, policy: ToolPolicy | Mapping[str, Any], clock: Clock = SYSTEM_CLOCK):
        self.policy = policy if isinstance(policy, ToolPolicy) else ToolPolicy.from_dict(policy)
        self._clock = clock
        self._rules: dict[str, list[tuple[int, ToolRule]]] = {}
        for i, rule in enumerate(self.policy.allow):
            self._rules.setdefault(rule.name, []).append((i, rule))
        self._deny = frozenset(self.policy.deny)
        # (rule index, scope key) -> instants (POSIX seconds) of the allowed calls in the window
        self._windows: dict[tuple[int, tuple[str, ...]], deque[float]] = {}

    def check(self, call: ToolCall) -> ToolDecision:
        """Allow or deny ``call``; an allowed call counts against its rule's rate limit."""
        if call.name in self._deny:
            return ToolDecision(False, ("denied_tool",))
        rules = self._rules.get(call.name)
        if not rules:
            if self.policy.default == "allow":
                return ToolDecision(True)
            return ToolDecision(False, ("unlisted_tool",))
        chosen = next(((i, r) for i, r in rules if r.admits(call.app, call.agent)), None)
        if chosen is None:
            app_ok = any(r.apps is None or call.app in r.apps for _, r in rules)
            return ToolDecision(False, ("agent_not_allowed" if app_ok else "app_not_allowed",))
        index, rule = chosen
        errors = rule.argument_errors(call.arguments)
        if errors:
            return ToolDecision(False, tuple(errors), rule=index)
        if rule.rate is not None:
            wait = self._take(index, rule.rate, call)
            if wait is not None:
                return ToolDecision(False, ("rate_limited",), rule=index, retry_after_s=wait)
        return ToolDecision(True, rule=index)

    def _take(self, index: int, rate: RateLimit, call: ToolCall) -> float | None:
        """Spend a slot of the window (None) or say how long until one frees (seconds)."""
        key = _scope_key(rate.scope, call)
        now = self._clock.now().timestamp()
        window = self._windows.setdefault((index, key), deque())
        while window and window[0] <= now - rate.per_s:
            window.popleft()
        if len(window) >= rate.calls:
            return round(window[0] + rate.per_s - now, 6)
        window.append(now)
        return None


def _scope_key(scope: Scope, call: ToolCall) -> tuple[str, ...]:
    if scope == "tenant":
        return (call.tenant,)
    if scope == "app":
        return (call.tenant, call.app)
    return (call.tenant, call.app, call.agent)


def check_tool_call(
    policy: ToolPolicy | Mapping[str, Any],
    call: ToolCall,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> ToolDecision:
    """One-off decision with fresh rate windows (tests, the CLI); services keep a ``ToolGate``."""
    return ToolGate(policy, clock).check(call)


__all__: Sequence[str] = [
    "RateLimit",
    "ToolCall",
    "ToolDecision",
    "ToolGate",
    "ToolPolicy",
    "ToolRule",
    "check_tool_call",
]
