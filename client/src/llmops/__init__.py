"""llmops: the client for applications publishing to the llmops control plane, and its CLI."""

from llmops.client import Client, NoStreamError, RequestError

__all__ = ["Client", "NoStreamError", "RequestError"]
