"""The dry run and the result in words: for the terminal, as JSON, and as a Slack message (pure)."""

from __future__ import annotations

import shlex
from typing import Any

from driftwatch.render.slack import SlackMessage, display
from driftwatch.render.slack_blocks import context, fit, header, section
from driftwatch.render.visible import visible, visible_all
from driftwatch.sync.plan import Check, Plan
from driftwatch.sync.result import Result
from driftwatch.sync.run import CONNECTION_VARIABLES

OUTPUT_LINES_SHOWN = 20
MARKS = {True: "ok     ", False: "REFUSED"}


def command_text(plan: Plan) -> str:
    return shlex.join(plan.command)


def _mark(check: Check) -> str:
    return "overridden" if check.overridden_by else MARKS[check.ok]


def _missing_lines(plan: Plan) -> list[str]:
    if plan.nothing_to_do:
        return [f"Nothing to apply: {plan.target} has every migration {plan.reference} has."]
    if plan.head_only:
        at = ", ".join(plan.target_head) or "none"
        return [f"The tool records only its head: {plan.target} is at {at}, {plan.reference} at "
                f"{', '.join(plan.missing)}; the command applies every revision between.",
                *[f"  1. {m}" for m in plan.missing]]  # fmt: skip
    return [f"Migrations to apply, in order ({len(plan.missing)}):",
            *[f"  {i}. {m}" for i, m in enumerate(plan.missing, 1)]]  # fmt: skip


def dry_run(plan: Plan) -> str:
    """What `--apply` would do, what it would touch, and whether every precondition holds."""
    plan = visible_all(plan)  # migration ids and names come from the databases
    lines = [f"Sync {plan.reference} → {plan.target} (dry run: nothing is changed)",
             f"Target: {plan.target} at {plan.target_address} (password not shown)",
             *_missing_lines(plan),
             f"Command: {command_text(plan)}",
             f"  in {plan.workdir}, timeout {plan.timeout:g} s",
             f"  connection to {plan.target} only, by environment: {', '.join(CONNECTION_VARIABLES)}",
             "Preconditions:"]  # fmt: skip
    lines += _check_lines(plan)
    lines.append(_verdict(plan))
    return "\n".join(lines) + "\n"


def _check_lines(plan: Plan) -> list[str]:
    lines = []
    for c in plan.checks:
        lines.append(f"  [{_mark(c)}] {c.name}: {c.reason}")
        lines += [f"      {d}" for d in c.details]
    return lines


def _verdict(plan: Plan) -> str:
    if plan.nothing_to_do:
        return "Verdict: nothing to do."
    blocking = [c.name for c in plan.refusals if c.name != "enabled"]
    if blocking:
        return f"Verdict: --apply would refuse ({', '.join(blocking)})."
    if not plan.enabled:
        return "Verdict: the preconditions hold, but sync is disabled: --apply would refuse."
    return f"Verdict: --apply would run the command against {plan.target}."


def result(r: Result) -> str:
    """The outcome of `--apply` for the terminal (the command's output was streamed already)."""
    r = visible_all(r)
    p = r.plan
    if r.result == "refused":
        return "".join(f"driftwatch: refused: {c.reason}\n" + "".join(f"    {d}\n" for d in c.details)
                       for c in p.refusals)  # fmt: skip
    if r.result == "nothing_to_do":
        return f"Nothing to do: {p.target} already has every migration {p.reference} has.\n"
    return "\n".join([*_ran(r), *_rechecked(r), f"Result: {r.result}{_audit(r)}"]) + "\n"


def _ran(r: Result) -> list[str]:
    e = r.execution
    if e is None:
        return []
    how = "timed out and was stopped" if e.timed_out else (
        f"exited with {e.exit_code}" if e.exit_code is not None else "could not start")
    lines = [f"Ran {command_text(r.plan)} in {r.plan.workdir}: {how} after {e.seconds:.1f} s"]
    lines += [f"  overridden by {c.overridden_by}: {c.name}" for c in r.plan.overrides]
    return lines


