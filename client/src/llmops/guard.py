"""``llmops guard ...``: check text and tool calls, and manage a tenant's guardrail policies.

Every command but ``policy diff`` is one request/reply to the guardrails service on a
tenant-scoped subject (``llmops.rpc.guardrails.{check,policy}.<tenant>``, see
:mod:`llmops_contracts.guardrails`); ``policy diff`` reads the tenant's shadow verdicts from the
EVENTS stream. The service validates pushed policies: an invalid one is refused with the reason
and the version in force stays. See docs/guardrails.md.

Exit codes of ``check`` and ``tool-check``: 0 allow, 1 block or review, 2 redact, 3 no answer
(no service, a timeout, or the request refused). Policy commands: 0 done, 1 refused or no
answer, 2 bad options or an unreadable file.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.table import Table
from rich.text import Text

from llmops.terminal import (
    NatsUrl,
    Timeout,
    ask,
    connect,
    err,
    out,
    print_json,
    say,
    show,
    talk,
    valid_tenant,
)
from llmops_contracts import subjects
from llmops_contracts.guardrails import (
    Finding,
    GuardrailCheckRequest,
    GuardrailPolicyRequest,
    GuardrailPolicyResult,
    GuardrailVerdict,
    PolicyState,
    ShadowVerdictRecorded,
    Stage,
)

guard_app = typer.Typer(
    help="Guardrails: check text and tool calls, and manage policies (the guardrails service).",
    no_args_is_help=True,
)
policy_app = typer.Typer(
    help="A tenant's policies: push, list, show, roll back, shadow and diff.", no_args_is_help=True
)
guard_app.add_typer(policy_app, name="policy")

#: Exit codes of a check: what the application should do with the content.
EXIT = {"allow": 0, "block": 1, "review": 1, "redact": 2}
#: Exit code of a check that got no verdict.
NO_ANSWER = 3
_STYLE = {"allow": "green", "redact": "yellow", "review": "magenta", "block": "red"}

Tenant = Annotated[str, typer.Option(help="Tenant whose policy applies.")]
PolicyId = Annotated[str, typer.Option("--policy", help="Policy id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _read(text: str) -> str:
    """The TEXT argument, or standard input for ``-``."""
    return sys.stdin.read() if text == "-" else text


def findings_table(findings: Sequence[Finding]) -> Table:
    """The findings of a verdict, one row each (never the content they point at)."""
    table = Table("detector", "kind", "span", "score", "action", "version", box=None)
    for f in findings:
        span = f"{f.start}-{f.end}" if f.start is not None and f.end is not None else ""
        score = f"{f.score:.2f}" if f.score is not None else ""
        table.add_row(
            *map(
                Text,
                (f.detector, f.kind or "", span, score, f.action or "", f.detector_version or ""),
            )
        )
    return table


def _verdict(verdict: GuardrailVerdict, as_json: bool) -> None:
    """Print a verdict and exit with its code."""
    if as_json:
        print_json(verdict.model_dump(mode="json"))
    else:
        out.print(
            Text.assemble(
                (verdict.outcome.upper(), f"bold {_STYLE.get(verdict.outcome, '')}"),
                f"  policy {verdict.policy} version {verdict.policy_version}, "
                f"{len(verdict.findings)} finding(s), {verdict.took_ms:.2f} ms",
            ),
            soft_wrap=True,
        )
        if verdict.findings:
            show(findings_table(verdict.findings))
        if verdict.redacted_content is not None:
            say("redacted:", err)
            say(verdict.redacted_content)
        if verdict.restored_content is not None:
            say("restored:", err)
            say(verdict.restored_content)
        if verdict.vault is not None:
            say("vault (pass it back with --vault):", err)
            say(verdict.vault)
    raise typer.Exit(EXIT.get(verdict.outcome, 1))


@guard_app.command("check")
def check(
    text: Annotated[str, typer.Argument(help="The text to check; '-' reads standard input.")],
    tenant: Tenant,
    stage: Annotated[Stage, typer.Option(help="input, output or retrieved_context.")],
    policy: PolicyId = "default",
    policy_version: Annotated[
        str | None, typer.Option(help="Pin a version (default: the enforced one).")
    ] = None,
    system_prompt: Annotated[
        str | None, typer.Option(help="The system prompt, for leakage checks of an output.")
    ] = None,
    reversible: Annotated[
        bool, typer.Option(help="Ask for a vault token that undoes the redaction later.")
    ] = False,
    vault: Annotated[
        str | None, typer.Option(help="A vault token: restore its placeholders in the text.")
    ] = None,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Check a text: exit 0 allow, 1 block or review, 2 redact, 3 no answer."""
    tenant = valid_tenant(tenant)
    if stage == Stage.TOOL_CALL:
        raise typer.BadParameter(
            "use `llmops guard tool-check` for tool calls", param_hint="--stage"
        )
    request = GuardrailCheckRequest(
        stage=stage,
        content=_read(text),
        policy=policy,
        policy_version=policy_version,
        system_prompt=system_prompt,
        reversible=reversible,
        vault=vault,
    )
    verdict = ask("guardrails", "guard check", request, tenant, timeout, nats_url, code=NO_ANSWER)
    _verdict(cast(GuardrailVerdict, verdict), as_json)


