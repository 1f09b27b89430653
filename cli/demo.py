"""Demo data: the demo organisation, every shipped diagram, and cases in various states.

Run by ``caseclock demo`` (README command 1). Seeding twice adds nothing: cases are
only started when the database has none yet.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from engine.app import CaseClock
from engine.definitions import DeployDiagrams
from engine.org import ImportOrg, parse_org_file
from engine.runtime import ClaimTask, CompleteTask, CorrelateMessage, StartInstance
from engine.store import ProcessInstance, Task

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
    def start(number: int) -> int:
        return app.execute(StartInstance("case_handling", f"BJ-2026-{number:04d}"), "li").id

    new = start(1)
    claimed = start(2)
    app.execute(ClaimTask(_open_task(app, claimed), "li"), actor="li")
    in_review = start(3)
    _work(app, in_review, "chen", RECEIVE)
    waiting_docs = start(4)
    _work(app, waiting_docs, "li", {**RECEIVE, "documents_complete": False})
    in_approval = start(5)
    _work(app, in_approval, "li", RECEIVE)
    _work(app, in_approval, "yang", {"review_opinion": "pass", "review_comment": "材料齐全"})
    done = start(6)
    _work(app, done, "chen", RECEIVE)
    _work(app, done, "huang", {"review_opinion": "pass"})
    _work(app, done, "qian", {"decision": "approve"})
    _work(app, done, "li", {"certificate_no": "JY-3301-2026-0006"})
    return [
        f"case {new}: 受理 waiting to be claimed",
        f"case {claimed}: 受理 claimed by li",
        f"case {in_review}: 审核 in the reviewers' pool",
        f"case {waiting_docs}: waiting for the applicant's documents (补正)",
        f"case {in_approval}: 审批 in the approvers' pool",
        f"case {done}: concluded (办结)",
    ]


def _debt_collection(app: CaseClock) -> list[str]:
    def start(key: str, debtor: str, amount: int) -> int:
        data = {"debtor_name": debtor, "amount": amount, "receivable_id": key}
        return app.execute(StartInstance("debt_collection", key, data), "sun").id

    overdue = start("AR-2026-0101", "某某贸易有限公司", 128000)
    paid = start("AR-2026-0102", "某某餐饮店", 5600)
    app.execute(CorrelateMessage("payment_received", "AR-2026-0102", {"paid": 5600}), "sun")
    return [
        f"collection {overdue}: overdue receivable on the ladder (SMS at D+1)",
        f"collection {paid}: payment received, case closed",
    ]
