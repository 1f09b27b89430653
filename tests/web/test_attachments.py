"""Attachments: upload, list, download and delete on the pages and the API; refusals by
size, type and content (a .pdf that is really HTML or a program); who may do what; and
erasure (PIPL) of a concluded case's files and names. Files live outside the database,
content-addressed, and are never left half-written."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import select

from engine.attachments import (
    AddAttachment,
    AttachmentStore,
    DeleteAttachment,
    attach,
    check_file,
)
from engine.audit_verify import verify
from engine.erasure import EraseCase
from engine.errors import Conflict, Forbidden
from engine.runtime import ClaimTask
from engine.store import AuditEvent
from engine.store.models import Attachment

from ..helpers import view, work
from .conftest import Site, csrf, login
from .test_browser import browser, live, log_in, page  # noqa: F401 (fixtures)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(64)
MB = 2**20


def office(part: str) -> bytes:
    """A minimal DOCX (``word/document.xml``) or XLSX (``xl/workbook.xml``)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<document/>")
    return out.getvalue()


def bearer(site: Site, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.token(user)}"}


def upload(client: FlaskClient, path: str, name: str, content: bytes, **headers: str) -> Any:
    """A multipart upload as the page's form sends it (with its CSRF token), or, given
    an Authorization header, as an API client does."""
    data: dict[str, Any] = {"file": (io.BytesIO(content), name)}
    if not headers:
        data["csrf_token"] = csrf(client, "/notifications")
    return client.post(path, data=data, headers=headers, content_type="multipart/form-data")


def store_of(site: Site) -> AttachmentStore:
    return AttachmentStore(Path(site.flask.instance_path) / "attachments")


def stored_files(site: Site) -> list[Path]:
    root = store_of(site).root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def rows(site: Site) -> list[Attachment]:
    return site.engine.read(lambda s: list(s.scalars(select(Attachment).order_by(Attachment.id))))


def test_upload_list_download_and_delete_on_the_pages(site):
    li = site.client("li")
    sent = upload(li, f"/cases/{site.case}/attachments", "../材料/身份证明.pdf", PDF)
    assert sent.status_code == 303
    [row] = rows(site)
    assert (row.filename, row.media_type, row.size, row.uploaded_by, row.task_id) == (
        "身份证明.pdf", "application/pdf", len(PDF), "li", None,
    )  # fmt: skip
    # Outside the database, named by its content; nothing left in the staging folder.
    assert stored_files(site) == [store_of(site).path(row.sha256)]
    assert store_of(site).path(row.sha256).read_bytes() == PDF
    answer = li.get(f"/cases/{site.case}").get_data(as_text=True)
    assert "身份证明.pdf" in answer and f"/attachments/{row.id}" in answer
    assert "身份证明.pdf" in li.get(f"/tasks/{site.receive}").get_data(as_text=True)

    got = li.get(f"/attachments/{row.id}")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E8%BA%AB" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"

    # Only the uploader deletes; the row stays, marked, and the content goes.
    wang = site.client("wang")
    refused = wang.post(f"/attachments/{row.id}/delete", data={"csrf_token": csrf(wang)})
    assert refused.status_code == 403
    back = {"csrf_token": csrf(li), "next": f"/tasks/{site.receive}"}
    gone = li.post(f"/attachments/{row.id}/delete", data=back)
    assert (gone.status_code, gone.headers["Location"]) == (303, f"/tasks/{site.receive}")
    [row] = rows(site)
    assert row.deleted_at is not None and stored_files(site) == []
    assert li.get(f"/attachments/{row.id}").status_code == 404
    # Off the list; the history still says who added and deleted what.
    assert f'href="/attachments/{row.id}"' not in li.get(f"/cases/{site.case}").get_data(
        as_text=True
    )
    # The audit trail keeps both, the name apart from the chain (personal data).
    history = view(site.engine, site.case)["history"]
    attached, deleted = (e for e in history if e["command"] in ("attach", "delete_attachment"))
    assert attached["private"] == {"filename": "身份证明.pdf"}
    assert attached["payload"]["sha256"] == row.sha256
    assert deleted["payload"]["attachment_id"] == row.id and deleted["actor"] == "li"
    chain = site.engine.read(lambda s: json.dumps(s.scalars(select(AuditEvent.payload)).all(),
                                                  ensure_ascii=False))  # fmt: skip
    assert "身份证明" not in chain