def _rechecked(r: Result) -> list[str]:
    p = r.plan
    if r.recheck_error:
        return [f"Re-check failed: {r.recheck_error}"]
    equal = {True: "yes", False: "no", None: "unknown"}[r.schema_equal]
    return [f"Re-check: {len(r.applied)} of {len(p.missing)} migrations applied; "
            f"still missing: {', '.join(r.still_missing) or 'none'}; "
            f"schema now equal to {p.reference}: {equal}."]  # fmt: skip


def _audit(r: Result) -> str:
    return f" (audit record {r.audit_id})" if r.audit_id is not None else ""


def plan_document(plan: Plan) -> dict[str, Any]:
    """The dry run as JSON (`sync --json`)."""
    return {"comparison": plan.comparison, "reference": plan.reference, "target": plan.target,
            "target_address": plan.target_address, "missing": list(plan.missing),
            "head_only": plan.head_only, "command": list(plan.command), "workdir": str(plan.workdir),
            "timeout": plan.timeout, "enabled": plan.enabled, "nothing_to_do": plan.nothing_to_do,
            "may_apply": plan.may_apply,
            "checks": [{"name": c.name, "ok": c.ok, "reason": c.reason, "overridden_by": c.overridden_by,
                        "details": list(c.details)} for c in plan.checks]}  # fmt: skip


def result_document(r: Result) -> dict[str, Any]:
    """The result of `--apply` as JSON."""
    e = r.execution
    return {**plan_document(r.plan), "result": r.result, "actor": r.actor, "audit_id": r.audit_id,
            "started_at": r.started_at.isoformat(), "finished_at": r.finished_at.isoformat(),
            "applied": list(r.applied), "still_missing": list(r.still_missing),
            "schema_equal": r.schema_equal, "recheck_error": r.recheck_error, "reasons": list(r.reasons()),
            "exit_code": e.exit_code if e else None, "timed_out": e.timed_out if e else False}  # fmt: skip


_ICONS = {"applied": ":white_check_mark:", "incomplete": ":warning:", "failed": ":x:",
          "timeout": ":hourglass:", "refused": ":no_entry:", "nothing_to_do": ":ok:"}  # fmt: skip


def slack_message(r: Result) -> SlackMessage:
    """The sync's result for the channel: who ran what, what it left, and the output's tail on failure."""
    p = r.plan
    ref, tgt = display(p.reference), display(p.target)
    words = {"applied": f"{tgt} synced with {ref}", "incomplete": f"Sync of {tgt} left work undone",
             "failed": f"Sync of {tgt} failed", "timeout": f"Sync of {tgt} timed out",
             "refused": f"Sync of {tgt} refused", "nothing_to_do": f"{tgt} had nothing to sync"}  # fmt: skip
    title = f"{_ICONS[r.result]} {words[r.result]}"
    summary = [f"*{fit(r.actor, 100)}* ran `{fit(command_text(p), 500)}` against *{fit(tgt, 100)}*."]
    if r.result == "refused":
        summary += [f"• {fit(visible(reason), 600)}" for reason in r.reasons()]  # one line each
    else:
        summary.append(_rechecked(r)[0])
        summary += [f"Overridden by {c.overridden_by}: {c.name}." for c in p.overrides]
    if r.result in ("failed", "timeout", "incomplete"):
        summary.append(f"Auto-sync of {fit(tgt, 100)} is paused until a person runs `driftwatch sync` again.")
    blocks = [header(title), section(fit("\n".join(summary), 2900))]
    tail = _tail(r)
    if tail:
        blocks.append(section(f"```{fit(tail, 2800)}```"))
    blocks.append(context(f"driftwatch · {fit(ref, 100)} → {fit(tgt, 100)} · audit record {r.audit_id}"))
    return SlackMessage(f"{title}: {' '.join(summary)}"[:3000], tuple(blocks))


def _tail(r: Result) -> str:
    if r.execution is None or r.result == "applied":
        return ""
    return "\n".join(r.execution.output.splitlines()[-OUTPUT_LINES_SHOWN:])
