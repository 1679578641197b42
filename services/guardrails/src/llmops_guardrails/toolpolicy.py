"""Tool-call permission policy: may this agent call this tool with these arguments, now?

Answered before the agent executes the call, per tenant (the policy is the tenant's), app and
agent, deny by default. Pure: no I/O, time from an injected :class:`~llmops_shared.clock.Clock`;
the rate windows sit behind the :class:`RateWindows` port (this process's memory here, a
key-value bucket every replica shares in ``store.py``).

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
4. ``rate_limited``: the rule's window is full; ``retry_after_s`` says when a slot frees;
   ``rate_unavailable``: the windows could not be read or written in time (see below).

Rate windows, the rules stated once (:func:`admit` applies them):

- **Only allowed calls count**: a call denied for any reason (arguments, a full window) never
  spends a slot, and a tool without a ``rate`` never touches the windows at all.
- **Sliding and exact**: a call at instant ``now`` is admitted when fewer than ``calls`` calls
  were admitted in ``(now - per_s, now]``; an admitted call at ``t`` counts until ``t + per_s``
  (exclusive). When the window is full, ``retry_after_s`` is the time until enough of the oldest
  calls leave it for one more to fit.
- **Instants come from the injected clock** (the decision's business time), never from the
  store's. An instant earlier than the newest one in the window (a clock stepped back, or
  replicas' clocks a little apart) counts as that newest one: later, so never more permissive.
- **Bounded windows**: when ``calls`` exceeds :data:`EXACT_CALLS`, instants are rounded up to a
  multiple of ``per_s / EXACT_CALLS``, so a window holds at most ``EXACT_CALLS + 1`` distinct
  instants whatever ``calls`` is; a call then counts up to ``per_s / EXACT_CALLS`` longer than
  its own instant would (never shorter), so the limit still holds in every sliding window.
- **Whose calls share a window**: those of one rule of one policy version (the gate's ``name``)
  and one scope key: the tenant, the tenant's app (``scope: app``) or the app's agent
  (``scope: agent``). A new version starts with empty windows; a shadow version counts the calls
  it would have allowed in windows of its own.
- **Fail closed**: when the windows cannot answer (the store unreachable or slow), a call to a
  rate-limited tool is denied with ``rate_unavailable``; a guardrail that opened when its store
  is away would lift every limit exactly when the system is degraded (docs/decisions.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from llmops_guardrails.json_schema import compile_schema
from llmops_shared.clock import SYSTEM_CLOCK, Clock

Scope = Literal["tenant", "app", "agent"]
#: Allowed calls of one window at distinct instants, oldest first: ``(instant, calls)``, the
#: instant in POSIX seconds of the injected clock.
Window = tuple[tuple[float, int], ...]
#: Which window a call spends a slot of: the tenant, the gate's name (policy and version), the
#: rule's index, then the app and agent as the rule's scope asks.
WindowId = tuple[str, ...]
#: Largest ``calls`` whose window keeps every instant exactly (see the module's rules).
EXACT_CALLS = 128


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


class RateUnavailable(Exception):
    """The rate windows could not be read or written in time (the call is denied)."""


class RateWindows(Protocol):
    """Port: where rate windows live, as :func:`admit` keeps them."""

    async def take(self, window: WindowId, rate: RateLimit, now: float) -> float | None:
        """Spend a slot of ``window`` for a call at ``now`` (POSIX seconds): None when the call
        is admitted, else the seconds until a slot frees (nothing is spent).

        Raises:
            RateUnavailable: the windows cannot answer in time.
        """
        ...


def admit(window: Window, rate: RateLimit, now: float) -> tuple[Window, float | None]:
    """Apply the module's rate rules to one call at ``now``.

    Returns:
        the window without the calls that left it, and with this call when it is admitted;
        None when it is, else the seconds until a slot frees.
    """
    horizon = now - rate.per_s
    kept = [entry for entry in window if entry[0] > horizon]
    used = sum(calls for _, calls in kept)
    if used >= rate.calls:
        leaving = 0
        for at, calls in kept:  # the slot frees when the window holds fewer than `calls`
            leaving += calls
            if used - leaving < rate.calls:
                return tuple(kept), round(at + rate.per_s - now, 6)
    at = now
    if rate.calls > EXACT_CALLS:
        step = rate.per_s / EXACT_CALLS
        at = math.ceil(now / step) * step
    if kept and kept[-1][0] >= at:
        kept[-1] = (kept[-1][0], kept[-1][1] + 1)
    else:
        kept.append((at, 1))
    return tuple(kept), None


class MemoryRateWindows:
    """The :class:`RateWindows` port in this process's memory (one replica, tests, the CLI)."""

    def __init__(self) -> None:
        self._windows: dict[WindowId, Window] = {}

    def take_now(self, window: WindowId, rate: RateLimit, now: float) -> float | None:
        """:meth:`take` without waiting: memory answers at once."""
        self._windows[window], wait = admit(self._windows.get(window, ()), rate, now)
        return wait

    async def take(self, window: WindowId, rate: RateLimit, now: float) -> float | None:
        """See :meth:`RateWindows.take`."""
        return self.take_now(window, rate, now)