def test_an_upload_on_the_task_page_belongs_to_the_task(site):
    li = site.client("li")
    refused = upload(li, f"/tasks/{site.receive}/attachments", "form.pdf", EXE)
    assert refused.status_code == 422
    assert MISMATCH.format(".pdf", "Windows 程序") in refused.get_data(as_text=True)
    assert upload(li, f"/tasks/{site.receive}/attachments", "表.xlsx", office("xl/workbook.xml")
                  ).status_code == 303  # fmt: skip
    [row] = rows(site)
    assert (row.task_id, row.instance_id, row.media_type) == (
        site.receive, site.case,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("scan.png", PNG, "image/png"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("letter.docx", office("word/document.xml"), "application/vnd.openxmlformats-"
         "officedocument.wordprocessingml.document"),
        ("notes.txt", "补正材料清单\n".encode(), "text/plain"),
        ("list.csv", "姓名,电话\n张三,1\n".encode("gb18030"), "text/csv"),
    ],
)  # fmt: skip
def test_every_allowed_type_is_taken(site, name, content, media_type):
    sent = upload(site.client(), f"/api/instances/{site.case}/attachments", name, content,
                  **bearer(site, "li"))  # fmt: skip
    assert sent.status_code == 201, sent.get_json()
    assert (sent.get_json()["media_type"], sent.get_json()["filename"]) == (
        media_type, name[:-4] + name[-4:].lower(),
    )  # fmt: skip


MISMATCH = "文件扩展名是 {}，内容却是 {}：已拒收。"
NOT_ALLOWED = "不接受 {} 文件：请上传 PDF、PNG、JPEG、DOCX、XLSX、TXT 或 CSV。"
REFUSED = [
    # name, content, reason, the page's message
    ("report.pdf", HTML, "mismatch", MISMATCH.format(".pdf", "HTML 等网页代码")),
    ("setup.pdf", EXE, "mismatch", MISMATCH.format(".pdf", "Windows 程序")),
    ("readme.txt", HTML, "mismatch", MISMATCH.format(".txt", "HTML 等网页代码")),
    ("photo.png", JPEG, "mismatch", MISMATCH.format(".png", "JPEG 图片")),
    ("fake.docx", b"PK\x03\x04broken", "mismatch", MISMATCH.format(".docx", "ZIP 压缩包")),
    ("page.html", HTML, "type", NOT_ALLOWED.format(".html")),
    ("run.exe", EXE, "type", NOT_ALLOWED.format(".exe")),
    ("empty.pdf", b"", "empty", "文件是空的。"),
    ("big.pdf", PDF + bytes(10 * MB), "size", "文件超过 10 MB 的上限。"),
]


@pytest.mark.parametrize(("name", "content", "reason", "message"), REFUSED)
def test_refusals_show_at_the_field_and_store_nothing(site, name, content, reason, message):
    li = site.client("li")
    answer = upload(li, f"/cases/{site.case}/attachments", name, content)
    assert answer.status_code == 422
    assert f'data-testid="attachment-error">{message}</p>' in answer.get_data(as_text=True)
    api = upload(li, f"/api/instances/{site.case}/attachments", name, content, **bearer(site, "li"))
    body = api.get_json()
    assert (api.status_code, body["error"], body["details"]["reason"]) == (422, "invalid", reason)
    assert "file" in body["details"]["fields"]
    assert rows(site) == [] and stored_files(site) == []


def test_the_body_limit_is_raised_for_uploads_only(site):
    li = site.client("li")
    # 3 MB: over the app's 1 MB for every other form, within the attachment limit.
    assert upload(li, f"/cases/{site.case}/attachments", "scan.pdf", PDF + bytes(3 * MB)
                  ).status_code == 303  # fmt: skip
    huge = PDF + bytes(11 * MB)
    answer = upload(li, f"/cases/{site.case}/attachments", "huge.pdf", huge)
    assert answer.status_code == 413 and "文件超过 10 MB 的上限。" in answer.get_data(as_text=True)
    api = upload(li, f"/api/instances/{site.case}/attachments", "huge.pdf", huge,
                 **bearer(site, "li"))  # fmt: skip
    assert api.status_code == 413 and api.get_json()["error"] == "request_entity_too_large"
    long_text = {"text": "x" * (2 * MB), "csrf_token": csrf(li)}
    comment = li.post(f"/cases/{site.case}/comment", data=long_text)
    assert comment.status_code == 413
    site.flask.config["ATTACHMENT_MAX_BYTES"] = MB
    small = upload(li, f"/cases/{site.case}/attachments", "scan.pdf", PDF + bytes(MB))
    assert "文件超过 1 MB 的上限。" in small.get_data(as_text=True) and len(rows(site)) == 1


def test_missing_file_and_bad_task_id(site):
    li, headers = site.client("li"), bearer(site, "li")
    no_file = li.post(f"/cases/{site.case}/attachments",
                      data={"csrf_token": csrf(li, "/notifications")})  # fmt: skip
    assert no_file.status_code == 422 and "请选择要上传的文件。" in no_file.get_data(as_text=True)
    api = li.post(f"/api/instances/{site.case}/attachments", headers=headers,
                  data={"task_id": "abc", "file": (io.BytesIO(PDF), "a.pdf")})  # fmt: skip
    assert api.status_code == 422 and api.get_json()["details"]["fields"] == {
        "task_id": "a task number"
    }
    other = li.post(f"/api/instances/{site.case}/attachments", headers=headers,
                    data={"task_id": str(site.yang_case_receive),
                          "file": (io.BytesIO(PDF), "a.pdf")})  # fmt: skip
    assert other.status_code == 404 and other.get_json()["error"] == "not_found"


def test_the_english_page_words_refusals_in_english(site):
    li = site.client("li")
    li.get("/lang/en")
    answer = upload(li, f"/cases/{site.case}/attachments", "report.pdf", HTML)
    assert "The file is named .pdf but its content is HTML or other web code: refused." in (
        answer.get_data(as_text=True)
    )
    # The API's message is the engine's (English whatever the language).
    api = upload(li, f"/api/instances/{site.case}/attachments", "report.pdf", HTML,
                 **bearer(site, "li"))  # fmt: skip
    assert api.get_json()["message"] == (
        "report.pdf is named .pdf but its content is HTML or other markup"
    )


def test_a_claimed_task_is_its_holders_and_their_superiors(site):
    """Once li holds 受理, chen (same group) no longer works on it; wang, li's superior
    acting as supervisor, still does."""
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    path = f"/api/instances/{site.case}/attachments"
    refused = upload(site.client(), path, "a.pdf", PDF, **bearer(site, "chen"))
    assert refused.status_code == 403 and "works on no open task" in refused.get_json()["message"]
    assert upload(site.client(), path, "a.pdf", PDF, **bearer(site, "wang")).status_code == 201
    assert upload(site.client(), path, "b.pdf", PDF, **bearer(site, "li")).status_code == 201


def test_a_failed_command_leaves_no_file(site):
    """Staged before the command, removed when it fails: yang works on no task of the case."""
    store = store_of(site)
    checked = check_file("a.pdf", PDF)
    with pytest.raises(Forbidden):
        attach(site.engine, store, AddAttachment(site.case, "yang", checked), PDF)
    assert stored_files(site) == [] and rows(site) == []
    row = attach(site.engine, store, AddAttachment(site.case, "chen", checked), PDF)
    assert stored_files(site) == [store.path(row.sha256)]


def test_shared_content_stays_until_its_last_attachment_goes(site):
    api, headers = site.client(), bearer(site, "li")
    first = upload(api, f"/api/instances/{site.case}/attachments", "a.pdf", PDF, **headers)
    second = upload(api, f"/api/instances/{site.yang_case}/attachments", "b.pdf", PDF, **headers)
    assert len(stored_files(site)) == 1
    listed = api.get(f"/api/instances/{site.case}/attachments", headers=headers).get_json()
    assert [a["filename"] for a in listed] == ["a.pdf"] and listed[0]["uploader_name"] == "李窗口"
    assert api.delete(f"/api/attachments/{first.get_json()['id']}",
                      headers=headers).status_code == 200  # fmt: skip
    assert len(stored_files(site)) == 1
    downloaded = api.get(f"/api/attachments/{second.get_json()['id']}", headers=headers)
    assert downloaded.data == PDF and downloaded.headers["X-Content-Type-Options"] == "nosniff"
    again = api.delete(f"/api/attachments/{first.get_json()['id']}", headers=headers)
    assert again.status_code == 404  # deleted: no longer there to delete
    api.delete(f"/api/attachments/{second.get_json()['id']}", headers=headers)
    assert stored_files(site) == []


