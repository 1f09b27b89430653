"""The subcommands of ``caseclock``: each parses input, runs one engine call, prints."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from engine import queries
from engine.audit_verify import WriteAnchor, anchor_digest, latest_anchor
from engine.audit_verify import verify as verify_chains
from engine.chase import HandleChase, UrgeChase
from engine.clock_control import (
    DecideExtension,
    PauseClock,
    RecomputeClocks,
    RequestExtension,
    ResumeClock,
)
from engine.definitions import DeployDiagrams, DeployedVersion
from engine.digests import ComposeDigests
from engine.errors import TamperDetected, ValidationError
from engine.ledger import DecideExemption, RequestExemption
from engine.org import ImportOrg, parse_org_file
from engine.org_edit import SaveDepartment, SaveGroup, SavePerson
from engine.runtime import (
    ClaimTask,
    CompleteTask,
    CorrelateMessage,
    DelegateTask,
    ReassignTask,
    ResolveTask,
    StartInstance,
    UnclaimTask,
    parse_data,
)
from engine.standards import RetireStandard, SetStandard
from engine.standards import standards as standards_view
from engine.timer_text import TimerTextError, parse_datetime

from . import app_of, emit, logs, main, read_files
from .output import table
from .params import ID, person_option, user_option

TASK_COLUMNS = [
    "id",
    "instance_id",
    "name",
    "assignee",
    "candidate_groups",
    "due_at",
    "light",
    "left",
]


def _with_clock(rows: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """Flatten each task's SLA clock into the columns a table shows."""
    for row in rows:
        clock = row.get("sla") or {}
        row["light"], row["left"] = clock.get("light"), clock.get("working_time_left")
    return rows


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database schema (safe to run again)."""
    app = app_of(ctx)
    app.init_schema()
    emit(ctx, {"database": app.settings.database_url}, f"initialised {app.db.url!r}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.pass_context
def deploy(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Deploy BPMN and DMN files as one unit (identical content is a no-op)."""
    results = app_of(ctx).execute(DeployDiagrams(read_files(files)), actor="cli")
    emit(ctx, [r.__dict__ for r in results], "\n".join(_deployed_line(r) for r in results))


def _deployed_line(result: DeployedVersion) -> str:
    if result.decisions:  # a process that runs a decision of a redeployed table
        noun = "decision" if len(result.decisions) == 1 else "decisions"
        changed = ", ".join(result.decisions)
        return f"{result.key} version {result.version} ({noun} {changed} changed)"
    return f"{result.key} version {result.version}" + ("" if result.created else " (unchanged)")


@main.command()
@click.pass_context
def definitions(ctx: click.Context) -> None:
    """List deployed process definitions and their versions."""
    rows = app_of(ctx).read(queries.definitions)
    emit(ctx, rows, table(rows, ["key", "version", "name", "running_instances", "deployed_at"]))


@main.command()
@click.argument("key")
@click.option("--business-key", help="Your reference for the case (used to correlate messages).")
@click.option("--data", help="Initial case data as a JSON object.")
@user_option("Who starts it (audit).")
@click.pass_context
def start(ctx: click.Context, key: str, business_key: str | None, data: str | None,
          user: str) -> None:  # fmt: skip
    """Start an instance of the latest version of process KEY."""
    app = app_of(ctx)
    instance = app.execute(StartInstance(key, business_key, parse_data(data)), actor=user)
    view = app.read(lambda s: queries.instance(s, instance.id, app.services.timezone))
    tasks = ", ".join(f"{t['id']} {t['name']}" for t in view["open_tasks"]) or "none"
    emit(ctx, view, f"started instance {instance.id} ({view['state']}); open tasks: {tasks}")


@main.command()
@click.option("--user", help="Tasks assigned to this user or claimable by their groups.")
@click.option("--group", help="Tasks offered to this candidate group.")
@click.pass_context
def tasks(ctx: click.Context, user: str | None, group: str | None) -> None:
    """List open tasks, soonest deadline first."""
    app = app_of(ctx)
    now = app.clock.now()
    rows = app.read(
        lambda s: queries.tasks(
            s, app.services.timezone, app.services.org.snapshot(s), user, group, now
        )
    )
    emit(ctx, rows, table(_with_clock(rows), TASK_COLUMNS))