class ToolGate:
    """Decides tool calls against one policy; the rate windows are behind a port.

    :meth:`check` keeps the windows in this gate's memory; :meth:`acheck` spends them through
    a :class:`RateWindows` port (the bucket every replica shares, in the service).

    Args:
        policy: the tenant's tool policy (or its dict form).
        clock: where "now" comes from (a ``FixedClock`` in tests).
        name: what names the policy version in window ids (policy id and version), so versions
            never share windows.
    """

    def __init__(
        self,
        policy: ToolPolicy | Mapping[str, Any],
        clock: Clock = SYSTEM_CLOCK,
        *,
        name: tuple[str, ...] = (),
    ):
        self.policy = policy if isinstance(policy, ToolPolicy) else ToolPolicy.from_dict(policy)
        self.name = name
        self._clock = clock
        self._rules: dict[str, list[tuple[int, ToolRule]]] = {}
        for i, rule in enumerate(self.policy.allow):
            self._rules.setdefault(rule.name, []).append((i, rule))
        self._deny = frozenset(self.policy.deny)
        self._memory = MemoryRateWindows()

    def check(self, call: ToolCall) -> ToolDecision:
        """Allow or deny ``call``, its rate windows in this gate's memory (one process)."""
        decision = self.screen(call)
        slot = self._slot(decision, call)
        if slot is None:
            return decision
        window, rate = slot
        return _rated(decision, self._memory.take_now(window, rate, self._now()))

    async def acheck(self, call: ToolCall, windows: RateWindows | None = None) -> ToolDecision:
        """:meth:`check` with the rate windows behind ``windows`` (None: this gate's memory);
        only a call a rate rule would allow reaches them."""
        decision = self.screen(call)
        slot = self._slot(decision, call)
        if slot is None:
            return decision
        window, rate = slot
        kept = windows if windows is not None else self._memory
        try:
            wait = await kept.take(window, rate, self._now())
        except RateUnavailable:
            return ToolDecision(False, ("rate_unavailable",), rule=decision.rule)
        return _rated(decision, wait)

    def screen(self, call: ToolCall) -> ToolDecision:
        """The decision before rate: deny list, rules, apps and agents, argument schema."""
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
        return ToolDecision(True, rule=index)

    def _slot(self, decision: ToolDecision, call: ToolCall) -> tuple[WindowId, RateLimit] | None:
        """The window an allowed call spends a slot of, and its rate (None: no rate applies)."""
        if not decision.allowed or decision.rule is None:
            return None
        rate = self.policy.allow[decision.rule].rate
        if rate is None:
            return None
        tenant, *scope = _scope_key(rate.scope, call)
        return (tenant, *self.name, str(decision.rule), *scope), rate

    def _now(self) -> float:
        return self._clock.now().timestamp()


def _rated(decision: ToolDecision, wait: float | None) -> ToolDecision:
    if wait is None:
        return decision
    return ToolDecision(False, ("rate_limited",), rule=decision.rule, retry_after_s=wait)


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
    "EXACT_CALLS",
    "MemoryRateWindows",
    "RateLimit",
    "RateUnavailable",
    "RateWindows",
    "ToolCall",
    "ToolDecision",
    "ToolGate",
    "ToolPolicy",
    "ToolRule",
    "Window",
    "WindowId",
    "admit",
    "check_tool_call",
]
