"""Guardrail policies as YAML documents: their schema, parsing, and the built-in default.

A policy names, per stage, the detectors to run with a threshold and an action::

    id: support-bot
    version: "3"
    input:
      - detector: injection        # threshold: the detector's own calibrated one
        action: escalate
      - detector: email
        action: redact
      - detector: denylist
        action: block
        options: {terms: [project falcon]}
    output:
      - detector: card
        action: redact
    tools:                          # llmops_guardrails.toolpolicy's section
      default: deny                 # a tool not listed is refused
      allow:
        - name: search
          args_schema: {type: object, properties: {q: {type: string, maxLength: 200}}}
          rate: {calls: 10, per_s: 60}

Actions: ``block`` (do not use the content), ``escalate`` (hold it for a human: outcome
``review`` and a review request), ``redact`` (use the redacted copy), ``flag`` (allow, and say
so in the findings). Parsing checks the shape (the tools section and its argument schemas
included); :func:`llmops_guardrails.engine.compile_policy` builds the detectors with their
options. Either failing refuses the document with a reason naming the field, and the version in
force stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from llmops_contracts.guardrails import (
    POLICY_ID_PATTERN,
    POLICY_VERSION_PATTERN,
    Action,
    Stage,
)
from llmops_guardrails.toolpolicy import ToolPolicy, ToolRule

#: The id of the policy a check uses when it names none, built in when nothing is pushed.
DEFAULT_POLICY = "default"
#: The built-in policy's version (detectors or their defaults changed: bump it).
BUILTIN_VERSION = "builtin-3"
#: Stages whose content is text (the tool-call stage also checks the call's JSON as text).
TEXT_STAGES = (Stage.INPUT, Stage.OUTPUT, Stage.RETRIEVED_CONTEXT)
#: Largest policy document accepted, in characters.
MAX_DOCUMENT = 256_000
#: Deepest nesting accepted (argument schemas nest; nothing sensible nests deeper).
MAX_DEPTH = 32


class PolicyError(ValueError):
    """A policy document that cannot be used; the message names the field and what is wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, frozen=True)


class Rule(_Strict):
    """One detector at one stage: findings at or above ``threshold`` trigger ``action``."""

    detector: str = Field(min_length=1, max_length=200, description="Detector name.")
    action: Action = Field(description="block, redact, flag or escalate.")
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="Least score that counts (absent: the detector's)."
    )
    kinds: list[str] | None = Field(
        default=None, description="Only these kinds of finding (absent: every kind)."
    )
    options: dict[str, Any] = Field(default_factory=dict, description="The detector's options.")


class PolicyDocument(_Strict):
    """A whole policy as written in YAML."""

    id: str = Field(pattern=POLICY_ID_PATTERN, description="Policy id, unique per tenant.")
    version: str = Field(
        pattern=POLICY_VERSION_PATTERN, description="Version; a new document needs a new one."
    )
    description: str | None = Field(default=None, max_length=2000)
    input: list[Rule] = Field(default_factory=list)
    output: list[Rule] = Field(default_factory=list)
    retrieved_context: list[Rule] = Field(default_factory=list)
    tool_call: list[Rule] = Field(
        default_factory=list, description="Detectors run on a tool call's JSON (name, arguments)."
    )
    tools: ToolPolicy = Field(
        default_factory=ToolPolicy,
        description="Tool-call permissions (llmops_guardrails.toolpolicy): deny by default.",
    )
    stream_window: int = Field(
        default=512,
        ge=16,
        le=16_384,
        description="Characters of earlier chunks a streamed chunk is checked with: the longest "
        "span caught across a chunk boundary.",
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        # `version: 3` in YAML is a number; it names the same version as "3".
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    def rules(self, stage: Stage | str) -> list[Rule]:
        """The rules of one stage."""
        return list(getattr(self, Stage(stage).value))


class _NoAliases(yaml.SafeLoader):
    """YAML without anchors' aliases: a policy has no use for them, and nested aliases expand
    into documents of any size (the "billion laughs")."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise PolicyError("YAML aliases (*name) are not accepted in a policy")
        return super().compose_node(parent, index)


def parse_policy(text: str) -> PolicyDocument:
    """The policy document ``text`` holds.

    Raises:
        PolicyError: not YAML, not a mapping, or not a valid policy (the reason names the field).
    """
    if len(text) > MAX_DOCUMENT:
        raise PolicyError(f"the document has {len(text):,} characters; at most {MAX_DOCUMENT:,}")
    try:
        raw = yaml.load(text, Loader=_NoAliases)
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {_first_line(exc)}") from None
    except RecursionError:  # the parser recurses per level of nesting
        raise PolicyError("nested too deeply") from None
    if _depth(raw) > MAX_DEPTH:
        raise PolicyError(f"nested more than {MAX_DEPTH} levels deep")
    if not isinstance(raw, dict):
        raise PolicyError("a policy is a YAML mapping (id, version, stages, tools)")
    try:
        return PolicyDocument.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_reasons(exc)) from None


def render(document: PolicyDocument) -> str:
    """A document as YAML (for the built-in policy, which was never pushed as text)."""
    data = document.model_dump(mode="json", exclude_defaults=True)
    data = {"id": document.id, "version": document.version, **data}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def builtin_policy(
    denylist: Sequence[str] = (), tool_allowlist: Sequence[str] = ()
) -> PolicyDocument:
    """The default policy a tenant has until it pushes its own ``default``.

    Injection escalated on input and blocked in retrieved context (a poisoned passage should
    not reach the prompt), personal data and secrets redacted, denylisted terms blocked
    everywhere. Tools: the allowlist when one is configured, every tool otherwise (the service's
    settings say which; a pushed policy denies unlisted tools by default).
    """
    terms = [t for t in denylist if t.strip()]
    deny = (
        [Rule(detector="denylist", action=Action.BLOCK, options={"terms": terms})] if terms else []
    )
    hide = [
        Rule(detector="pii", action=Action.REDACT),
        Rule(detector="secrets", action=Action.REDACT),
    ]
    return PolicyDocument(
        id=DEFAULT_POLICY,
        version=BUILTIN_VERSION,
        description="Built-in policy (nothing pushed for this tenant).",
        input=[*deny, Rule(detector="injection", action=Action.ESCALATE), *hide],
        output=[*deny, *hide],
        retrieved_context=[*deny, Rule(detector="injection", action=Action.BLOCK), *hide],
        tool_call=deny,
        tools=ToolPolicy(
            default="deny" if tool_allowlist else "allow",
            allow=tuple(ToolRule(name=name) for name in dict.fromkeys(tool_allowlist)),
        ),
    )


def _depth(value: Any, level: int = 0) -> int:
    """How deeply ``value`` nests (stops counting past ``MAX_DEPTH``)."""
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _reasons(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        lines.append(f"{path.lstrip('.') or '(document)'}: {err['msg']}")
    return "; ".join(lines)


def _first_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())[:300]
