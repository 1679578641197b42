"""NATS edge of the costs service: LLM-call batches in, and the report/budget/prices endpoints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from nats.aio.msg import Msg
from prometheus_client import Histogram

from llmops_contracts import subjects, wrap
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
from llmops_contracts.dlq import FailureKind
from llmops_contracts.envelope import Envelope
from llmops_contracts.headers import headers_for
from llmops_contracts.llm import LlmCallCompleted
from llmops_contracts.registry import InvalidMessage, parse
from llmops_costs.config import CostsSettings
from llmops_costs.service import SOURCE, CostsService, InvalidRequest, unaccountable
from llmops_shared.broker import MessageScope, backoff_s, consumer_config
from llmops_shared.dlq import reason_of
from llmops_shared.logging import get_logger

BATCH_SIZE = Histogram(
    "llmops_costs_batch_size",
    "LLM-call events per consumed batch.",
    buckets=(1, 8, 32, 64, 128, 256, 512, 1024),
)
CALL_TYPE = LlmCallCompleted.SPEC.type

_log = get_logger(__name__)


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


def build_router(
    service: CostsService, settings: CostsSettings, scope: MessageScope
) -> Callable[[NatsBroker], NatsRouter]:
    """The costs router: a batched consumer of LLM calls, four endpoints, the prices listener."""

    def factory(broker: NatsBroker) -> NatsRouter:
        router = NatsRouter()
        durable = settings.llm_calls_durable

        @router.subscriber(
            subjects.any_tenant(subjects.LLM_CALL_COMPLETED),
            stream=JStream(subjects.EVENTS_STREAM, declare=False),
            durable=durable,
            config=consumer_config(settings, durable),
            pull_sub=PullSub(
                batch_size=settings.batch_size, timeout=settings.batch_timeout_s, batch=True
            ),
            title="costs.llm_calls",
            description="Price every LLM call once; aggregate spend; count budgets.",
        )
        async def llm_calls(bodies: list[bytes]) -> None:
            """Parse a batch (dead-letter invalid items), price and store it in one commit."""
            batch: list[Msg] = broker.context.get_local("message").raw_message
            BATCH_SIZE.observe(len(batch))
            events: list[Envelope[LlmCallCompleted]] = []
            kept: list[Msg] = []
            for msg in batch:
                try:
                    event = parse(msg.data, expect=CALL_TYPE, subject=msg.subject)
                    problem = unaccountable(event)
                    if problem is not None:
                        raise InvalidMessage(problem)
                    events.append(event)
                    kept.append(msg)
                except InvalidMessage as exc:
                    assert scope.letters is not None
                    await scope.letters.send(msg, FailureKind.INVALID, exc.reason)
            if not events:
                return
            try:
                await service.record_batch(events, Redelivered(kept))
            except Exception:
                await _failed(kept, events)

        async def _failed(kept: list[Msg], events: list[Envelope[LlmCallCompleted]]) -> None:
            # Never let FastStream terminate a batch: a transient failure (database away, a
            # deadlock with another replica) must not lose calls. The batch is nacked with
            # backoff; on its last delivery each call is tried alone, so one poison call is
            # dead-lettered without its batch.
            deliveries = max(m.metadata.num_delivered for m in kept)
            if deliveries < settings.max_deliver:
                _log.exception("pricing a batch failed; it will be redelivered")
                for msg in kept:
                    if not msg._ackd:
                        await msg.nak(delay=backoff_s(deliveries))
                return
            _log.exception("pricing a batch failed on its last delivery; trying calls alone")
            for msg, event in zip(kept, events, strict=True):
                try:
                    await service.record_batch([event], [True])
                except Exception as exc:
                    assert scope.letters is not None
                    await scope.letters.send(msg, FailureKind.FAILED, reason_of(exc))

        queue = settings.rpc_queue

        @router.subscriber(subjects.any_tenant(subjects.COSTS_REPORT), queue=queue)
        async def report(request: Envelope[CostReportQuery]) -> Envelope[CostReport]:
            """Answer a tenant's spend report."""
            return _reply(
                await _call(service.report(request.tenant, request.data)), request, service
            )

        @router.subscriber(subjects.any_tenant(subjects.COSTS_BUDGETS), queue=queue)
        async def budgets(request: Envelope[BudgetsRequest]) -> Envelope[Budgets]:
            """Set, delete or list a tenant's budgets."""
            found = await _call(service.manage_budgets(request.tenant, request.data))
            return _reply(Budgets(budgets=found), request, service)

        @router.subscriber(subjects.any_tenant(subjects.COSTS_BUDGET_CHECK), queue=queue)
        async def budget_check(request: Envelope[BudgetCheck]) -> Envelope[BudgetDecision]:
            """Allow or deny a planned call against the tenant's hard budgets."""
            decision = await service.check_budget(request.tenant, request.data)
            return _reply(decision, request, service)

        @router.subscriber(subjects.any_tenant(subjects.COSTS_PRICES), queue=queue)
        async def prices(request: Envelope[PricesLoad]) -> Envelope[PricesLoaded]:
            """Load prices, re-price waiting calls, and tell every replica to reload."""
            loaded = await _call(service.load_prices(request.tenant, request.data))
            event = wrap(
                loaded,
                tenant=request.tenant,
                source=SOURCE,
                causation=request,
                time=service.clock.now(),
            )
            await service.sink.publish([(event.subject(), event.to_json(), headers_for(event))])
            return _reply(loaded, request, service)

        # Every replica (no queue group) hears that prices were loaded and reloads them.
        @router.subscriber(subjects.any_tenant(subjects.COSTS_PRICES_LOADED))
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


def _reply(result: Any, request: Envelope[Any], service: CostsService) -> Envelope[Any]:
    # Dated by the service's clock, like everything it publishes (without ``time`` an envelope
    # takes the wall clock, and a service on a fixed or shifted clock would answer from today).
    return wrap(
        result, tenant=request.tenant, source=SOURCE, causation=request, time=service.clock.now()
    )