def _task_command(name: str, help_text: str, build) -> None:  # type: ignore[no-untyped-def]
    @main.command(name, help=help_text)
    @click.argument("task_id", type=ID)
    @user_option("Who acts.", required=True)
    @click.pass_context
    def command(ctx: click.Context, task_id: int, user: str) -> None:
        app = app_of(ctx)
        task = app.execute(build(task_id, user), actor=user)
        emit(ctx, queries.task_view(task, app.services.timezone),
             f"task {task.id}: {name} by {user}; assignee now {task.assignee or '-'}")  # fmt: skip


_task_command("claim", "Claim an unassigned task you are a candidate for.", ClaimTask)
_task_command("unclaim", "Give a claimed task back to its candidate groups.", UnclaimTask)


@main.command()
@click.argument("task_id", type=ID)
@user_option("The current assignee.", required=True)
@person_option("--to", "to", required=True, help_text="Who works on it (the owner stays you).")
@click.pass_context
def delegate(ctx: click.Context, task_id: int, user: str, to: str) -> None:
    """Delegate a task: the delegate works on it and resolves it back to you."""
    task = app_of(ctx).execute(DelegateTask(task_id, user, to), actor=user)
    emit(ctx, {"id": task.id, "assignee": task.assignee, "owner": task.owner},
         f"task {task.id} delegated to {to}")  # fmt: skip


@main.command()
@click.argument("task_id", type=ID)
@user_option("The delegate.", required=True)
@click.option("--data", help="Form values to save, as a JSON object.")
@click.pass_context
def resolve(ctx: click.Context, task_id: int, user: str, data: str | None) -> None:
    """Hand a delegated task back to its owner."""
    task = app_of(ctx).execute(ResolveTask(task_id, user, parse_data(data)), actor=user)
    emit(ctx, {"id": task.id, "assignee": task.assignee}, f"task {task.id} back to {task.assignee}")


@main.command()
@click.argument("task_id", type=ID)
@person_option("--to", "to", help_text="New assignee; omit to put the task back in the group pool.")
@user_option("Who reassigns (audit).")
@click.pass_context
def reassign(ctx: click.Context, task_id: int, to: str | None, user: str) -> None:
    """Set a task's assignee outright (a supervisor's action)."""
    task = app_of(ctx).execute(ReassignTask(task_id, to), actor=user)
    emit(ctx, {"id": task.id, "assignee": task.assignee},
         f"task {task.id} assigned to {task.assignee or '(pool)'}")  # fmt: skip


@main.command()
@click.argument("task_id", type=ID)
@user_option("The assignee.", required=True)
@click.option("--data", help="Form values as a JSON object.")
@click.option("--claim", is_flag=True, help="Claim an unclaimed group task first.")
@click.pass_context
def complete(ctx: click.Context, task_id: int, user: str, data: str | None, claim: bool) -> None:
    """Complete a task you hold, with its form data."""
    command = CompleteTask(task_id, user, parse_data(data), claim=claim)
    opened = app_of(ctx).execute(command, actor=user)
    nxt = ", ".join(f"{t.id} {t.name}" for t in opened) or "none"
    emit(ctx, {"completed": task_id, "opened": [t.id for t in opened]},
         f"task {task_id} completed; new tasks: {nxt}")  # fmt: skip


@main.command()
@click.argument("name")
@click.option("--business-key", required=True, help="Business key of the waiting case.")
@click.option("--data", help="Message payload as a JSON object (merged into case data).")
@user_option("Who sends it (audit).")
@click.pass_context
def message(ctx: click.Context, name: str, business_key: str, data: str | None,
            user: str) -> None:  # fmt: skip
    """Deliver message NAME to the case(s) with this business key."""
    ids = app_of(ctx).execute(CorrelateMessage(name, business_key, parse_data(data)), actor=user)
    emit(ctx, {"instances": ids}, f"message {name!r} delivered to instance(s) {ids}")


