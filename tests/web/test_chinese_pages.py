"""What an acceptance pass found in English on Chinese pages: a 403 naming the roles a
page needs, the trend and ledger filters' errors (the ledger's without its command-line
flags), the receivables import's row errors and the designer's refusals of unsafe XML.
And the navigation: what a user's roles cannot open is not offered to them."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest

from engine.collection.importing import parse_csv
from engine.collection.receivables import ImportReceivables
from engine.definitions import DeployDiagrams
from engine.errors import DeploymentError
from webapp import engine_text, filters
from webapp.collection import READERS

from ..collection.helpers import csv_text, import_rows, row
from .conftest import PERSONAS, csrf
from .test_collection_pages import ACCOUNTS, collection  # noqa: F401 (fixture)
from .test_designer import CASE_XML, send


def shown(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[-400:]
    return unescape(response.get_data(as_text=True))


def english(client):
    assert client.get("/lang/en").status_code == 302
    return client


# --- 403: the roles a page needs -----------------------------------------------------------


def test_a_page_the_roles_do_not_open_says_so_in_chinese(collection):  # noqa: F811
    wu = collection.client("wu")
    html = shown(wu.get("/collection/aging"), 403)
    assert "吴催收 没有打开此页面所需的角色（主管、审计员或系统管理员）。" in html  # wu, by name
    assert "lacks the role" not in html
    html = shown(collection.client("zhou").get("/board"), 403)
    assert "周律师 没有打开此页面所需的角色（主管）。" in html
    html = shown(english(wu).get("/collection/aging"), 403)
    assert "吴催收 lacks the role supervisor or auditor or admin" in html


def test_the_catalogue_s_role_names_are_the_pages_role_names(site):
    with site.flask.test_request_context("/"):
        pages = {role: str(name) for role, name in filters.ROLES.items()}
    assert pages == engine_text._ROLES


# --- navigation: only what the user's roles open ------------------------------------------


def _links(html: str, nav: str) -> list[str]:
    """The hrefs of the page's header navigation (``nav="top"``) or of its tabs."""
    if nav == "top":
        found = re.search(r'<header class="top">.*?</header>', html, re.S)
        block = found.group(0) if found else ""
        return re.findall(r'<a href="([^"]+)" data-nav=', block)
    blocks = re.findall(r'<nav class="tabs[^"]*"[^>]*>.*?</nav>', html, re.S)
    return [href for block in blocks for href in re.findall(r'href="([^"]+)"', block)]


@pytest.mark.parametrize("persona", [*PERSONAS, *ACCOUNTS])
def test_every_menu_entry_and_tab_a_user_sees_opens_for_them(collection, persona):  # noqa: F811
    client = collection.client(persona)
    start = client.get("/", follow_redirects=True)
    assert start.status_code == 200
    opened: dict[str, int] = {}
    for entry in _links(start.get_data(as_text=True), "top"):
        page = client.get(entry, follow_redirects=True)
        opened[entry] = page.status_code
        for tab in _links(page.get_data(as_text=True), "tabs"):
            opened.setdefault(tab, client.get(tab, follow_redirects=True).status_code)
    assert opened and {link: s for link, s in opened.items() if s != 200} == {}
    # and the other way round: the collection entry is there for everyone it opens for
    roles = {**PERSONAS, **ACCOUNTS}[persona]
    offered = 'data-nav="collection"' in start.get_data(as_text=True)
    assert offered == bool(set(roles) & set(READERS))


def test_staff_see_the_receivables_but_not_the_reports_or_the_import(collection):  # noqa: F811
    html = shown(collection.client("li").get("/collection/receivables"), 200)
    assert 'data-nav="collection"' in html and 'data-collection="receivable_list"' in html
    for tab in ("aging_page", "grades_page", "import_page"):
        assert f'data-collection="{tab}"' not in html
    designer = shown(collection.client("huang").get("/designer"), 200)
    assert 'data-nav="collection"' not in designer


# --- the trend filter and the ledger filter -------------------------------------------------


def test_the_trend_filter_s_errors_are_chinese_on_the_page(site):
    wang = site.client("wang")
    html = shown(wang.get("/board/trends?by=team"), 422)
    assert "分组应为以下之一：人员、环节。" in html and "must be one of" not in html
    html = shown(wang.get("/board/trends?period=fortnight"), 422)
    assert "周期应为以下之一：周、月。" in html
    html = shown(wang.get("/board/trends?from=2020-01-01&to=2026-03-01"), 422)
    assert "最多 106 周：请缩短时间范围，或改为按月查看。" in html and "at most" not in html
    html = shown(wang.get("/board/trends?from=soon"), 422)
    assert "开始日 'soon' 不是日期（YYYY-MM-DD）。" in html and "--from" not in html
    html = shown(english(wang).get("/board/trends?by=team"), 422)
    assert "by must be one of person, step" in html


def test_the_ledger_s_date_errors_name_no_command_line_flag(site):
    zhou = site.client("zhou")
    html = shown(zhou.get("/ledger?from=soon&to=2026-03-01"), 422)
    assert "开始日 'soon' 不是日期（YYYY-MM-DD）。" in html
    html = shown(zhou.get("/ledger?from=2026-03-01&to=later"), 422)
    assert "结束日 'later' 不是日期（YYYY-MM-DD）。" in html
    html = shown(zhou.get("/ledger?from=2026-03-01&to=2026-02-01"), 422)
    assert "结束日 2026-02-01 早于开始日 2026-03-01。" in html
    html = shown(zhou.get("/ledger?from=1800-01-01&to=2026-02-01"), 422)
    assert "日期 1800-01-01 的年份应在 1900 到 2999 之间。" in html
    html = shown(english(zhou).get("/ledger?from=soon&to=2026-03-01"), 422)
    assert "--from 'soon' is not a date (YYYY-MM-DD)" in html


def test_no_chinese_page_shows_a_command_line_flag_for_a_date(site):
    for message in (
        "--from 'soon' is not a date (YYYY-MM-DD)",
        "--to 'x' is not a date (YYYY-MM-DD)",
        "--to 2026-02-01 is before --from 2026-03-01",
        "--from 1800-01-01: the year must be 1900-2999",
    ):
        worded = engine_text.chinese(message)
        assert worded is not None and "--" not in worded, message


# --- the receivables import's row errors ---------------------------------------------------


def test_the_import_s_row_errors_are_chinese(site):
    import_rows(site.engine, row("R-1", "1000.00", "2026-02-01", collector="li"))
    batch = csv_text(
        row("R-1", "10.00", "2026-02-01"),
        row("R-2", "10.00", "2026-02-01", department="nowhere"),
        row("R-3", "10.00", "2026-02-01"),
        row("R-3", "10.00", "2026-02-01"),
    )
    report = site.engine.execute(ImportReceivables(parse_csv(batch), "b.csv"), actor="zhao")
    errors = [r.error for r in report.rows if r.error]
    assert [engine_text.chinese(e) for e in errors] == [
        "应收款 'R-1' 已存在。",
        "department（部门）'nowhere' 不是组织架构中的部门。",
        "应收款 'R-3' 在本文件中出现了两次。",
    ]
    zhao = site.client("zhao")
    data = {"csrf_token": csrf(zhao, "/notifications"),
            "file": (io.BytesIO(batch.encode()), "b.csv")}  # fmt: skip
    uploaded = zhao.post("/collection/import", data=data, content_type="multipart/form-data")
    html = shown(uploaded, 422)  # rows were refused
    assert "应收款 'R-1' 已存在。" in html and "exists already" not in html
    assert "不是组织架构中的部门" in html and "is not a department" not in html


# --- the designer's refusals of unsafe or unreadable XML -----------------------------------

DTD = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'


def test_the_designer_shows_its_xml_refusals_in_chinese(site):
    huang = site.client("huang")
    body = send(huang, "/designer/validate", DTD, "evil.bpmn").get_json()
    assert [p["message"] for p in body["problems"]] == [
        "evil.bpmn：不允许使用 DTD 和实体声明（<!DOCTYPE>、<!ENTITY>）。"
    ]
    body = send(huang, "/designer/deploy", "<bpmn:definitions", "cut.bpmn").get_json()
    assert body["problems"][0]["message"].startswith(
        "cut.bpmn：XML 格式不正确（第 1 行第 18 列）："
    )
    body = send(huang, "/designer/validate", "hello", "text.bpmn").get_json()
    assert body["problems"][0]["message"] == (
        "text.bpmn：XML 格式不正确（第 1 行第 1 列）：不是 XML（应以“<”开头的标签开始）"
    )
    body = send(english(huang), "/designer/validate", DTD, "evil.bpmn").get_json()
    assert "DTDs and entity declarations are not allowed" in body["problems"][0]["message"]


def test_an_oversized_diagram_is_refused_in_chinese(site):
    # The pages' upload limit (1 MB) comes first; the engine's own (5 MB) guards the CLI
    # and the API, and a page that ever meets it words it too.
    padded = CASE_XML.encode() + b" " * (5 * 1024 * 1024)
    with pytest.raises(DeploymentError) as caught:
        site.engine.execute(DeployDiagrams([("big.bpmn", padded)]), actor="huang")
    worded = engine_text.chinese(caught.value.message)
    assert worded is not None and worded.startswith("big.bpmn：文件有 ")
    assert "字节的上限" in worded
