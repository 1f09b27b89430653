"""The OpenAPI document of the JSON API, and what the page ``/api/docs`` lists from it.

flask-smorest builds the document from the routes of ``api.bp`` when the app registers
it. Every route is in it, also one another module adds with a plain ``@bp.get``: its tag
is its module's (``webapp.api_oversight`` -> ``oversight``; ``webapp.api`` itself is
``core``) and its summary the first line of its docstring, or its name. Schemas come from
:mod:`webapp.api_schemas`; every operation needs the bearer token unless it says
``security: []`` (health, metrics and the document itself).
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from importlib.metadata import metadata
from typing import Any, TypeVar

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api, Blueprint
from markupsafe import Markup, escape
from marshmallow import Schema

from . import api_schemas

F = TypeVar("F", bound=Callable[..., Any])

OPENAPI_VERSION = "3.1.0"
BEARER = "bearerAuth"
ABOUT = (
    "Everything the pages do, as JSON. Send "
    "`Authorization: Bearer <token>` (`caseclock user token <user>`); a token acts with "
    "its account's roles. Errors are JSON with a stable `error` code and a `message`; "
    "bad input is a 422 whose `details.fields` names each bad field."
)


def module_tag(view: Callable[..., Any]) -> str:
    """``webapp.api_oversight`` -> ``oversight``; the routes of ``webapp.api`` are ``core``."""
    return view.__module__.rpartition(".")[2].removeprefix("api").lstrip("_") or "core"


class DocumentedBlueprint(Blueprint):
    """flask-smorest's blueprint, with a tag and a summary for every route however added."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.module_tags: dict[str, str] = {}  # tag -> its module's docstring summary

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        if view_func is not None:
            if options.get("tags") is None:
                tag = module_tag(view_func)
                module = sys.modules[view_func.__module__]
                self.module_tags.setdefault(tag, markdown(_first_paragraph(module.__doc__ or "")))
                options["tags"] = [tag]
            if not inspect.getdoc(view_func):
                name = (endpoint or view_func.__name__).replace("_", " ")
                view_func = self.doc(summary=name.capitalize())(view_func)
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)

    def query(self, schema: type[Schema]) -> Callable[[F], F]:
        """Documents the query arguments, which the view reads itself."""
        return self.doc(parameters=[{"in": "query", "schema": schema}])

    def takes(
        self, *schemas: type[Schema], required: bool = False, media: str = "application/json"
    ) -> Callable[[F], F]:
        """Documents the body (JSON unless ``media`` says otherwise), one of ``schemas``,
        which the view reads itself (``webapp.api.body``: a bad one is CaseClock's 422, not
        a schema error), and the errors any body may get: 422, and 413 when it is over the
        size limit (``MAX_CONTENT_LENGTH``, also for JSON)."""
        schema = schemas[0] if len(schemas) == 1 else {"anyOf": list(schemas)}
        document = self.doc(
            requestBody={"required": required, "content": {media: {"schema": schema}}}
        )
        refusals = self.fails(413, 422)
        return lambda view: refusals(document(view))

    def fails(self, *statuses: int) -> Callable[[F], F]:
        """Documents the errors an operation answers on purpose (each an ``Error``)."""

        def decorate(view: F) -> F:
            for status in statuses:
                view = self.alt_response(status, response=HTTPStatus(status).name)(view)
            return view

        return decorate


_ROLE = re.compile(r":[a-z]+:`(?:(?P<title>[^`<]+?)\s*<[^`>]+>|(?P<tilde>~?)(?P<target>[^`]+))`")


def markdown(text: str) -> str:
    """Docstring text (reST: ``code``, :func:`target`) as the CommonMark an OpenAPI
    document's readers render: `code`; a cross-reference as its title, or its target in
    code (only the last name when written with ``~``)."""

    def reference(match: re.Match[str]) -> str:
        if match.group("title"):
            return match.group("title")
        target = match.group("target")
        return f"`{target.rpartition('.')[2] if match.group('tilde') else target}`"

    return _ROLE.sub(reference, text).replace("``", "`")


_CODE_SPAN = re.compile(r"`([^`]+)`")


