"""Tool-call permissions: allowlisted tools, JSON-schema constraints on arguments, deny by default.

A minimal gate the service answers with before an agent runs a tool. The guardrails-ai layer's
``toolpolicy`` (per-tool rate limits and more) can take its place: :func:`compile_tools` and
:func:`check_tool` are the two functions the engine calls.

A refusal says which rule refused, never the argument values: a schema error names the path
and the keyword that failed (``arguments.path: maxLength``), not the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

from llmops_guardrails.policies import PolicyError, Tools

VERSION = "toolcheck-1"
#: Schema errors reported per refused call (the rest are counted, not listed).
MAX_ERRORS = 5


@dataclass(frozen=True, slots=True)
class ToolGrant:
    """One allowlisted tool, compiled."""

    name: str
    validator: Draft202012Validator | None
    apps: frozenset[str] | None
    agents: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class ToolGate:
    """A policy's tool section, compiled."""

    default_allow: bool
    grants: Mapping[str, ToolGrant]
    deny: frozenset[str]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a tool call is refused (``kind``: unlisted_tool, denied_tool, app_not_allowed,
    agent_not_allowed, arguments_schema)."""

    kind: str
    message: str


def compile_tools(tools: Tools) -> ToolGate:
    """The gate of a policy's ``tools`` section.

    Raises:
        PolicyError: an argument schema that is not a valid JSON Schema (2020-12).
    """
    grants = {}
    for i, rule in enumerate(tools.allow):
        validator = None
        if rule.arguments is not None:
            try:
                Draft202012Validator.check_schema(rule.arguments)
            except SchemaError as exc:
                where = ".".join(str(p) for p in exc.absolute_path) or "(schema)"
                raise PolicyError(
                    f"tools.allow[{i}].arguments: not a valid JSON Schema at {where}: "
                    f"{exc.message[:200]}"
                ) from None
            validator = Draft202012Validator(rule.arguments)
        grants[rule.name] = ToolGrant(
            rule.name,
            validator,
            frozenset(rule.apps) if rule.apps is not None else None,
            frozenset(rule.agents) if rule.agents is not None else None,
        )
    return ToolGate(tools.default == "allow", grants, frozenset(tools.deny))


def check_tool(
    gate: ToolGate,
    name: str,
    arguments: Mapping[str, Any],
    *,
    app: str | None = None,
    agent: str | None = None,
) -> list[Refusal]:
    """Why the call is refused; empty when it may run."""
    if name in gate.deny:
        return [Refusal("denied_tool", f"tool {name!r} is denied by the policy")]
    grant = gate.grants.get(name)
    if grant is None:
        if gate.default_allow:
            return []
        return [Refusal("unlisted_tool", f"tool {name!r} is not on the policy's allowlist")]
    refusals = []
    if grant.apps is not None and app not in grant.apps:
        refusals.append(Refusal("app_not_allowed", f"tool {name!r} is not allowed for this app"))
    if grant.agents is not None and agent not in grant.agents:
        refusals.append(
            Refusal("agent_not_allowed", f"tool {name!r} is not allowed for this agent")
        )
    if grant.validator is not None:
        errors = sorted(
            grant.validator.iter_errors(dict(arguments)),
            key=lambda e: [str(p) for p in e.absolute_path],
        )
        for error in errors[:MAX_ERRORS]:
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            refusals.append(
                Refusal(
                    "arguments_schema",
                    f"arguments{path}: fails {error.validator!r} of tool {name!r}'s schema",
                )
            )
        if len(errors) > MAX_ERRORS:
            refusals.append(
                Refusal("arguments_schema", f"and {len(errors) - MAX_ERRORS} more schema errors")
            )
    return refusals
