"""structlog, configured once per process: console on a terminal, JSON otherwise.

Standard-library loggers (FastStream, nats-py, SQLAlchemy) go through the same renderer, and ids
bound with :func:`structlog.contextvars.bind_contextvars` (tenant, trace, correlation, event) appear
on every line logged while a message is handled.

Every value is bounded (:class:`BoundValues`): a log line that quotes a hostile payload or its
traceback stays a few kilobytes, so no reader (``llmops dev``'s pump, a log shipper) chokes on
it and a blocked pipe cannot stall the service for one message.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

#: Longest logged string value, in characters.
MAX_VALUE_CHARS = 2_000
#: Longest logged traceback (``exception``), in characters; each of its lines is bounded too.
MAX_TRACEBACK_CHARS = 8_000


def _cut(text: str, limit: int, head_share: float = 0.75) -> str:
    """``text`` cut to about ``limit`` characters, head and tail kept, saying how much went."""
    if len(text) <= limit:
        return text
    head = int(limit * head_share)
    tail = limit - head
    return f"{text[:head]}... [{len(text) - limit} characters cut] ...{text[-tail:]}"


class BoundValues:
    """structlog processor: bound every value of an event so no log line can grow unbounded.

    Strings longer than ``max_chars`` keep their head and tail and say how many characters
    were cut; other values are measured by their ``repr`` only when they are containers (a
    dict of a whole payload) and replaced by its cut text when too long. The traceback
    (``exception``) gets ``max_traceback`` characters, each of its lines ``max_chars``: the last
    lines name the error, and an error quoting a huge input is one huge line.

    Args:
        max_chars: longest string value.
        max_traceback: longest traceback.
    """

    def __init__(
        self, max_chars: int = MAX_VALUE_CHARS, max_traceback: int = MAX_TRACEBACK_CHARS
    ) -> None:
        self.max_chars = max_chars
        self.max_traceback = max_traceback

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """Bound the values of one event dict (structlog's processor signature)."""
        limit = self.max_chars
        for key, value in event.items():
            kind = type(value)
            if kind is str:
                if len(value) > limit:
                    if key == "exception":
                        event[key] = self._traceback(value)
                    else:
                        event[key] = _cut(value, limit)
            elif kind is bytes or kind is bytearray or kind in _CONTAINERS:
                text = repr(value)
                if len(text) > limit:
                    event[key] = _cut(text, limit)
        return event

    def _traceback(self, text: str) -> str:
        lines = [_cut(line, self.max_chars) for line in text.splitlines()]
        # Mostly the tail: the innermost frames and the error line are there.
        return _cut("\n".join(lines), self.max_traceback, head_share=0.25)


_CONTAINERS = (dict, list, tuple, set, frozenset)


def configure_logging(service: str, level: str = "INFO", fmt: str = "auto") -> None:
    """Configure structlog and the standard library for this process.

    Args:
        service: bound as ``service`` on every line.
        level: minimum level name.
        fmt: 'console', 'json', or 'auto' (console when stderr is a terminal).
    """
    console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                BoundValues(),  # after the traceback is text, before anything is written
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (bound to the process's service and per-message ids)."""
    return structlog.get_logger(name)