@main.command()
@click.argument("instance_id", type=ID)
@click.pass_context
def instance(ctx: click.Context, instance_id: int) -> None:
    """Show an instance: state, open tasks, waiting timers with due times, history."""
    app = app_of(ctx)
    now = app.clock.now()
    view = app.read(lambda s: queries.instance(s, instance_id, app.services.timezone, now))
    emit(ctx, view, _instance_text(view))


def _instance_text(view: dict) -> str:  # type: ignore[type-arg]
    lines = [
        f"instance {view['id']}  {view['definition']}  key={view['business_key'] or '-'}  "
        f"state={view['state']}",
        f"started {view['started_at']}, ended {view['ended_at'] or '-'}",
        "", "open tasks:", table(_with_clock(view["open_tasks"]), TASK_COLUMNS),
        "", "waiting timers:",
        table(view["waiting_timers"], ["element_id", "name", "kind", "interrupting", "due_at"]),
        "", "waiting messages:", table(view["waiting_messages"], ["element_id", "message"]),
        "", "history:", table(view["history"], ["at", "actor", "command", "task_id"]),
    ]  # fmt: skip
    return "\n".join(lines)


@main.command()
@click.option("--state", type=click.Choice(["running", "completed", "error"]))
@click.pass_context
def instances(ctx: click.Context, state: str | None) -> None:
    """List recent instances."""
    rows = app_of(ctx).read(lambda s: queries.instances(s, state))
    emit(ctx, rows, table(rows, ["id", "definition", "business_key", "state", "started_at"]))


@main.group("org")
def org_group() -> None:
    """The organisation: departments, people, superiors, groups."""


@org_group.command("import")
@click.argument("file", type=click.Path())
@click.pass_context
def org_import(ctx: click.Context, file: str) -> None:
    """Import departments, people and groups from YAML or CSV (create or update)."""
    ((name, content),) = read_files((file,))
    summary = app_of(ctx).execute(ImportOrg(parse_org_file(name, content)), actor="cli")
    emit(ctx, summary.__dict__,
         f"imported {summary.departments} departments, {summary.people} people, "
         f"{summary.groups} groups")  # fmt: skip


@org_group.command("person")
@click.argument("key")
@click.option("--name", "full_name", required=True)
@click.option("--department")
@click.option("--superior")
@click.option("--groups", default="", help="Comma-separated group keys: the complete list.")
@click.option("--email")
@click.option("--phone")
@click.option("--locale", help="The language of their notices: zh-CN (default) or en.")
@click.pass_context
def org_person(ctx: click.Context, key: str, full_name: str, groups: str, **fields: Any) -> None:
    """Create or update one person; their groups are replaced by --groups."""
    wanted = [g for g in groups.split(",") if g.strip()]
    app_of(ctx).execute(SavePerson(key, full_name, groups=wanted, **fields), actor="cli")
    emit(ctx, {"person": key}, f"saved person {key}")


@org_group.command("department")
@click.argument("key")
@click.option("--name", "title", required=True)
@click.option("--parent")
@click.option("--head")
@click.pass_context
def org_department(ctx: click.Context, key: str, title: str, **fields: Any) -> None:
    """Create or update one department: name, parent department, head."""
    app_of(ctx).execute(SaveDepartment(key, title, **fields), actor="cli")
    emit(ctx, {"department": key}, f"saved department {key}")


@org_group.command("group")
@click.argument("key")
@click.option("--name", "title", required=True)
@click.option("--department", help="The department answering for the group's pool.")
@click.pass_context
def org_group_entry(ctx: click.Context, key: str, title: str, department: str | None) -> None:
    """Create or update one group."""
    app_of(ctx).execute(SaveGroup(key, title, department), actor="cli")
    emit(ctx, {"group": key}, f"saved group {key}")


@main.command()
@click.option("--once", is_flag=True, help="Fire what is due now and exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes.")
@click.pass_context
def worker(ctx: click.Context, once: bool, interval: float) -> None:
    """Run the timer worker (several may run against one PostgreSQL database)."""
    logs.configure()
    from timers.worker import run_worker

    run_worker(app_of(ctx), once=once, interval=interval, emit=lambda v, h: emit(ctx, v, h))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Do not run the embedded timer worker.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, no_worker: bool) -> None:
    """Run the web app (with an embedded timer worker unless --no-worker)."""
    logs.configure()
    from webapp import create_app

    app = app_of(ctx)
    app.init_schema()
    flask_app = create_app(engine=app, start_worker=not no_worker)
    click.echo(f"CaseClock on http://{host}:{port}/  (database {app.db.url!r})")
    flask_app.run(host=host, port=port, threaded=True, use_reloader=False)


