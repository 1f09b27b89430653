"""A refused task action is said once, where it belongs: a field's message at the field,
any other (a second extension while one is pending) under the button of the form that
was sent, with what was typed kept; not again in the page's message area. Only when the
page no longer offers the form does the message area say it."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

from engine.runtime import ClaimTask

from .conftest import Site, post

PENDING = " 的延期申请 1 尚待审批。"


def messages(page: str) -> list[str]:
    """Every message the page shows: the message area's and the fields'."""
    found = re.findall(r'<p class="(?:flash [^"]*|field-error)"[^>]*>(.*?)</p>', page, re.S)
    return [html.unescape(m) for m in found]


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash [^"]*"[^>]*>(.*?)</p>', page, re.S)


def form_of(page: str, action: str) -> str:
    found = re.search(rf'<form method="post" action="/tasks/\d+/{action}".*?</form>', page, re.S)
    assert found, f"no {action} form"
    return found.group(0)


def claimed(site: Site) -> FlaskClient:
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    return site.client("li")


def test_a_second_extension_is_refused_once_at_the_extension_form(site: Site):
    """Said under the extension form (409); a refusal whose form the page no longer
    shows goes to the message area instead."""
    li = claimed(site)
    first = {"amount": "2 working days", "reason": "材料复杂"}
    assert post(li, f"/tasks/{site.receive}/extend", first).status_code == 303
    li.get(f"/tasks/{site.receive}")  # the "submitted" message has been shown
    again = {"amount": "1 working day", "reason": "还需要一天"}
    response = post(li, f"/tasks/{site.receive}/extend", again)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert messages(page) == [f"任务 {site.receive}{PENDING}"]  # once, not twice
    assert flashes(page) == []
    form = form_of(page, "extend")
    assert PENDING in form  # under the form's button
    assert 'value="1 working day"' in form and 'value="还需要一天"' in form
    assert 'name="amount" value="1 working day"' in form and "autofocus" in form
    # Other forms do not take what was typed into this one (pause also has a reason).
    assert 'value="还需要一天"' not in form_of(page, "pause")

    li.get("/lang/en")
    page = post(li, f"/tasks/{site.receive}/extend", again).get_data(as_text=True)
    assert messages(page) == [f"extension 1 of task {site.receive} is still awaiting a decision"]

    # Paused twice (a second tab): the page now offers "resume", not "pause", so that
    # refusal has no form to stand under; the message area says it, once.
    li.get("/lang/zh_CN")
    assert post(li, f"/tasks/{site.receive}/pause", {"reason": "等材料"}).status_code == 303
    li.get(f"/tasks/{site.receive}")
    response = post(li, f"/tasks/{site.receive}/pause", {"reason": "等材料"})
    assert response.status_code == 303
    page = li.get(response.headers["Location"]).get_data(as_text=True)
    assert messages(page) == [f"任务 {site.receive} 的计时已经暂停。"]
    assert len(flashes(page)) == 1


def test_bad_input_is_said_at_the_field_only(site: Site):
    li = claimed(site)
    cases = [
        ("pause", {"reason": " "}, "请说明原因（例如等待补正材料）。"),
        ("extend", {"amount": "two days", "reason": "材料复杂"}, "延期时长无效"),
        ("assist", {"group": "reviewers", "question": "请核对", "limit": "bad"}, "协办时限无效"),
        ("delegate", {"to": "ghost"}, "未知用户 'ghost'。"),
        ("comment", {"text": " "}, "请填写意见。"),
    ]
    for action, sent, said in cases:
        response = post(li, f"/tasks/{site.receive}/{action}", sent)
        assert response.status_code == 422, action
        page = response.get_data(as_text=True)
        shown = messages(page)
        assert len(shown) == 1 and said in shown[0], (action, shown)
        assert flashes(page) == [], action  # no "please correct the marked fields" too
        where = form_of(page, action)
        assert 'class="field-error" role="alert"' in where and "autofocus" in where, action
    # What was typed stays in the form that was sent.
    page = post(li, f"/tasks/{site.receive}/assist", cases[2][1]).get_data(as_text=True)
    assert 'value="请核对"' in form_of(page, "assist")
    assert '<option value="reviewers" selected>' in form_of(page, "assist")


def test_a_completion_with_bad_data_is_marked_at_its_fields_only(site: Site):
    li = claimed(site)
    sent = {"applicant_name": "", "matter": "食品经营许可证", "applicant_email": "bad"}
    response = post(li, f"/tasks/{site.receive}/complete", sent)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert flashes(page) == []
    shown = messages(page)
    assert shown == ["必填。", "'bad' 不是电子邮件地址：请写成 name@domain.tld。"]
    fields = re.findall(r'<div class="field has-error" data-field="(\w+)"', page)
    assert fields == ["applicant_name", "applicant_email"]
    # The first field in error has the focus (the page opens there), what was typed stays.
    assert re.search(r'name="applicant_name" id="f-applicant_name" value=""[^>]* autofocus>', page)
    assert page.count("autofocus") == 1
    assert 'name="matter" id="f-matter" value="食品经营许可证"' in page


def test_an_upload_refusal_is_said_at_the_file_field_only(site: Site):
    li = claimed(site)
    for path in (f"/tasks/{site.receive}/attachments", f"/cases/{site.case}/attachments"):
        response = post(li, path, {})  # no file chosen
        assert response.status_code == 422, path
        page = response.get_data(as_text=True)
        assert flashes(page) == [] and messages(page) == ["请选择要上传的文件。"], path


def test_a_case_comment_refusal_is_said_at_the_field_only(site: Site):
    li = claimed(site)
    response = post(li, f"/cases/{site.case}/comment", {"text": " "})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert flashes(page) == [] and messages(page) == ["请填写意见。"]
