"""Tool-call permissions: deny by default, argument schemas, sliding-window rates, scoping;
the rate rules (``admit``) against a reference, and the gate through a fake windows port."""

from __future__ import annotations

import bisect
import random
from collections import deque
from datetime import UTC, datetime

import pytest
import yaml
from pydantic import ValidationError

from llmops_guardrails.toolpolicy import (
    EXACT_CALLS,
    RateLimit,
    ToolCall,
    ToolGate,
    ToolPolicy,
    Window,
    admit,
    check_tool_call,
)
from llmops_shared.clock import FixedClock
from tests.services.guardrails.conftest import FakeRateWindows

POLICY = yaml.safe_load(
    """
tools:
  deny: [shell_exec]
  allow:
    - name: search_docs
      apps: [support-bot]
      args_schema:
        type: object
        properties: {query: {type: string, maxLength: 20}}
        required: [query]
        additionalProperties: false
      rate: {calls: 2, per_s: 60}
    - name: refund
      apps: [billing]
      agents: [cashier]
      args_schema: {type: object, properties: {amount: {type: number, maximum: 100}}}
    - name: refund
      apps: [billing]
      agents: [supervisor]
    - name: shell_exec
    - name: lookup
      rate: {calls: 1, per_s: 10, scope: agent}
"""
)["tools"]
# One minute before midnight on 29 February 2028: the windows cross into March.
START = datetime(2028, 2, 29, 23, 59, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def gate(clock: FixedClock) -> ToolGate:
    return ToolGate(POLICY, clock)


def call(
    name: str,
    args: object = None,
    *,
    app: str = "support-bot",
    agent: str = "triage",
    tenant: str = "t1",
) -> ToolCall:
    return ToolCall(tenant, app, agent, name, {} if args is None else args)


def test_unlisted_tool_is_denied_by_default(gate: ToolGate) -> None:
    d = gate.check(call("send_email", {"to": "x"}))
    assert not d.allowed
    assert d.reasons == ("unlisted_tool",)


def test_listed_tool_with_valid_arguments_is_allowed(gate: ToolGate) -> None:
    d = gate.check(call("search_docs", {"query": "reset password"}))
    assert d.allowed
    assert d.reasons == ()
    assert d.rule == 0


def test_arguments_outside_the_schema_are_denied_with_every_reason(gate: ToolGate) -> None:
    d = gate.check(call("search_docs", {"query": "x" * 21, "debug": True}))
    assert not d.allowed
    assert d.reasons == ("args_schema:additionalProperties@$", "args_schema:maxLength@$.query")
    assert gate.check(call("search_docs", {})).reasons == ("args_schema:required@$",)
    assert gate.check(call("search_docs", "not an object")).reasons == ("args_schema:type@$",)


def test_reasons_never_quote_argument_values(gate: ToolGate) -> None:
    secret = "4111111111111111-and-more"
    d = gate.check(call("search_docs", {"query": secret}))
    assert not d.allowed
    assert all(secret not in r for r in d.reasons)


def test_deny_list_wins_over_an_allow_rule(gate: ToolGate) -> None:
    d = gate.check(call("shell_exec"))
    assert not d.allowed
    assert d.reasons == ("denied_tool",)


def test_rate_limit_denies_then_allows_after_the_window(gate: ToolGate, clock: FixedClock) -> None:
    assert gate.check(call("search_docs", {"query": "a"})).allowed
    clock.advance(seconds=20)
    assert gate.check(call("search_docs", {"query": "b"})).allowed
    denied = gate.check(call("search_docs", {"query": "c"}))
    assert not denied.allowed
    assert denied.reasons == ("rate_limited",)
    assert denied.retry_after_s == 40.0  # the first call leaves the window 60 s after it
    clock.advance(seconds=39.999)
    assert not gate.check(call("search_docs", {"query": "c"})).allowed
    clock.advance(seconds=0.001)  # now 2028-03-01T00:00:30Z: the first call is out
    assert gate.check(call("search_docs", {"query": "c"})).allowed
    assert not gate.check(call("search_docs", {"query": "d"})).allowed  # the second is still in


def test_denied_calls_do_not_spend_rate(gate: ToolGate) -> None:
    for _ in range(5):
        assert not gate.check(call("search_docs", {"query": 1})).allowed
    assert gate.check(call("search_docs", {"query": "a"})).allowed
    assert gate.check(call("search_docs", {"query": "b"})).allowed


def test_rate_windows_are_per_tenant_by_default(gate: ToolGate) -> None:
    assert gate.check(call("search_docs", {"query": "a"}, tenant="t1")).allowed
    assert gate.check(call("search_docs", {"query": "a"}, tenant="t1")).allowed
    assert not gate.check(call("search_docs", {"query": "a"}, tenant="t1")).allowed
    assert gate.check(call("search_docs", {"query": "a"}, tenant="t2")).allowed


def test_agent_scoped_rate(gate: ToolGate) -> None:
    assert gate.check(call("lookup", agent="a1")).allowed
    assert not gate.check(call("lookup", agent="a1")).allowed
    assert gate.check(call("lookup", agent="a2")).allowed


def test_app_scoping(gate: ToolGate) -> None:
    d = gate.check(call("search_docs", {"query": "a"}, app="marketing"))
    assert not d.allowed
    assert d.reasons == ("app_not_allowed",)


def test_agent_scoping_picks_the_rule_that_admits_the_agent(gate: ToolGate) -> None:
    # The cashier's rule caps the amount; the supervisor's has no schema; others are refused.
    cashier = gate.check(call("refund", {"amount": 500}, app="billing", agent="cashier"))
    assert not cashier.allowed
    assert cashier.reasons == ("args_schema:maximum@$.amount",)
    assert cashier.rule == 1
    supervisor = gate.check(call("refund", {"amount": 500}, app="billing", agent="supervisor"))
    assert supervisor.allowed
    assert supervisor.rule == 2
    intern = gate.check(call("refund", {"amount": 5}, app="billing", agent="intern"))
    assert not intern.allowed
    assert intern.reasons == ("agent_not_allowed",)


def test_default_allow_lets_unlisted_tools_through(clock: FixedClock) -> None:
    gate = ToolGate({"default": "allow", "deny": ["rm"]}, clock)
    assert gate.check(call("anything")).allowed
    assert not gate.check(call("rm")).allowed


def test_an_empty_policy_denies_everything(clock: FixedClock) -> None:
    assert check_tool_call({}, call("search_docs"), clock=clock).reasons == ("unlisted_tool",)
    assert check_tool_call(None, call("x"), clock=clock).reasons == ("unlisted_tool",)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ({"default": "maybe"}, "default"),
        ({"allow": [{"name": "x", "args_schema": {"type": "strnig"}}]}, "invalid args_schema"),
        ({"allow": [{"name": "x", "rate": {"calls": 0, "per_s": 1}}]}, "calls"),
        ({"allow": [{"name": "x", "rate": {"calls": 1, "per_s": 1, "scope": "world"}}]}, "scope"),
        ({"allow": [{"name": "x", "max_calls": 3}]}, "max_calls"),
        ({"allow": [{"apps": ["a"]}]}, "name"),
    ],
)
def test_invalid_policies_are_refused_with_the_reason(bad: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        ToolPolicy.from_dict(bad)


def test_arguments_nested_too_deep_are_denied_not_a_crash(clock: FixedClock) -> None:
    gate = ToolGate(
        {"allow": [{"name": "t", "args_schema": {"type": "array", "items": {"$ref": "#"}}}]}, clock
    )
    deep: list[object] = []
    for _ in range(400):
        deep = [deep]
    assert gate.check(call("t", deep)).reasons == ("args_too_deep",)
    assert gate.check(call("t", [[[]]])).allowed


# --- the rate rules (admit) -------------------------------------------------------------------


def reference_admitted(instants: list[float], calls: int, per_s: float) -> list[bool]:
    """The rule read literally, as the gate kept it before windows moved behind a port: a call
    is admitted when fewer than ``calls`` admitted calls lie in ``(now - per_s, now]``."""
    window: deque[float] = deque()
    out = []
    for now in instants:
        while window and window[0] <= now - per_s:
            window.popleft()
        out.append(len(window) < calls)
        if out[-1]:
            window.append(now)
    return out


def run(instants: list[float], rate: RateLimit) -> tuple[list[bool], list[Window]]:
    window: Window = ()
    admitted, windows = [], []
    for now in instants:
        window, wait = admit(window, rate, now)
        admitted.append(wait is None)
        windows.append(window)
    return admitted, windows


@pytest.mark.parametrize("seed", range(20))
def test_admit_is_the_exact_sliding_window(seed: int) -> None:
    rng = random.Random(seed)
    calls, per_s = rng.randint(1, EXACT_CALLS), rng.choice([0.5, 1.0, 7.5, 60.0])
    instants, now = [], 1_830_000_000.0
    for _ in range(600):  # bursts at one instant, short gaps that fill it, rare long ones
        draw = rng.random()
        if draw > 0.99:
            now += rng.random() * per_s * 1.5
        elif draw > 0.3:
            now += rng.random() * per_s / (2 * calls)
        instants.append(round(now, 6))
    admitted, _ = run(instants, RateLimit(calls=calls, per_s=per_s))
    assert admitted == reference_admitted(instants, calls, per_s)
    assert 0 < sum(admitted) < len(instants)  # the case exercised both answers


def test_admit_says_when_a_slot_frees_and_spends_nothing_when_full() -> None:
    rate = RateLimit(calls=3, per_s=10)
    window: Window = ()
    for now in (100.0, 100.0, 104.0):  # two at one instant are one entry counting two
        window, wait = admit(window, rate, now)
        assert wait is None
    assert window == ((100.0, 2), (104.0, 1))
    full, wait = admit(window, rate, 105.0)
    assert (full, wait) == (window, 5.0)  # both calls at 100 leave at 110
    after, wait = admit(window, rate, 110.0)
    assert wait is None
    assert after == ((104.0, 1), (110.0, 1))  # those that left are dropped


def test_an_instant_before_the_newest_counts_as_the_newest() -> None:
    # A clock stepped back (or a replica's clock behind another's) must not free a slot early.
    rate = RateLimit(calls=2, per_s=10)
    window, _ = admit((), rate, 100.0)
    window, wait = admit(window, rate, 95.0)
    assert (window, wait) == (((100.0, 2),), None)
    assert admit(window, rate, 109.0)[1] == 1.0
    assert admit(window, rate, 110.0)[1] is None


@pytest.mark.parametrize("seed", range(5))
def test_large_limits_keep_a_bounded_window_and_never_exceed_the_limit(seed: int) -> None:
    rng = random.Random(seed)
    calls, per_s = rng.choice([EXACT_CALLS + 1, 1000, 5000]), 60.0
    instants, now = [], 1_830_000_000.0
    for _ in range(20_000):  # twice as many calls as the limit allows, on average
        now += rng.random() * per_s / calls
        instants.append(now)
    admitted, windows = run(instants, RateLimit(calls=calls, per_s=per_s))
    assert max(len(w) for w in windows) <= EXACT_CALLS + 1
    assert 0 < sum(admitted) < len(instants)
    step = per_s / EXACT_CALLS
    history: list[float] = []
    for now, ok in zip(instants, admitted, strict=True):
        if ok:
            history.append(now)
            # Every sliding window holds at most `calls` admitted calls ...
            assert len(history) - bisect.bisect_right(history, now - per_s) <= calls
        else:
            # ... and a call is refused only when a window one step longer holds `calls`.
            assert len(history) - bisect.bisect_right(history, now - per_s - step) >= calls


# --- the gate through a windows port ----------------------------------------------------------


async def test_only_calls_a_rate_rule_would_allow_reach_the_windows(clock: FixedClock) -> None:
    windows = FakeRateWindows()
    gate = ToolGate(POLICY, clock, name=("default", "7"))
    refund = call("refund", {"amount": 5}, app="billing", agent="supervisor")
    assert (await gate.acheck(refund, windows)).allowed  # no rate rule
    assert not (await gate.acheck(call("search_docs", {"query": 1}), windows)).allowed
    assert not (await gate.acheck(call("shell_exec"), windows)).allowed
    assert windows.asked == []
    assert (await gate.acheck(call("search_docs", {"query": "a"}), windows)).allowed
    assert windows.asked == [("t1", "default", "7", "0")]


async def test_windows_are_named_by_version_rule_and_scope(clock: FixedClock) -> None:
    windows = FakeRateWindows()
    v1, v2 = ToolGate(POLICY, clock, name=("p", "1")), ToolGate(POLICY, clock, name=("p", "2"))
    for gate in (v1, v2):
        assert (await gate.acheck(call("lookup", agent="a1"), windows)).allowed
        assert not (await gate.acheck(call("lookup", agent="a1"), windows)).allowed
    assert (await v1.acheck(call("lookup", agent="a2"), windows)).allowed
    assert windows.asked[-1] == ("t1", "p", "1", "4", "support-bot", "a2")


async def test_unreachable_windows_deny_without_spending_a_slot(clock: FixedClock) -> None:
    windows = FakeRateWindows()
    gate = ToolGate(POLICY, clock)
    windows.down = True
    refused = await gate.acheck(call("search_docs", {"query": "a"}), windows)
    assert (refused.allowed, refused.reasons, refused.rule) == (False, ("rate_unavailable",), 0)
    assert (
        await gate.acheck(call("refund", {}, app="billing", agent="supervisor"), windows)
    ).allowed
    windows.down = False
    assert (await gate.acheck(call("search_docs", {"query": "a"}), windows)).allowed
    assert (await gate.acheck(call("search_docs", {"query": "b"}), windows)).allowed
    assert not (await gate.acheck(call("search_docs", {"query": "c"}), windows)).allowed
