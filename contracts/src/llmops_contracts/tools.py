"""Tool calls an agent wants to make, published before they run."""

from __future__ import annotations

from pydantic import Field

from llmops_contracts import subjects
from llmops_contracts.common import Actor, JsonObject
from llmops_contracts.envelope import Kind, MessageSpec, Payload


class ToolCallRequested(Payload):
    """Event: an LLM asked to call a tool."""

    SPEC = MessageSpec(
        type="llmops.tool.call_requested.v1",
        kind=Kind.EVENT,
        subject=subjects.TOOL_CALL_REQUESTED,
        summary="An LLM requested a tool call; guardrails and audit see it before it runs.",
        producers=("application",),
        consumers=("guardrails", "audit"),
    )

    call_id: str = Field(min_length=1, max_length=256, description="Provider's tool-call id.")
    tool_name: str = Field(min_length=1, max_length=256, description="Tool (function) name.")
    arguments: JsonObject = Field(default_factory=dict, description="Arguments as JSON.")
    llm_call_id: str | None = Field(
        default=None, description="Event id of the LLM call that asked."
    )
    actor: Actor = Field(default_factory=Actor, description="Who the interaction belongs to.")