def code_spans(text: str) -> Markup:
    """The Markdown of :func:`markdown` for the ``/api/docs`` page: `code` in ``<code>``,
    everything else escaped."""
    parts = _CODE_SPAN.split(text)  # odd items are the spans' contents
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if odd else escape(part)
        for odd, part in ((i % 2 == 1, p) for i, p in enumerate(parts))
    )


class MarkdownDocstrings(BasePlugin):
    """Writes each operation's summary and description (taken from the view's docstring)
    in Markdown: see :func:`markdown`."""

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            for key in ("summary", "description"):
                if isinstance(operation, dict) and key in operation:
                    operation[key] = markdown(operation[key])


class CaseClockApi(Api):
    """Documents :class:`~webapp.api_schemas.Error` as the body of every error, and leaves
    answering errors to ``webapp._register_errors``: flask-smorest's own handler would
    answer ``{"code", "status"}`` instead of CaseClock's ``{"error", "message"}``."""

    ERROR_SCHEMA = api_schemas.Error

    def _register_error_handlers(self) -> None:
        """CaseClock's handlers answer every error (see the class docstring)."""


def init(app: Flask, bp: DocumentedBlueprint) -> Api:
    """Registers ``bp`` on ``app`` and documents its routes."""
    package = metadata("caseclock")
    api = CaseClockApi(
        app,
        spec_kwargs={
            "title": package["Name"],
            "version": package["Version"],
            "openapi_version": OPENAPI_VERSION,
            "info": {"description": f"{package['Summary']}.\n\n{ABOUT}"},
            "security": [{BEARER: []}],
            "extra_plugins": [MarkdownDocstrings()],
        },
    )
    api.spec.components.security_scheme(
        BEARER,
        {"type": "http", "scheme": "bearer",
         "description": "an API token: `caseclock user token <user>` prints one"},
    )  # fmt: skip
    api.register_blueprint(bp)
    for name, about in bp.module_tags.items():
        api.spec.tag({"name": name, "description": about})
    return api


def path_choice(name: str, choices: tuple[str, ...]) -> dict[str, Any]:
    """Documents a path parameter that takes one of ``choices`` (the view checks it)."""
    return {"in": "path", "name": name, "schema": {"type": "string", "enum": list(choices)}}


def _first_paragraph(docstring: str) -> str:
    return " ".join(inspect.cleandoc(docstring).split("\n\n")[0].split())


# --- the page: the document as a list of operations ------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[str]  # "name (where, type)"
    body: str | None  # the request body's schema name(s)
    responses: list[tuple[str, str]]  # (status, schema name or media type)
    open: bool  # needs no token


def operations(document: Mapping[str, Any]) -> dict[str, list[Operation]]:
    """The document's operations by tag, in path order."""
    by_tag: dict[str, list[Operation]] = {}
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            found = Operation(
                method.upper(), path, op.get("summary", ""), op.get("description", ""),
                [_parameter(p) for p in [*item.get("parameters", []), *op.get("parameters", [])]],
                _content(document, op["requestBody"]) if "requestBody" in op else None,
                [(status, _content(document, op["responses"][status]))
                 for status in sorted(op["responses"], key=lambda s: (s == "default", s))],
                op.get("security") == [],
            )  # fmt: skip
            by_tag.setdefault(op["tags"][0], []).append(found)
    return by_tag


def _parameter(param: Mapping[str, Any]) -> str:
    schema = param.get("schema", {})
    found = schema.get("format") or schema.get("type", "")
    kind = "|".join(map(str, schema["enum"])) if "enum" in schema else found
    return f"{param['name']} ({param['in']}, {kind})"


def _content(document: Mapping[str, Any], part: Mapping[str, Any]) -> str:
    """What a request body or response carries: its schema's name, else its media type."""
    if "$ref" in part:
        part = document["components"]["responses"][part["$ref"].rpartition("/")[2]]
    content = part.get("content", {})
    json = content.get("application/json")
    if json is None:
        return ", ".join(content) or "-"
    return schema_name(json.get("schema", {}))


def schema_name(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rpartition("/")[2]
    if schema.get("type") == "array":
        return schema_name(schema.get("items", {})) + "[]"
    for alternatives in ("anyOf", "oneOf"):
        if alternatives in schema:
            return " | ".join(schema_name(s) for s in schema[alternatives])
    return str(schema.get("type", "object"))