@guard_app.command("tool-check")
def tool_check(
    tenant: Tenant,
    tool: Annotated[str, typer.Option(help="The tool (function) name.")],
    args: Annotated[str, typer.Option("--args", help="Its arguments, a JSON object.")] = "{}",
    app_id: Annotated[str | None, typer.Option("--app", help="The calling application.")] = None,
    agent: Annotated[str | None, typer.Option(help="The calling agent.")] = None,
    policy: PolicyId = "default",
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """May an agent make this tool call? Exit 0 allow, 1 block, 3 no answer."""
    tenant = valid_tenant(tenant)
    try:
        arguments = json.loads(args)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--args") from None
    if not isinstance(arguments, dict):
        raise typer.BadParameter("a JSON object", param_hint="--args")
    request = GuardrailCheckRequest(
        stage=Stage.TOOL_CALL,
        tool={"name": tool, "arguments": arguments, "agent": agent},
        actor={"app": app_id},
        policy=policy,
    )
    verdict = ask(
        "guardrails", "guard tool-check", request, tenant, timeout, nats_url, code=NO_ANSWER
    )
    _verdict(cast(GuardrailVerdict, verdict), as_json)


# --- policies -------------------------------------------------------------------------------


def states_table(states: Sequence[PolicyState]) -> Table:
    """One row per policy: enforced and shadow versions, and every version stored."""
    table = Table("policy", "enforced", "shadow", "versions", box=None)
    for s in states:
        enforced = f"{s.enforced} (built-in)" if s.builtin else s.enforced or ""
        table.add_row(*map(Text, (s.id, enforced, s.shadow or "", ", ".join(s.versions))))
    return table


def _result(result: GuardrailPolicyResult, as_json: bool) -> None:
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    say(result.message, err)
    if result.policies:
        show(states_table(result.policies))


def _policy(request: GuardrailPolicyRequest, tenant: str, timeout: float, url: str) -> Any:
    return ask("guardrails", f"guard policy {request.action}", request, tenant, timeout, url)


@policy_app.command("push")
def policy_push(
    file: Annotated[Path, typer.Argument(help="The policy, a YAML file ('-': standard input).")],
    tenant: Tenant,
    shadow: Annotated[
        bool, typer.Option(help="Run this version in shadow beside the enforced one.")
    ] = False,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Push a policy version; the service refuses an invalid one (the reason is printed)."""
    tenant = valid_tenant(tenant)
    try:
        document = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(Text(f"cannot read {file}: {exc}", style="red"), soft_wrap=True)
        raise typer.Exit(2) from None
    request = GuardrailPolicyRequest(action="push", document=document, shadow=shadow)
    _result(_policy(request, tenant, timeout, nats_url), as_json)


@policy_app.command("list")
def policy_list(
    tenant: Tenant,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """The tenant's policies: enforced and shadow versions, every version stored."""
    tenant = valid_tenant(tenant)
    _result(_policy(GuardrailPolicyRequest(action="list"), tenant, timeout, nats_url), as_json)


@policy_app.command("show")
def policy_show(
    tenant: Tenant,
    policy: PolicyId = "default",
    version: Annotated[str | None, typer.Option(help="This version (default: enforced).")] = None,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Print a policy version's YAML document."""
    tenant = valid_tenant(tenant)
    request = GuardrailPolicyRequest(action="show", policy=policy, version=version)
    result = cast(GuardrailPolicyResult, _policy(request, tenant, timeout, nats_url))
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    say(f"# {result.message}", err)
    sys.stdout.write(result.document or "")


@policy_app.command("rollback")
def policy_rollback(
    tenant: Tenant,
    to: Annotated[str, typer.Option("--to", help="The version to enforce again.")],
    policy: PolicyId = "default",
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Enforce an earlier version (any version ever pushed; the built-in one for default)."""
    tenant = valid_tenant(tenant)
    request = GuardrailPolicyRequest(action="rollback", policy=policy, version=to)
    _result(_policy(request, tenant, timeout, nats_url), as_json)


@policy_app.command("shadow")
def policy_shadow(
    tenant: Tenant,
    version: Annotated[
        str | None, typer.Option(help="The version to run in shadow (a pushed one).")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop shadowing.")] = False,
    policy: PolicyId = "default",
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Run a pushed version in shadow beside the enforced one, or stop (--off)."""
    tenant = valid_tenant(tenant)
    if (version is None) == (not off):
        raise typer.BadParameter("give --version or --off")
    request = GuardrailPolicyRequest(action="shadow", policy=policy, version=version)
    _result(_policy(request, tenant, timeout, nats_url), as_json)


async def read_shadow_verdicts(
    nc: Any, tenant: str, *, timeout: float = 5.0
) -> list[ShadowVerdictRecorded]:
    """Every shadow verdict of the tenant on the EVENTS stream, oldest first."""
    import nats.errors
    from nats.js.api import DeliverPolicy

    from llmops_contracts.registry import InvalidMessage, parse

    subject = subjects.for_tenant(subjects.GUARDRAILS_SHADOW_VERDICT, tenant)
    js = nc.jetstream()
    sub = await js.subscribe(
        subject,
        stream=subjects.EVENTS_STREAM,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.ALL,
    )
    found = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=min(timeout, 1.0))
            except nats.errors.TimeoutError:
                break  # nothing (more) stored
            # One we cannot read is not ours to judge here; the audit trail keeps it.
            with contextlib.suppress(InvalidMessage):
                found.append(parse(msg.data, subject=msg.subject).data)
            if msg.metadata.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    return found


def diff_report(
    verdicts: Sequence[ShadowVerdictRecorded], policy: str, examples: int
) -> dict[str, Any]:
    """Where the shadow versions of ``policy`` disagreed with the enforced ones.

    One group per (enforced, shadow) version pair: how many checks compared, how many agreed,
    the disagreements counted by (enforced outcome -> shadow outcome), and up to ``examples``
    of each by content hash (the verdicts hold no content).
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for v in verdicts:
        if v.policy != policy:
            continue
        group = groups.setdefault(
            (v.enforced_version, v.shadow_version),
            {"compared": 0, "agreed": 0, "changes": Counter(), "examples": {}},
        )
        group["compared"] += 1
        if v.agreed:
            group["agreed"] += 1
            continue
        change = f"{v.enforced_outcome} -> {v.shadow_outcome}"
        group["changes"][change] += 1
        shown = group["examples"].setdefault(change, [])
        if len(shown) < examples:
            shown.append(
                {
                    "content_sha256": v.content_sha256,
                    "check_id": v.check_id,
                    "stage": v.stage,
                    "kinds": sorted({f.kind or f.detector for f in v.findings}),
                }
            )
    return {
        "policy": policy,
        "pairs": [
            {
                "enforced": enforced,
                "shadow": shadow,
                "compared": g["compared"],
                "agreed": g["agreed"],
                "disagreed": g["compared"] - g["agreed"],
                "changes": dict(g["changes"].most_common()),
                "examples": g["examples"],
            }
            for (enforced, shadow), g in groups.items()
        ],
    }


@policy_app.command("diff")
def policy_diff(
    tenant: Tenant,
    policy: PolicyId = "default",
    examples: Annotated[int, typer.Option(min=0, help="Examples per kind of change.")] = 3,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Where the shadow version disagreed with the enforced one on real traffic."""
    tenant = valid_tenant(tenant)

    async def work() -> list[ShadowVerdictRecorded]:
        async with await connect(nats_url, tenant) as client:
            return await read_shadow_verdicts(client.nc, tenant, timeout=timeout)

    verdicts = talk("guard policy diff", work(), timeout, service="NATS")
    report = diff_report(verdicts, policy, examples)
    if as_json:
        print_json(report)
        return
    if not report["pairs"]:
        say(f"no shadow verdicts for policy {policy} of tenant {tenant}", err)
        return
    for pair in report["pairs"]:
        say(
            f"{policy}: enforced {pair['enforced']} vs shadow {pair['shadow']}: "
            f"{pair['compared']} compared, {pair['agreed']} agreed, "
            f"{pair['disagreed']} disagreed"
        )
        table = Table("change", "checks", "examples (content sha256, check id)", box=None)
        for change, count in pair["changes"].items():
            shown = pair["examples"].get(change, [])
            listed = "; ".join(f"{e['content_sha256'][:16]} {e['check_id']}" for e in shown)
            table.add_row(Text(change), Text(str(count)), Text(listed))
        if pair["changes"]:
            show(table)