def test_an_upload_of_the_same_content_while_the_last_copy_is_removed_keeps_its_file(site):
    """The race of a delete and an upload of identical bytes: the upload commits its row
    just after the sweep has looked at the file, and before it reads the rows."""
    store = store_of(site)
    checked = check_file("a.pdf", PDF)
    first = attach(site.engine, store, AddAttachment(site.case, "chen", checked), PDF)
    site.engine.execute(DeleteAttachment(first.id, "chen"), actor="chen")
    uploads = []

    def read_after_an_upload(query):
        uploads.append(attach(site.engine, store, AddAttachment(site.case, "li", checked), PDF))
        return site.engine.read(query)

    store.sweep({first.sha256}, read_after_an_upload)
    [second] = uploads
    assert stored_files(site) == [store.path(second.sha256)]
    assert store.read(second).read_bytes() == PDF

    # The other order: the rows are read (none in place), then the upload commits and
    # moves its copy in before the sweep removes what it found unused.
    site.engine.execute(DeleteAttachment(second.id, "li"), actor="li")

    def upload_after_the_read(query):
        found = site.engine.read(query)
        uploads.append(attach(site.engine, store, AddAttachment(site.case, "li", checked), PDF))
        return found

    store.sweep({second.sha256}, upload_after_the_read)
    third = uploads[-1]
    assert store.read(third).read_bytes() == PDF

    # With no upload in between, the sweep removes the file and leaves nothing aside.
    site.engine.execute(DeleteAttachment(third.id, "li"), actor="li")
    store.sweep({third.sha256}, site.engine.read)
    assert stored_files(site) == [] and not any(store.root.rglob("*.removing-*"))


def test_an_erasure_that_fails_keeps_the_files(site):
    """Files go only after the erasure has committed (they cannot come back)."""
    api, headers = site.client(), bearer(site, "li")
    upload(api, f"/api/instances/{site.case}/attachments", "张三身份证.pdf", PDF, **headers)
    work(site.engine, site.case, "Task_receive", "li",
         {"applicant_name": "张三", "matter": "许可", "documents_complete": True})  # fmt: skip
    work(site.engine, site.case, "Task_review", "yang", {"review_opinion": "reject"})
    erase = EraseCase(site.case, store_of(site))

    def erase_then_fail(ctx):
        erase(ctx)
        raise Conflict("the database went away")

    with pytest.raises(Conflict):
        site.engine.execute(erase_then_fail, actor="zhao")
    assert len(stored_files(site)) == 1 and rows(site)[0].filename == "张三身份证.pdf"
    site.engine.execute(erase, actor="zhao")
    assert stored_files(site) == []


def test_a_concluded_case_takes_no_more_attachments(site):
    work(site.engine, site.case, "Task_receive", "li",
         {"applicant_name": "张三", "matter": "许可", "documents_complete": True})  # fmt: skip
    work(site.engine, site.case, "Task_review", "yang", {"review_opinion": "reject"})
    sent = upload(site.client(), f"/api/instances/{site.case}/attachments", "a.pdf", PDF,
                  **bearer(site, "li"))  # fmt: skip
    assert (sent.status_code, sent.get_json()["message"]) == (
        409, f"case {site.case} has concluded: no more attachments",
    )  # fmt: skip
    assert 'data-testid="upload-attachment"' not in site.client("li").get(
        f"/cases/{site.case}"
    ).get_data(as_text=True)


def test_erasing_a_case_removes_its_files_and_names(site):
    api, headers = site.client(), bearer(site, "li")
    upload(api, f"/api/instances/{site.case}/attachments", "张三身份证.pdf", PDF, **headers)
    upload(api, f"/api/instances/{site.case}/attachments", "张三户口.png", PNG, **headers)
    upload(api, f"/api/instances/{site.yang_case}/attachments", "copy.png", PNG, **headers)
    work(site.engine, site.case, "Task_receive", "li",
         {"applicant_name": "张三", "matter": "许可", "documents_complete": True})  # fmt: skip
    work(site.engine, site.case, "Task_review", "yang", {"review_opinion": "reject"})
    erased = site.engine.execute(EraseCase(site.case, store_of(site)), actor="zhao")
    assert erased.attachments == 2
    mine = [r for r in rows(site) if r.instance_id == site.case]
    assert {r.filename for r in mine} == {"(erased)"} and all(r.deleted_at for r in mine)
    # The PDF is gone; the PNG stays for the other case, whose attachment shares it.
    assert stored_files(site) == [store_of(site).path(mine[1].sha256)]
    assert api.get(f"/api/instances/{site.case}/attachments", headers=bearer(site, "zhou")
                   ).get_json() == []  # fmt: skip
    history = view(site.engine, site.case)["history"]
    assert all(e.get("private") is None for e in history if e["command"] == "attach")
    assert site.engine.read(lambda s: [str(b) for b in verify(s)]) == []


# Who may do what. {case}: BJ-0001 (受理 offered to reception: li, chen, wang); {own}: the
# case yang started (he reads it, but works on no task of it); {att}: li's file on {case}.
ANON, LI, YANG, WANG, AUDITOR, DESIGNER, ADMIN = (
    "anonymous", "li", "yang", "wang", "zhou", "huang", "zhao",
)  # fmt: skip
PERSONAS = [ANON, LI, YANG, WANG, AUDITOR, DESIGNER, ADMIN]


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(PERSONAS, statuses, strict=True))


