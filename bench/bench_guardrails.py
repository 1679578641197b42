"""Guardrails through NATS: check latency and throughput of one replica against raw request/reply.

One throwaway nats-server; the guardrails service runs as its own process (``python -m
llmops_guardrails``, as deployed), and so does the baseline, a raw nats-py responder that echoes
the request. The client is raw nats-py in this process, sending prepared check envelopes of
1 KB prompts one at a time (latency: p50, p99) and then ``CONCURRENCY`` at a time for a few
seconds (checks/s of the one replica). The raw baseline and each edge's two check rows are
measured in ``ROUNDS`` alternating rounds against processes running side by side, so a drift
in the machine's load reaches the baseline and the checks alike. Rows:

- raw nats-py request/reply of the same bytes (the floor);
- the default input policy (the built-in one: denylist, injection, e-mail, card);
- a regex-only input policy (e-mail, card, denylist), pushed for a tenant of its own: the cost
  of the service without the injection detector;
- tool-call checks under that policy: a tool with a rate rule, every call admitted (each
  admission two JetStream round trips to the rate windows' bucket, on one hot window), and a
  tool without one: the checks/s of the first show whether a replica answers other checks while
  one waits on the bucket;
- the decision alone, in this process (no NATS), for the default policy;
- both check rows again with the check endpoint served through FastStream
  (``LLMOPS_GUARDRAILS_DIRECT_ENDPOINTS=false``), for comparison.

Environment: ``LLMOPS_BENCH_GUARDRAILS_N`` (requests per latency row, default 2000),
``LLMOPS_BENCH_GUARDRAILS_SECONDS`` (throughput window, default 3).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import nats

from bench._harness import RESPONDER, nats_server, process, report, until_answering
from llmops_contracts import subjects, wrap
from llmops_contracts.guardrails import GuardrailCheckRequest, GuardrailPolicyRequest
from llmops_contracts.headers import ERROR
from llmops_contracts.registry import parse

N = int(os.environ.get("LLMOPS_BENCH_GUARDRAILS_N", "2000"))
SECONDS = float(os.environ.get("LLMOPS_BENCH_GUARDRAILS_SECONDS", "3"))
CONCURRENCY = 32
WARMUP = 200
#: Alternating rounds of the raw baseline and the checks (see ``alternated``).
ROUNDS = 5
PROMPT_CHARS = 1024
WORDS = [
    "please",
    "help",
    "me",
    "with",
    "my",
    "order",
    "the",
    "package",
    "arrived",
    "late",
    "and",
    "the",
    "box",
    "was",
    "damaged",
    "could",
    "you",
    "check",
    "the",
    "tracking",
    "number",
    "and",
    "tell",
    "me",
    "when",
    "the",
    "replacement",
    "ships",
    "I",
    "also",
    "want",
    "to",
    "change",
    "the",
    "delivery",
    "address",
    "for",
    "next",
    "week",
    "and",
    "ask",
    "whether",
    "the",
    "refund",
    "for",
    "the",
    "previous",
    "invoice",
    "went",
    "through",
    "thanks",
    "a",
    "lot",
    "for",
    "your",
    "support",
    "team",
    "answer",
    "yesterday",
    "about",
    "the",
    "warranty",
    "of",
    "the",
    "headphones",
    "which",
    "stopped",
    "charging",
    "after",
    "two",
    "months",
    "of",
    "normal",
    "use",
    "at",
    "home",
]
REGEX_POLICY = """\
id: regex
version: "1"
input:
  - detector: denylist
    action: block
    options: {terms: [project falcon]}
  - detector: email
    action: redact
  - detector: card
    action: redact
tools:
  allow:
    - name: search
      rate: {calls: 1000000000, per_s: 60}
    - name: lookup
