"""Demo data: the demo organisation, every shipped diagram, and cases in various states.

Run by ``caseclock demo`` (README command 1). Seeding twice adds nothing: cases are
only started when the database has none yet.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from engine.app import CaseClock
from engine.clock import FrozenClock
from engine.collection.daily import run_collection_day
from engine.collection.demo import seed_demo_portfolio
from engine.collection.ladder import ResetLadder
from engine.definitions import DeployDiagrams
from engine.org import ImportOrg, parse_org_file
from engine.runtime import ClaimTask, CompleteTask, StartInstance
from engine.store import ProcessInstance, Task

from .accounts import seed_demo_accounts

ROOT = Path(__file__).resolve().parent.parent
RECEIVE = {"applicant_name": "张三", "matter": "食品经营许可证", "documents_complete": True}


def seed(app: CaseClock) -> list[str]:
    app.init_schema()
    org_file = ROOT / "demo" / "org.yaml"
    summary = app.execute(ImportOrg(parse_org_file(org_file.name, org_file.read_bytes())), "demo")
    lines = [f"org: {summary.departments} departments, {summary.people} people"]
    files = sorted((ROOT / "bpmn").glob("*.bpmn")) + sorted((ROOT / "bpmn").glob("*.dmn"))
    deployed = app.execute(DeployDiagrams([(p.name, p.read_bytes()) for p in files]), "demo")
    lines += [f"deployed {d.key} v{d.version}" for d in deployed]
    lines += seed_demo_accounts(app)
    existing = app.read(lambda s: s.scalar(select(func.count()).select_from(ProcessInstance)))
    if existing:
        return [*lines, f"{existing} cases already present; nothing started"]
    lines += _case_handling(app) + _debt_collection(app)
    return lines


def _open_task(app: CaseClock, instance_id: int) -> int:
    return app.read(
        lambda s: s.scalars(
            select(Task.id).where(Task.instance_id == instance_id, Task.state == "open")
        ).first()
    )


def _work(app: CaseClock, instance_id: int, user: str, data: dict) -> None:  # type: ignore[type-arg]
    task_id = _open_task(app, instance_id)
    app.execute(ClaimTask(task_id, user), actor=user)
    app.execute(CompleteTask(task_id, user, data), actor=user)


def _case_handling(app: CaseClock) -> list[str]:
    """Cases received some days ago, so the demo opens with green, yellow and red clocks."""
    now = app.clock.now()

    def start(number: int, days_ago: float) -> tuple[CaseClock, int]:
        # The same database seen at an earlier instant: the case's clocks started then.
        then = CaseClock(
            app.settings, FrozenClock(now - timedelta(days=days_ago)), app.services.sandbox
        )
        key = f"BJ-2026-{number:04d}"
        return then, then.execute(StartInstance("case_handling", key), "li").id

    lines = []
    then, case = start(1, days_ago=6)
    lines.append(f"case {case}: 受理 unclaimed for 6 days: overdue")
    then, case = start(2, days_ago=0.1)
    then.execute(ClaimTask(_open_task(then, case), "li"), actor="li")
    lines.append(f"case {case}: 受理 claimed by li just now")
    then, case = start(3, days_ago=3)
    _work(then, case, "chen", RECEIVE)
    lines.append(f"case {case}: 审核 in the reviewers' pool for 3 days")
    then, case = start(4, days_ago=1)
    _work(then, case, "li", {**RECEIVE, "documents_complete": False})
    lines.append(f"case {case}: waiting for the applicant's documents (补正)")
    then, case = start(5, days_ago=2)
    _work(then, case, "li", RECEIVE)
    _work(then, case, "yang", {"review_opinion": "pass", "review_comment": "材料齐全"})
    lines.append(f"case {case}: 审批 in the approvers' pool")
    then, case = start(6, days_ago=8)
    _work(then, case, "chen", RECEIVE)
    _work(then, case, "huang", {"review_opinion": "pass"})
    _work(then, case, "qian", {"decision": "approve"})
    _work(then, case, "li", {"certificate_no": "JY-3301-2026-0006"})
    lines.append(f"case {case}: concluded (办结)")
    then.close()
    return lines


def _debt_collection(app: CaseClock) -> list[str]:
    """A portfolio in every aging bucket and grade, the shipped ladder, and today's
    collection run: a case for each receivable in its courtesy window or overdue."""
    lines = seed_demo_portfolio(app)
    app.execute(ResetLadder(), "demo")
    day = run_collection_day(app)
    return [
        *lines,
        f"collection: {len(day.started)} cases on the ladder ({', '.join(day.started)})",
    ]
