"""JSON Schema validators for the output checks and the tool policy, compiled once per schema.

``jsonschema`` is imported on first use, not with this module: with guardrails-ai installed it
pulls ``rfc3987_syntax`` (for the ``iri`` formats), which builds a grammar at import and costs
about two seconds, a price only a policy that uses a schema should pay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def compile_schema(schema: Mapping[str, Any], *, formats: bool = False) -> Any:
    """A validator for ``schema`` (Draft 2020-12 unless its ``$schema`` says otherwise).

    Args:
        schema: the JSON Schema.
        formats: also check ``format`` keywords (``email``, ``date-time`` ...).

    Returns:
        A ``jsonschema`` validator: ``iter_errors(instance)`` yields the violations.

    Raises:
        ValueError: the schema itself is invalid (the message says why).
    """
    import jsonschema  # type: ignore[import-untyped]  # no stubs in the runtime deps

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ValueError(f"invalid JSON Schema: {e.message}") from e
    return cls(schema, format_checker=cls.FORMAT_CHECKER if formats else None)
