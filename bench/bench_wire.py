"""The wire: envelope encode/decode against raw json, and client publishing against raw nats-py."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench._harness import best_of, nats_server, publish_pipelined, report
from llmops import Client
from llmops_contracts import headers, registry, wrap
from llmops_contracts.common import Actor, PromptRef
from llmops_contracts.llm import LlmCallCompleted, Usage

N_CODEC = 20_000
N_PUBLISH = 20_000


def _call(i: int) -> LlmCallCompleted:
    return LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o-mini",
        latency_ms=100.0 + i % 50,
        usage=Usage(input_tokens=1000 + i % 100, output_tokens=200, cache_read_input_tokens=512),
        prompt=PromptRef(name="support", version="7"),
        actor=Actor(app="bench", user=f"u-{i % 10}"),
    )


def codec_rows() -> list[dict[str, Any]]:
    """Envelope parse/serialise vs json.loads/json.dumps of the same bytes."""
    envelopes = [wrap(_call(i), tenant="bench", source="app://bench") for i in range(N_CODEC)]
    bodies = [e.to_json() for e in envelopes]
    dicts = [json.loads(b) for b in bodies]
    raw_decode = best_of(3, lambda: [json.loads(b) for b in bodies])
    our_decode = best_of(3, lambda: [registry.parse(b) for b in bodies])
    raw_encode = best_of(3, lambda: [json.dumps(d).encode() for d in dicts])
    our_encode = best_of(3, lambda: [e.to_json() for e in envelopes])
    return [
        _row("decode", "registry.parse", N_CODEC / our_decode, "json.loads", N_CODEC / raw_decode),
        _row(
            "encode", "Envelope.to_json", N_CODEC / our_encode, "json.dumps", N_CODEC / raw_encode
        ),
    ]


async def _publish_rows(url: str) -> list[dict[str, Any]]:
    calls = [_call(i) for i in range(N_PUBLISH)]
    prepared = [wrap(c, tenant="bench", source="app://bench") for c in calls]
    raw_msgs = [headers.wire(p) for p in prepared]

    # Every ack in flight at once, as the client's publish_many keeps them.
    raw = N_PUBLISH / await publish_pipelined(url, raw_msgs, window=len(raw_msgs))

    async with await Client.connect(url, source="app://bench", tenant="bench") as client:
        start = time.perf_counter()
        stored = await client.publish_many(list(calls))
        ours = N_PUBLISH / (time.perf_counter() - start)
    assert stored == N_PUBLISH
    return [
        _row(
            "publish (JetStream, pipelined)",
            "Client.publish_many (wrap + validate + publish)",
            ours,
            "nats-py publish_async of prepared bytes",
            raw,
        )
    ]


def _row(case: str, ours: str, our_rate: float, baseline: str, raw_rate: float) -> dict[str, Any]:
    return {
        "case": case,
        "llmops": ours,
        "msg/s": our_rate,
        "baseline": baseline,
        "baseline msg/s": raw_rate,
        "ratio": round(our_rate / raw_rate, 3),
    }


def main() -> None:
    """Run the wire benchmarks."""
    rows = codec_rows()
    with nats_server() as url:
        rows += asyncio.run(_publish_rows(url))
    report("wire", "Wire: envelopes and publishing (ratio = llmops / raw baseline)", rows)


if __name__ == "__main__":
    main()
