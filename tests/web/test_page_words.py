"""Pages name things in words, not the codes the engine stores: the receivable pages
(department, collector, case state, guarantee, ladder level, notice kind, channel, why a
notice was held, risk grades), the auditor's ledger (responsible person, department,
limit), and the admin pages (SLA limits and on-deadline actions, roles, group names,
holidays) — in Chinese on a Chinese page and in English on an English one. The codes
stay in the data-* attributes (and, muted, beside a person's or department's name)."""

from __future__ import annotations

import re
from datetime import datetime, time

from engine.collection import contact
from engine.collection.notices import render
from engine.collection.receivables import load_account
from timers.worker import Worker

from ..conftest import SHANGHAI
from . import test_collection_pages
from .late import go_overdue
from .test_collection_access import _open_step
from .test_collection_pages import TODAY

collection = test_collection_pages.collection  # the seeded portfolio (a fixture)
ZH, EN = "/lang/zh_CN", "/lang/en"


def page(client, lang: str, path: str) -> str:
    client.get(lang)
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def cell(html: str, pattern: str) -> str:
    """The text of the first element matching ``pattern`` (a regex ending at its ``>``),
    tags dropped and spaces collapsed."""
    found = re.search(pattern + r"(.*?)</(?:td|dd|th|option|label)>", html, re.S)
    assert found, pattern
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def hold_a_notice_at_night(app, clock, key: str) -> None:
    """A courtesy SMS recorded at 22:30: held until contact hours open."""
    clock.set(datetime.combine(TODAY, time(22, 30), tzinfo=SHANGHAI))
    values = {"debtor_name": "客户", "receivable": key, "amount": "1000.00", "currency": "CNY",
              "due_date": "2026-03-10", "days_overdue": 0, "penalty": "0.00",
              "as_of": TODAY.isoformat()}  # fmt: skip

    def command(ctx):
        account = load_account(ctx.session, key)
        notice = render("courtesy", values)
        contact.send_debtor_notice(ctx, account.receivable, account.customer, "courtesy", "sms",
                                   notice, values, 0)  # fmt: skip

    app.execute(command, actor="tests")


# --- the receivable pages ---------------------------------------------------------------


def test_receivable_page_names_department_collector_state_and_ladder(collection):
    client = collection.client("zheng")
    for lang, words in (
        (ZH, {"dept": "催收部", "state": "催收中", "guarantee": "无担保",
              "level": "限制授信及黑名单提议", "kind": "最后催收通知", "channel": "信函"}),
        (EN, {"dept": "催收部", "state": "In collection", "guarantee": "Unsecured",
              "level": "Credit restriction and blacklist proposal", "kind": "Final notice",
              "channel": "Letter"}),
    ):  # fmt: skip
        html = page(client, lang, "/collection/receivables/A-075")
        facts = html[html.index('data-testid="receivable-facts"') :]
        assert re.search(r"<dd>催收部 <small class=\"muted\">\(collections\)</small></dd>", facts)
        assert re.search(r"<dd>郑催收 <small class=\"muted\">\(zheng\)</small></dd>", facts)
        assert "<dd>collections</dd>" not in facts and "<dd>zheng</dd>" not in facts
        state = cell(html, r'data-testid="case-link">#\d+</a>')
        assert state == f"· {words['state']}" and "open" not in state
        terms = re.search(r"<dd>([^<]*)</dd>\s*</dl>\s*</section>\s*</div>", html)
        assert terms and terms.group(1) == words["guarantee"]  # the last of the terms
        notice = cell(html, r'<tr data-level="restriction"><td>')
        assert notice == f"{words['level']} {words['kind']}", notice
        assert (
            cell(html, r'<tr data-level="restriction">.*?<td data-channel="letter">')
            == words["channel"]
        )


def test_a_held_notice_says_why_in_the_page_s_language(collection, clock):
    hold_a_notice_at_night(collection.engine, clock, "A-CUR")
    client = collection.client("wu")
    zh = page(client, ZH, "/collection/receivables/A-CUR")
    held = cell(zh, r'<tr data-level="courtesy">(?:.*?<td>){4}')
    assert held == "不在联系时段 08:00–21:00 内", held
    assert cell(zh, r'<tr data-level="courtesy"><td>') == "到期前提醒 还款提醒"
    assert cell(zh, r'<td data-channel="sms">') == "短信"
    en = page(client, EN, "/collection/receivables/A-CUR")
    assert cell(en, r'<tr data-level="courtesy">(?:.*?<td>){4}') == (
        "outside contact hours 08:00–21:00"
    )
    assert cell(en, r'<tr data-level="courtesy"><td>') == (
        "Reminder before due date Payment reminder"
    )


def test_receivable_list_and_aging_name_departments_and_collectors(collection):
    sun = collection.client("sun")
    for lang, grade in ((ZH, "次级"), (EN, "Substandard")):
        html = page(sun, lang, "/collection/receivables")
        row = html[html.index('<tr data-receivable="A-120">') :].split("</tr>")[0]
        assert '催收部 <small class="muted">(collections)</small>' in row
        assert '吴催收 <small class="muted">(wu)</small>' in row
        assert "<td>collections</td>" not in row and "<td>wu</td>" not in row
        assert f"<td>{grade}</td>" in row  # A-120, 120 days past due
    zhou = collection.client("zhou")
    for by, key, name in (
        ("collector", "zheng", "郑催收"),
        ("department", "window", "综合受理窗口"),
    ):
        html = page(zhou, ZH, f"/collection/aging?by={by}")
        assert cell(html, rf'<tr data-group="{key}">\s*<th scope="row">') == f"{name} ({key})"


def test_grades_are_named_in_english_on_an_english_page(collection):
    client = collection.client("zhou")
    path = "/collection/grades?from=2026-02-02&to=2026-03-02"
    zh = page(client, ZH, path)
    assert cell(zh, r'<tr data-grade="关注"><th scope="row">') == "关注"
    assert cell(zh, r'<tr data-from="未评级"><th scope="row">') == "未评级"
    en = page(client, EN, path)
    for grade, word in (("正常", "Normal"), ("关注", "Special mention"), ("次级", "Substandard"),
                        ("可疑", "Doubtful"), ("损失", "Loss")):  # fmt: skip
        assert cell(en, rf'<tr data-grade="{grade}"><th scope="row">') == word
        assert f'data-to="{grade}"' in en  # the codes stay in the attributes
    assert cell(en, r'<tr data-from="未评级"><th scope="row">') == "Not graded"
    migration = en[en.index('data-testid="grade-migration"') :]
    assert not re.search(r"<th>(正常|关注|次级|可疑|损失)</th>", migration)
    listing = page(client, EN, "/collection/receivables")
    assert cell(listing, r'<option value="损失"[^>]*>') == "Loss"


# --- the auditor's ledger -------------------------------------------------------------------


def test_ledger_names_the_responsible_person_and_department(site, clock):
    go_overdue(site, clock)
    client = site.client("zhou")
    for lang, limit in ((ZH, "1 个工作日"), (EN, "1 working day")):
        html = page(client, lang, "/ledger?from=2026-03-01&to=2026-03-31")
        rows = re.findall(r"<tr data-breach=.*?</details></td>\s*<td>(.*?)</td><td>(.*?)</td>",
                          html, re.S)  # fmt: skip
        assert len(rows) == 2
        people = {" ".join(re.sub(r"<[^>]+>", " ", who).split()) for who, _ in rows}
        departments = {" ".join(re.sub(r"<[^>]+>", " ", d).split()) for _, d in rows}
        assert people == {"李窗口 (li)", "王科长 (wang)"}
        assert departments == {"综合受理窗口 (window)"}
        assert cell(html, r"<dt>[^<]*</dt><dd>(?=1 )") == limit
        assert '王科长 <small class="muted">(wang)</small>' in html  # BJ-0001's superior


# --- the admin pages --------------------------------------------------------------------------


def test_sla_page_words_limits_and_on_deadline_actions(collection):
    admin = collection.client("zhao")
    for lang, limit, label, actions in (
        (ZH, "1 个工作日", "催收阶梯：电话催收", ("到期通知", "到期催办")),
        (EN, "1 working day", "Collection ladder: Collection call", ("Notify", "Chase")),
    ):
        html = page(admin, lang, "/admin/sla")
        row = html[html.index("<td>Task_call</td>") :].split("</tr>")[0]
        assert f"<td>{label}</td><td>{limit}</td>" in row, row
        assert cell(html, r'<option value="notify"[^>]*>') == actions[0]
        assert cell(html, r'<option value="chase"[^>]*>') == actions[1]
    zh = page(admin, ZH, "/admin/sla")
    table = zh[zh.index('data-testid="standards"') : zh.index('data-testid="set-standard"')]
    assert "working day" not in table and "催收阶梯 call" not in table
    assert ">notify<" not in zh and ">chase<" not in zh


def test_org_page_names_roles_and_groups(site):
    admin = site.client("zhao")
    for lang, roles, group in (
        (ZH, ("工作人员", "主管", "审计员", "流程设计", "系统管理员"), "受理窗口"),
        (EN, ("Staff", "Supervisor", "Auditor", "Designer", "Administrator"), "受理窗口"),
    ):
        html = page(admin, lang, "/admin/org")
        account = html[html.index('<tr data-account="li">') :].split("</tr>")[0]
        shown = re.findall(r'name="roles" value="(\w+)"[^>]*> ([^<]+)</label>', account)
        assert [word for _, word in shown] == list(roles)
        assert [code for code, _ in shown] == ["staff", "supervisor", "auditor", "designer",
                                               "admin"]  # fmt: skip
        person = html[html.index('<tr data-person="li">') :].split("</tr>")[0]
        assert person.rstrip().endswith(f"<td>{group}</td>"), person[-80:]


def test_calendar_names_holidays_in_the_page_s_language(site):
    admin = site.client("zhao")
    zh = page(admin, ZH, "/admin/calendars?year=2026")
    national = cell(zh, r'<tr data-day="2026-10-01".*?(?:<td>.*?</td>\s*){3}<td>')
    assert national == "国庆节" and "National Day" not in zh
    en = page(admin, EN, "/admin/calendars?year=2026")
    national = cell(en, r'<tr data-day="2026-10-01".*?(?:<td>.*?</td>\s*){3}<td>')
    assert national == "National Day" and "国庆节" not in en
    assert "Spring Festival" in en and "春节" not in en


def test_a_ladder_step_s_clock_names_its_standard_in_words(collection):
    """The call on A-010 follows the ladder's standard (labelled "催收阶梯 call" by
    engine.collection.ladder): its clock says which level, in the page's language."""
    app = collection.engine
    while Worker(app).run_once().fired:
        pass
    call = _open_step(app, "A-010", "Task_call")
    assert call.sla_policy.endswith(": 催收阶梯 call")
    number = call.sla_policy.split("#")[1].split(":")[0]
    client = collection.client("zheng")  # offered the call through the collectors' pool
    in_english = f"basic standard #{number}: Collection ladder: Collection call"
    for lang, words in ((ZH, f"基本标准 #{number}：催收阶梯：电话催收"), (EN, in_english)):
        html = page(client, lang, f"/tasks/{call.id}")
        standard = re.search(r"<dt>(?:标准|Standard)</dt><dd>([^<]*)</dd>", html)
        assert standard and standard.group(1) == words
