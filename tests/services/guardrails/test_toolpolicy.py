"""Tool-call permissions: deny by default, argument schemas, sliding-window rates, scoping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from pydantic import ValidationError

from llmops_guardrails.toolpolicy import ToolCall, ToolGate, ToolPolicy, check_tool_call
from llmops_shared.clock import FixedClock

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
