"""The collection JSON API: reports, receivables, payments and promises, the CSV import
(CSV body or multipart) with its row report, the export; errors as JSON, never a 500."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import select

from engine.accounts import CreateAccount
from engine.collection.importing import COLUMNS, parse_csv
from engine.store.collection_tables import Payment, Receivable
from engine.store.ladder_tables import PromiseToPay

from ..collection.helpers import csv_text, row
from .test_api import bearer
from .test_collection_pages import EARLIER, SEEDS, TODAY, collection, expected_aging  # noqa: F401


def api(site, user: str):
    client, headers = site.client(), bearer(site.token(user))

    def call(method: str, path: str, **kwargs):
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def test_aging_and_grades(collection):  # noqa: F811
    call = api(collection, "zhou")  # an auditor: the whole portfolio
    report = call("GET", "/api/collection/aging").get_json()
    assert report["as_of"] == TODAY.isoformat() and report["by"] is None
    want = expected_aging(TODAY)
    assert {label: (cell["count"], Decimal(cell["outstanding"]))
            for label, cell in report["total"]["buckets"].items()} == want  # fmt: skip
    by = call("GET", f"/api/collection/aging?as_of={EARLIER}&by=department").get_json()
    assert [g["group"] for g in by["groups"]] == ["collections", "window"]
    assert Decimal(by["total"]["outstanding"]) == sum(Decimal(s.principal) for s in SEEDS)
    bad = call("GET", "/api/collection/aging?by=colour")
    assert bad.status_code == 422 and bad.get_json()["details"]["fields"]["by"]
    grades = call("GET", f"/api/collection/grades?from={EARLIER}&to={TODAY}").get_json()
    assert grades["report"] == "grades" and grades["from"] == EARLIER.isoformat()
    assert sum(sum(v for k, v in r.items() if k != "from") for r in grades["migration"]) == 6
    assert call("GET", "/api/collection/grades?from=2026-02-30").status_code == 422
    for query in ("aging?as_of=0001-01-01", "aging?buckets=30,999999999", "grades?to=0001-01-05"):
        response = call("GET", f"/api/collection/{query}")
        assert response.status_code == 422 and response.get_json()["details"]["fields"], query
    # The API answers in English, whatever language the shared checks are written in.
    refused = call("GET", "/api/collection/aging?as_of=bad").get_json()
    assert refused["message"] and refused["message"].isascii(), refused["message"]


def test_receivables_list_and_detail(collection):  # noqa: F811
    call = api(collection, "wu")
    listed = call("GET", "/api/collection/receivables?overdue=yes").get_json()
    assert [r["key"] for r in listed["rows"]] == ["A-120", "A-010"]
    assert listed["rows"][0]["days_past_due"] == 120 and listed["total"] == 2
    detail = call("GET", "/api/collection/receivables/A-010?fees=daily").get_json()
    assert detail["customer"]["contact_verified_on"] == "2026-01-05"
    assert detail["owed"]["principal_outstanding"] == "2000.00"
    assert detail["terms"]["allocation_order"] == ["fees", "interest", "principal"]
    assert detail["case"]["instance_id"] and detail["case"]["grade"]
    assert detail["fees"]["days"] == [] and detail["notices"]
    fees = call("GET", "/api/collection/receivables/A-120?fees=daily").get_json()["fees"]
    assert len(fees["days"]) == 120 and fees["days"][-1]["amount"] == "2.50"
    assert fees["accrued"] == "300.00"  # 5000.00 x 0.0005 a day for 120 days
    assert call("GET", "/api/collection/receivables/A-045").status_code == 403
    missing = call("GET", "/api/collection/receivables/NOPE")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert call("GET", "/api/collection/receivables?per_page=0").status_code == 422


def test_payments_and_promises(collection):  # noqa: F811
    call = api(collection, "zheng")
    paid = call("POST", "/api/collection/receivables/A-045/payments",
                json={"amount": "300.00", "reference": "B-9"})  # fmt: skip
    assert paid.status_code == 201
    body = paid.get_json()
    assert body["paid_on"] == TODAY.isoformat()
    assert body["owed_after"]["principal_outstanding"] == "2700.00"
    promised = call("POST", "/api/collection/receivables/A-045/promises",
                    json={"amount": "700.00", "on": "2026-03-10"})  # fmt: skip
    assert promised.status_code == 201 and promised.get_json()["outcome"] == "pending"
    for payload, field in (
        ({"amount": "abc"}, "amount"),
        ({"amount": 5.5}, "amount"),  # a JSON number: amounts are written as text
        ({"amount": "10.00", "on": "tomorrow"}, "on"),
        ({"amount": "10.00", "on": "2026-03-01"}, "on"),  # before the payment above
    ):
        bad = call("POST", "/api/collection/receivables/A-045/payments", json=payload)
        assert bad.status_code == 422, payload
        assert field in bad.get_json()["details"]["fields"], payload
    assert call("POST", "/api/collection/receivables/A-045/refunds", json={}).status_code == 404
    assert call("POST", "/api/collection/receivables/A-045/payments",
                data="[1]", content_type="application/json").status_code == 422  # fmt: skip
    auditor = api(collection, "zhou")
    assert auditor("POST", "/api/collection/receivables/A-045/payments",
                   json={"amount": "1.00"}).status_code == 403  # fmt: skip


def test_import_csv_body_and_multipart(collection):  # noqa: F811
    call = api(collection, "zhao")
    good = csv_text(row("API-1", "100.00", "2026-05-01", collector="wu"))
    done = call("POST", "/api/collection/import", data=good, content_type="text/csv")
    assert done.status_code == 200
    assert done.get_json() == {
        "written": 1, "failed": 0, "rows": [{"line": 2, "key": "API-1", "ok": True, "error": None}]
    }  # fmt: skip
    mixed = csv_text(row("API-2", "100.00", "2026-05-01"), row("API-3", "1.001", "2026-05-01"))
    upload = call("POST", "/api/collection/import",
                  data={"file": (io.BytesIO(mixed.encode()), "m.csv")},
                  content_type="multipart/form-data")  # fmt: skip
    assert upload.status_code == 422
    body = upload.get_json()
    assert body["error"] == "invalid_rows" and body["written"] == 1
    assert [(r["line"], r["key"]) for r in body["details"]["rows"]] == [(3, "API-3")]
    assert "decimals" in body["details"]["rows"][0]["error"]
    header = call("POST", "/api/collection/import", data="colour\nred\n", content_type="text/csv")
    assert header.status_code == 422 and "unknown column" in header.get_json()["message"]
    assert call("POST", "/api/collection/import", json={"a": 1}).status_code == 422
    binary = call("POST", "/api/collection/import", data=b"\xff\xfe", content_type="text/csv")
    assert binary.status_code == 422
    assert api(collection, "wu")("POST", "/api/collection/import", data=good,
                                 content_type="text/csv").status_code == 403  # fmt: skip


def test_export_round_trips_and_is_scoped(collection):  # noqa: F811
    everything = api(collection, "zhou")("GET", "/api/collection/export")
    assert everything.status_code == 200 and everything.mimetype == "text/csv"
    text = everything.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS and len(rows) == len(SEEDS)
    assert all(parsed.data is not None for parsed in parse_csv(text))  # imports again
    wang = api(collection, "wang")("GET", "/api/collection/export").get_data(as_text=True)
    assert [r["receivable_key"] for r in csv.DictReader(io.StringIO(wang))] == ["W-005"]


def test_staff_record_money_whatever_other_roles_they_hold(collection):  # noqa: F811
    """The rule is the roles' (`staff` or `supervisor` records payments and promises), so
    roles add up: an auditor or admin alone is refused, an auditor who also works as
    staff records like any staff, on the receivables the account sees."""
    engine = collection.engine
    engine.execute(CreateAccount("liu", ("auditor", "staff"), None), actor="tests")  # token only
    payment, promise = {"amount": "10.00"}, {"amount": "20.00", "on": "2026-03-09"}
    for user in ("zhou", "zhao"):  # auditor only, admin only
        call = api(collection, user)
        assert call("GET", "/api/collection/receivables/A-045").status_code == 200  # sees it
        for action, body in (("payments", payment), ("promises", promise)):
            refused = call("POST", f"/api/collection/receivables/A-045/{action}", json=body)
            assert refused.status_code == 403, (user, action)
            assert refused.get_json()["message"] == f"{user} lacks the role staff or supervisor"
    assert recorded(engine) == ([], [])
    both = api(collection, "liu")
    paid = both("POST", "/api/collection/receivables/A-045/payments", json=payment)
    promised = both("POST", "/api/collection/receivables/A-045/promises", json=promise)
    assert (paid.status_code, promised.status_code) == (201, 201)
    assert recorded(engine) == ([("A-045", "liu")], [("A-045", "liu")])


def recorded(engine) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(receivable, recorded_by) of every payment and every promise."""

    def load(s):
        def of(model):
            return s.execute(select(Receivable.key, model.recorded_by)
                             .join(Receivable, Receivable.id == model.receivable_id)
                             .order_by(model.id)).all()  # fmt: skip

        payments = [p for p in of(Payment) if p[1] != "tests"]  # the fixture's own
        return [tuple(p) for p in payments], [tuple(p) for p in of(PromiseToPay)]

    return engine.read(load)


def test_an_unknown_value_of_fees_is_refused(collection):  # noqa: F811
    call = api(collection, "wu")
    for value in ("weekly", "DAILY", ""):
        refused = call("GET", f"/api/collection/receivables/A-120?fees={value}")
        assert refused.status_code == 422, value
        assert refused.get_json()["details"]["fields"] == {
            "fees": f"fees must be one of daily, not {value!r}"
        }  # fmt: skip
    assert call("GET", "/api/collection/receivables/A-120").get_json()["fees"]["days"] == []
    daily = call("GET", "/api/collection/receivables/A-120?fees=daily").get_json()["fees"]
    assert len(daily["days"]) == 120


def test_a_payment_sent_as_text_plain_is_told_to_say_application_json(collection):  # noqa: F811
    call = api(collection, "zheng")
    refused = call("POST", "/api/collection/receivables/A-045/payments",
                   data='{"amount": "300.00"}', content_type="text/plain")  # fmt: skip
    assert refused.status_code == 422
    assert refused.get_json()["message"] == (
        "send the body as JSON with Content-Type: application/json (not text/plain)"
    )
    assert recorded(collection.engine) == ([], [])
