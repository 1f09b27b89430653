"""The admin pages (系统管理): each page and action through the test client, bad input
at the field (never a 500), and the audit event each command writes."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from engine.absence import DeclareAbsence
from engine.due_timers import RecordTimerFailure
from engine.org import ImportOrg
from engine.runtime import ClaimTask
from engine.store import AuditEvent, Person, Task, Timer
from engine.store.account_tables import Account
from engine.store.calendar_tables import CalendarOverride
from engine.store.models import Absence, SlaStandard

from .conftest import PERSONAS, post


def events(site, name):
    return site.engine.read(
        lambda s: list(s.scalars(select(AuditEvent.payload).where(AuditEvent.command == name)))
    )


@pytest.fixture
def admin(site):
    return site.client("zhao")


def text(response):
    return response.get_data(as_text=True)


# --- /admin/org ---------------------------------------------------------------------------


def test_org_page_shows_departments_people_groups(admin):
    page = admin.get("/admin/org")
    assert page.status_code == 200
    html = text(page)
    assert 'data-department="window"' in html and "王科长" in html
    assert 'data-person="li"' in html and 'data-group="reception"' in html
    assert 'data-account="zhao"' in html
    assert admin.get("/admin").status_code == 302
    # The forms offer the people (active ones) and the pool option for a handover.
    absent = re.search(r'<select name="person" id="abs-person">(.*?)</select>', html, re.S)
    assert absent and 'value="li"' in absent.group(1)
    recipient = re.search(r'<select name="to" id="ra-to">(.*?)</select>', html, re.S)
    assert recipient and "退回组任务池" in recipient.group(1)
    window = re.search(r'data-department="window".*?</tr>', html, re.S)
    assert window and 'class="depth-1"' in window.group(0) and "(wang)" in window.group(0)


def test_upload_yaml_imports_and_is_audited(site, admin):
    doc = (
        "departments:\n  - {key: archive, name: 档案室, parent: county, head: ma}\n"
        "people:\n  - {key: ma, name: 马档案, department: archive, superior: zhao, "
        "groups: [archivists]}\ngroups:\n  - {key: archivists, name: 档案员, "
        "department: archive}\n"
    )
    response = post(admin, "/admin/org/upload", {"file": (io.BytesIO(doc.encode()), "more.yaml")})
    assert response.status_code == 303
    html = text(admin.get("/admin/org"))
    assert "档案室" in html and "马档案" in html and 'data-group="archivists"' in html
    assert events(site, "org_import")[-1]["people"] == 1


def test_upload_csv(site, admin):
    csv = "key,name,department,superior,groups\nxu,许窗口,window,wang,reception;reviewers\n"
    response = post(admin, "/admin/org/upload", {"file": (io.BytesIO(csv.encode()), "x.csv")})
    assert response.status_code == 303
    assert site.engine.read(lambda s: s.scalar(select(Person.name).where(Person.key == "xu")))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.yaml", b"departments: [unclosed", "不是有效的 YAML"),
        ("bad.yaml", b"people:\n  - {key: x, superior: nobody}\n", "引用了未知的人员"),
        ("bad.yaml", b"people:\n  - just a string\n", "mapping"),
        ("bad.yaml", b"departments:\n  - {key: d, webhook: http://x}\n", "webhook"),
        ("bad.yaml", "部门".encode("gbk"), "UTF-8"),
        ("bad.txt", b"x", ".csv"),
        (
            "bad.yaml",
            b"people:\n  - {key: li, email: li.example.gov.cn}\n",
            "不是电子邮件地址：请写成 name@domain.tld",
        ),
        ("long.yaml", ("people:\n  - {key: " + "k" * 150 + "}\n").encode(), ""),
    ],
)
def test_upload_errors_at_the_field(site, admin, name, content, message):
    before = len(events(site, "org_import"))
    response = post(admin, "/admin/org/upload", {"file": (io.BytesIO(content), name)})
    if name == "long.yaml" and response.status_code == 303:
        return  # SQLite does not enforce the column length; PostgreSQL refuses it
    assert response.status_code == 422, text(response)
    html = text(response)
    assert 'data-error="upload.file"' in html and message in html
    assert len(events(site, "org_import")) == before


def test_upload_without_a_file(admin):
    response = post(admin, "/admin/org/upload")
    assert response.status_code == 422 and 'data-error="upload.file"' in text(response)


def test_create_account_set_roles_disable(site, admin):
    response = post(
        admin,
        "/admin/accounts",
        {"person": "qian", "roles": ["staff", "supervisor"], "password": "s3cret"},
    )
    assert response.status_code == 303
    assert events(site, "create_account")[-1]["person"] == "qian"
    assert 'data-account="qian"' in text(admin.get("/admin/org"))
    response = post(admin, "/admin/accounts/qian/roles", {"roles": ["auditor"]})
    assert response.status_code == 303
    assert events(site, "set_roles")[-1]["after"] == ["auditor"]
    assert post(admin, "/admin/accounts/li/active", {"active": "0"}).status_code == 303
    assert events(site, "set_account_active")
    active = site.engine.read(
        lambda s: s.scalar(select(Account.active).where(Account.person_key == "li"))
    )
    assert active is False
    # The disabled account is out at once.
    assert site.client(None).get("/admin/org").status_code == 302
    assert post(admin, "/admin/accounts/li/active", {"active": "1"}).status_code == 303


def test_account_errors(site, admin):
    bad = post(admin, "/admin/accounts", {"person": "qian", "roles": ["staff"], "password": "ab"})
    assert bad.status_code == 422 and 'data-error="account.password"' in text(bad)
    bad = post(admin, "/admin/accounts", {"person": "qian", "roles": ["root"]})
    assert bad.status_code == 422 and 'data-error="account.roles"' in text(bad)
    bad = post(admin, "/admin/accounts", {"person": "qian"})
    assert bad.status_code == 422 and 'data-error="account.roles"' in text(bad)
    bad = post(admin, "/admin/accounts", {"person": "", "roles": ["staff"]})
    assert bad.status_code == 422 and 'data-error="account.person"' in text(bad)
    bad = post(admin, "/admin/accounts", {"person": "ghost", "roles": ["staff"]})
    assert bad.status_code == 404 and "未知的人员" in text(bad)
    bad = post(admin, "/admin/accounts", {"person": "li", "roles": ["staff"]})
    assert bad.status_code == 409 and "已有账号" in text(bad)
    bad = post(admin, "/admin/accounts/ghost/roles", {"roles": ["staff"]})
    assert bad.status_code == 404 and "&#39;ghost&#39; 没有账号" in text(bad)
    bad = post(admin, "/admin/accounts/zhao/active", {"active": "0"})
    assert bad.status_code == 422 and 'data-error="active-zhao.active"' in text(bad)
    assert [e["person"] for e in events(site, "create_account")] == list(PERSONAS)


def test_absence_declare_and_cancel(site, admin):
    response = post(
        admin,
        "/admin/absences",
        {
            "person": "li",
            "deputy": "chen",
            "from": "2026-03-02",
            "to": "2026-03-06",
            "reason": "年假",
        },
    )
    assert response.status_code == 303
    [row] = site.engine.read(lambda s: list(s.scalars(select(Absence))))
    assert (row.person_key, row.deputy_key, row.starts_on) == ("li", "chen", date(2026, 3, 2))
    assert f'data-absence="{row.id}"' in text(admin.get("/admin/org"))
    assert post(admin, f"/admin/absences/{row.id}/cancel").status_code == 303
    assert events(site, "cancel_absence")[-1]["absence_id"] == row.id
    again = post(admin, f"/admin/absences/{row.id}/cancel")  # its row is gone: the message area
    assert again.status_code == 303
    assert f"休假记录 {row.id} 已取消。" in text(admin.get(again.headers["Location"]))
    assert post(admin, "/admin/absences/99999/cancel").status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "status"),
    [
        ({"person": "li", "deputy": "chen", "from": "2026-3-x", "to": "2026-03-06"}, "from", 422),
        ({"person": "li", "deputy": "chen", "from": "2026-03-06", "to": "2026-03-02"}, "to", 422),
        ({"person": "li", "deputy": "li", "from": "2026-03-02", "to": "2026-03-06"}, "deputy", 422),
        ({"person": "", "deputy": "chen", "from": "2026-03-02", "to": "2026-03-06"}, "person", 422),
        (
            {"person": "li", "deputy": "ghost", "from": "2026-03-02", "to": "2026-03-06"},
            "person",
            404,
        ),
    ],
)
def test_absence_errors_at_the_field(site, admin, data, field, status):
    response = post(admin, "/admin/absences", data)
    assert response.status_code == status, text(response)
    assert f'data-error="absence.{field}"' in text(response)
    assert 'value="2026-' in text(response) or data["from"] == "2026-3-x"  # typed input kept
    assert site.engine.read(lambda s: s.scalar(select(Absence.id))) is None


def test_overlapping_absence_is_a_conflict(site, admin):
    site.engine.execute(DeclareAbsence("li", "chen", date(2026, 3, 2), date(2026, 3, 6)))
    response = post(
        admin,
        "/admin/absences",
        {"person": "li", "deputy": "chen", "from": "2026-03-05", "to": "2026-03-09"},
    )
    assert response.status_code == 409 and "已有休假" in text(response)


def test_reassign_all(site, admin):
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    response = post(admin, "/admin/reassign", {"holder": "li", "to": "chen"})
    assert response.status_code == 303
    assignee = site.engine.read(lambda s: s.get(Task, site.receive).assignee)
    assert assignee == "chen"
    assert post(admin, "/admin/reassign", {"holder": "chen", "to": ""}).status_code == 303
    assert site.engine.read(lambda s: s.get(Task, site.receive).assignee) is None
    bad = post(admin, "/admin/reassign", {"holder": "li", "to": "li"})
    assert bad.status_code == 422 and 'data-error="reassign.to"' in text(bad)
    bad = post(admin, "/admin/reassign", {"holder": "li", "to": "ghost"})
    assert bad.status_code == 404 and 'data-error="reassign.to"' in text(bad)


# --- /admin/calendars ---------------------------------------------------------------------


def test_calendar_page_shows_holidays(admin):
    page = admin.get("/admin/calendars?year=2026")
    assert page.status_code == 200
    html = text(page)
    assert 'data-day="2026-10-01"' in html and "国庆" in html
    assert 'data-day="2026-01-04"' in html or 'data-day="2026-02-14"' in html  # 调休
    # An unknown calendar is not silently swapped for the default one.
    unknown = admin.get("/admin/calendars?calendar=nope&year=2026")
    assert unknown.status_code == 422
    assert "没有名为 nope 的日历，显示的是默认日历。" in text(unknown)
    assert 'data-day="2026-10-01"' in text(unknown)


def test_add_and_clear_an_override(site, admin):
    response = post(
        admin,
        "/admin/calendars/override",
        {"calendar": "default", "day": "2026-06-15", "kind": "holiday", "note": "防汛停工"},
    )
    assert response.status_code == 303
    assert "year=2026" in response.headers["Location"]
    html = text(admin.get("/admin/calendars?year=2026"))
    assert 'data-day="2026-06-15"' in html and "防汛停工" in html
    assert events(site, "calendar_override")[-1]["note"] == "防汛停工"
    response = post(admin, "/admin/calendars/clear", {"calendar": "default", "day": "2026-06-15"})
    assert response.status_code == 303
    assert 'data-day="2026-06-15"' not in text(admin.get("/admin/calendars?year=2026"))
    assert events(site, "calendar_override_remove")
    again = post(admin, "/admin/calendars/clear", {"calendar": "default", "day": "2026-06-15"})
    assert again.status_code == 404 and 'data-error="clear.day"' in text(again)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"day": "2026-13-40", "kind": "holiday"}, "day"),
        ({"day": "", "kind": "holiday"}, "day"),
        ({"day": "2026-06-15", "kind": "weekend"}, "kind"),
        ({"day": "2026-06-15", "kind": "holiday", "note": "x" * 201}, "note"),
    ],
)
def test_override_errors_at_the_field(site, admin, data, field):
    response = post(admin, "/admin/calendars/override", {"calendar": "default", **data})
    assert response.status_code == 422
    assert f'data-error="override.{field}"' in text(response)
    assert site.engine.read(lambda s: s.scalar(select(CalendarOverride.id))) is None


def test_bad_year_is_shown_at_the_field(admin):
    for year in ("abc", "0", "99999"):
        response = admin.get(f"/admin/calendars?year={year}")
        assert response.status_code == 422 and 'data-error="view.year"' in text(response)


# --- /admin/sla ---------------------------------------------------------------------------


def test_set_and_retire_standards(site, admin):
    response = post(
        admin,
        "/admin/sla",
        {
            "process": "case_handling",
            "step": "Task_receive",
            "kind": "basic",
            "limit": "2 working days",
            "warnings": "50%",
            "on_deadline": "chase",
        },
    )
    assert response.status_code == 303
    response = post(
        admin,
        "/admin/sla",
        {
            "process": "case_handling",
            "step": "Task_receive",
            "kind": "temporary",
            "limit": "1 working day",
            "label": "春节前",
            "valid_from": "2026-01-20",
            "valid_to": "2026-02-10",
            "priority": "5",
        },
    )
    assert response.status_code == 303
    rows = site.engine.read(
        lambda s: list(
            s.scalars(
                select(SlaStandard).where(SlaStandard.active.is_(True)).order_by(SlaStandard.id)
            )
        )
    )
    assert [r.kind for r in rows] == ["basic", "temporary"] and rows[1].priority == 5
    html = text(admin.get("/admin/sla"))
    assert f'data-standard="{rows[0].id}"' in html and "春节前" in html
    assert post(admin, f"/admin/sla/{rows[1].id}/retire").status_code == 303
    assert events(site, "sla_standard_retire")[-1]["id"] == rows[1].id
    again = post(admin, f"/admin/sla/{rows[1].id}/retire")
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"limit": "soon"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"step": ""}, "step"),
        ({"warnings": "sometime"}, "warnings"),
        ({"priority": "high"}, "priority"),
        ({"kind": "temporary"}, "valid_from"),
        ({"kind": "basic", "valid_from": "2026-01-01"}, "kind"),
        ({"kind": "temporary", "valid_from": "2026-02-01", "valid_to": "2026-01-01"}, "valid_to"),
        ({"kind": "temporary", "valid_from": "1.1.2026"}, "valid_from"),
        ({"kind": "temporary", "condition": "import os"}, "condition"),
        ({"on_deadline": "explode"}, "on_deadline"),
        ({"process": "p" * 101}, "process"),
    ],
)
def test_standard_errors_at_the_field(site, admin, data, field):
    form = {
        "process": "case_handling",
        "step": "Task_receive",
        "kind": "basic",
        "limit": "2 working days",
        **data,
    }
    response = post(admin, "/admin/sla", form)
    assert response.status_code == 422, text(response)
    assert f'data-error="standard.{field}"' in text(response), text(response)
    assert site.engine.read(lambda s: s.scalar(select(SlaStandard.id))) is None


# --- /admin/incidents ---------------------------------------------------------------------


def _fail(site):
    timer_id = site.engine.read(
        lambda s: s.scalars(
            select(Timer.id)
            .where(Timer.instance_id == site.case, Timer.status == "waiting")
            .order_by(Timer.id)
        ).first()
    )
    site.engine.execute(RecordTimerFailure(timer_id, "RuntimeError: gateway unreachable"))
    return timer_id


def test_incidents_list_retry_and_skip(site, admin):
    assert "没有异常" in text(admin.get("/admin/incidents"))
    timer_id = _fail(site)
    html = text(admin.get("/admin/incidents"))
    assert f'data-incident="{timer_id}"' in html and "gateway unreachable" in html
    assert "BJ-0001" in html
    assert post(admin, f"/admin/incidents/{timer_id}/retry").status_code == 303
    timer = site.engine.read(lambda s: s.get(Timer, timer_id))
    assert timer.lease_owner is None and timer.status == "waiting"
    assert events(site, "timer_retry")[-1]["timer_id"] == timer_id
    response = post(admin, f"/admin/incidents/{timer_id}/skip", {"note": "网关已下线"})
    assert response.status_code == 303
    assert site.engine.read(lambda s: s.get(Timer, timer_id).status) == "cancelled"
    assert events(site, "timer_skip")[-1]["note"] == "网关已下线"
    assert f'data-incident="{timer_id}"' not in text(admin.get("/admin/incidents"))
    again = post(admin, f"/admin/incidents/{timer_id}/retry")  # its row is gone: message area
    assert again.status_code == 303
    assert "不是失败待重试的定时器" in text(admin.get(again.headers["Location"]))
    assert post(admin, "/admin/incidents/999999/skip").status_code == 404


# --- /admin/notices -----------------------------------------------------------------------


def test_notices_page(site, admin, monkeypatch):
    hook = {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET", "format": "wecom"}
    doc = {"departments": [{"key": "window", "webhook": hook}], "people": [], "groups": []}
    site.engine.execute(ImportOrg(doc), actor="tests")
    monkeypatch.delenv("CASECLOCK_SMTP_HOST", raising=False)
    html = text(admin.get("/admin/notices"))
    assert "CASECLOCK_SMTP_HOST" in html and "qyapi.weixin.qq.com" in html
    assert "SECRET" not in html
    assert 'data-template="sla_breach-zh-CN"' in html and 'data-template="sla_breach-en"' in html
    monkeypatch.setenv("CASECLOCK_SMTP_HOST", "mail.example.gov.cn")
    assert "mail.example.gov.cn" in text(admin.get("/admin/notices"))


def test_english_pages(admin):
    admin.get("/lang/en")
    for path in (
        "/admin/org",
        "/admin/calendars",
        "/admin/sla",
        "/admin/incidents",
        "/admin/notices",
    ):
        html = text(admin.get(path))
        assert "System administration" in html, path


def test_missing_csrf_is_a_400(admin):
    assert admin.post("/admin/calendars/override", data={"day": "2026-06-15"}).status_code == 400