@main.command()
@click.option("--fresh", is_flag=True, help="Delete the SQLite database first.")
@click.pass_context
def demo(ctx: click.Context, fresh: bool) -> None:
    """Create the schema, demo org, every diagram in bpmn/, and demo cases."""
    from .demo import seed

    app = app_of(ctx)
    if fresh and app.db.url.get_backend_name() == "sqlite" and app.db.url.database:
        app.close()
        for suffix in ("", "-wal", "-shm"):
            Path(app.db.url.database + suffix).unlink(missing_ok=True)
        ctx.obj.app = None
        app = app_of(ctx)
    lines = seed(app)
    emit(ctx, lines, "\n".join(lines))


@main.command()
@click.argument("task_id", type=ID)
@user_option("The assignee.", required=True)
@click.option("--reason", required=True, help="Why the clock stops, e.g. 等待申请人补正材料.")
@click.pass_context
def pause(ctx: click.Context, task_id: int, user: str, reason: str) -> None:
    """Stop a task's SLA clock (补正): paused working time will not count."""
    task = app_of(ctx).execute(PauseClock(task_id, user, reason), actor=user)
    emit(ctx, {"id": task.id, "paused": True}, f"task {task.id}: clock paused")


@main.command()
@click.argument("task_id", type=ID)
@user_option("The assignee.", required=True)
@click.pass_context
def resume(ctx: click.Context, task_id: int, user: str) -> None:
    """Restart a paused clock; the deadline moves by the paused working time."""
    app = app_of(ctx)
    task = app.execute(ResumeClock(task_id, user), actor=user)
    due = queries.local(task.due_at, app.services.timezone)
    emit(ctx, {"id": task.id, "due_at": due}, f"task {task.id}: clock running, due {due}")


@main.command()
@click.argument("task_id", type=ID)
@user_option("The assignee.", required=True)
@click.option("--by", "amount", required=True, help='How much longer, e.g. "2 working days".')
@click.option("--reason", required=True)
@click.pass_context
def extend(ctx: click.Context, task_id: int, user: str, amount: str, reason: str) -> None:
    """Ask your superior for more time (延期)."""
    request = app_of(ctx).execute(RequestExtension(task_id, user, amount, reason), actor=user)
    emit(ctx, {"extension_id": request.id, "status": request.status},
         f"extension {request.id} requested ({amount}); waiting for your superior")  # fmt: skip


def _decide_command(name: str, what: str, build: Any, help_text: str) -> None:
    """``caseclock decide-extension`` / ``decide-exemption``: the superior's decision."""

    @main.command(name, help=help_text)
    @click.argument("request_id", type=ID)
    @user_option("The requester's superior.", required=True)
    @click.option("--approve/--refuse", required=True)
    @click.option("--note", default="")
    @click.pass_context
    def command(ctx: click.Context, request_id: int, user: str, approve: bool,
                note: str) -> None:  # fmt: skip
        request = app_of(ctx).execute(build(request_id, user, approve, note), actor=user)
        emit(ctx, {f"{what}_id": request.id, "status": request.status},
             f"{what} {request.id} {request.status}")  # fmt: skip


_decide_command(
    "decide-extension",
    "extension",
    DecideExtension,
    "Approve or refuse an extension; approval moves the deadline and warnings.",
)


@main.group("sla")
def sla_group() -> None:
    """SLA standards: basic (基本标准) and temporary (临时标准) time limits."""


