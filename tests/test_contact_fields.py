"""The applicant's e-mail address and mobile number on the 办件 受理 form: a form field can
declare a format (``<camunda:constraint name="format" config="email|phone"/>``), a value
that is not one is refused at the field and nothing is stored, a diagram naming an
unknown format is refused at deploy, and the sender records an unparseable e-mail
recipient as a permanent error instead of crashing on it."""

from __future__ import annotations

import re

import pytest
from lxml import etree
from sqlalchemy import func, select

from engine.errors import DeploymentError, ValidationError
from engine.runtime import ClaimTask, CompleteTask, StartInstance
from engine.store import AuditEvent, OutboxMessage, ProcessInstance, Task
from timers.sender import OutboxSender, SendResult
from webapp.engine_text import chinese

from .conftest import SHIPPED, deploy
from .helpers import open_tasks, work
from .test_delivery import config, enqueue, receiver, row, smtp  # noqa: F401 (fixtures)
from .test_deploy import deploy_bytes
from .web.conftest import password_hashes, post, site  # noqa: F401 (fixtures)

RECEIVE = {"applicant_name": "张三", "matter": "食品经营许可证", "documents_complete": False}
MODELER = SHIPPED.parent / "tests" / "web" / "data" / "case_handling.modeler.bpmn"
CAMUNDA = {"camunda": "http://camunda.org/schema/1.0/bpmn"}


@pytest.fixture
def case_app(org_app):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    return org_app


def claimed_receive(app) -> tuple[int, int]:
    """A new case and its 受理 task, claimed by li."""
    case = app.execute(StartInstance("case_handling", "BJ-C"), actor="li").id
    task_id = open_tasks(app, case)["Task_receive"]["id"]
    app.execute(ClaimTask(task_id, "li"), actor="li")
    return case, task_id


def outbox_count(app) -> int:
    return app.read(lambda s: s.scalar(select(func.count()).select_from(OutboxMessage)))


# --- the engine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("applicant_email", "bad@", "'bad@' is not an e-mail address: write name@domain.tld"),
        ("applicant_email", "zhang san@example.com", "is not an e-mail address"),
        ("applicant_mobile", "not a phone number at all", "is not a phone number: 5 to 20"),
        ("applicant_mobile", "1380", "'1380' is not a phone number"),
    ],
)
def test_a_bad_contact_is_refused_at_its_field_and_nothing_is_stored(
    case_app, field, value, message
):
    case, task_id = claimed_receive(case_app)
    good = {"applicant_email": "zhangsan@example.com", "applicant_mobile": "13900000000"}
    with pytest.raises(ValidationError) as info:
        case_app.execute(CompleteTask(task_id, "li", {**RECEIVE, **good, field: value}))
    assert list(info.value.details["fields"]) == [field]
    assert message in info.value.details["fields"][field]
    assert case_app.read(lambda s: s.get(Task, task_id).state) == "open"
    assert case_app.read(lambda s: s.get(ProcessInstance, case).data) == {}
    assert outbox_count(case_app) == 0  # no 补正 notice to a non-address


def test_good_contacts_are_stored_trimmed_and_notified(case_app):
    case, task_id = claimed_receive(case_app)
    contact = {"applicant_email": " zhangsan@example.com ", "applicant_mobile": "+86 139-0000 0000"}
    case_app.execute(CompleteTask(task_id, "li", {**RECEIVE, **contact}))
    data = case_app.read(lambda s: s.get(ProcessInstance, case).data)
    assert data["applicant_email"] == "zhangsan@example.com"
    assert data["applicant_mobile"] == "+86 139-0000 0000"
    recipients = case_app.read(lambda s: sorted(s.scalars(select(OutboxMessage.recipient)).all()))
    assert recipients == ["+86 139-0000 0000", "zhangsan@example.com"]


def test_contacts_stay_optional(case_app):
    case = case_app.execute(StartInstance("case_handling", "BJ-O"), actor="li").id
    work(case_app, case, "Task_receive", "li", {**RECEIVE, "applicant_email": ""})
    assert "Task_receive" not in open_tasks(case_app, case)


def test_a_very_long_bad_value_is_not_echoed(case_app):
    _, task_id = claimed_receive(case_app)
    value = "x" * 150
    with pytest.raises(ValidationError) as info:
        case_app.execute(CompleteTask(task_id, "li", {**RECEIVE, "applicant_email": value}))
    assert info.value.details["fields"]["applicant_email"] == (
        "the value is not an e-mail address: write name@domain.tld"
    )


# --- deploy --------------------------------------------------------------------------

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="t">
  <bpmn:process id="contact" isExecutable="true">
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Task_contact" />
    <bpmn:userTask id="Task_contact" camunda:formKey="embedded:generated">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="fax" label="Fax" type="{kind}">
          <camunda:validation><camunda:constraint name="format" config="{fmt}" />
          </camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_contact" targetRef="E" />
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize(
    "kind, fmt, message",
    [
        ("string", "fax", "form field 'fax': unknown format 'fax'; known: email, phone"),
        ("long", "phone", "form field 'fax': format 'phone' needs type string, not 'long'"),
    ],
)
def test_a_format_the_engine_does_not_check_is_refused_at_deploy(app, kind, fmt, message):
    content = DIAGRAM.format(kind=kind, fmt=fmt).encode()
    with pytest.raises(DeploymentError) as info:
        deploy_bytes(app, content, names=["contact.bpmn"])
    assert info.value.details["problems"] == [
        {"file": "contact.bpmn", "element_id": "Task_contact", "message": message}
    ]
    assert f"contact.bpmn: Task_contact: {message}" in info.value.message
    assert chinese(message) is not None  # the designer page shows it in Chinese


