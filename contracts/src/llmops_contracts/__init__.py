"""llmops wire contracts: the envelope, subjects, payload models and their registry.

Producers and consumers (in any language) depend on these definitions; the JSON Schemas and
AsyncAPI document published beside the package are generated from them.
"""

from llmops_contracts import subjects
from llmops_contracts.envelope import Envelope, Kind, MessageSpec, Payload, new_event_id, wrap
from llmops_contracts.registry import InvalidMessage, parse

__all__ = [
    "Envelope",
    "InvalidMessage",
    "Kind",
    "MessageSpec",
    "Payload",
    "new_event_id",
    "parse",
    "subjects",
    "wrap",
]