@sla_group.command("set")
@click.argument("process_key")
@click.argument("step")
@click.argument("limit")
@click.option("--warning", "warnings", multiple=True, help='e.g. "2/3" or "1 working day before".')
@click.option("--temporary", is_flag=True, help="A temporary standard (needs --from/--to/--when).")
@click.option("--label", default="", help="Shown on tasks, e.g. 国庆专项.")
@click.option("--from", "valid_from", help="Temporary window start (ISO; local time if no offset).")
@click.option("--to", "valid_to", help="Temporary window end (exclusive).")
@click.option(
    "--when", "condition", help="Condition over case data, e.g. \"priority == 'urgent'\"."
)
@click.option("--priority", default=0, show_default=True, type=int)
@click.pass_context
def sla_set(ctx: click.Context, process_key: str, step: str, limit: str,
            warnings: tuple[str, ...], temporary: bool, label: str, valid_from: str | None,
            valid_to: str | None, condition: str | None, priority: int) -> None:  # fmt: skip
    """Set the limit of STEP (a user task id, or * for the whole case) of PROCESS_KEY."""
    app = app_of(ctx)
    tz = app.services.timezone
    command = SetStandard(
        process_key, step, limit, kind="temporary" if temporary else "basic", label=label,
        warnings=list(warnings), condition=condition, priority=priority,
        valid_from=_instant(valid_from, tz), valid_to=_instant(valid_to, tz),
    )  # fmt: skip
    standard = app.execute(command, actor="cli")
    emit(ctx, {"id": standard.id}, f"{standard.kind} standard {standard.id}: "
         f"{process_key}/{step} = {limit}")  # fmt: skip


def _instant(text: str | None, tz: Any) -> datetime | None:
    if not text:
        return None
    try:
        return parse_datetime(text, tz)
    except TimerTextError as exc:
        raise ValidationError(str(exc)) from None


@sla_group.command("list")
@click.option("--process", "process_key")
@click.pass_context
def sla_list(ctx: click.Context, process_key: str | None) -> None:
    """Active standards."""
    rows = app_of(ctx).read(lambda s: standards_view(s, process_key))
    emit(ctx, rows, table(rows, ["id", "process", "step", "kind", "label", "limit", "warnings",
                                 "valid_from", "valid_to", "condition"]))  # fmt: skip


@sla_group.command("retire")
@click.argument("standard_id", type=ID)
@click.pass_context
def sla_retire(ctx: click.Context, standard_id: int) -> None:
    """Stop applying a standard to clocks that start from now on."""
    app_of(ctx).execute(RetireStandard(standard_id), actor="cli")
    emit(ctx, {"id": standard_id, "active": False}, f"standard {standard_id} retired")


@sla_group.command("recompute")
@click.option("--calendar", help="Only clocks measured in this calendar.")
@click.option("--dry-run", is_flag=True, help="Show the new due times; change nothing.")
@click.pass_context
def sla_recompute(ctx: click.Context, calendar: str | None, dry_run: bool) -> None:
    """Re-plan open deadlines (calendar overrides do this by themselves)."""
    app = app_of(ctx)
    moved = app.execute(RecomputeClocks(calendar, dry_run), actor="cli")
    tz = app.services.timezone
    rows = [{**m, "from": queries.local(m["from"], tz), "to": queries.local(m["to"], tz)}
            for m in moved]  # fmt: skip
    verb = "would move" if dry_run else "moved"
    emit(ctx, rows, f"{len(rows)} open clock(s) {verb}\n"
         + table(rows, ["task_id", "instance_id", "from", "to"]))  # fmt: skip


@main.command()
@click.pass_context
def digest(ctx: click.Context) -> None:
    """Compose the daily digest e-mails now (the worker does it every morning at 08:30)."""
    composed = app_of(ctx).execute(ComposeDigests(), actor="cli")
    emit(ctx, {"digests": composed}, f"composed {composed} digest(s)")


@main.group("chase")
def chase_group() -> None:
    """Chase tasks (催办): handle or urge the ones in your inbox."""


@chase_group.command("handle")
@click.argument("chase_id", type=ID)
@user_option("The supervisor holding the chase task.", required=True)
@click.option("--note", default="", help="What was done or agreed.")
@click.pass_context
def chase_handle(ctx: click.Context, chase_id: int, user: str, note: str) -> None:
    """Mark a chase task handled."""
    app_of(ctx).execute(HandleChase(chase_id, user, note), actor=user)
    emit(ctx, {"id": chase_id, "state": "completed"}, f"chase task {chase_id} handled")