MATRIX: list[tuple[str, str, str, dict[str, int]]] = [
    # reads                                        anon li   yang wang aud  des  admin
    ("GET", "/attachments/{att}", "page", row(302, 200, 403, 200, 200, 403, 200)),
    ("GET", "/attachments/99999", "page", row(302, 404, 404, 404, 404, 404, 404)),
    ("GET", "/api/attachments/{att}", "api", row(401, 200, 403, 200, 200, 403, 200)),
    ("GET", "/api/instances/{case}/attachments", "api", row(401, 200, 403, 200, 200, 403, 200)),
    ("GET", "/api/instances/{own}/attachments", "api", row(401, 200, 200, 200, 200, 403, 200)),
    ("GET", "/cases/{case}/diagram.json", "page", row(302, 200, 403, 200, 200, 403, 200)),
    # uploads (a valid PDF)
    ("POST", "/cases/{case}/attachments", "page", row(401, 303, 403, 303, 403, 403, 403)),
    ("POST", "/cases/{own}/attachments", "page", row(401, 303, 403, 303, 403, 403, 403)),
    ("POST", "/tasks/{task}/attachments", "page", row(401, 303, 403, 303, 403, 403, 403)),
    ("POST", "/api/instances/{case}/attachments", "api", row(401, 201, 403, 201, 403, 403, 403)),
    ("POST", "/api/instances/{own}/attachments", "api", row(401, 201, 403, 201, 403, 403, 403)),
    # deletes, last: only li added {att}
    ("POST", "/attachments/{att}/delete", "page", row(401, 303, 403, 403, 403, 403, 403)),
    ("DELETE", "/api/attachments/{att2}", "api", row(401, 200, 403, 403, 403, 403, 403)),
]


@pytest.mark.parametrize("persona", PERSONAS)
def test_access_matrix(site, persona):
    headers = bearer(site, "li")
    ids = {"case": site.case, "own": site.yang_case, "task": site.receive}
    for key in ("att", "att2"):
        sent = upload(site.client(), f"/api/instances/{site.case}/attachments", f"{key}.pdf",
                      PDF, **headers)  # fmt: skip
        ids[key] = sent.get_json()["id"]
    client = site.client()
    api: dict[str, str] = {}
    if persona != ANON:
        login(client, persona)
        api = bearer(site, persona)
    wrong = []
    for method, path, how, expected in MATRIX:
        url = path.format(**ids)
        if method == "POST" and url.endswith("/attachments"):
            if how == "page":
                form = {"csrf_token": csrf(client), "file": (io.BytesIO(PDF), "x.pdf")}
                response = client.post(url, data=form, content_type="multipart/form-data")
            else:
                response = upload(client, url, "x.pdf", PDF, **api) if api else client.post(url)
        elif how == "page":
            data = {"csrf_token": csrf(client)} if method == "POST" else None
            response = client.open(url, method=method, data=data)
        else:
            response = client.open(url, method=method, headers=api)
        if response.status_code >= 500:
            wrong.append(f"{method} {url}: {response.status_code} (a 500 is never right)")
        elif response.status_code != expected[persona]:
            wrong.append(f"{method} {url}: {response.status_code}, expected {expected[persona]}")
        if how == "api" and response.status_code >= 400:
            assert response.is_json, f"{method} {url}: an API error must be JSON"
    assert not wrong, f"{persona}:\n" + "\n".join(wrong)


def test_upload_and_refusal_in_the_browser(site, live, page):  # noqa: F811
    log_in(page, live, "li")
    page.goto(f"{live}/tasks/{site.receive}")
    chosen = page.get_by_test_id("attachment-file")
    chosen.set_input_files(files=[{"name": "申请书.pdf", "mimeType": "application/pdf",
                                   "buffer": PDF}])  # fmt: skip
    page.get_by_test_id("upload-attachment").click()
    expect(page.locator(".flash.info")).to_contain_text("附件已上传")
    expect(page.get_by_test_id("attachment-link")).to_have_text("申请书.pdf")
    chosen.set_input_files(files=[{"name": "invoice.pdf", "mimeType": "application/pdf",
                                   "buffer": HTML}])  # fmt: skip
    page.get_by_test_id("upload-attachment").click()
    expect(page.get_by_test_id("attachment-error")).to_have_text(
        MISMATCH.format(".pdf", "HTML 等网页代码")
    )
    assert [r.filename for r in rows(site)] == ["申请书.pdf"]
