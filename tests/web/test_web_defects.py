"""Defects an acceptance tester found in the web layer, each pinned end to end: a yes/no
field that is neither, unmatched URLs answered in JSON to a browser, a refused or stale
decision that looked like a success, an auditor commenting on any case, a doubled
charset on CSV downloads."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from engine.accounts import CreateAccount, SetRoles
from engine.clock_control import RequestExtension
from engine.runtime import StartInstance
from engine.store import AuditEvent
from engine.store.account_tables import Account
from engine.store.models import Comment, SlaExtension

from .conftest import login, password, post
from .late import go_overdue


def text(response):
    return response.get_data(as_text=True)


def events(site, name):
    return site.engine.read(
        lambda s: list(s.scalars(select(AuditEvent.payload).where(AuditEvent.command == name)))
    )


# --- 1. POST /admin/accounts/<person>/active ----------------------------------------------


def test_an_unrecognised_active_value_is_refused_at_the_field(site):
    admin = site.client("zhao")
    for value in ("maybe", "", "2", "yes please"):
        answer = post(admin, "/admin/accounts/li/active", {"active": value})
        assert answer.status_code == 422, value
        assert 'data-error="active-li.active"' in text(answer)
        assert "应为 1（启用）或 0（停用）。" in text(answer)
    answer = admin.post(  # no field at all: the same
        "/admin/accounts/li/active", data={"csrf_token": _token(admin)}
    )
    assert answer.status_code == 422
    assert _active(site, "li") is True and not events(site, "set_account_active")
    # The values the form sends still work.
    assert post(admin, "/admin/accounts/li/active", {"active": "0"}).status_code == 303
    assert _active(site, "li") is False
    assert post(admin, "/admin/accounts/li/active", {"active": "1"}).status_code == 303
    assert _active(site, "li") is True


def _active(site, person):
    return site.engine.read(
        lambda s: s.scalar(select(Account.active).where(Account.person_key == person))
    )


def _token(client):
    page = client.get("/notifications").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


# --- 2. unmatched URLs: the HTML error page outside the API; the favicon --------------------


def test_unmatched_urls_in_the_browser_get_the_html_error_page(site):
    li = site.client("li")
    for method, url, status in (
        ("get", "/tasks/abc", 404),
        ("get", "/tasks/-1", 404),
        ("get", "/designer/", 404),
        ("get", f"/tasks/{site.receive}/", 404),
        ("get", "/nowhere", 404),
        ("get", "/logout", 405),
        ("get", f"/tasks/{site.receive}/claim", 405),
    ):
        answer = getattr(li, method)(url)
        assert answer.status_code == status, url
        assert answer.mimetype == "text/html", url
        body = text(answer)
        assert 'class="card narrow error-page"' in body, url
        assert "The requested URL" not in body and "not allowed for the requested" not in body
        if status == 404:
            assert "没有这个页面" in body and 'data-code="not_found"' in body, url
        else:
            assert "不支持的请求方式" in body and 'data-code="method_not_allowed"' in body
            assert "POST" in answer.headers["Allow"]
    # In the page's language.
    li.get("/lang/en")
    english = li.get("/tasks/abc")
    assert english.status_code == 404 and "No such page" in text(english)
    assert "没有这个页面" not in text(english)
    # Anonymous visitors too.
    assert site.client().get("/tasks/abc").mimetype == "text/html"


def test_the_api_and_json_endpoints_keep_json_errors(site):
    client = site.client()
    headers = {"Authorization": f"Bearer {site.token('li')}"}
    missing = client.get("/api/nowhere", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    wrong = client.get(f"/api/tasks/{site.receive}/claim", headers=headers)
    assert wrong.status_code == 405 and wrong.get_json()["error"] == "method_not_allowed"
    assert client.get("/api/tasks/abc", headers=headers).is_json
    assert client.get("/metrics/").is_json  # beside the machine paths: JSON
    designer = site.client("huang").get("/designer/nope/xml")
    assert designer.status_code == 404 and designer.get_json()["error"] == "not_found"


def test_the_favicon_is_served(site):
    for client in (site.client(), site.client("li")):
        icon = client.get("/favicon.ico")
        assert icon.status_code == 200
        assert icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


# --- 3. decisions that are refused or already taken -----------------------------------------


def _extension(site, clock):
    go_overdue(site, clock)
    request = RequestExtension(site.receive, "li", "1 working day", "材料多")
    return site.engine.execute(request, actor="li").id


def _qian(site, password_hashes):
    """钱副主任: a supervisor, wang's superior, not li's (zhao's password, hashed already)."""
    hashed = password_hashes["zhao"]
    account = CreateAccount("qian", ("staff", "supervisor"), None, password_hash=hashed)
    site.engine.execute(account, actor="tests")
    client = site.client()
    login(client, "qian", password("zhao"))
    return client


def _status(site, ext):
    return site.engine.read(lambda s: s.get(SlaExtension, ext).status)


def test_a_supervisor_who_is_not_the_superior_is_refused(site, clock, password_hashes):
    ext = _extension(site, clock)
    qian = _qian(site, password_hashes)
    # Pending: the engine's refusal is a 403 page saying so, nothing decided.
    refused = post(qian, f"/board/extension/{ext}/approve", {"note": "同意"})
    assert refused.status_code == 403
    assert "只有 李窗口 的上级可以审批" in text(refused)  # li, by name
    assert _status(site, ext) == "pending"
    assert post(site.client("wang"), f"/board/extension/{ext}/approve").status_code == 303
    # Decided by wang: still a 403 for qian, never "已处理（approved）" as if it were his.
    after = post(qian, f"/board/extension/{ext}/approve", {"note": "同意"})
    assert after.status_code == 403 and "已处理" not in text(after)
    assert "已批准" not in text(qian.get("/board"))
    # The API says the same.
    headers = {"Authorization": f"Bearer {site.token('qian')}"}
    api = site.client().post(f"/api/extensions/{ext}/refuse", json={"note": "x"}, headers=headers)
    assert api.status_code == 403 and api.get_json()["error"] == "forbidden"
    assert _status(site, ext) == "approved"


def test_deciding_a_decided_request_says_so(site, clock):
    ext = _extension(site, clock)
    wang = site.client("wang")
    assert post(wang, f"/board/extension/{ext}/approve", {"note": "同意"}).status_code == 303
    assert "已批准。" in text(wang.get("/board"))  # his own success, once
    again = post(wang, f"/board/extension/{ext}/refuse", {"note": "改主意了"})
    assert again.status_code == 303
    board = text(wang.get("/board"))
    assert "该申请此前已由 王科长 处理（已批准），您的操作未生效。" in board
    assert "已驳回。" not in board and "已批准。" not in board
    assert _status(site, ext) == "approved"
    headers = {"Authorization": f"Bearer {site.token('wang')}"}
    api = site.client().post(f"/api/extensions/{ext}/refuse", json={"note": "x"}, headers=headers)
    assert api.status_code == 409 and api.get_json()["error"] == "conflict"


# --- 4. the auditor reads, he does not comment or upload ------------------------------------


def _comments(site, instance_id):
    return site.engine.read(
        lambda s: list(s.scalars(select(Comment.text).where(Comment.instance_id == instance_id)))
    )


def test_an_auditor_only_account_may_not_comment(site):
    zhou = site.client("zhou")
    page = text(zhou.get(f"/cases/{site.case}"))
    assert 'data-testid="comments"' in page and 'data-testid="add-comment"' not in page
    assert 'data-testid="upload-attachment"' not in page
    assert post(zhou, f"/cases/{site.case}/comment", {"text": "审计意见"}).status_code == 403
    assert _comments(site, site.case) == []


def test_staff_who_also_audit_comment_only_where_they_take_part(site):
    """The demo's 周律师 is staff, supervisor and auditor: auditing lets him read every
    case, not comment on it or be offered an upload he would be refused."""
    site.engine.execute(SetRoles("zhou", ("staff", "supervisor", "auditor")), actor="tests")
    zhou = site.client("zhou")
    page = text(zhou.get(f"/cases/{site.case}"))
    assert page.count("BJ-0001") and 'data-testid="add-comment"' not in page
    assert 'data-testid="upload-attachment"' not in page
    refused = post(zhou, f"/cases/{site.case}/comment", {"text": "审计意见"})
    assert refused.status_code == 403 and "您没有参与办理案件" in text(refused)
    assert _comments(site, site.case) == []
    # A case he started is one he takes part in.
    own = site.engine.execute(StartInstance("case_handling", "BJ-0003"), actor="zhou").id
    assert 'data-testid="add-comment"' in text(zhou.get(f"/cases/{own}"))
    assert post(zhou, f"/cases/{own}/comment", {"text": "补充材料"}).status_code == 303
    assert _comments(site, own) == ["补充材料"]
    # The API keeps the same rule.
    api = site.client()
    headers = {"Authorization": f"Bearer {site.token('zhou')}"}
    path = "/api/instances/{}/comments"
    refused = api.post(path.format(site.case), json={"text": "审计意见"}, headers=headers)
    assert refused.status_code == 403 and _comments(site, site.case) == []
    taken = api.post(path.format(own), json={"text": "再补充"}, headers=headers)
    assert taken.status_code == 201 and _comments(site, own) == ["补充材料", "再补充"]


def test_staff_who_work_on_the_case_still_get_both_forms(site):
    page = text(site.client("li").get(f"/cases/{site.case}"))
    assert 'data-testid="add-comment"' in page and 'data-testid="upload-attachment"' in page
    assert post(site.client("li"), f"/cases/{site.case}/comment", {"text": "好"}).status_code == 303


# --- 5. CSV downloads: one charset ------------------------------------------------------------


def test_csv_downloads_name_one_charset(site):
    site.engine.execute(SetRoles("wang", ("staff", "supervisor", "auditor")), actor="tests")
    wang = site.client("wang")
    for url in (
        "/ledger/export/ledger.csv",
        "/ledger/export/report.csv",
        "/collection/aging/export.csv",
        "/collection/grades/export.csv",
    ):
        answer = wang.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["Content-Type"] == "text/csv; charset=utf-8", url
    xlsx = wang.get("/ledger/export/ledger.xlsx").headers["Content-Type"]
    assert xlsx == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    api = site.client().get(
        "/api/collection/export", headers={"Authorization": f"Bearer {site.token('wang')}"}
    )
    assert api.status_code == 200 and api.headers["Content-Type"] == "text/csv; charset=utf-8"


# --- 6. unreadable JSON to the API is a 422, as docs/api.md says --------------------------------


def test_unreadable_json_is_a_422_as_documented(site):
    docs = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    assert "| 400 | `bad_request`, `csrf` | unreadable request |" not in docs
    assert "a body that does not parse as JSON" in docs
    headers = {"Authorization": f"Bearer {site.token('li')}", "Content-Type": "application/json"}
    for junk in (b"[", b"{", b"\xff\xfe", b"[1]"):
        answer = site.client().post("/api/notifications/read", data=junk, headers=headers)
        assert answer.status_code == 422 and answer.get_json()["error"] == "invalid", junk