@chase_group.command("urge")
@click.argument("chase_id", type=ID)
@user_option("The supervisor holding the chase task.", required=True)
@click.option("--message", default="", help="Added to the 催办 notice.")
@click.pass_context
def chase_urge(ctx: click.Context, chase_id: int, user: str, message: str) -> None:
    """Send the late task's holder a 催办 notice (at most once an hour)."""
    app_of(ctx).execute(UrgeChase(chase_id, user, message), actor=user)
    emit(ctx, {"id": chase_id, "urged": True}, f"chase task {chase_id}: holder urged")


@main.command()
@click.option("--user", required=True, help="The supervisor.")
@click.pass_context
def board(ctx: click.Context, user: str) -> None:
    """A supervisor's board: late and warned work below you, your chase tasks, on-time rate."""
    app = app_of(ctx)
    now = app.clock.now()
    view = app.read(lambda s: queries.board(s, app.services.timezone, user, now))
    rates = [{"person": p, **r} for p, r in view["on_time"].items()]
    text = "\n".join([
        f"team of {user}: {', '.join(view['team']) or '(nobody)'}",
        "", "late or warned:", table(_with_clock(view["late_or_warned"]), TASK_COLUMNS),
        "", "my chase tasks:", table(_with_clock(view["my_chase_tasks"]), TASK_COLUMNS),
        "", "on-time rate:", table(rates, ["person", "met", "closed", "rate"]),
    ])  # fmt: skip
    emit(ctx, view, text)


@main.group("audit")
def audit_group() -> None:
    """The audit log's hash chains: verify them, anchor their heads."""


@audit_group.command("anchor")
@click.option("--file", "path", type=click.Path(), help="Also append the anchor to this file.")
@click.pass_context
def audit_anchor(ctx: click.Context, path: str | None) -> None:
    """Record a digest of every chain head (keep the file outside the database)."""
    anchor = app_of(ctx).execute(WriteAnchor(), actor="cli")
    line = {"at": anchor.at.isoformat(), "digest": anchor.digest, "heads": anchor.heads}
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
    emit(ctx, line, f"anchor {anchor.id}: {len(anchor.heads)} chains, digest {anchor.digest}")


@audit_group.command("verify")
@click.option(
    "--anchor-file",
    type=click.Path(exists=True),
    help="Check against the last anchor in this file (else the database's).",
)
@click.pass_context
def audit_verify(ctx: click.Context, anchor_file: str | None) -> None:
    """Walk every chain; name the first broken entry of each (exit 1 if any)."""
    anchor = _file_anchor(anchor_file) if anchor_file else None
    breaks = app_of(ctx).read(lambda s: verify_chains(s, anchor or latest_anchor(s)))
    if breaks:
        raise TamperDetected(
            f"{len(breaks)} chain(s) broken; first: {breaks[0]}",
            details={"problems": [{"file": b.chain_key, "element_id": b.seq,
                                   "message": str(b)} for b in breaks]},
        )  # fmt: skip
    emit(ctx, {"broken": []}, "all audit chains verify")


def _file_anchor(path: str) -> dict[str, Any]:
    lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
    if not lines:
        raise ValidationError(f"{path} holds no anchor")
    last = json.loads(lines[-1])
    if anchor_digest(last["heads"]) != last["digest"]:
        raise TamperDetected(f"the last anchor in {path} does not match its own digest")
    return {key: tuple(head) for key, head in last["heads"].items()}


@main.command()
@click.argument("task_id", type=ID)
@user_option("The responsible person or their superior.", required=True)
@click.option("--reason", required=True, help="The documented cause.")
@click.pass_context
def exempt(ctx: click.Context, task_id: int, user: str, reason: str) -> None:
    """Ask to excuse a breach (免责); the requester's superior decides."""
    request = app_of(ctx).execute(RequestExemption(task_id, user, reason), actor=user)
    emit(ctx, {"exemption_id": request.id, "status": request.status},
         f"exemption {request.id} requested; waiting for the superior")  # fmt: skip


_decide_command(
    "decide-exemption",
    "exemption",
    DecideExemption,
    "Approve or refuse an exemption; the decision is appended to the ledger.",
)
