"""Generate the published JSON Schemas and the AsyncAPI 3.0 document from the models.

Both are plain dicts here (the contracts package imports nothing but pydantic); the ``llmops
contracts export`` command writes them to files, and a test fails when the committed copies drift.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from llmops_contracts import registry, subjects
from llmops_contracts.envelope import Kind, Payload
from llmops_contracts.prices import PriceDocument, PriceOverrideSpec

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
VERSION = "0.1.0"


def schema_path(payload: type[Payload]) -> str:
    """Relative path of a type's schema file: ``<domain>/v<N>/<name>.json``."""
    spec = payload.SPEC
    return f"{spec.domain}/v{spec.version}/{spec.name}.json"


def schema_id(payload: type[Payload]) -> str:
    """The ``$id`` of a type's schema: a URN naming the type id."""
    return f"urn:llmops:schema:{payload.SPEC.type}"


def json_schema(payload: type[Payload]) -> dict[str, Any]:
    """The JSON Schema of the whole envelope carrying one payload type."""
    spec = payload.SPEC
    schema = registry.envelope_model(spec.type).model_json_schema(mode="validation")
    schema["properties"]["type"] = {
        "const": spec.type,
        "description": schema["properties"]["type"].get("description", ""),
        "type": "string",
    }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_id(payload),
        "title": spec.type,
        "description": f"{spec.summary} (kind: {spec.kind.value})",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


#: Documents published beside the messages, by schema path: files people write and tools
#: read (a price file for ``llmops costs prices load``), which messages also carry.
DOCUMENTS: dict[str, type[BaseModel]] = {
    "costs/v1/price_document.json": PriceDocument,
    "costs/v1/price_override.json": PriceOverrideSpec,
}


def document_schema(path: str, model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of a published document (see :data:`DOCUMENTS`)."""
    domain, version, name = path.removesuffix(".json").split("/")
    schema = model.model_json_schema(mode="validation")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:llmops:schema:{domain}.{name}.{version}",
        **schema,
    }


def json_schemas() -> dict[str, dict[str, Any]]:
    """Every published schema (messages and documents), keyed by its relative path."""
    schemas = {schema_path(p): json_schema(p) for p in registry.PAYLOADS}
    schemas.update((path, document_schema(path, m)) for path, m in DOCUMENTS.items())
    return schemas


def _channel_id(payload: type[Payload]) -> str:
    return payload.SPEC.type.removeprefix("llmops.").rsplit(".", 1)[0].replace(".", "_")


def _address(payload: type[Payload]) -> tuple[str, tuple[str, ...]]:
    spec = payload.SPEC
    assert spec.subject is not None
    if spec.kind is Kind.DEAD_LETTER:
        return f"{spec.subject}.{{service}}.{{tenant}}", ("service", "tenant")
    return f"{spec.subject}.{{tenant}}", ("tenant",)


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the whole suite."""
    models: list[tuple[type[BaseModel], Literal["validation"]]] = [
        (registry.envelope_model(p.SPEC.type), "validation") for p in registry.PAYLOADS
    ]
    keys, top = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = copy.deepcopy(top.get("$defs", {}))
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for payload, (model, mode) in zip(registry.PAYLOADS, models, strict=True):
        spec = payload.SPEC
        msg_id = spec.type.replace(".", "_")
        messages[msg_id] = {
            "name": spec.type,
            "title": payload.__name__,
            "summary": spec.summary,
            "contentType": "application/json",
            "payload": keys[(model, mode)],
            "x-kind": spec.kind.value,
            "x-producers": list(spec.producers),
            "x-consumers": list(spec.consumers),
        }
        if spec.subject is None:
            continue  # replies travel on the requester's inbox
        address, params = _address(payload)
        chan = _channel_id(payload)
        stream = subjects.stream_for(spec.subject + ".x")
        channels[chan] = {
            "address": address,
            "title": spec.type,
            "description": spec.summary
            + (f" JetStream stream: {stream}." if stream else " Core NATS."),
            "parameters": {
                param: {"description": f"The {param} id (one subject token)."} for param in params
            },
            "messages": {msg_id: {"$ref": f"#/components/messages/{msg_id}"}},
        }
        # Operations are described from the llmops suite's side: it receives what applications
        # send, and sends what its services produce.
        from_app = spec.kind in (Kind.COMMAND, Kind.REQUEST) or "application" in spec.producers
        op: dict[str, Any] = {
            "action": "receive" if from_app else "send",
            "channel": {"$ref": f"#/channels/{chan}"},
            "summary": spec.summary,
            "messages": [{"$ref": f"#/channels/{chan}/messages/{msg_id}"}],
        }
        if spec.reply:
            reply_id = spec.reply.replace(".", "_")
            op["reply"] = {"messages": [{"$ref": f"#/components/messages/{reply_id}"}]}
        operations[("receive_" if from_app else "send_") + chan] = op
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "llmops",
            "version": VERSION,
            "description": (
                "Events, commands and request/reply endpoints of the llmops control plane. Every "
                "message is a CloudEvents-style JSON envelope; the tenant is the last subject token."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "localhost:4222", "protocol": "nats"}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }
