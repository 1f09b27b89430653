"""A refusal on the admin pages, the collection pages and the supervisor board is said
once, as on the task page (test_task_refusals.py): bad input at its field (422), any other
refusal under the button of the form that was sent (409), what was typed kept, and not
again in the page's message area. Only when the page no longer shows that form (its row
is gone) does the message area say it, once."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from engine.absence import DeclareAbsence
from engine.clock_control import RequestExtension
from engine.collection.receivables import RecordPayment
from engine.standards import SetStandard
from engine.store.models import Absence, SlaStandard

from ..collection.helpers import csv_text, row
from .conftest import Site, csrf, post
from .late import go_overdue
from .test_collection_pages import TODAY, collection  # noqa: F401 (a fixture)
from .test_task_refusals import flashes, messages


def form_of(page: str, action: str) -> str:
    """The form that posts to ``action``, up to its end."""
    pattern = rf'<form method="post"[^>]* action="{re.escape(action)}".*?</form>'
    found = re.search(pattern, page, re.S)
    assert found, f"no form posting to {action}"
    return found.group(0)


def once(response: Any, status: int, words: str) -> str:
    """The page, saying exactly one thing, which contains ``words``, with ``status``."""
    page = response.get_data(as_text=True)
    shown = messages(page)
    assert response.status_code == status, shown
    assert len(shown) == 1 and words in shown[0], shown
    return page


def followed(client: FlaskClient, response: Any) -> Any:
    """The page a redirect leads to: its message area shows what was flashed."""
    assert response.status_code == 303, messages(response.get_data(as_text=True))
    return client.get(response.headers["Location"])


# --- the admin pages ----------------------------------------------------------------------


def test_bad_input_on_the_admin_pages_is_said_at_its_field_only(site: Site):
    admin = site.client("zhao")
    absence = {"person": "li", "deputy": "chen", "from": "2026-3-x", "to": "2026-03-06",
               "reason": "年假"}  # fmt: skip
    standard = {"process": "case_handling", "step": "Task_receive", "limit": "3 working days",
                "priority": "high", "label": "加急件"}  # fmt: skip
    cases = [
        ("/admin/absences", absence, "absence.from", "日期格式应为 YYYY-MM-DD。", 'value="年假"'),
        ("/admin/calendars/override", {"day": "2026-13-40", "kind": "holiday", "note": "防汛"},
         "override.day", "日期格式应为 YYYY-MM-DD。", 'value="防汛"'),
        ("/admin/sla", standard, "standard.priority", "之间的整数", 'value="加急件"'),
        ("/admin/accounts", {"person": "", "roles": "auditor", "password": "x"},
         "account.person", "必填。", 'value="auditor" checked'),
    ]  # fmt: skip
    for path, sent, key, words, typed in cases:
        page = once(post(admin, path, sent), 422, words)
        assert flashes(page) == [], path  # not "please correct the marked fields" as well
        form = form_of(page, path)
        assert f'data-error="{key}"' in form and typed in form, path
    stored = site.engine.read(lambda s: (s.scalar(select(Absence.id)),
                                         s.scalar(select(SlaStandard.id))))  # fmt: skip
    assert stored == (None, None)


def test_an_admin_conflict_is_said_under_the_form_that_was_sent(site: Site):
    site.engine.execute(DeclareAbsence("li", "chen", date(2026, 3, 2), date(2026, 3, 6)))
    admin = site.client("zhao")
    sent = {"person": "li", "deputy": "chen", "from": "2026-03-05", "to": "2026-03-09",
            "reason": "补休"}  # fmt: skip
    page = once(post(admin, "/admin/absences", sent), 409, "已有休假")
    assert flashes(page) == []
    form = form_of(page, "/admin/absences")
    # Under the button, with what was typed kept.
    assert re.search(r'data-testid="declare">[^<]*</button><p class="field-error" role="alert" '
                     r'data-error="absence">', form)  # fmt: skip
    assert 'value="2026-03-05"' in form and 'value="2026-03-09"' in form
    assert 'value="补休"' in form and '<option value="li" selected>' in form
    # The same in English, once.
    admin.get("/lang/en")
    once(post(admin, "/admin/absences", sent), 409, "is already away 2026-03-02 – 2026-03-06")


def test_an_admin_refusal_whose_row_is_gone_is_said_in_the_message_area(site: Site):
    absence = site.engine.execute(DeclareAbsence("li", "chen", date(2026, 3, 2), date(2026, 3, 6)))
    standard = site.engine.execute(SetStandard("case_handling", "Task_receive", "3 working days"))
    admin = site.client("zhao")
    cancel = f"/admin/absences/{absence.id}/cancel"
    followed(admin, post(admin, cancel))  # cancelled: its row leaves the page
    # Cancelled twice (a second tab): a conflict, after a redirect to the page as it is.
    page = once(followed(admin, post(admin, cancel)), 200, f"休假记录 {absence.id} 已取消。")
    assert len(flashes(page)) == 1 and f'data-absence="{absence.id}"' not in page
    # Retired twice: the engine no longer finds it, said on the page with its 404.
    retire = f"/admin/sla/{standard.id}/retire"
    followed(admin, post(admin, retire))
    page = once(post(admin, retire), 404, f"没有生效中的时限标准 {standard.id}。")
    assert len(flashes(page)) == 1


# --- the collection pages ------------------------------------------------------------------


def test_bad_input_on_the_collection_pages_is_said_at_its_field_only(collection):  # noqa: F811
    wu = collection.client("wu")
    path = "/collection/receivables/A-010/payments"
    page = once(post(wu, path, {"amount": "abc", "reference": "BANK-9"}), 422, "abc")
    assert flashes(page) == []
    form = form_of(page, path)
    assert 'data-error="payments.amount"' in form
    assert 'value="abc"' in form and 'value="BANK-9"' in form
    # A report's filter, and the import without a file: at the field, nothing more.
    sun = collection.client("sun")
    page = once(sun.get("/collection/aging?as_of=2026-02-30"), 422, "YYYY-MM-DD")
    assert flashes(page) == [] and 'data-error="as_of"' in page
    empty = sun.post("/collection/import", data={"csrf_token": csrf(sun)},
                     content_type="multipart/form-data")  # fmt: skip
    assert flashes(once(empty, 422, "请选择一个 CSV 文件。")) == []


def test_a_payment_recorded_twice_is_said_once_at_its_reference(collection):  # noqa: F811
    collection.engine.execute(RecordPayment("A-010", "100.00", TODAY, "BANK-1"), actor="wu")
    wu = collection.client("wu")
    path = "/collection/receivables/A-010/payments"
    sent = {"amount": "100.00", "reference": "BANK-1"}
    page = once(
        post(wu, path, sent), 422, "流水号 'BANK-1' 的付款已登记在 A-010 上，不能重复登记。"
    )
    form = form_of(page, path)
    assert 'data-error="payments.reference"' in form and 'value="100.00"' in form
    wu.get("/lang/en")
    once(post(wu, path, sent), 422, "a payment with reference 'BANK-1' is already recorded")


def test_an_import_s_report_is_not_repeated_in_the_message_area(collection):  # noqa: F811
    sun = collection.client("sun")
    rows = csv_text(row("N-1", "100.00", "2026-04-01", collector="wu", department="collections"),
                    row("N-2", "-5", "2026-04-01"))  # fmt: skip
    upload = {"file": (io.BytesIO(rows.encode()), "batch.csv"), "csrf_token": csrf(sun)}
    response = sun.post("/collection/import", data=upload, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # Said by the report (how many rows, why each refused one was), not again on top.
    assert flashes(page) == [] and page.count("已写入 1 行，1 行有错误。") == 1
    assert re.search(r'<tr data-line="3" class="failed">', page)


# --- the supervisor board ------------------------------------------------------------------


def test_bad_input_on_the_board_is_said_at_its_field_only(site: Site, clock):
    chase = go_overdue(site, clock)
    request = RequestExtension(site.receive, "li", "1 working day", "材料多")
    ext = site.engine.execute(request, actor="li").id
    wang = site.client("wang")
    cases = [
        (f"/board/extension/{ext}/refuse", {"note": " "}, f"extension{ext}.note",
         "请说明驳回理由。", f"/board/extension/{ext}/approve"),
        (f"/board/chase/{chase}/reassign", {"to": "yang"}, f"chase{chase}.reassign.to",
         "请选择组织架构中您的下级。", None),
        (f"/board/chase/{chase}/comment", {"text": " "}, f"chase{chase}.comment.text",
         "请填写意见。", None),
    ]  # fmt: skip
    for path, sent, key, words, form in cases:
        page = once(post(wang, path, sent), 422, words)
        assert flashes(page) == [], path  # before, "please correct the marked fields" too
        assert f'data-error="{key}"' in form_of(page, form or path), path


def test_a_board_conflict_is_said_under_the_form_that_was_sent(site: Site, clock):
    chase = go_overdue(site, clock)
    wang = site.client("wang")
    path = f"/board/chase/{chase}/urge"
    followed(wang, post(wang, path, {"message": "今天办完"}))
    # Urged again within the hour: said under the urge form, what was typed kept; before,
    # a redirect to the board lost it.
    page = once(post(wang, path, {"message": "再催一次"}), 409, "本小时内已催办过")
    assert flashes(page) == []
    form = form_of(page, path)
    assert f'data-error="chase{chase}.urge"' in form and 'value="再催一次"' in form
    # Only that form keeps it.
    assert 'value="再催一次"' not in form_of(page, f"/board/chase/{chase}/handle")
    wang.get("/lang/en")
    once(post(wang, path, {"message": "again"}), 409, "was already urged this hour")


def test_a_decided_request_s_refusal_is_said_once_in_the_message_area(site: Site, clock):
    """Its row has left the board: a redirect, and the message area says it, once. Bad
    input on it is said there too, on the board with its 422 (before: only "please
    correct the marked fields", and no field to see)."""
    go_overdue(site, clock)
    request = RequestExtension(site.receive, "li", "1 working day", "材料多")
    ext = site.engine.execute(request, actor="li").id
    wang = site.client("wang")
    wang.get("/lang/zh_CN")
    followed(wang, post(wang, f"/board/extension/{ext}/approve", {"note": "同意"}))
    again = post(wang, f"/board/extension/{ext}/refuse", {"note": "改主意了"})
    page = once(followed(wang, again), 200, "您的操作未生效")
    assert len(flashes(page)) == 1
    page = once(post(wang, f"/board/extension/{ext}/refuse", {"note": ""}), 422, "请说明驳回理由。")
    assert len(flashes(page)) == 1 and f'data-request="extension-{ext}"' not in page
