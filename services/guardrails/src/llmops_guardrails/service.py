"""Guardrails logic: versioned policies per tenant, checks, streamed checks and their records.

No framework here. Policies live in a :class:`~llmops_guardrails.book.PolicyStore` (a JetStream
key-value bucket in production) and every replica keeps the versions in force in memory
(:class:`~llmops_guardrails.book.PolicyBook`),
refreshed when the store changes, so a check never waits for the store. Verdicts go to the
:class:`~llmops_guardrails.recorder.Recorder`: stored durably before the reply, published beside
it. Offsets in findings are Python string indices (code points) into the checked content.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from llmops_contracts import wrap
from llmops_contracts.envelope import Envelope, derived_id
from llmops_contracts.evaluation import ReviewRequested
from llmops_contracts.guardrails import (
    GuardrailCheckRequest,
    GuardrailPolicyRequest,
    GuardrailPolicyResult,
    GuardrailStreamChunk,
    GuardrailStreamVerdict,
    GuardrailVerdict,
    Outcome,
    PolicyAction,
    PolicyChanged,
    PolicyState,
    ShadowVerdictRecorded,
    Stage,
    StreamPosition,
    VerdictRecorded,
)
from llmops_contracts.registry import InvalidMessage
from llmops_contracts.tools import ToolCallRequested
from llmops_guardrails import vault_tokens
from llmops_guardrails.book import ENFORCED, SHADOW, PolicyBook, PolicyStore
from llmops_guardrails.engine import (
    CompiledPolicy,
    Decision,
    compile_policy,
    load_policy,
    tool_call_content,
)
from llmops_guardrails.policies import (
    BUILTIN_VERSION,
    DEFAULT_POLICY,
    PolicyDocument,
    PolicyError,
    parse_policy,
)
from llmops_guardrails.recorder import Recorder
from llmops_guardrails.streaming import judge_chunk
from llmops_guardrails.toolpolicy import RateWindows
from llmops_shared.clock import SYSTEM_CLOCK, Clock
from llmops_shared.logging import get_logger

__all__ = [
    "BUILTIN_VERSION",
    "SOURCE",
    "GuardrailsService",
    "PolicyBook",
    "PolicyStore",
    "sha256_hex",
    "tool_call_content",
]

SOURCE = "llmops/guardrails"
#: Longest content (characters) checked on the event loop; longer content is checked in a thread.
INLINE_LIMIT = 64 * 1024
#: The review queue escalated checks go to.
REVIEW_QUEUE = "guardrails"

_log = get_logger(__name__)


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 text, lowercase hex."""
    return hashlib.sha256(text.encode()).hexdigest()


