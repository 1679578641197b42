"""A small LLM application's traffic, published with the llmops client.

It plays a support bot for two tenants: it ingests knowledge-base documents, answers questions
(retrieval + guardrails + LLM calls with realistic usage), requests a tool call and an eval run,
and sends one broken event so the dead-letter stream has something to show. On the cost side it
sets a small monthly budget (so soft thresholds fire), sends a call of a model no price table
knows (``price_missing``) and one without usage (estimated offline), then loads a negotiated
price for that model (the waiting call is re-priced), asks ``budget_check`` and prints a report.

Run it against a running stack: ``NATS_URL=nats://127.0.0.1:PORT python examples/demo_app.py``
(``make run`` does this for you).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from llmops import Client, RequestError
from llmops_contracts.common import Actor, PromptRef
from llmops_contracts.costs import (
    Budget,
    BudgetCheck,
    BudgetScope,
    BudgetsRequest,
    CostReportQuery,
    PricesLoad,
)
from llmops_contracts.evaluation import RunEval
from llmops_contracts.guardrails import GuardrailCheckRequest, Stage
from llmops_contracts.ingestion import SubmitDocument
from llmops_contracts.llm import Content, LlmCallCompleted, Message, Usage
from llmops_contracts.retrieval import RetrievalQuery
from llmops_contracts.tools import ToolCallRequested

DOCS = {
    "refunds": (
        "Refund policy",
        "Refunds are issued to the original payment method within 14 days of a return.\n\n"
        "Items bought on sale can be refunded as store credit only. Contact support with the "
        "order number for exceptions; a manager approves refunds above 500 euros.",
    ),
    "shipping": (
        "Shipping times",
        "Standard shipping takes three to five business days within the EU. Express shipping "
        "arrives the next business day when ordered before 2 pm.\n\nInternational orders may "
        "take up to three weeks and can incur customs fees paid by the customer.",
    ),
    "stub": ("Too short", "TODO"),  # fails the source-quality rules on purpose
}

MODELS = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-haiku-4-5"),
]

GOLDEN = [
    {
        "case_id": "c1",
        "input": "How long do refunds take?",
        "expected": "within 14 days",
        "output": "within 14 days",
    },
    {
        "case_id": "c2",
        "input": "Is express shipping next day?",
        "expected": "next business day",
        "output": "the next business day",
    },
    {
        "case_id": "c3",
        "input": "Who pays customs?",
        "expected": "the customer",
        "output": "customs are included",
    },
]


def _llm_call(rng: random.Random, app: str, user: str) -> LlmCallCompleted:
    provider, model = rng.choice(MODELS)
    cached = rng.choice([0, 0, 512, 1024])
    input_tokens = cached + rng.randint(80, 1500)
    output_tokens = rng.randint(20, 400)
    return LlmCallCompleted(
        provider=provider,
        request_model=model,
        response_model=model,
        usage=Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_input_tokens=cached,
            reasoning_tokens=rng.randint(0, output_tokens // 2) if "sonnet" in model else 0,
        ),
        raw_usage={"prompt_tokens": input_tokens, "completion_tokens": output_tokens},
        latency_ms=round(rng.uniform(250, 2500), 1),
        time_to_first_token_ms=round(rng.uniform(80, 400), 1),
        finish_reasons=["stop"],
        prompt=PromptRef(
            name="support-answer", version=str(rng.choice([6, 7])), label="production"
        ),
        actor=Actor(app=app, user=user, session=f"s-{rng.randint(1, 9)}"),
        service_tier="default",
    )


#: A negotiated price for a model no public price table lists (loaded after its call arrived).
PRIVATE_MODEL = ("acme-llm", "acme-large-2")
PRIVATE_PRICE = {
    "provider": PRIVATE_MODEL[0],
    "model": PRIVATE_MODEL[1],
    "effective_from": "2026-01-01T00:00:00+00:00",
    "version": "acme-contract-2026",
    "prices": {
        "mode": "chat",
        "tiers": {"standard": [{"input": "0.000002", "output": "0.000008"}]},
    },
}


def _cost_calls(app: str) -> list[LlmCallCompleted]:
    """A call of an unpriced model, and one that reported no usage but carries its messages."""
    unpriced = LlmCallCompleted(
        provider=PRIVATE_MODEL[0],
        request_model=PRIVATE_MODEL[1],
        usage=Usage(input_tokens=1800, output_tokens=250),
        latency_ms=900.0,
        actor=Actor(app=app, user="u-1"),
    )
    no_usage = LlmCallCompleted(
        provider="openai",
        request_model="gpt-4o-mini",
        latency_ms=600.0,
        content=Content(
            input_messages=[
                Message(role="system", content="You answer questions about refunds."),
                Message(role="user", content="How long do refunds take?"),
            ],
            output_messages=[
                Message(role="assistant", content="Refunds are issued within 14 days.")
            ],
        ),
        actor=Actor(app=app, user="u-2"),
    )
    return [unpriced, no_usage]


async def _costs(client: Client, tenant: str) -> None:
    """Load the negotiated price, ask budget_check, and print the spend per model."""
    try:
        loaded = await client.request(PricesLoad(overrides=[PRIVATE_PRICE]))
        print(f"[{tenant}] costs: loaded a price, {loaded.data.repriced} waiting call(s) re-priced")
        decision = await client.request(
            BudgetCheck(
                provider="openai",
                model="gpt-4o",
                app="support-bot",
                user="u-1",
                usage=Usage(input_tokens=2000, output_tokens=400),
            )
        )
        verdict = "allow" if decision.data.allow else f"deny ({decision.data.reason})"
        print(f"[{tenant}] costs: budget_check for a gpt-4o call: {verdict}")
        # An application asks about its own last day: its wall clock is the right one here.
        yesterday = datetime.now(UTC) - timedelta(days=1)  # clock-ok: the demo app's own day
        report = await client.request(
            CostReportQuery(since=yesterday, by=["model"], granularity="total")
        )
        for row in report.data.rows:
            print(f"[{tenant}] costs: {row.group['model']}: {row.calls} call(s), ${row.cost}")
    except (RequestError, TimeoutError) as exc:
        print(f"[{tenant}] costs request failed: {exc}")


async def main(url: str, data_dir: Path) -> None:
    """Publish the demo traffic and print what happened."""
    rng = random.Random(7)
    golden_dir = data_dir / "golden"
    golden_dir.mkdir(parents=True, exist_ok=True)
    (golden_dir / "support.jsonl").write_text("".join(json.dumps(c) + "\n" for c in GOLDEN))

    for tenant in ("acme", "globex"):
        async with await Client.connect(url, source="app://support-bot", tenant=tenant) as client:
            for doc_id, (title, text) in DOCS.items():
                await client.publish(
                    SubmitDocument(document_id=doc_id, collection="kb", title=title, text=text)
                )
            try:  # a small monthly budget, so the demo's spend crosses its soft thresholds
                budget = Budget(
                    id="support-monthly",
                    scope=BudgetScope.APP,
                    scope_value="support-bot",
                    limit=Decimal("0.05"),
                    hard=True,
                )
                await client.request(BudgetsRequest(action="set", budget=budget))
            except (RequestError, TimeoutError) as exc:
                print(f"[{tenant}] setting a budget failed: {exc}")
            calls = [_llm_call(rng, "support-bot", f"u-{rng.randint(1, 5)}") for _ in range(20)]
            stored = await client.publish_many([*calls, *_cost_calls("support-bot")])
            print(f"[{tenant}] published 3 documents and {stored} LLM calls")

            await asyncio.sleep(0.5)  # let ingestion index the documents before asking
            try:
                result = await client.request(
                    RetrievalQuery(query="how long do refunds take", collection="kb", top_k=2)
                )
                best = result.data.hits[0].document_id if result.data.hits else "nothing"
                print(f"[{tenant}] retrieval: {len(result.data.hits)} hit(s), best: {best}")
            except (RequestError, TimeoutError) as exc:
                print(f"[{tenant}] retrieval request failed: {exc}")
            try:
                verdict = await client.request(
                    GuardrailCheckRequest(
                        stage=Stage.INPUT,
                        content="Refund order 991 to jane.doe@example.com please",
                    )
                )
                print(f"[{tenant}] guardrails: {verdict.data.outcome}")
            except (RequestError, TimeoutError) as exc:
                print(f"[{tenant}] guardrail request failed: {exc}")

            await client.publish(
                ToolCallRequested(
                    call_id=f"call-{rng.randint(1000, 9999)}",
                    tool_name="issue_refund",
                    arguments={"order_id": "o-991", "amount": 42.5},
                    actor=Actor(app="support-bot", user="u-1"),
                )
            )
            await client.publish(
                RunEval(run_id=f"demo-{tenant}", golden_set="support", gate={"token_f1": 0.6})
            )
            await _costs(client, tenant)

        # A broken event (usage is not a number): it lands on the dead-letter stream.
        async with await Client.connect(url) as raw:
            bad = _llm_call(rng, "support-bot", "u-1").model_dump(mode="json")
            bad["usage"]["input_tokens"] = "many"
            body = {
                "id": f"0190a000-0000-7000-8000-{rng.randint(0, 10**12):012d}",
                "type": "llmops.llm.call_completed.v1",
                "source": "app://support-bot",
                "tenant": tenant,
                "data": bad,
            }
            from llmops_contracts import subjects

            subject = subjects.for_tenant(subjects.LLM_CALL_COMPLETED, tenant)
            await raw.nc.jetstream().publish(subject, json.dumps(body).encode())
    print("demo traffic sent; one invalid event went to the dead-letter stream on purpose")


if __name__ == "__main__":
    asyncio.run(
        main(
            os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
            Path(os.environ.get("LLMOPS_DATA_DIR", ".llmops")),
        )
    )
