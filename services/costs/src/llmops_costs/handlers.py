"""NATS edge of the costs service: LLM-call batches in, the report/budget/prices endpoints, and
the budget changes and price loads every replica listens to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from nats.aio.msg import Msg
from prometheus_client import Histogram
from pydantic import ValidationError

from llmops_contracts import subjects
from llmops_contracts.costs import (
    BudgetCheck,
    BudgetDecision,
    Budgets,
    BudgetsRequest,
    CostReport,
    CostReportQuery,
    PricesLoad,
    PricesLoaded,
)
from llmops_contracts.envelope import Envelope, reply
from llmops_contracts.llm import LlmCallCompleted
from llmops_contracts.registry import InvalidMessage, parse
from llmops_costs.config import CostsSettings
from llmops_costs.entries import unaccountable
from llmops_costs.events import SOURCE
from llmops_costs.service import CostsService, InvalidRequest
from llmops_shared.batch import BatchConsumer
from llmops_shared.broker import MessageScope, consumer_config, decode_envelope

BATCH_SIZE = Histogram(
    "llmops_costs_batch_size",
    "LLM-call events per consumed batch.",
    buckets=(1, 8, 32, 64, 128, 256, 512, 1024),
)
CALL_TYPE = LlmCallCompleted.SPEC.type


class Redelivered(Sequence[bool]):
    """Whether each message of a batch was delivered before, read on demand.

    The service asks only about calls its ledger already held (rare), and parsing a message's
    JetStream metadata from its reply subject costs several microseconds per message.
    """

    def __init__(self, messages: Sequence[Msg]) -> None:
        self._messages = messages

    def __len__(self) -> int:
        return len(self._messages)

    @overload
    def __getitem__(self, index: int) -> bool: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[bool]: ...

    def __getitem__(self, index: int | slice) -> bool | Sequence[bool]:
        if isinstance(index, slice):
            return Redelivered(self._messages[index])
        return self._messages[index].metadata.num_delivered > 1


def parse_call(msg: Msg) -> Envelope[LlmCallCompleted]:
    """One LLM-call message to its envelope.

    Raises:
        InvalidMessage: it does not parse, or cannot be accounted.
    """
    event: Envelope[LlmCallCompleted] = parse(msg.data, expect=CALL_TYPE, subject=msg.subject)
    problem = unaccountable(event)
    if problem is not None:
        raise InvalidMessage(problem)
    return event


def llm_calls_consumer(
    service: CostsService, settings: CostsSettings, scope: MessageScope
) -> BatchConsumer[Envelope[LlmCallCompleted]]:
    """The LLM-call path: parse each message, price and store the valid in one transaction."""

    async def store(
        events: Sequence[Envelope[LlmCallCompleted]], messages: Sequence[Msg], retry: bool
    ) -> None:
        # Stored again within one delivery, an earlier attempt may have committed calls and
        # failed before publishing their events: treat them as redelivered so they are.
        await service.record_batch(events, [True] * len(events) if retry else Redelivered(messages))

    return BatchConsumer(
        "costs",
        parse_call,
        store,
        lambda: scope.letters,
        settings.max_deliver,
        ack_wait_s=settings.ack_wait_s,
    )


def build_router(
    service: CostsService, settings: CostsSettings, scope: MessageScope
) -> Callable[[NatsBroker], NatsRouter]:
    """The costs router: a batched consumer of LLM calls, four endpoints, the prices listener."""

    def factory(broker: NatsBroker) -> NatsRouter:
        router = NatsRouter()
        durable = settings.llm_calls_durable

        calls = llm_calls_consumer(service, settings, scope)

        @router.subscriber(
            subjects.any_tenant(subjects.LLM_CALL_COMPLETED),
            stream=JStream(subjects.EVENTS_STREAM, declare=False),
            durable=durable,
            config=consumer_config(settings, durable, unlimited=True),
            pull_sub=PullSub(
                batch_size=settings.batch_size, timeout=settings.batch_timeout_s, batch=True
            ),
            # The batch consumer settles every message itself: FastStream must never ack, nak
            # or (on an exception) terminate a batch.
            ack_policy=AckPolicy.MANUAL,
            title="costs.llm_calls",
            description="Price every LLM call once; aggregate spend; count budgets.",
        )
        async def llm_calls(bodies: list[bytes]) -> None:
            """Price and store a batch in one commit; invalid or unpriceable calls dead-lettered."""
            batch: list[Msg] = broker.context.get_local("message").raw_message
            BATCH_SIZE.observe(len(batch))
            await calls(batch)

        queue = settings.rpc_queue

        @router.subscriber(subjects.any_tenant(subjects.COSTS_REPORT), queue=queue)
        async def report(request: Envelope[CostReportQuery]) -> Envelope[CostReport]:
            """Answer a tenant's spend report."""
            found = await _call(service.report(request.tenant, request.data))
            return reply(found, request, source=SOURCE, time=service.clock.now())

        @router.subscriber(subjects.any_tenant(subjects.COSTS_BUDGETS), queue=queue)
        async def budgets(request: Envelope[BudgetsRequest]) -> Envelope[Budgets]:
            """Set, delete or list a tenant's budgets."""
            found = await _call(service.manage_budgets(request.tenant, request.data))
            return reply(Budgets(budgets=found), request, source=SOURCE, time=service.clock.now())

        # Budget changes are requests answered by one replica (the queue group above); every
        # replica also hears them here (no queue group, never replying, invalid ones ignored:
        # the replica answering says why), so its cached definitions are bypassed at once
        # instead of going stale for budget_cache_ttl_s.
        @router.subscriber(
            subjects.any_tenant(subjects.COSTS_BUDGETS), decoder=_quietly, no_reply=True
        )
        async def budgets_changing(request: Envelope[BudgetsRequest] | None) -> None:
            """Bypass this replica's cached budgets of a tenant whose budgets are changing."""
            if request is not None and request.data.action != "list":
                service.budgets_changing(request.tenant)

        @router.subscriber(subjects.any_tenant(subjects.COSTS_BUDGET_CHECK), queue=queue)
        async def budget_check(request: Envelope[BudgetCheck]) -> Envelope[BudgetDecision]:
            """Allow or deny a planned call against the tenant's hard budgets."""
            decision = await service.check_budget(request.tenant, request.data)
            return reply(decision, request, source=SOURCE, time=service.clock.now())

        @router.subscriber(subjects.any_tenant(subjects.COSTS_PRICES), queue=queue)
        async def prices(request: Envelope[PricesLoad]) -> Envelope[PricesLoaded]:
            """Load prices, re-price waiting calls, and tell every replica to reload."""
            loaded = await _call(service.load_prices(request.tenant, request.data, cause=request))
            return reply(loaded, request, source=SOURCE, time=service.clock.now())

        # Every replica (no queue group) hears that prices were loaded and reloads them. It
        # never replies: the event is published to the stream with the stream's ack inbox as
        # its reply subject, and an answer from here would reach the publisher as an ack.
        @router.subscriber(subjects.any_tenant(subjects.COSTS_PRICES_LOADED), no_reply=True)
        async def prices_loaded(event: Envelope[PricesLoaded]) -> None:
            """Reload prices loaded by a replica and re-price what they now price."""
            await service.prices_changed()

        return router

    return factory


async def _call(work: Any) -> Any:
    """Await the service; a refused request becomes an ``invalid`` error answer."""
    try:
        return await work
    except InvalidRequest as exc:
        raise InvalidMessage(str(exc)) from None


async def _quietly(msg: Any) -> Any:
    """The envelope of a message, or None when it is invalid (for listeners that never reply)."""
    try:
        return await decode_envelope(msg)
    except (InvalidMessage, ValidationError):
        return None