def test_a_declared_format_is_checked_in_any_diagram(org_app):
    app = org_app
    deploy_bytes(app, DIAGRAM.format(kind="string", fmt="phone").encode())
    case = app.execute(StartInstance("contact", "C-1"), actor="li").id
    task_id = open_tasks(app, case)["Task_contact"]["id"]
    app.execute(ClaimTask(task_id, "li"), actor="li")
    with pytest.raises(ValidationError) as info:
        app.execute(CompleteTask(task_id, "li", {"fax": "call me"}))
    assert info.value.details["fields"] == {"fax": "'call me' is not a phone number: 5 to 20 "
        "digits, with an optional leading + and spaces, dashes or parentheses"}  # fmt: skip
    app.execute(CompleteTask(task_id, "li", {"fax": "(010) 6552-9988"}))


def form_of(path) -> list[bytes]:
    tree = etree.parse(str(path))
    fields = tree.xpath("//*[@id='Task_receive']//camunda:formField", namespaces=CAMUNDA)
    return [etree.tostring(f, with_tail=False) for f in fields]


def test_the_modeler_copy_has_the_shipped_受理_form():
    shipped = form_of(SHIPPED / "case_handling.bpmn")
    assert form_of(MODELER) == shipped
    assert any(b'config="email"' in f for f in shipped)
    assert any(b'config="phone"' in f for f in shipped)
    assert any(b'id="applicant_locale"' in f for f in shipped)


# --- on the page ---------------------------------------------------------------------


def field_html(page: str, field: str) -> str:
    found = re.search(rf'class="field[^"]*" data-field="{field}".*?</div>', page, re.S)
    assert found is not None, field
    return found.group(0)


def test_the_受理_page_refuses_bad_contacts_with_422_at_the_fields(site):  # noqa: F811
    client = site.client("li")
    post(client, f"/tasks/{site.receive}/claim")
    events = site.engine.read(lambda s: s.scalar(select(func.count()).select_from(AuditEvent)))
    sent = {**RECEIVE, "documents_complete": "",
            "applicant_email": "bad@", "applicant_mobile": "not a phone number at all"}  # fmt: skip
    response = post(client, f"/tasks/{site.receive}/complete", sent)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    email = field_html(page, "applicant_email")
    assert "has-error" in email and "不是电子邮件地址" in email
    mobile = field_html(page, "applicant_mobile")
    assert "has-error" in mobile and "不是电话号码" in mobile
    assert site.engine.read(lambda s: s.get(Task, site.receive).state) == "open"
    assert site.engine.read(lambda s: s.get(ProcessInstance, site.case).data) == {}
    assert (
        site.engine.read(lambda s: s.scalar(select(func.count()).select_from(AuditEvent))) == events
    )
    assert outbox_count(site.engine) == 0


@pytest.mark.parametrize(
    "message",
    [
        "'bad@' is not an e-mail address: write name@domain.tld",
        "the value is not an e-mail address: write name@domain.tld",
        "'x' is not a phone number: 5 to 20 digits, with an optional leading + and spaces, "
        "dashes or parentheses",
    ],
)
def test_the_new_form_messages_have_chinese_wording(message):
    assert chinese(message) is not None
    assert chinese(f"invalid form data: applicant_email: {message}").startswith("表单数据有误")


# --- the sender ----------------------------------------------------------------------


@pytest.mark.parametrize("recipient", ["bad@", "", "not a phone number at all", "a@b@c", "@x.cn"])
def test_an_unparseable_e_mail_recipient_is_a_permanent_error_not_a_crash(
    app,
    smtp,  # noqa: F811
    config,  # noqa: F811
    recipient: str,
):
    bad = enqueue(app, "email", recipient, "bad:1", subject="补正", body="请补充材料")
    good = enqueue(app, "email", "zhangsan@example.com", "good:1", subject="补正", body="请补充")
    assert OutboxSender(app, config).run_once() == SendResult(sent=1, failed=1)
    failed = row(app, bad)
    assert (failed.status, failed.attempts) == ("dead", 1)  # not retried: it cannot work
    assert failed.last_error == (
        f"permanent: the recipient {recipient!r} is not a valid e-mail address; not retried"
    )
    assert row(app, good).status == "sent"
    [mail] = smtp.mailbox.messages
    assert mail["To"] == "zhangsan@example.com"


def test_an_e_mail_with_a_display_name_is_still_delivered(app, smtp, config):  # noqa: F811
    sent = enqueue(app, "email", "张三 <zhangsan@example.gov.cn>", "named:1", subject="s", body="b")
    assert OutboxSender(app, config).run_once() == SendResult(sent=1, failed=0)
    assert row(app, sent).status == "sent"
    assert smtp.mailbox.messages[0]["To"].addresses[0].username == "zhangsan"
