"""The JSON API of debt collection (bearer token, see :mod:`webapp.api`): the aging and
grade reports, receivables, payments and promises, the CSV import and export. The same
rules as the pages (:mod:`webapp.collection`); errors as JSON."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from engine.errors import ValidationError

from . import api_schemas, collection, openapi
from .api import answer, body, bp, choice, engine, need


@bp.get("/api/collection/aging")
@bp.query(api_schemas.AgingQuery)
@bp.response(200, api_schemas.AgingReport)
@bp.fails(403, 422)
def collection_aging() -> Any:
    need(*collection.REPORTS)
    return jsonify(collection.aging_report(engine(), g.user, request.args).to_dict())


@bp.get("/api/collection/grades")
@bp.query(api_schemas.GradesQuery)
@bp.response(200, api_schemas.GradeReport)
@bp.fails(403, 422)
def collection_grades() -> Any:
    need(*collection.REPORTS)
    return jsonify(collection.grade_report(engine(), g.user, request.args).to_dict())


@bp.get("/api/collection/receivables")
@bp.query(api_schemas.ReceivablesQuery)
@bp.response(200, api_schemas.ReceivablePage)
@bp.fails(403, 422)
def collection_receivables() -> Any:
    need(*collection.READERS)
    return jsonify(collection.receivables(engine(), g.user, request.args))


@bp.get("/api/collection/receivables/<key>")
@bp.query(api_schemas.ReceivableQuery)
@bp.response(200, api_schemas.ReceivableDetail)
@bp.fails(403, 404, 422)
def collection_receivable(key: str) -> Any:
    """One receivable: its customer, terms, schedule, what is owed, payments and notices.

    ``?fees=daily`` adds the penalty day by day; another value of ``fees`` is a 422."""
    need(*collection.READERS)
    daily = choice("fees", api_schemas.FEES) == "daily"
    return answer(collection.receivable(engine(), g.user, key, daily))


@bp.post(
    "/api/collection/receivables/<key>/<action>",
    parameters=[openapi.path_choice("action", collection.ACTIONS)],
)
@bp.takes(api_schemas.PaymentBody, api_schemas.PromiseBody, required=True)
@bp.response(
    201, {"anyOf": [api_schemas.PaymentRecorded, api_schemas.PromiseRecorded]},
    description="`payments` answers the payment as applied, `promises` the promise",
)  # fmt: skip
@bp.fails(403, 404, 409, 422)
def collection_record(key: str, action: str) -> Any:
    need(*collection.ACTORS)
    done = collection.record(engine(), g.user, key, action, body())
    if action == "payments":
        return jsonify(done.to_dict()), 201
    return jsonify({"id": done.id, "receivable": key, "on": done.promised_on.isoformat(),
                    "outcome": done.outcome}), 201  # fmt: skip


@bp.post("/api/collection/import")
@bp.doc(requestBody={"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": api_schemas.ImportUpload},
}})  # fmt: skip
@bp.response(200, api_schemas.Imported)
@bp.alt_response(
    422, schema=api_schemas.ImportRefused,
    description="bad rows (`invalid_rows`, the good ones written) or a bad file",
)  # fmt: skip
@bp.fails(403, 413)
def collection_import() -> Any:
    """A CSV body (``text/csv``) or a multipart ``file``; 422 lists the bad rows (the
    good ones are written all the same)."""
    need(*collection.IMPORTERS)
    upload = request.files.get("file")
    if upload is not None:
        content, source = upload.read(), upload.filename or "upload.csv"
    elif request.mimetype in ("text/csv", "text/plain"):
        content, source = request.get_data(), "api.csv"
    else:
        raise ValidationError("send the CSV as a text/csv body or as a multipart field 'file'")
    result = collection.import_result(
        collection.import_csv(engine(), g.user, collection.decode(content), source)
    )
    if result["failed"]:
        errors = [r for r in result["rows"] if not r["ok"]]
        return jsonify({"error": "invalid_rows", "message": f"{result['failed']} row(s) refused",
                        "details": {"rows": errors}, **result}), 422  # fmt: skip
    return jsonify(result)


@bp.get("/api/collection/export")
@bp.response(200, {"type": "string"}, content_type="text/csv",
             description="the receivables you see, in the import's columns")  # fmt: skip
@bp.fails(403)
def collection_export() -> Any:
    need(*collection.REPORTS)
    text = collection.export_csv(engine(), g.user)
    return collection.download(text, "receivables.csv", "csv")
