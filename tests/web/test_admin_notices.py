"""Notice templates on /admin/notices: edit, preview, save and reset each kind in each
locale, with bad templates refused at the field and the page in Chinese and English."""

from __future__ import annotations

import html as markup

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.notices import LOCALES, TEMPLATES
from engine.store import AuditEvent
from engine.store.models import NoticeTemplate

from .conftest import post
from .test_browser import browser, live, log_in, page  # noqa: F401 (fixtures)

URGE = "/admin/notices/urge/zh-CN"


@pytest.fixture
def admin(site):
    return site.client("zhao")


def text(response) -> str:
    return markup.unescape(response.get_data(as_text=True))


def stored(site) -> list[tuple[str, str, str, str]]:
    rows = site.engine.read(lambda s: s.scalars(select(NoticeTemplate)).all())
    return [(r.kind, r.locale, r.subject, r.body) for r in rows]


def test_every_template_has_an_edit_form_in_both_locales(admin):
    html = text(admin.get("/admin/notices"))
    for kind in TEMPLATES:
        for locale in LOCALES:
            assert f'data-template="{kind}-{locale}"' in html
            assert f'action="/admin/notices/{kind}/{locale}"' in html
    assert "通知模板" in html and "可用字段：" in html and "内置模板" in html
    assert "<code>{by}</code> <code>{message}</code>" in html  # what urge provides
    assert 'data-testid="reset-' not in html  # nothing edited yet


def test_save_then_reset(site, admin):
    saved = post(admin, URGE, {"subject": "催办：{task}", "body": "{by} 催您办理 {case}。",
                               "action": "save"})  # fmt: skip
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith("/admin/notices#template-urge-zh-CN")
    assert stored(site) == [("urge", "zh-CN", "催办：{task}", "{by} 催您办理 {case}。")]
    html = text(admin.get("/admin/notices"))
    assert (
        "通知模板已保存。" in html and "已修改" in html and "zhao 于 2026-03-02 09:00 修改" in html
    )
    assert 'data-testid="reset-template-urge-zh-CN"' in html
    audited = select(AuditEvent.payload).where(AuditEvent.command == "notice_template_set")
    [payload] = site.engine.read(lambda s: list(s.scalars(audited)))
    assert payload["kind"] == "urge" and payload["subject"] == "催办：{task}"

    reset = post(admin, f"{URGE}/reset")
    assert reset.status_code == 303 and stored(site) == []
    html = text(admin.get("/admin/notices"))
    assert "已恢复默认模板。" in html and "已修改" not in html


def test_preview_fills_sample_values_and_stores_nothing(site, admin):
    shown = post(admin, "/admin/notices/sla_warning/en",
                 {"subject": "Due soon: {task}", "body": "{person}, {left} left on {case}.",
                  "action": "preview"})  # fmt: skip
    assert shown.status_code == 200
    html = text(shown)
    assert "Due soon: Review application" in html
    assert "Section chief Wang, 4 hours left on BJ-2026-0001." in html
    assert 'value="Due soon: {task}"' in html  # the typed text stays in the form
    assert stored(site) == []


@pytest.mark.parametrize("action", ["save", "preview"])
def test_a_bad_placeholder_is_shown_at_its_field(site, admin, action):
    refused = post(admin, URGE, {"subject": "{task.__class__}", "body": "{unknown}",
                                 "action": action})  # fmt: skip
    assert refused.status_code == 422
    html = text(refused)
    assert 'data-error="template-urge-zh-CN.subject"' in html
    assert "不允许使用字段 {task.__class__}；请直接写字段名，例如 {task}。" in html
    assert 'data-error="template-urge-zh-CN.body"' in html
    assert "未知字段 {unknown}；此类通知可用：task, case, person, by, message。" in html
    assert "请更正标出的字段。" not in html  # said at the fields only
    assert 'value="{task.__class__}"' in html
    assert stored(site) == []


def test_the_page_and_its_errors_in_english(admin):
    admin.get("/lang/en")
    html = text(admin.get("/admin/notices"))
    assert "Notice templates" in html and "Fields you can use:" in html and "Preview" in html
    refused = post(admin, URGE, {"subject": "a\nb", "body": "{0}", "action": "save"})
    html = text(refused)
    assert refused.status_code == 422
    assert "must be a single line" in html
    assert "placeholder {0} is not allowed; name a value plainly, e.g. {task}" in html


def test_the_channels_say_where_mail_goes_without_a_server(admin, monkeypatch, tmp_path):
    monkeypatch.delenv("CASECLOCK_SMTP_HOST", raising=False)
    monkeypatch.delenv("CASECLOCK_SMS_WEBHOOK_URL", raising=False)
    assert "邮件不会发出" in text(admin.get("/admin/notices"))
    monkeypatch.setenv("CASECLOCK_DROP_DIR", str(tmp_path / "outbox"))
    html = text(admin.get("/admin/notices"))
    assert f"未配置 SMTP：邮件写入目录 {tmp_path / 'outbox'}" in html
    assert f"未配置网关：短信写入目录 {tmp_path / 'outbox'}" in html
    admin.get("/lang/en")
    html = text(admin.get("/admin/notices"))
    assert f"no SMTP server: e-mails are written to the folder {tmp_path / 'outbox'}" in html


@pytest.mark.parametrize("path", ["/admin/notices/nonsense/zh-CN", "/admin/notices/urge/fr",
                                  "/admin/notices/nonsense/en/reset"])  # fmt: skip
def test_an_unknown_template_is_a_404(admin, path):
    assert post(admin, path, {"subject": "x", "body": "y", "action": "save"}).status_code == 404


def test_admin_edits_a_template_in_the_browser(site, live, page):  # noqa: F811
    log_in(page, live, "zhao")
    page.goto(f"{live}/admin/notices")
    card = page.locator('[data-template="chase_task-zh-CN"]')
    card.locator("summary").click()
    card.locator('input[name="subject"]').fill("第 {level} 级催办：{task}")
    card.locator('[data-testid="preview-template-chase_task-zh-CN"]').click()
    preview = page.locator('[data-testid="preview"]')
    expect(preview).to_contain_text("第 1 级催办：受理审查")
    card = page.locator('[data-template="chase_task-zh-CN"]')
    card.locator('[data-testid="save-template-chase_task-zh-CN"]').click()
    expect(page.locator(".flash.info")).to_contain_text("通知模板已保存。")
    expect(card.locator('[data-testid="subject"]')).to_have_text("第 {level} 级催办：{task}")
    assert stored(site)[0][:3] == ("chase_task", "zh-CN", "第 {level} 级催办：{task}")