class GuardrailsService:
    """Checks content and tool calls against versioned policies and records every verdict.

    Args:
        recorder: stores each verdict durably before the reply and publishes it beside it.
        store: where policy versions and their pointers live.
        builtin: the default policy of a tenant that pushed none.
        clock: business time (event times).
        timer: a monotonic timer for ``took_ms``.
        vault_key: seals reversible checks' vaults (``vault_tokens``); replicas share it.
        vault_ttl_s: how long a vault token opens.
        rates: where tool rate windows live (the bucket every replica shares); None: each
            policy version's own memory in this process.
    """

    def __init__(
        self,
        recorder: Recorder,
        store: PolicyStore,
        builtin: PolicyDocument,
        *,
        clock: Clock = SYSTEM_CLOCK,
        timer: Callable[[], float] = time.perf_counter,
        vault_key: bytes | None = None,
        vault_ttl_s: float = 3600,
        rates: RateWindows | None = None,
    ) -> None:
        self.recorder = recorder
        self.vault_key = vault_key if vault_key is not None else vault_tokens.new_key()
        self.vault_ttl = timedelta(seconds=vault_ttl_s)
        self.store = store
        self.rates = rates
        self.book = PolicyBook(builtin, clock)
        self.clock = clock
        self._timer = timer
        self._admin = asyncio.Lock()
        self._later: set[asyncio.Task[Any]] = set()

    # --- policies in force ------------------------------------------------------------------

    def warm(self) -> None:
        """Compile the built-in policy and run it once (loads detector weights before traffic)."""
        self.book.builtin.decide(Stage.INPUT, "warm up: hello")

    async def load_all(self) -> None:
        """Load every tenant's policies in force (at start, before answering checks)."""
        for tenant, policy in await self.store.pointed():
            await self.refresh(tenant, policy)

    async def refresh(self, tenant: str, policy: str) -> None:
        """Reload one policy's slots from the store (the store changed).

        A stored version that no longer compiles (written to the bucket by hand, or a detector
        since removed) is logged and skipped: the version in force before stays.
        """
        before = self.book.active(tenant, policy)
        enforced_v = await self.store.pointer(tenant, policy, ENFORCED)
        shadow_v = await self.store.pointer(tenant, policy, SHADOW)
        enforced = await self._loaded(
            tenant, policy, enforced_v, before.enforced if before else None
        )
        shadow = await self._loaded(tenant, policy, shadow_v, before.shadow if before else None)
        self.book.set(tenant, policy, enforced, shadow)

    async def _loaded(
        self, tenant: str, policy: str, version: str | None, previous: CompiledPolicy | None
    ) -> CompiledPolicy | None:
        if version is None:
            return None
        try:
            return await self._version(tenant, policy, version)
        except InvalidMessage as exc:
            _log.error(
                "a stored policy version cannot be used; the previous one stays in force",
                tenant=tenant,
                policy=policy,
                version=version,
                reason=exc.reason,
                kept=previous.version if previous else None,
            )
            return previous

    async def _version(self, tenant: str, policy: str, version: str) -> CompiledPolicy:
        """A compiled version (cached); the caller's error when it is unknown or unusable."""
        found = self.book.cached(tenant, policy, version)
        if found is not None:
            return found
        text = await self.store.document(tenant, policy, version)
        if text is None:
            raise InvalidMessage(f"data.policy: unknown policy {policy!r} version {version!r}")
        try:
            # In a thread: a policy naming a guardrails-ai validator imports guardrails-ai the
            # first time (seconds), which must not stop the checks of other tenants meanwhile.
            compiled = await asyncio.to_thread(load_policy, text, self.clock)
        except PolicyError as exc:
            raise InvalidMessage(
                f"data.policy: policy {policy!r} version {version!r} cannot be used: {exc}"
            ) from None
        self.book.keep(tenant, compiled)
        return compiled

    async def _resolve(
        self, tenant: str, policy: str, version: str | None
    ) -> tuple[CompiledPolicy, CompiledPolicy | None]:
        """The version to enforce and the shadow to run beside it (none when pinned)."""
        active = self.book.active(tenant, policy)
        if version is None:
            if active is None:
                raise InvalidMessage(f"data.policy: unknown policy {policy!r}")
            return active.enforced, active.shadow
        if active is not None and active.enforced.version == version:
            return active.enforced, None
        return await self._version(tenant, policy, version), None

    # --- checks -----------------------------------------------------------------------------

    async def check(self, request: Envelope[GuardrailCheckRequest]) -> GuardrailVerdict:
        """Decide a check request, record the verdict, and return the verdict to reply with."""
        started = self._timer()
        data = request.data
        policy, shadow = await self._resolve(request.tenant, data.policy, data.policy_version)
        tool = data.tool
        if tool is not None:
            content = tool_call_content(tool.name, tool.arguments)
            decision = await policy.adecide_tool(
                tool.name,
                tool.arguments,
                tenant=request.tenant,
                app=data.actor.app,
                agent=tool.agent,
                windows=self.rates,
            )
        else:
            content = data.content
            decision = await self._decide(policy, data.stage, content, data)
        took_ms = max((self._timer() - started) * 1000, 0.0)
        verdict = self._verdict_event(
            request,
            data.stage,
            policy,
            decision,
            sha256_hex(content),
            took_ms,
            tool_name=tool.name if tool else None,
        )
        # Stored before the reply is sent, so no verdict the application acts on is unaudited.
        self.recorder.record(self._with_review(request, verdict, decision, data.stage))
        if shadow is not None:
            self._soon(self._shadow(request, shadow, policy, decision, content))
        verdict_reply = GuardrailVerdict(
            outcome=decision.outcome,
            policy=policy.id,
            policy_version=policy.version,
            findings=decision.findings,
            redacted_content=decision.redacted_content,
            took_ms=took_ms,
        )
        if (data.reversible or data.vault is not None) and not decision.stops:
            now = self.clock.now()
            try:  # seal this check's vault; restore the placeholders of an earlier one
                back = vault_tokens.reverse(
                    self.vault_key,
                    request.tenant,
                    content,
                    decision.hidden,
                    token=data.vault,
                    seal_for=now + self.vault_ttl if data.reversible else None,
                    now=now,
                )
            except vault_tokens.VaultTokenError as exc:
                raise InvalidMessage(f"data.vault: {exc}") from exc
            if back.redacted is not None:
                verdict_reply.redacted_content = back.redacted
            verdict_reply.vault, verdict_reply.restored_content = back.token, back.restored
        return verdict_reply

    async def _decide(
        self,
        policy: CompiledPolicy,
        stage: Stage | str,
        content: str,
        data: GuardrailCheckRequest | GuardrailStreamChunk,
    ) -> Decision:
        context = getattr(data, "context", ())
        if policy.is_async:
            return await policy.adecide(
                stage, content, context=context, system_prompt=data.system_prompt
            )
        if len(content) > INLINE_LIMIT:
            # A long text takes the detectors a noticeable time (measured: docs/decisions.md);
            # off the event loop, it does not hold up the small checks arriving beside it.
            return await asyncio.to_thread(
                policy.decide, stage, content, context=context, system_prompt=data.system_prompt
            )
        return policy.decide(stage, content, context=context, system_prompt=data.system_prompt)

    async def stream(self, request: Envelope[GuardrailStreamChunk]) -> GuardrailStreamVerdict:
        """Check the next chunk of a streamed output with the tail of what came before."""
        started = self._timer()
        data = request.data
        policy, _ = await self._resolve(request.tenant, data.policy, data.policy_version)
        text = data.carry + data.chunk
        decision = await self._decide(policy, data.stage, text, data)
        judged = judge_chunk(policy, data.carry, data.offset, text, decision)
        took_ms = max((self._timer() - started) * 1000, 0.0)
        chunk_decision = Decision(judged.outcome, judged.findings)
        verdict = self._verdict_event(
            request,
            data.stage,
            policy,
            chunk_decision,
            sha256_hex(data.chunk),
            took_ms,
            stream=StreamPosition(session_id=data.session_id, seq=data.seq, offset=data.offset),
        )
        self.recorder.record(self._with_review(request, verdict, chunk_decision, data.stage))
        return GuardrailStreamVerdict(
            session_id=data.session_id,
            seq=data.seq,
            decision=judged.decision,
            outcome=judged.outcome,
            findings=judged.findings,
            carry=judged.carry,
            policy=policy.id,
            policy_version=policy.version,
            took_ms=took_ms,
        )

    async def check_tool_call(
        self, event: Envelope[ToolCallRequested], *, policy: str = DEFAULT_POLICY
    ) -> Envelope[VerdictRecorded]:
        """Check a requested tool call (an event on the stream) and record the verdict."""
        started = self._timer()
        data = event.data
        applied, _ = await self._resolve(event.tenant, policy, None)
        decision = await applied.adecide_tool(
            data.tool_name,
            data.arguments,
            tenant=event.tenant,
            app=data.actor.app,
            windows=self.rates,
        )
        took_ms = max((self._timer() - started) * 1000, 0.0)
        recorded = self._verdict_event(
            event,
            Stage.TOOL_CALL,
            applied,
            decision,
            sha256_hex(tool_call_content(data.tool_name, data.arguments)),
            took_ms,
            tool_name=data.tool_name,
            actor=data.actor,
        )
        self.recorder.record(self._with_review(event, recorded, decision, Stage.TOOL_CALL))
        return recorded

    def _verdict_event(
        self,
        cause: Envelope[Any],
        stage: Stage | str,
        policy: CompiledPolicy,
        decision: Decision,
        content_sha256: str,
        took_ms: float,
        *,
        tool_name: str | None = None,
        stream: StreamPosition | None = None,
        actor: Any = None,
    ) -> Envelope[VerdictRecorded]:
        return wrap(
            VerdictRecorded(
                check_id=cause.id,
                stage=stage,
                outcome=decision.outcome,
                policy=policy.id,
                policy_version=policy.version,
                findings=decision.findings,
                content_sha256=content_sha256,
                actor=actor if actor is not None else cause.data.actor,
                took_ms=took_ms,
                tool_name=tool_name,
                stream=stream,
            ),
            tenant=cause.tenant,
            source=SOURCE,
            causation=cause,
            id=derived_id(cause, "verdict_recorded"),
            time=self.clock.now(),
        )

    def _with_review(
        self,
        cause: Envelope[Any],
        verdict: Envelope[VerdictRecorded],
        decision: Decision,
        stage: Stage | str,
    ) -> list[Envelope[Any]]:
        """The verdict, and a review request when the policy escalated."""
        if decision.outcome != Outcome.REVIEW:
            return [verdict]
        kinds = sorted({f.kind or f.detector for f in decision.findings if f.action == "escalate"})
        review = wrap(
            ReviewRequested(
                review_id=derived_id(cause, "review_requested"),
                item_event_id=verdict.id,
                queue=REVIEW_QUEUE,
                reason=(
                    f"policy {verdict.data.policy} version {verdict.data.policy_version} "
                    f"escalated {Stage(stage).value}: {', '.join(kinds)}"
                )[:1000],
            ),
            tenant=cause.tenant,
            source=SOURCE,
            causation=cause,
            id=derived_id(cause, "review_requested"),
            time=self.clock.now(),
        )
        return [verdict, review]

    # --- shadow -----------------------------------------------------------------------------

    def _soon(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` after the reply (off the caller's path); kept until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def settle(self) -> None:
        """Wait for the work scheduled after replies (shadow verdicts): tests, and the drain."""
        while self._later:
            await asyncio.gather(*list(self._later), return_exceptions=True)

    async def _shadow(
        self,
        request: Envelope[GuardrailCheckRequest],
        shadow: CompiledPolicy,
        enforced: CompiledPolicy,
        decision: Decision,
        content: str,
    ) -> None:
        """Decide with the shadow version and record what it would have done."""
        data = request.data
        try:
            if data.tool is not None:
                would = await shadow.adecide_tool(
                    data.tool.name,
                    data.tool.arguments,
                    tenant=request.tenant,
                    app=data.actor.app,
                    agent=data.tool.agent,
                    windows=self.rates,
                )
            else:
                would = await self._decide(shadow, data.stage, content, data)
            self.recorder.record(
                [
                    wrap(
                        ShadowVerdictRecorded(
                            check_id=request.id,
                            stage=data.stage,
                            policy=enforced.id,
                            enforced_version=enforced.version,
                            enforced_outcome=decision.outcome,
                            shadow_version=shadow.version,
                            shadow_outcome=would.outcome,
                            agreed=would.outcome == decision.outcome,
                            findings=would.findings,
                            content_sha256=sha256_hex(content),
                        ),
                        tenant=request.tenant,
                        source=SOURCE,
                        causation=request,
                        id=derived_id(request, "shadow_verdict"),
                        time=self.clock.now(),
                    )
                ]
            )
        except Exception:  # a shadow is a sample: its failure must not touch enforcement
            _log.exception("shadow check failed", policy=shadow.id, version=shadow.version)

    # --- policy management ------------------------------------------------------------------

    async def manage(self, request: Envelope[GuardrailPolicyRequest]) -> GuardrailPolicyResult:
        """Push, list, show, roll back or shadow one of the tenant's policies."""
        data = request.data
        tenant = request.tenant
        async with self._admin:
            if data.action == PolicyAction.PUSH:
                return await self._push(request)
            if data.action == PolicyAction.LIST:
                ids = [data.policy] if data.policy else None
                return GuardrailPolicyResult(
                    policies=await self._states(tenant, ids), message="policies"
                )
            policy = data.policy or DEFAULT_POLICY
            if data.action == PolicyAction.SHOW:
                return await self._show(tenant, policy, data.version)
            if data.action == PolicyAction.ROLLBACK:
                if data.version is None:
                    raise InvalidMessage("data.version: rollback needs the version to enforce")
                return await self._move(request, policy, ENFORCED, data.version)
            return await self._move(request, policy, SHADOW, data.version)

    async def _push(self, request: Envelope[GuardrailPolicyRequest]) -> GuardrailPolicyResult:
        tenant, data = request.tenant, request.data
        if not data.document:
            raise InvalidMessage("data.document: push needs the policy document (YAML)")
        try:
            document = parse_policy(data.document)
            compiled = await asyncio.to_thread(compile_policy, document, data.document, self.clock)
        except PolicyError as exc:
            # Refused: nothing is written, the version in force stays.
            raise InvalidMessage(f"data.document: {exc}") from None
        if data.policy is not None and data.policy != document.id:
            raise InvalidMessage(
                f"data.policy: {data.policy!r} but the document's id is {document.id!r}"
            )
        if document.id == DEFAULT_POLICY and document.version == BUILTIN_VERSION:
            raise InvalidMessage(f"data.document: version {BUILTIN_VERSION!r} is the built-in one")
        stored = await self.store.create_document(
            tenant, document.id, document.version, data.document
        )
        if stored is not None and stored != data.document:
            raise InvalidMessage(
                f"data.document: policy {document.id!r} version {document.version!r} exists "
                "with another document; give the new document a new version"
            )
        self.book.keep(tenant, compiled)
        slot = SHADOW if data.shadow else ENFORCED
        result = await self._move(request, document.id, slot, document.version)
        changed = result.changed or stored is None
        return result.model_copy(
            update={
                "changed": changed,
                "message": result.message if changed else "unchanged: that version is in place",
            }
        )

    async def _move(
        self,
        request: Envelope[GuardrailPolicyRequest],
        policy: str,
        slot: str,
        version: str | None,
    ) -> GuardrailPolicyResult:
        """Put ``version`` in ``slot`` (it must exist and compile), apply it, record it."""
        tenant = request.tenant
        compiled = await self._version(tenant, policy, version) if version is not None else None
        if slot == ENFORCED and policy == DEFAULT_POLICY and version == BUILTIN_VERSION:
            version = None  # back to the built-in policy: no pushed version enforced
        previous = await self.store.pointer(tenant, policy, slot)
        changed = previous != version
        if changed:
            await self.store.point(tenant, policy, slot, version)
            self.recorder.record(
                [
                    wrap(
                        PolicyChanged(
                            policy=policy,
                            action=request.data.action,
                            slot=slot,
                            version=version,
                            previous=previous,
                            document_sha256=compiled.document_sha256 if compiled else None,
                        ),
                        tenant=tenant,
                        source=SOURCE,
                        causation=request,
                        id=derived_id(request, f"policy_changed.{slot}"),
                        time=self.clock.now(),
                    )
                ]
            )
        # This replica applies it at once; the others when their store watcher sees it.
        await self.refresh(tenant, policy)
        where = "enforced" if slot == ENFORCED else "in shadow"
        shown = version or (BUILTIN_VERSION if slot == ENFORCED else None)
        what = f"{policy} version {shown} {where}" if shown else f"{policy}: no shadow"
        return GuardrailPolicyResult(
            policies=await self._states(tenant, [policy]),
            version=shown,
            changed=changed,
            message=what if changed else f"unchanged: {what}",
        )

    async def _show(self, tenant: str, policy: str, version: str | None) -> GuardrailPolicyResult:
        if version is None:
            active = self.book.active(tenant, policy)
            if active is None:
                raise InvalidMessage(f"data.policy: unknown policy {policy!r}")
            compiled = active.enforced
        else:
            compiled = await self._version(tenant, policy, version)
        return GuardrailPolicyResult(
            policies=await self._states(tenant, [policy]),
            version=compiled.version,
            document=compiled.document,
            message=f"{policy} version {compiled.version}",
        )

    async def _states(self, tenant: str, ids: Sequence[str] | None) -> list[PolicyState]:
        stored = await self.store.policies(tenant)
        wanted = list(ids) if ids is not None else sorted({*stored, DEFAULT_POLICY})
        states = []
        for policy in wanted:
            versions = await self.store.versions(tenant, policy) if policy in stored else []
            enforced = await self.store.pointer(tenant, policy, ENFORCED)
            shadow = await self.store.pointer(tenant, policy, SHADOW)
            builtin = policy == DEFAULT_POLICY and enforced is None
            if builtin:
                enforced = BUILTIN_VERSION
                versions = [BUILTIN_VERSION, *versions]
            if not versions and ids is not None:
                raise InvalidMessage(f"data.policy: unknown policy {policy!r}")
            states.append(
                PolicyState(
                    id=policy, enforced=enforced, shadow=shadow, versions=versions, builtin=builtin
                )
            )
        return states
