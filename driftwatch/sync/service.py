"""Sync, top to bottom: read both sides, plan, hold the target's lock, run the tool, re-check, audit."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from driftwatch import diff, logs
from driftwatch.config import Comparison, Config, Environment
from driftwatch.errors import UserError
from driftwatch.model import Outcome
from driftwatch.outbox import Outbox
from driftwatch.pipeline import Clock, take_snapshot, utc_now
from driftwatch.secrets import address
from driftwatch.store import Store
from driftwatch.sync import audit, lock, plan, render, run
from driftwatch.sync.plan import Options, Plan
from driftwatch.sync.result import Result, conclude


class SyncDisabled(UserError):
    """`--apply` for a comparison whose sync is not enabled; nothing was read or changed."""


@dataclass(frozen=True, slots=True)
class Hooks:
    """The caller's edges: how to re-check and deliver alerts (the daemon's), and where output goes."""

    recheck: Callable[[Comparison], Outcome]
    deliver: Callable[[], object]
    on_line: Callable[[str], None] = lambda line: None
    clock: Clock = utc_now


def find(config: Config, name: str) -> Comparison:
    """The configured comparison `name`; sync runs in no other direction."""
    comparison = config.comparison(name)
    if comparison is None:
        names = ", ".join(c.name for c in config.comparisons)
        raise UserError(f"no comparison {name} in the config (configured: {names}); sync runs only "
                        "from a comparison's reference to its target")  # fmt: skip
    return comparison


def require_enabled(config: Config, name: str) -> Comparison:
    """The comparison, if its sync is enabled; otherwise SyncDisabled, before anything is touched."""
    comparison = find(config, name)
    if not config.sync_for(name).enabled:
        raise SyncDisabled(f"sync is disabled for {name}, so nothing was changed; to allow it, "
                           f"{plan.enable_hint(name)}")  # fmt: skip
    return comparison


def gather(config: Config, comparison: Comparison, store: Store | None, holder: str | None,
           clock: Clock) -> plan.Facts:  # fmt: skip
    """Read both sides (read-only) and what the history knows, for the pure plan."""
    ref_env, tgt_env = (config.environments[n] for n in (comparison.reference, comparison.target))
    reference, target = take_snapshot(ref_env, config, clock), take_snapshot(tgt_env, config, clock)
    drift = diff.compare(reference, target, comparison.critical_tables, config.schema.ignore)
    ids = frozenset(target.migrations.ids if target.migrations else ())
    return plan.Facts(
        comparison, config.sync_for(comparison.name), config.comparisons, drift, target, address(tgt_env.dsn),
        audit.baseline(store, comparison.reference, comparison.target, ids) if store else None,
        str(store.path) if store else None,
        audit.seen(store, comparison.reference) if store else frozenset(), holder, config.schema.ignore,
    )  # fmt: skip


NO_OPTIONS = Options()


def dry_run(config: Config, name: str, store: Store | None, options: Options = NO_OPTIONS,
            clock: Clock = utc_now) -> Plan:  # fmt: skip
    """The plan `--apply` would follow now; reads both sides, changes nothing, works when disabled."""
    comparison = find(config, name)
    with lock.session(config.environments[comparison.target]) as conn:
        holder = lock.holder(conn)
    return plan.build(gather(config, comparison, store, holder, clock), replace(options, apply=False))


def apply(config: Config, name: str, store: Store, options: Options, *, actor: str, hooks: Hooks,
          record_refusals: bool = True) -> Result:  # fmt: skip
    """Run the missing migrations on the target if every precondition holds; audit and report it."""
    comparison = require_enabled(config, name)
    started, target = hooks.clock(), config.environments[comparison.target]
    with lock.session(target) as conn:
        # Held by this session until it closes: the whole run, re-check included.
        holder = None if lock.try_lock(conn) else (lock.holder(conn) or "holder not visible")
        the_plan = plan.build(gather(config, comparison, store, holder, hooks.clock), options)
        if the_plan.nothing_to_do or the_plan.refusals:
            kind = "nothing_to_do" if the_plan.nothing_to_do else "refused"
            r = Result(the_plan, actor, started, hooks.clock(), kind)
            return _finish(config, store, r, hooks) if record_refusals else r
        execution = _execute(config, target, the_plan, hooks)
        r = conclude(the_plan, execution, hooks.recheck(comparison), actor=actor, started=started,
                     finished=hooks.clock())
    return _finish(config, store, r, hooks)


def _execute(config: Config, target: Environment, the_plan: Plan, hooks: Hooks) -> run.Execution:
    envs = config.environments.values()
    # The child never sees another environment's password variable, nor the caller's libpq ones.
    hidden = [e.password_source[1:] for e in envs if e.password_source and e.password_source.startswith("$")]
    redact = run.redactor(e.password.reveal() for e in envs if e.password is not None)
    log = logs.get(comparison=the_plan.comparison, target=the_plan.target)
    log.info("sync.started", command=render.command_text(the_plan), workdir=str(the_plan.workdir),
             migrations=list(the_plan.missing))  # fmt: skip

    def line(text: str) -> None:
        log.info("sync.output", line=text)
        hooks.on_line(text)

    environ = run.child_environment(target, os.environ, hidden)
    return run.execute(the_plan.command, the_plan.workdir, environ, timeout=the_plan.timeout, on_line=line,
                       redact=redact)


def _finish(config: Config, store: Store, r: Result, hooks: Hooks) -> Result:
    """Audit the sync, post it to Slack (through the outbox), and log it."""
    e, p = r.execution, r.plan
    # The re-check recorded the target's snapshot: a later sync compares the target with it.
    latest = store.latest_check(p.comparison) if e is not None else None
    audit_id = audit.record(store, {
        "comparison": p.comparison, "reference": p.reference, "target": p.target, "actor": r.actor,
        "started_at": r.started_at, "finished_at": r.finished_at, "result": r.result,
        "reasons": r.reasons(), "planned": p.missing, "applied": r.applied, "still_missing": r.still_missing,
        "schema_equal": r.schema_equal, "command": p.command, "workdir": str(p.workdir),
        "target_address": p.target_address, "exit_code": e.exit_code if e else None,
        "target_fingerprint": latest.target_fingerprint if latest else None,
        "output": e.output if e else ""})  # fmt: skip
    r = replace(r, audit_id=audit_id)
    logs.get().log(20 if r.ok else 40, "sync.finished", comparison=p.comparison, result=r.result,
                   actor=r.actor, applied=list(r.applied), still_missing=list(r.still_missing),
                   audit_id=audit_id)  # fmt: skip
    if config.slack.configured and r.result != "nothing_to_do":
        _post(config, store, r, hooks.clock())
        hooks.deliver()
    return r


def _post(config: Config, store: Store, r: Result, at: datetime) -> None:
    comparison = config.comparison(r.plan.comparison)
    severity = "info" if r.ok else ("warning" if r.result == "refused" else "critical")
    Outbox(store).enqueue(f"sync:{r.audit_id}", comparison=r.plan.comparison, kind="sync",
                          severity=severity, at=at, payload=render.slack_message(r).payload(),
                          channel=comparison.slack_channel if comparison else None)  # fmt: skip
