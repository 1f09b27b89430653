"""Every persona against every admin endpoint: only the admin role gets in.

Anonymous page requests go to the login page, anonymous form posts get a 401. Posts
carry a valid CSRF token and valid data, so a 403 here is the role check and the admin
gets the action's redirect (303); nothing is changed by anyone else.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import outbox
from engine.absence import DeclareAbsence
from engine.delivery import AcquireOutbox, MarkFailed
from engine.due_timers import RecordTimerFailure
from engine.incidents import FAILING_AFTER
from engine.standards import SetStandard
from engine.store import AuditEvent, Timer

from .conftest import csrf

PERSONAS = ["anonymous", "li", "yang", "wang", "zhou", "huang", "zhao"]
ALLOWED = {"zhao"}  # the admin
ORG = b"groups:\n  - {key: archivists, name: archivists}\n"


def endpoints(ids):
    """(method, path, form) in an order where each action still has its object."""
    return [
        ("GET", "/admin", None),
        ("GET", "/admin/org", None),
        ("GET", "/admin/calendars", None),
        ("GET", "/admin/calendars?calendar=default&year=2026", None),
        ("GET", "/admin/sla", None),
        ("GET", "/admin/incidents", None),
        ("GET", "/admin/notices", None),
        ("GET", "/admin/outbox", None),
        ("POST", "/admin/org/upload", {"file": (io.BytesIO(ORG), "org.yaml")}),
        ("POST", "/admin/org/people", {"key": "li", "name": "李窗口", "groups": ["reception"]}),
        ("POST", "/admin/org/departments", {"new": "1", "key": "archive", "name": "档案室"}),
        ("POST", "/admin/org/groups", {"key": "reception", "name": "受理窗口"}),
        ("POST", "/admin/accounts", {"person": "qian", "roles": ["staff"], "password": "abcd"}),
        ("POST", "/admin/accounts/li/roles", {"roles": ["staff"]}),
        ("POST", "/admin/accounts/chen/active", {"active": "0"}),
        (
            "POST",
            "/admin/absences",
            {"person": "wang", "deputy": "li", "from": "2026-05-01", "to": "2026-05-03"},
        ),
        ("POST", f"/admin/absences/{ids['absence']}/cancel", {}),
        ("POST", "/admin/reassign", {"holder": "yang", "to": "huang"}),
        (
            "POST",
            "/admin/calendars/override",
            {"calendar": "default", "day": "2026-06-15", "kind": "holiday", "note": "x"},
        ),
        ("POST", "/admin/calendars/clear", {"calendar": "default", "day": "2026-06-15"}),
        (
            "POST",
            "/admin/sla",
            {
                "process": "case_handling",
                "step": "Task_receive",
                "kind": "basic",
                "limit": "2 working days",
            },
        ),
        ("POST", f"/admin/sla/{ids['standard']}/retire", {}),
        ("POST", f"/admin/incidents/{ids['timer']}/retry", {}),
        ("POST", f"/admin/incidents/{ids['timer']}/skip", {"note": "n"}),
        ("POST", "/admin/notices/urge/zh-CN", {"subject": "{task}", "body": "{by}"}),
        ("POST", "/admin/notices/urge/zh-CN/reset", {}),
        ("POST", f"/admin/incidents/deliveries/{ids['message']}/retry", {}),
        ("POST", f"/admin/incidents/deliveries/{ids['message']}/drop", {"note": "n"}),
    ]


def _setup(site):
    absence = site.engine.execute(
        DeclareAbsence("li", "chen", date(2026, 4, 1), date(2026, 4, 2)), actor="tests"
    ).id
    standard = site.engine.execute(
        SetStandard("case_handling", "Task_review", "3 working days"), actor="tests"
    ).id
    timer = site.engine.read(
        lambda s: s.scalars(
            select(Timer.id)
            .where(Timer.instance_id == site.case, Timer.status == "waiting")
            .order_by(Timer.id)
        ).first()
    )
    site.engine.execute(RecordTimerFailure(timer, "boom"))
    message = site.engine.execute(
        lambda ctx: outbox.enqueue(ctx, channel="email", recipient="li@example.gov.cn",
                                   subject="s", body="b", idempotency_key="undeliverable")
    )  # fmt: skip
    for _ in range(FAILING_AFTER):  # failed often enough to be an incident
        site.engine.execute(AcquireOutbox("tests"))
        site.engine.execute(MarkFailed(message, "tests", "ConnectionRefusedError"))
        site.engine.clock.advance(timedelta(minutes=5))
    return {"absence": absence, "standard": standard, "timer": timer, "message": message}


def _count(site):
    return site.engine.read(lambda s: len(list(s.scalars(select(AuditEvent.id)))))


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_endpoints_by_persona(site, persona):
    ids = _setup(site)
    client = site.client(None if persona == "anonymous" else persona)
    token = csrf(client, "/login")
    before = _count(site)
    for method, path, form in endpoints(ids):
        if method == "GET":
            response = client.get(path)
            allowed = 302 if path == "/admin" else 200
        else:
            response = client.post(path, data={**form, "csrf_token": token})
            allowed = 303
        expected = allowed if persona in ALLOWED else 403
        if persona == "anonymous":
            expected = 302 if method == "GET" else 401
        assert response.status_code == expected, (
            persona,
            method,
            path,
            response.get_data(as_text=True)[-600:],
        )
        if persona == "anonymous" and method == "GET":
            assert "/login" in response.headers["Location"]
    if persona not in ALLOWED:
        assert _count(site) == before  # nothing happened


@pytest.mark.parametrize("persona", ["li", "zhou", "huang", "zhao"])
def test_post_without_csrf_is_refused(site, persona):
    client = site.client(persona)
    response = client.post("/admin/sla/1/retire")
    assert response.status_code == 400  # Flask-WTF checks before the view runs


def test_nav_link_only_for_admins(site):
    for persona in ("li", "wang", "zhou", "huang", "zhao"):
        html = site.client(persona).get("/notifications").get_data(as_text=True)
        assert ('data-nav="admin"' in html) == (persona in ALLOWED), persona
