"""The OpenAPI document of the JSON API: valid, complete (every route with its methods),
token-protected where the API is, and true — real answers match their declared schemas."""

from __future__ import annotations

import copy
import io
import re
from importlib.metadata import metadata
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from jsonschema import ValidationError as SchemaMismatch
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_schema_validator import validate as validate_schema
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import select

from engine.clock_control import RequestExtension
from engine.store.models import Attachment, SlaExtension
from webapp.converters import MAX_ID

from ..collection.helpers import csv_text, row
from ..helpers import work
from .conftest import Site
from .late import go_overdue
from .test_collection_pages import collection  # noqa: F401 (a fixture)
from .test_inbox import GOOD as FORM

OPEN = {("/health", "get"), ("/metrics", "get"), ("/api/openapi.json", "get"),
        ("/api/docs", "get")}  # fmt: skip
# What any operation may answer, the `default` Error stands for: no valid token (the
# bearer scheme's 401), a busy database (503). Any other status is declared by the
# operation that answers it.
ANY_OPERATION = {"401", "503"}
FLASK_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")  # no token
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    }


def undocumented(app: Flask, doc: dict[str, Any]) -> set[tuple[str, str]]:
    """The API's routes (path, method) that the document lacks."""
    routes = {
        (FLASK_PARAMETER.sub(r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") or rule.rule in ("/health", "/metrics")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    return routes - set(operations(doc))


def test_the_document_is_valid_openapi_and_needs_no_token(site: Site) -> None:
    doc = document(site.client())
    validate_spec(doc)
    package = metadata("caseclock")
    assert doc["openapi"].startswith("3.1")
    assert (doc["info"]["title"], doc["info"]["version"]) == (package["Name"], package["Version"])
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert doc["security"] == [{"bearerAuth": []}]


def test_every_route_of_the_api_is_documented_with_its_methods(site: Site) -> None:
    doc = document(site.client())
    assert undocumented(site.flask, doc) == set()
    # ... and nothing documented that the app does not answer.
    assert ("/api/tasks/{task_id}", "get") in operations(doc)
    assert ("/api/tasks/{task_id}", "delete") not in operations(doc)
    assert len(operations(doc)) >= 28


def test_a_route_added_around_the_blueprint_is_caught(site: Site) -> None:
    site.flask.add_url_rule("/api/sneaky", "sneaky", lambda: jsonify({}), methods=["PUT"])
    doc = document(site.client())
    assert undocumented(site.flask, doc) == {("/api/sneaky", "put")}


def _example_path(path: str, doc: dict[str, Any]) -> str:
    """The path with each parameter filled: the first value it allows, else 1."""
    params = {p["name"]: p for p in doc["paths"][path].get("parameters", [])}

    def value(match: re.Match[str]) -> str:
        schema = params.get(match.group(1), {}).get("schema", {})
        return str(schema["enum"][0]) if "enum" in schema else "1"

    return re.sub(r"{([^}]+)}", value, path)


def test_every_operation_is_described_and_needs_the_token_unless_open(site: Site) -> None:
    client = site.client()
    doc = document(client)
    tags = {t["name"] for t in doc["tags"]}
    assert {"core", "oversight"} <= tags
    for (path, method), op in operations(doc).items():
        assert op["summary"].strip(), (path, method)
        assert op["tags"] and set(op["tags"]) <= tags, (path, method)
    assert {key for key, op in operations(doc).items() if op.get("security") == []} == OPEN
    # Descriptions are Markdown, as OpenAPI readers render them: no reST left over.
    texts = [op.get(k, "") for op in operations(doc).values() for k in ("summary", "description")]
    texts += [t.get("description", "") for t in doc["tags"]]
    leftovers = [t for t in texts if "``" in t or re.search(r":[a-z]+:`", t)]
    assert not leftovers, leftovers
    mark = operations(doc)[("/api/notifications/read", "post")]
    assert "`ids`" in mark["summary"] + mark.get("description", "")
    # What the document says is what the API does: no token, no answer (but a JSON 401).
    for path, method in operations(doc):
        response = client.open(_example_path(path, doc), method=method.upper())
        if (path, method) in OPEN:
            assert response.status_code == 200, path
        else:
            assert response.status_code == 401, (path, method, response.status_code)
            assert response.get_json()["error"] == "unauthorized"


def strict(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's components where no object has keys beyond those it lists: the
    published document lets objects grow, the test checks that it lists them all."""
    components = copy.deepcopy(doc["components"])
    for schema in components["schemas"].values():
        if "properties" in schema:
            schema["additionalProperties"] = False
    return components


def check(doc: dict[str, Any], path: str, method: str, response: Any) -> None:
    """``response`` has a status the operation declares (or one any operation may
    answer), and matches the schema the document declares for it (a JSON answer), or has
    a media type it declares (a file)."""
    declared = doc["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in declared or status in ANY_OPERATION, (path, method, status, list(declared))
    answer = declared.get(status, declared["default"])
    if "$ref" in answer:
        answer = doc["components"]["responses"][answer["$ref"].rpartition("/")[2]]
    if not response.is_json:
        assert response.mimetype in answer["content"] or "*/*" in answer["content"], (
            path, method, response.mimetype, list(answer["content"]),
        )  # fmt: skip
        return
    schema = answer["content"]["application/json"]["schema"]
    validate_schema(
        response.get_json(), {**schema, "components": strict(doc)},
        cls=OAS31Validator, format_checker=oas31_format_checker,
    )  # fmt: skip


# (the status expected, user, method, documented path, url, body)
Call = tuple[int, str, str, str, str, Any]


def answers_match(site: Site, calls: list[Call]) -> set[int]:
    """Makes each call (a ``dict`` body as JSON, a function's form fields as multipart),
    checks its status and its answer against the document; the statuses seen."""
    client = site.client()
    doc = document(client)
    for status, user, method, path, url, body in calls:
        headers = {"Authorization": f"Bearer {site.token(user)}"} if user != "anonymous" else {}
        sent = {"json": body} if isinstance(body, dict | None) else {"data": body()}
        response = client.open(url, method=method.upper(), headers=headers, **sent)
        assert response.status_code == status, (url, response.get_data(as_text=True)[:300])
        assert response.is_json or status == 200, url
        check(doc, path, method, response)
    return {status for status, *_ in calls}


def test_real_answers_match_their_declared_schemas(site: Site, clock: Any) -> None:
    work(site.engine, site.yang_case, "Task_receive", "chen", FORM)  # on wang's trend
    work(site.engine, site.yang_case, "Task_review", "yang", {"review_opinion": "reject"})
    chase = go_overdue(site, clock)  # li holds BJ-0001's 受理, late; wang has a chase
    site.engine.execute(RequestExtension(site.receive, "li", "1 working day", "复杂"), actor="li")
    extension = site.engine.read(lambda s: s.scalars(select(SlaExtension.id)).one())
    task, case = site.receive, site.case

    def upload() -> dict[str, Any]:
        return {"file": (io.BytesIO("补正材料清单\n".encode()), "notes.txt"), "task_id": str(task)}

    def attachment() -> int:
        return site.engine.read(lambda s: s.scalars(select(Attachment.id)).one())

    notice = "/api/notice-templates/{kind}/{locale}"
    courtesy = "/api/notice-templates/debtor.courtesy.subject/zh-CN"
    calls: list[Call] = [
        (200, "li", "get", "/api/me", "/api/me", None),
        (200, "li", "get", "/api/definitions", "/api/definitions", None),
        (200, "li", "get", "/api/tasks", "/api/tasks", None),
        (200, "li", "get", "/api/inbox", "/api/inbox", None),
        (200, "li", "get", "/api/tasks/{task_id}", f"/api/tasks/{task}", None),
        (200, "li", "get", "/api/instances/{instance_id}", f"/api/instances/{case}", None),
        (200, "li", "get", "/api/notifications", "/api/notifications", None),
        (200, "zhao", "get", "/api/instances", "/api/instances", None),
        (200, "wang", "get", "/api/board", "/api/board", None),
        (200, "zhou", "get", "/api/ledger", "/api/ledger?from=2026-03-01&to=2026-03-31", None),
        (200, "zhou", "get", "/api/ledger/verify", "/api/ledger/verify", None),
        (200, "zhou", "get", "/api/report", "/api/report?from=2026-03-01&to=2026-03-31", None),
        (200, "wang", "get", "/api/board/trends", "/api/board/trends", None),
        (200, "wang", "get", "/api/board/trends", "/api/board/trends?by=step&period=month", None),
        (200, "zhao", "get", "/api/notice-templates", "/api/notice-templates", None),
        (200, "zhao", "post", notice + "/preview", "/api/notice-templates/urge/en/preview",
         {"subject": "Hurry: {task}", "body": "{person}, {task} of {case} is late."}),
        (200, "zhao", "post", notice + "/preview",
         "/api/notice-templates/debtor.part.courtesy/en/preview",
         {"heading": "Hello",
          "text": "{debtor_name}: {amount} {currency} on {receivable} is due {due_date}."}),
        # state changes
        (200, "li", "post", "/api/tasks/{task_id}/{action}", f"/api/tasks/{task}/pause",
         {"reason": "补正"}),
        (200, "li", "post", "/api/notifications/read", "/api/notifications/read", {}),
        (201, "li", "post", "/api/instances/{instance_id}/comments",
         f"/api/instances/{case}/comments", {"text": "材料已收"}),
        (200, "wang", "post", "/api/chase/{chase_id}/{action}", f"/api/chase/{chase}/handle",
         {"note": "已督促"}),
        (200, "wang", "post", "/api/{kind}s/{request_id}/{decision}",
         f"/api/extensions/{extension}/approve", {"note": "同意"}),
        (201, "li", "post", "/api/instances/{instance_id}/attachments",
         f"/api/instances/{case}/attachments", upload),
        (200, "li", "get", "/api/instances/{instance_id}/attachments",
         f"/api/instances/{case}/attachments", None),
        (200, "zhao", "put", notice, courtesy, {"subject": "{receivable} 于 {due_date} 到期"}),
        (200, "zhao", "delete", notice, courtesy, None),
        # errors: CaseClock's shape, as declared (the chase is closed by now)
        (409, "wang", "post", "/api/chase/{chase_id}/{action}", f"/api/chase/{chase}/handle",
         {"note": "again"}),
        (404, "li", "get", "/api/tasks/{task_id}", "/api/tasks/99999", None),
        (403, "li", "get", "/api/board/trends", "/api/board/trends", None),
        (422, "wang", "get", "/api/board/trends", "/api/board/trends?period=day", None),
        (422, "zhao", "put", notice, "/api/notice-templates/urge/en", {"subject": " ", "body": ""}),
        (403, "li", "get", "/api/notice-templates", "/api/notice-templates", None),
        (422, "li", "get", "/api/inbox", "/api/inbox?filter=everything", None),
        (422, "li", "post", "/api/tasks/{task_id}/{action}", f"/api/tasks/{task}/pause",
         {"reason": ""}),
        (403, "yang", "get", "/api/tasks/{task_id}", f"/api/tasks/{task}", None),
        (401, "anonymous", "get", "/api/me", "/api/me", None),
        # errors an operation declares beyond the usual ones
        (404, "zhao", "get", "/api/tasks", "/api/tasks?user=nobody", None),
        (404, "zhao", "get", "/api/tasks", "/api/tasks?group=nobody", None),
        (422, "li", "post", "/api/notifications/read", "/api/notifications/read", {"ids": None}),
        (413, "li", "post", "/api/notifications/read", "/api/notifications/read",
         {"ids": [1] * 400_000}),  # a JSON body over 1 MiB
        (413, "li", "post", "/api/tasks/{task_id}/{action}", f"/api/tasks/{task}/comment",
         {"text": "x" * 1_100_000}),
        (409, "chen", "post", "/api/instances/{instance_id}/attachments",
         f"/api/instances/{site.yang_case}/attachments", upload),  # a concluded case
    ]  # fmt: skip
    assert answers_match(site, calls) == {200, 201, 401, 403, 404, 409, 413, 422}
    # The file itself, then its deletion (which answers the attachment as it was).
    assert answers_match(site, [
        (200, "li", "get", "/api/attachments/{attachment_id}",
         f"/api/attachments/{attachment()}", None),
        (200, "li", "delete", "/api/attachments/{attachment_id}",
         f"/api/attachments/{attachment()}", None),
        (404, "li", "delete", "/api/attachments/{attachment_id}",
         f"/api/attachments/{attachment()}", None),
    ]) == {200, 404}  # fmt: skip
    health = site.client().get("/health")
    check(document(site.client()), "/health", "get", health)


def test_collection_answers_match_their_declared_schemas(collection: Site) -> None:  # noqa: F811
    receivable = "/api/collection/receivables/{key}"
    good = csv_text(row("N-001", "500.00", "2026-02-01", collector="wu", department="collections"))
    bad = csv_text(row("N-002", "abc", "2026-02-01"))
    calls: list[Call] = [
        (200, "zhou", "get", "/api/collection/aging", "/api/collection/aging", None),
        (200, "zhou", "get", "/api/collection/aging", "/api/collection/aging?by=department", None),
        (200, "zhou", "get", "/api/collection/grades", "/api/collection/grades", None),
        (200, "zhou", "get", "/api/collection/export", "/api/collection/export", None),
        (200, "wu", "get", "/api/collection/receivables", "/api/collection/receivables", None),
        (200, "wu", "get", receivable, "/api/collection/receivables/A-120?fees=daily", None),
        (201, "zheng", "post", receivable + "/{action}",
         "/api/collection/receivables/A-045/payments", {"amount": "300.00", "reference": "B-9"}),
        (201, "zheng", "post", receivable + "/{action}",
         "/api/collection/receivables/A-045/promises", {"amount": "700.00", "on": "2026-03-10"}),
        (200, "zheng", "get", receivable, "/api/collection/receivables/A-045", None),
        (200, "sun", "post", "/api/collection/import", "/api/collection/import",
         lambda: {"file": (io.BytesIO(good.encode()), "good.csv")}),
        (422, "sun", "post", "/api/collection/import", "/api/collection/import",
         lambda: {"file": (io.BytesIO(bad.encode()), "bad.csv")}),
        # errors
        (403, "wu", "get", receivable, "/api/collection/receivables/A-045", None),
        (404, "wu", "get", receivable, "/api/collection/receivables/NOPE", None),
        (422, "zheng", "post", receivable + "/{action}",
         "/api/collection/receivables/A-045/payments", {"amount": " "}),
        (403, "wu", "get", "/api/collection/aging", "/api/collection/aging", None),
        (422, "wu", "get", receivable, "/api/collection/receivables/A-120?fees=weekly", None),
    ]  # fmt: skip
    assert answers_match(collection, calls) == {200, 201, 403, 404, 422}


def test_every_operation_documents_its_success(site: Site) -> None:
    """Each operation declares a 2xx answer; id parameters are 64-bit; a choice in the
    path is an enum; required text is non-blank."""
    doc = document(site.client())
    ids = 0
    for (path, method), op in operations(doc).items():
        assert any(status.startswith("2") for status in op["responses"]), (path, method)
        for param in [*doc["paths"][path].get("parameters", []), *op.get("parameters", [])]:
            if param["in"] == "path" and param["schema"].get("type") == "integer":
                assert param["schema"]["maximum"] == MAX_ID == 2**63 - 1, (path, param)
                ids += 1
    assert ids >= 10
    path = "/api/collection/receivables/{key}/{action}"
    action = next(p for p in doc["paths"][path]["parameters"] if p["name"] == "action")
    assert action["schema"]["enum"] == ["payments", "promises"]
    record = operations(doc)[(path, "post")]
    assert record["requestBody"]["required"] is True
    # A body may be refused whatever the operation: too large, or not a JSON object.
    bodies = [key for key, op in operations(doc).items() if "requestBody" in op]
    assert len(bodies) >= 9
    assert [key for key in bodies if not {"413", "422"} <= set(operations(doc)[key]["responses"])
            ] == []  # fmt: skip
    pause = doc["components"]["schemas"]["PauseBody"]["properties"]["reason"]
    assert pause["minLength"] == 1 and pause["pattern"] == r"\S"


def test_a_task_id_that_is_no_task_number_is_refused_at_its_field(site: Site) -> None:
    """``"²"`` is a digit to ``str.isdigit`` but no number to ``int``: a 422, not a 500;
    so is a number larger than any id."""
    headers = {"Authorization": f"Bearer {site.token('li')}"}
    for task_id in ("²", "٣", str(2**63), "-1"):
        response = site.client().post(
            f"/api/instances/{site.case}/attachments", headers=headers,
            data={"task_id": task_id, "file": (io.BytesIO(b"hi"), "a.txt")},
        )  # fmt: skip
        assert response.status_code == 422, (task_id, response.status_code)
        assert response.get_json()["details"]["fields"] == {"task_id": "a task number"}
    assert site.engine.read(lambda s: s.scalars(select(Attachment.id)).all()) == []


def test_the_schemas_are_checked_for_real(site: Site) -> None:
    """A wrong answer is caught: the check above can fail."""
    doc = document(site.client())
    wrong = site.client().get("/health")
    wrong.set_data(b'{"status": "ok", "database": 1, "worker": null}')
    with pytest.raises(SchemaMismatch, match="1 is not of type 'string'"):
        check(doc, "/health", "get", wrong)
    extra = site.client().get("/health")
    extra.set_data(b'{"status": "ok", "database": "sqlite", "worker": null, "new": 1}')
    with pytest.raises(SchemaMismatch, match="'new' was unexpected"):
        check(doc, "/health", "get", extra)


def test_the_docs_page_lists_every_operation_in_both_languages(site: Site) -> None:
    client = site.client()
    doc = document(client)
    response = client.get("/api/docs")  # no token
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for path, method in operations(doc):
        assert f'data-operation="{method.upper()} {path}"' in page
    assert "接口文档" in page and "TaskDetail" in page and "InboxRow[]" in page
    assert "CompleteBody | DelegateBody" in page  # the bodies an action takes
    assert "filter (query, all|mine|group)" in page
    assert "those listed in <code>ids</code>" in page  # Markdown code, not backticks
    assert "<script" not in page and " style=" not in page  # the CSP allows neither
    client.get("/lang/en")
    english = client.get("/api/docs").get_data(as_text=True)
    assert "API reference" in english and "no token needed" in english
