"""Debtor notice wording on /admin/notices and through the JSON API: a part's heading and
text are edited, previewed, refused at the field, saved (audited) and reset, through the
same engine functions as ``caseclock notices``."""

from __future__ import annotations

import html as markup

from sqlalchemy import select

from engine.store import AuditEvent
from engine.store.models import NoticeTemplate

from .conftest import post

REMINDER = "/admin/notices/debtor.part.reminder/en"
TEXT = ("{debtor_name}, you owe {amount} {currency} on {receivable}, {days_overdue} days "
        "after {due_date} (as of {as_of}).")  # fmt: skip


def text(response) -> str:
    return markup.unescape(response.get_data(as_text=True))


def stored(site) -> list[tuple[str, str, str, str]]:
    rows = site.engine.read(lambda s: s.scalars(select(NoticeTemplate)).all())
    return [(r.kind, r.locale, r.subject, r.body) for r in rows]


def bearer(site, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.token(user)}"}


def test_the_page_lists_every_debtor_wording_with_its_fields(site):
    html = text(site.client("zhao").get("/admin/notices"))
    assert "催收通知（致债务人）" in html
    for kind in ("debtor.formal.subject", "debtor.part.reminder", "debtor.part.legal_final"):
        for locale in ("zh-CN", "en"):
            assert f'data-template="{kind}-{locale}"' in html
    assert 'name="heading" id="template-debtor.part.reminder-en-heading"' in html
    assert 'name="text" id="template-debtor.part.reminder-en-text"' in html
    assert 'name="text" id="template-debtor.formal.subject-en-text"' not in html  # subject only
    assert "必须保留：<code>{debtor_name}</code>" in html


def test_an_admin_edits_a_part_previews_saves_and_resets_it(site):
    admin = site.client("zhao")
    shown = post(admin, REMINDER, {"heading": "1. Amount owed", "text": TEXT,
                                   "action": "preview"})  # fmt: skip
    assert shown.status_code == 200
    assert "Zhang San, you owe 10070.00 CNY on L-2026-0001, 12 days after 2026-03-05" in text(shown)
    assert stored(site) == []

    saved = post(admin, REMINDER, {"heading": "1. Amount owed", "text": TEXT, "action": "save"})
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith("#template-debtor.part.reminder-en")
    assert stored(site) == [("debtor.part.reminder", "en", "1. Amount owed", TEXT)]
    html = text(admin.get("/admin/notices"))
    assert (
        "通知模板已保存。" in html
        and 'data-testid="reset-template-debtor.part.reminder-en"' in html
    )
    audited = select(AuditEvent.actor, AuditEvent.payload).where(
        AuditEvent.command == "notice_template_set"
    )
    [(actor, payload)] = site.engine.read(lambda s: s.execute(audited).all())
    assert actor == "zhao" and payload["kind"] == "debtor.part.reminder"

    reset = post(admin, f"{REMINDER}/reset")
    assert reset.status_code == 303 and stored(site) == []


def test_a_bad_edit_is_shown_at_its_field_and_stores_nothing(site):
    admin = site.client("zhao")
    admin.get("/lang/en")
    refused = post(admin, REMINDER, {"heading": " ", "text": "{debtor_name} owes {amount}.",
                                     "action": "save"})  # fmt: skip
    assert refused.status_code == 422
    html = text(refused)
    assert 'data-error="template-debtor.part.reminder-en.heading"' in html
    assert 'data-error="template-debtor.part.reminder-en.text"' in html
    assert "must keep {as_of}, {receivable}, {currency}, {days_overdue}, {due_date}" in html
    assert stored(site) == []


def test_the_api_lists_sets_previews_and_resets(site):
    client, admin = site.client(), bearer(site, "zhao")
    listed = client.get("/api/notice-templates", headers=admin).get_json()
    [row] = [r for r in listed if (r["kind"], r["locale"]) == ("debtor.part.repay", "zh-CN")]
    assert row["fields"] == ["heading", "text"] and row["required"] == ["receivable"]
    assert row["subject"] == "三、还款方式" and row["edited"] is False

    url = "/api/notice-templates/debtor.part.repay/zh-CN"
    body = {"heading": "三、如何还款", "text": "请转账并注明 {receivable}。"}
    shown = client.post(f"{url}/preview", headers=admin, json=body)
    assert shown.get_json()["preview"] == {"heading": "三、如何还款",
                                           "text": "请转账并注明 L-2026-0001。"}  # fmt: skip
    assert stored(site) == []
    saved = client.put(url, headers=admin, json=body)
    assert saved.status_code == 200 and saved.get_json()["text"] == "请转账并注明 {receivable}。"
    assert stored(site) == [
        ("debtor.part.repay", "zh-CN", "三、如何还款", "请转账并注明 {receivable}。")
    ]

    refused = client.put(url, headers=admin, json={"heading": "三", "text": "请还款。"})
    assert refused.status_code == 422
    assert refused.get_json()["details"]["fields"] == {
        "text": "must keep {receivable}: a debtor notice has to state it"
    }
    wrong_type = client.put(url, headers=admin, json={"heading": 3, "text": "x"})
    assert wrong_type.status_code == 422
    assert wrong_type.get_json()["details"]["fields"] == {"heading": "must be a string"}
    unknown = client.put("/api/notice-templates/debtor.part.nothing/en", headers=admin, json={})
    assert unknown.status_code == 422 and "kind" in unknown.get_json()["details"]["fields"]
    assert client.put(url, headers=bearer(site, "li"), json=body).status_code == 403

    reset = client.delete(url, headers=admin)
    assert reset.get_json() == {"kind": "debtor.part.repay", "locale": "zh-CN", "reset": True}
    assert stored(site) == []
