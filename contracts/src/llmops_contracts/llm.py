"""LLM calls: the central fact priced by costs, sampled by evaluation and kept by audit.

Usage follows the OpenTelemetry GenAI semantic conventions: ``input_tokens`` INCLUDES cached
tokens; cache reads, cache writes and reasoning tokens are subsets reported beside it and never
added on top. The provider's raw usage object is kept unchanged in ``raw_usage``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from llmops_contracts import subjects
from llmops_contracts.common import Actor, JsonObject, Money, Part, PromptRef, TokenCount
from llmops_contracts.envelope import Kind, MessageSpec, Payload


class Operation(StrEnum):
    """``gen_ai.operation.name``."""

    CHAT = "chat"
    TEXT_COMPLETION = "text_completion"
    EMBEDDINGS = "embeddings"
    GENERATE_CONTENT = "generate_content"
    EXECUTE_TOOL = "execute_tool"
    IMAGE_GENERATION = "image_generation"
    RERANK = "rerank"


class Status(StrEnum):
    """How the call ended."""

    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"


class Usage(Part):
    """Canonical token usage (OpenTelemetry GenAI buckets)."""

    input_tokens: TokenCount = Field(description="All prompt tokens, cached ones included.")
    output_tokens: TokenCount = Field(description="All completion tokens, reasoning ones included.")
    cache_read_input_tokens: TokenCount = Field(
        default=0, description="Subset of input_tokens read from the provider's prompt cache."
    )
    cache_creation_input_tokens: TokenCount = Field(
        default=0, description="Subset of input_tokens written to the prompt cache."
    )
    cache_creation_1h_input_tokens: TokenCount = Field(
        default=0,
        description="Subset of cache_creation_input_tokens written with a 1-hour TTL.",
    )
    reasoning_tokens: TokenCount = Field(
        default=0, description="Subset of output_tokens spent reasoning."
    )

    @model_validator(mode="after")
    def _subsets_fit(self) -> Self:
        cached = self.cache_read_input_tokens + self.cache_creation_input_tokens
        if cached > self.input_tokens:
            raise ValueError(
                "cache_read_input_tokens + cache_creation_input_tokens exceed input_tokens; "
                "input_tokens must include cached tokens"
            )
        if self.cache_creation_1h_input_tokens > self.cache_creation_input_tokens:
            raise ValueError("cache_creation_1h_input_tokens exceed cache_creation_input_tokens")
        if self.reasoning_tokens > self.output_tokens:
            raise ValueError(
                "reasoning_tokens exceed output_tokens; output_tokens must include them"
            )
        return self


class ErrorInfo(Part):
    """Why a call failed."""

    type: str = Field(description="Error class or provider error code, e.g. 'rate_limit_exceeded'.")
    message: str | None = Field(default=None, description="Error message.")


class Message(Part):
    """One chat message (only sent when content capture is opted in)."""

    role: str = Field(description="'system', 'user', 'assistant' or 'tool'.")
    content: str = Field(description="Message text.")


class Content(Part):
    """Prompt and completion text, sent only when the application opts in."""

    input_messages: list[Message] = Field(default_factory=list, description="Messages sent.")
    output_messages: list[Message] = Field(default_factory=list, description="Messages received.")


class LlmCallCompleted(Payload):
    """Event: an LLM call finished (successfully or not)."""

    SPEC = MessageSpec(
        type="llmops.llm.call_completed.v1",
        kind=Kind.EVENT,
        subject=subjects.LLM_CALL_COMPLETED,
        summary="An LLM call finished; carries usage, latency and attribution.",
        producers=("application",),
        consumers=("costs", "evaluation", "audit"),
    )

    provider: str = Field(
        min_length=1, max_length=64, description="gen_ai.provider.name, e.g. 'openai', 'anthropic'."
    )
    operation: Operation = Field(default=Operation.CHAT, description="gen_ai.operation.name.")
    request_model: str = Field(min_length=1, max_length=200, description="Model asked for.")
    response_model: str | None = Field(
        default=None, max_length=200, description="Model that answered."
    )
    usage: Usage | None = Field(default=None, description="Canonical usage; absent when unknown.")
    raw_usage: JsonObject | None = Field(
        default=None, description="The provider's usage object, unchanged."
    )
    latency_ms: float = Field(ge=0, description="Wall time of the call.")
    time_to_first_token_ms: float | None = Field(
        default=None, ge=0, description="Streaming: time until the first token arrived."
    )
    status: Status = Field(
        default=Status.OK, description="How the call ended: ok, error or cancelled."
    )
    error: ErrorInfo | None = Field(default=None, description="Set when status is 'error'.")
    finish_reasons: list[str] = Field(default_factory=list, description="Provider finish reasons.")
    prompt: PromptRef | None = Field(default=None, description="Managed prompt that was used.")
    actor: Actor = Field(default_factory=Actor, description="App, user and session.")
    service_tier: str | None = Field(
        default=None,
        max_length=64,
        description="Provider service tier: 'default', 'batch', 'priority', 'flex'.",
    )
    provided_cost: Money | None = Field(
        default=None, ge=0, description="Cost reported by the provider or gateway, in USD."
    )
    content: Content | None = Field(default=None, description="Opt-in prompt and completion text.")

    @model_validator(mode="after")
    def _error_when_failed(self) -> Self:
        if self.status == Status.ERROR and self.error is None:
            raise ValueError("status 'error' requires 'error'")
        return self