"""


def prompts(n: int, seed: int = 7) -> list[str]:
    """``n`` different benign 1 KB prompts (words of a support conversation, shuffled)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(PROMPT_CHARS // 4)]
        text = f"Ticket {i}: " + " ".join(words)
        out.append(text[:PROMPT_CHARS])
    return out


def bodies(tenant: str, policy: str, texts: list[str]) -> list[bytes]:
    """Check request envelopes, serialised once (the client's cost is not measured)."""
    return [
        wrap(
            GuardrailCheckRequest(stage="input", content=t, policy=policy),
            tenant=tenant,
            source="app://bench",
        ).to_json()
        for t in texts
    ]


def tool_bodies(tenant: str, policy: str, tool: str, texts: list[str]) -> list[bytes]:
    """Tool-call check envelopes for ``tool``, arguments from the prompts."""
    return [
        wrap(
            GuardrailCheckRequest(
                stage="tool_call",
                tool={"name": tool, "arguments": {"query": t[:200]}},
                actor={"app": "bench"},
                policy=policy,
            ),
            tenant=tenant,
            source="app://bench",
        ).to_json()
        for t in texts
    ]


async def latencies(
    nc: Any, subject: str, payloads: list[bytes], *, warmup: bool = True
) -> list[float]:
    """Milliseconds of each request/reply, one at a time (after a warm-up)."""
    for body in payloads[:WARMUP] if warmup else ():
        await nc.request(subject, body, timeout=10)
    out = []
    for body in payloads:
        start = time.perf_counter()
        reply = await nc.request(subject, body, timeout=10)
        out.append((time.perf_counter() - start) * 1000)
        if reply.headers and ERROR in reply.headers:
            raise RuntimeError(f"refused: {reply.data!r}")
    return out


async def alternated(
    nc: Any, cases: list[tuple[str, list[bytes]]]
) -> tuple[list[list[float]], list[list[float]]]:
    """Latencies of each ``(subject, payloads)`` case, measured in ``ROUNDS`` alternating
    rounds (each round a slice of every case's payloads, case after case), so every case sees
    the same machine: on a shared machine the load drifts within seconds, and a baseline
    measured before the rest would drift with it. Every payload is measured once (round ``r``
    takes every ``ROUNDS``-th from ``r``). Returns each case's latencies, and each round's p50
    per case."""
    if any(len(payloads) < ROUNDS for _, payloads in cases):
        raise ValueError(f"each case needs at least {ROUNDS} payloads, one per round")
    for subject, payloads in cases:
        for body in payloads[:WARMUP]:
            await nc.request(subject, body, timeout=10)
    pooled: list[list[float]] = [[] for _ in cases]
    rounds: list[list[float]] = []
    for r in range(ROUNDS):
        this_round = []
        for k, (subject, payloads) in enumerate(cases):
            ms = await latencies(nc, subject, payloads[r::ROUNDS], warmup=False)
            pooled[k].extend(ms)
            this_round.append(_pct(ms, 0.5))
        rounds.append(this_round)
    return pooled, rounds


async def throughput(nc: Any, subject: str, payloads: list[bytes]) -> float:
    """Requests/s with ``CONCURRENCY`` in flight for ``SECONDS``."""
    done = 0
    stop = time.perf_counter() + SECONDS

    async def worker(k: int) -> None:
        nonlocal done
        i = k
        while time.perf_counter() < stop:
            await nc.request(subject, payloads[i % len(payloads)], timeout=10)
            done += 1
            i += CONCURRENCY

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))
    return done / (time.perf_counter() - start)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(url: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Measure every row against the server at ``url``."""
    data = tempfile.mkdtemp(prefix="llmops-bench-guardrails-")
    env = {
        **os.environ,
        "NATS_URL": url,
        "LLMOPS_GUARDRAILS_HEALTH_PORT": "0",
        "LLMOPS_GUARDRAILS_OUTBOX_PATH": str(Path(data) / "outbox.db"),
        "LLMOPS_GUARDRAILS_LOG_LEVEL": "WARNING",
    }
    echo_subject = "bench.echo"
    texts = prompts(N)
    default = bodies("bench", "default", texts)
    regex = bodies("benchre", "regex", texts)
    rated = tool_bodies("benchre", "regex", "search", texts)
    unrated = tool_bodies("benchre", "regex", "lookup", texts)
    check = subjects.for_tenant(subjects.GUARDRAILS_CHECK, "bench")
    check_re = subjects.for_tenant(subjects.GUARDRAILS_CHECK, "benchre")
    rows: list[dict[str, Any]] = []
    took: list[float] = []
    raw_p50, ratios = 0.0, [0.0]
    nc = await nats.connect(url)
    try:
        with process(["-c", RESPONDER, url, echo_subject], env):
            await until_answering(nc, echo_subject, b"x")
            # One replica at a time: the direct nats-py endpoints (the default), then
            # FastStream's. The raw echo answers beside each, and they are measured in
            # alternating rounds; each edge's rows are compared with the raw p50 of its rounds.
            for edge, direct in (("", "true"), (", FastStream edge", "false")):
                service_env = {**env, "LLMOPS_GUARDRAILS_DIRECT_ENDPOINTS": direct}
                with process(["-m", "llmops_guardrails"], service_env):
                    await until_answering(nc, check, default[0])
                    if not edge:
                        await _push_regex_policy(nc)  # kept in the bucket for the next edge
                    (raw, ours, ours_re), rounds = await alternated(
                        nc, [(echo_subject, default), (check, default), (check_re, regex)]
                    )
                    edge_raw_p50 = _pct(raw, 0.5)
                    if not edge:
                        raw_p50 = edge_raw_p50
                        ratios = [checked / echoed for echoed, checked, _ in rounds]
                        raw_rate = await throughput(nc, echo_subject, default)
                        rows.append(
                            _row("raw nats-py request/reply (echo)", raw, raw_rate, raw_p50)
                        )
                        for body in default[:500]:
                            answer = await nc.request(check, body, timeout=10)
                            took.append(parse(answer.data).data.took_ms)
                    our_rate = await throughput(nc, check, default)
                    re_rate = await throughput(nc, check_re, regex)
                    tools = [] if edge else await _tool_rows(nc, check_re, rated, unrated, raw_p50)
                rows.append(
                    _row(f"check: default input policy{edge}", ours, our_rate, edge_raw_p50)
                )
                rows.append(
                    _row(f"check: regex-only input policy{edge}", ours_re, re_rate, edge_raw_p50)
                )
                rows.extend(tools)
    finally:
        await nc.close()

    from llmops_guardrails.engine import load_policy
    from llmops_guardrails.policies import builtin_policy, render

    policy = load_policy(render(builtin_policy()))
    for t in texts[:WARMUP]:
        policy.decide("input", t)
    decide_ms = []
    for t in texts:
        start = time.perf_counter()
        policy.decide("input", t)
        decide_ms.append((time.perf_counter() - start) * 1000)
    rows.append(_row("decision only, default policy (no NATS)", decide_ms, None, raw_p50))
    notes = [
        f"{N} requests of {PROMPT_CHARS}-character prompts, one at a time; throughput with "
        f"{CONCURRENCY} in flight for {SECONDS:g} s against one replica (one process).",
        f"raw and each edge's check rows: {ROUNDS} alternating rounds of every {ROUNDS}th "
        "request; x raw is against the raw p50 of the same rounds; the direct edge's default "
        f"policy p50 over raw's, per round: {min(ratios):.2f}-{max(ratios):.2f}.",
        f"service-side took_ms of the default policy: p50 {statistics.median(took):.3f} ms.",
        "targets: check p50 <= 1 ms, p99 <= 3 ms, p50 <= 3x raw.",
    ]
    return rows, notes


async def _tool_rows(
    nc: Any, subject: str, rated: list[bytes], unrated: list[bytes], raw_p50: float
) -> list[dict[str, Any]]:
    """Tool-call checks with and without a rate rule (the regex policy's ``tools``)."""
    rated_ms = await latencies(nc, subject, rated)
    unrated_ms = await latencies(nc, subject, unrated)
    return [
        _row(
            "tool check: rate rule, admitted (KV bucket)",
            rated_ms,
            await throughput(nc, subject, rated),
            raw_p50,
        ),
        _row(
            "tool check: no rate rule",
            unrated_ms,
            await throughput(nc, subject, unrated),
            raw_p50,
        ),
    ]


async def _push_regex_policy(nc: Any) -> None:
    push = wrap(
        GuardrailPolicyRequest(action="push", document=REGEX_POLICY),
        tenant="benchre",
        source="cli://bench",
    )
    subject = subjects.for_tenant(subjects.GUARDRAILS_POLICY, "benchre")
    deadline = time.monotonic() + 60
    while True:  # the policy endpoint (FastStream's) may subscribe after the check endpoint
        try:
            pushed = await nc.request(subject, push.to_json(), timeout=10)
            break
        except nats.errors.NoRespondersError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
    if pushed.headers and ERROR in pushed.headers:
        raise RuntimeError(pushed.data.decode())


def _row(case: str, ms: list[float], rate: float | None, raw_p50: float) -> dict[str, Any]:
    p50 = _pct(ms, 0.5)
    return {
        "case": case,
        "p50 ms": round(p50, 3),
        "p99 ms": round(_pct(ms, 0.99), 3),
        "x raw p50": round(p50 / raw_p50, 2),
        "per s (1 replica)": round(rate) if rate is not None else "",
    }


def main() -> None:
    """Print the table; write bench/results/guardrails.json."""
    with nats_server() as url:
        rows, notes = asyncio.run(run(url))
    report("guardrails", "Guardrails checks through NATS (1 KB prompts)", rows, notes)


if __name__ == "__main__":
    main()
