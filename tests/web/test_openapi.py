"""The OpenAPI document of the JSON API: valid, complete (every route with its methods),
token-protected where the API is, and true — real answers match their declared schemas."""

from __future__ import annotations

import copy
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
from engine.store.models import SlaExtension

from .conftest import Site
from .late import go_overdue

OPEN = {("/health", "get"), ("/metrics", "get"), ("/api/openapi.json", "get"),
        ("/api/docs", "get")}  # fmt: skip
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
    """``response`` matches the schema the document declares for its status."""
    declared = doc["paths"][path][method]["responses"]
    answer = declared.get(str(response.status_code), declared["default"])
    if "$ref" in answer:
        answer = doc["components"]["responses"][answer["$ref"].rpartition("/")[2]]
    schema = answer["content"]["application/json"]["schema"]
    validate_schema(
        response.get_json(), {**schema, "components": strict(doc)},
        cls=OAS31Validator, format_checker=oas31_format_checker,
    )  # fmt: skip


def test_real_answers_match_their_declared_schemas(site: Site, clock: Any) -> None:
    chase = go_overdue(site, clock)  # li holds BJ-0001's 受理, late; wang has a chase
    site.engine.execute(RequestExtension(site.receive, "li", "1 working day", "复杂"), actor="li")
    client = site.client()
    doc = document(client)
    token = {user: {"Authorization": f"Bearer {site.token(user)}"}
             for user in ("li", "yang", "wang", "zhou", "zhao")}  # fmt: skip
    extension = site.engine.read(lambda s: s.scalars(select(SlaExtension.id)).one())
    task, case = site.receive, site.case
    calls = [
        ("li", "get", "/api/me", "/api/me", None),
        ("li", "get", "/api/definitions", "/api/definitions", None),
        ("li", "get", "/api/tasks", "/api/tasks", None),
        ("li", "get", "/api/inbox", "/api/inbox", None),
        ("li", "get", "/api/tasks/{task_id}", f"/api/tasks/{task}", None),
        ("li", "get", "/api/instances/{instance_id}", f"/api/instances/{case}", None),
        ("li", "get", "/api/notifications", "/api/notifications", None),
        ("zhao", "get", "/api/instances", "/api/instances", None),
        ("wang", "get", "/api/board", "/api/board", None),
        ("zhou", "get", "/api/ledger", "/api/ledger?from=2026-03-01&to=2026-03-31", None),
        ("zhou", "get", "/api/ledger/verify", "/api/ledger/verify", None),
        ("zhou", "get", "/api/report", "/api/report?from=2026-03-01&to=2026-03-31", None),
        # state changes
        ("li", "post", "/api/tasks/{task_id}/{action}", f"/api/tasks/{task}/pause",
         {"reason": "补正"}),
        ("li", "post", "/api/notifications/read", "/api/notifications/read", {}),
        ("li", "post", "/api/instances/{instance_id}/comments",
         f"/api/instances/{case}/comments", {"text": "材料已收"}),
        ("wang", "post", "/api/chase/{chase_id}/{action}", f"/api/chase/{chase}/handle",
         {"note": "已督促"}),
        ("wang", "post", "/api/{kind}s/{request_id}/{decision}",
         f"/api/extensions/{extension}/approve", {"note": "同意"}),
        # errors: CaseClock's shape, as declared (the chase is closed by now)
        ("wang", "post", "/api/chase/{chase_id}/{action}", f"/api/chase/{chase}/handle",
         {"note": "again"}),
        ("li", "get", "/api/tasks/{task_id}", "/api/tasks/99999", None),
        ("li", "get", "/api/inbox", "/api/inbox?filter=everything", None),
        ("li", "post", "/api/tasks/{task_id}/{action}", f"/api/tasks/{task}/pause",
         {"reason": ""}),
        ("yang", "get", "/api/tasks/{task_id}", f"/api/tasks/{task}", None),
        ("anonymous", "get", "/api/me", "/api/me", None),
    ]  # fmt: skip
    seen = set()
    for user, method, path, url, body in calls:
        headers = token.get(user, {})
        response = client.open(url, method=method.upper(), headers=headers, json=body)
        assert response.status_code < 500 and response.is_json, (url, response.status_code)
        check(doc, path, method, response)
        seen.add(response.status_code)
    assert seen == {200, 201, 401, 403, 404, 409, 422}, seen
    health = client.get("/health")
    check(doc, "/health", "get", health)


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
