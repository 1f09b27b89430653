"""PIPL: personal data lives in erasable places; erasing it leaves every audit chain and
ledger entry verifiable, and the erasure itself is on record."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from engine.audit_verify import WriteAnchor, latest_anchor, verify
from engine.erasure import EraseCase, ErasePerson
from engine.errors import Conflict
from engine.ledger import RequestExemption
from engine.runtime import ClaimTask, CompleteTask, StartInstance
from engine.store import AuditEvent, OutboxMessage, Person, ProcessInstance
from engine.store.models import AuditPrivate, Exemption
from timers.worker import Worker

from .helpers import open_tasks, view
from .test_deploy import deploy_bytes
from .test_sla import at, sla_process

PHONE = "13800138000"


@pytest.fixture
def late_case(org_app, clock):
    """A case with the applicant's phone in its data, claimed by yang, breached, with an
    exemption request whose reason names a person, then completed late."""
    clock.set(at("2026-03-02T09:00"))
    deploy_bytes(org_app, sla_process(limit="1 working day", warnings=""))
    instance = org_app.execute(StartInstance("sla", "BJ-P", {"applicant": "张三", "phone": PHONE}))
    task_id = open_tasks(org_app, instance.id)["t"]["id"]
    org_app.execute(ClaimTask(task_id, "yang"))
    clock.set(at("2026-03-03T17:31"))
    Worker(org_app).run_once()
    org_app.execute(RequestExemption(task_id, "yang", "张三的材料由王五代交，晚到"))
    org_app.execute(CompleteTask(task_id, "yang", {"note": f"已电话 {PHONE} 联系"}))
    return instance.id


def chain_text(app) -> str:
    rows = app.read(lambda s: s.execute(select(AuditEvent.payload)).scalars().all())
    return json.dumps(rows, ensure_ascii=False)


def check(app) -> list[str]:
    return app.read(lambda s: [str(b) for b in verify(s, latest_anchor(s))])


def test_personal_data_stays_out_of_the_chain(org_app, late_case):
    text = chain_text(org_app)
    assert PHONE not in text and "张三" not in text and "王五" not in text
    history = view(org_app, late_case)["history"]
    start = next(e for e in history if e["command"] == "start")
    assert start["private"] == {"data": {"applicant": "张三", "phone": PHONE}}
    assert "private_sha256" in start["payload"]


def test_erasing_a_case_keeps_the_chains_verifiable(org_app, late_case):
    org_app.execute(WriteAnchor())
    assert check(org_app) == []
    erased = org_app.execute(EraseCase(late_case), actor="admin")
    assert erased.private_rows >= 3  # start, exemption reason, complete data
    assert check(org_app) == []
    case = view(org_app, late_case)
    assert case["data"] == {}
    assert all(e.get("private") is None for e in case["history"])
    assert case["history"][-1]["command"] == "erase_case"
    everything = org_app.read(lambda s: json.dumps(
        [s.scalars(select(AuditPrivate.data)).all(),
         [(m.recipient, m.subject, m.body, m.payload) for m in s.scalars(select(OutboxMessage))],
         s.scalars(select(Exemption.reason)).all(),
         s.scalars(select(ProcessInstance.workflow_state)).all()],
        ensure_ascii=False, default=str))  # fmt: skip
    assert PHONE not in everything and "张三" not in everything and "王五" not in everything
    # The breach stays accountable: the ledger entry still names the responsible key.
    [breach] = [e for e in case["history"] if e["command"] == "ledger_breach"]
    assert breach["payload"]["responsible"] == "yang"


def test_a_running_case_cannot_be_erased(org_app, clock):
    deploy_bytes(org_app, sla_process())
    instance = org_app.execute(StartInstance("sla", "BJ-R", {"phone": PHONE})).id
    with pytest.raises(Conflict, match="still running"):
        org_app.execute(EraseCase(instance))
    assert view(org_app, instance)["data"] == {"phone": PHONE}


def test_editing_private_data_is_detected(org_app, late_case):
    with org_app.sessions.begin() as session:
        session.execute(update(AuditPrivate).where(AuditPrivate.instance_id == late_case)
                        .values(data={"data": {"applicant": "李四"}}))  # fmt: skip
    found = check(org_app)
    assert found and "private data does not match" in found[0]


def test_erasing_a_person_keeps_their_key_and_the_chain(org_app, late_case):
    other = org_app.execute(StartInstance("sla", "BJ-Q")).id
    org_app.execute(ClaimTask(open_tasks(org_app, other)["t"]["id"], "yang"))
    with pytest.raises(Conflict, match="reassign them first"):
        org_app.execute(ErasePerson("yang"))
    org_app.execute(ErasePerson("huang"), actor="admin")
    person = org_app.read(lambda s: s.scalars(select(Person).where(Person.key == "huang")).one())
    assert (person.name, person.email, person.phone) == ("(erased)", None, None)
    assert not person.active
    assert check(org_app) == []


def test_cli_erases_a_concluded_case(cli, org_app, late_case):
    result = cli("erase", "case", str(late_case), "--yes")
    assert f"case {late_case} erased" in result.output
    cli("audit", "verify")
    assert "no process instance 999" in cli("erase", "case", "999", "--yes", ok=False).output
