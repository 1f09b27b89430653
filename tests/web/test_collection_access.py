"""Every persona against every collection endpoint, pages and API: the expected status.

Personas: anonymous; li (staff, the collector of W-005 in the window department); wu
(staff, collector of A-010); sun (staff + supervisor, head of collections, above wu and
zheng); wang (staff + supervisor, head of the window department, above li); auditor,
designer and admin accounts. Reports are for supervisors, auditors and admins; a
receivable for its collector, the supervisors above it, auditors and admins; payments
and promises for the staff and supervisors who see it; the import for supervisors and
admins. Posts carry a valid CSRF token (pages) or bearer token (API) and valid data,
so a 403 is the access rule; denied personas change nothing.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from engine.runtime import CompleteTask
from engine.store import ProcessInstance, Task
from engine.store.collection_tables import Payment, Receivable
from engine.store.ladder_tables import PromiseToPay
from timers.worker import Worker

from ..collection.helpers import csv_text, row
from .conftest import csrf
from .test_api import bearer
from .test_collection_pages import collection  # noqa: F401 (fixture)

ANON, LI, WU, SUN, WANG, AUDITOR, DESIGNER, ADMIN = (
    "anonymous", "li", "wu", "sun", "wang", "zhou", "huang", "zhao",
)  # fmt: skip
PERSONAS = [ANON, LI, WU, SUN, WANG, AUDITOR, DESIGNER, ADMIN]


def statuses(*found: int) -> dict[str, int]:
    return dict(zip(PERSONAS, found, strict=True))


BATCH = csv_text(row("M-1", "100.00", "2026-05-01", collector="wu", department="collections"))
PROMISE = {"amount": "100.00", "on": "2026-03-05"}
PAYMENT = {"amount": "10.00"}

# (method, path, how, payload) -> status per persona; "page" = session cookie (+ CSRF
# token on posts), "api" = bearer token. State changes come last.
MATRIX: list[tuple[str, str, str, object, dict[str, int]]] = [
    # pages                                         anon li   wu   sun  wang aud  des  admin
    ("GET", "/collection", "page", None, statuses(302, 302, 302, 302, 302, 302, 403, 302)),
    ("GET", "/collection/aging", "page", None, statuses(302, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/collection/aging?by=collector&as_of=2026-02-01", "page", None,
     statuses(302, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/collection/aging?as_of=x", "page", None,
     statuses(302, 403, 403, 422, 422, 422, 403, 422)),
    ("GET", "/collection/aging/export.csv", "page", None,
     statuses(302, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/collection/aging/export.xlsx", "page", None,
     statuses(302, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/collection/aging/export.pdf", "page", None,
     statuses(302, 403, 403, 404, 404, 404, 403, 404)),
    ("GET", "/collection/grades", "page", None, statuses(302, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/collection/grades/export.csv", "page", None,
     statuses(302, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/collection/grades/export.xlsx", "page", None,
     statuses(302, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/collection/receivables", "page", None,
     statuses(302, 200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/collection/receivables?overdue=maybe", "page", None,
     statuses(302, 422, 422, 422, 422, 422, 403, 422)),
    ("GET", "/collection/receivables/A-010", "page", None,
     statuses(302, 403, 200, 200, 403, 200, 403, 200)),
    ("GET", "/collection/receivables/W-005", "page", None,
     statuses(302, 200, 403, 403, 200, 200, 403, 200)),
    ("GET", "/collection/receivables/NOPE", "page", None,
     statuses(302, 404, 404, 404, 404, 404, 403, 404)),
    ("GET", "/collection/import", "page", None, statuses(302, 403, 403, 200, 200, 403, 403, 200)),
    # api                                           anon li   wu   sun  wang aud  des  admin
    ("GET", "/api/collection/aging", "api", None, statuses(401, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/api/collection/aging?by=product", "api", None,
     statuses(401, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/api/collection/grades", "api", None,
     statuses(401, 403, 403, 200, 200, 200, 403, 200)),
    ("GET", "/api/collection/receivables", "api", None,
     statuses(401, 200, 200, 200, 200, 200, 403, 200)),
    ("GET", "/api/collection/receivables/A-010", "api", None,
     statuses(401, 403, 200, 200, 403, 200, 403, 200)),
    ("GET", "/api/collection/receivables/W-005", "api", None,
     statuses(401, 200, 403, 403, 200, 200, 403, 200)),
    ("GET", "/api/collection/export", "api", None,
     statuses(401, 403, 403, 200, 200, 200, 403, 200)),
    # state changes, last                           anon li   wu   sun  wang aud  des  admin
    ("POST", "/collection/receivables/A-010/promises", "page", PROMISE,
     statuses(401, 403, 303, 303, 403, 403, 403, 403)),
    ("POST", "/collection/receivables/A-010/payments", "page", PAYMENT,
     statuses(401, 403, 303, 303, 403, 403, 403, 403)),
    ("POST", "/collection/import", "page", "file",
     statuses(401, 403, 403, 200, 200, 403, 403, 200)),
    ("POST", "/api/collection/receivables/A-010/promises", "api", PROMISE,
     statuses(401, 403, 201, 201, 403, 403, 403, 403)),
    ("POST", "/api/collection/receivables/A-010/payments", "api", PAYMENT,
     statuses(401, 403, 201, 201, 403, 403, 403, 403)),
    ("POST", "/api/collection/import", "api", "csv",
     statuses(401, 403, 403, 200, 200, 403, 403, 200)),
]  # fmt: skip


def _counts(site) -> tuple[int, int, int]:
    return site.engine.read(
        lambda s: tuple(
            s.scalar(select(func.count(model.id))) for model in (Payment, PromiseToPay, Receivable)
        )
    )


def _send(site, client, token, method, path, how, payload):
    if how == "api":
        headers = bearer(token) if token else {}
        if payload == "csv":
            return client.post(path, headers=headers, data=BATCH.replace("M-1", "M-2"),
                               content_type="text/csv")  # fmt: skip
        return client.open(path, method=method, headers=headers, json=payload)
    if method == "GET":
        return client.get(path)
    data = {"csrf_token": csrf(client, "/login")}
    if payload == "file":
        data["file"] = (io.BytesIO(BATCH.encode()), "batch.csv")
        return client.post(path, data=data, content_type="multipart/form-data")
    return client.post(path, data={**data, **payload})


@pytest.mark.parametrize("persona", PERSONAS)
def test_collection_endpoints_by_persona(collection, persona):  # noqa: F811
    client = collection.client(None if persona == ANON else persona)
    token = None if persona == ANON else collection.token(persona)
    before = _counts(collection)
    for method, path, how, payload, expected in MATRIX:
        response = _send(collection, client, token, method, path, how, payload)
        assert response.status_code == expected[persona], (
            persona, method, path, response.get_data(as_text=True)[-400:],
        )  # fmt: skip
        if how == "api":
            assert response.is_json or response.mimetype == "text/csv", path
        if persona == ANON and how == "page" and method == "GET":
            assert "/login" in response.headers["Location"]
    payments, promises, receivables = _counts(collection)
    acts = persona in (WU, SUN)
    imports = persona in (SUN, WANG, ADMIN)
    assert (payments - before[0], promises - before[1]) == ((2, 2) if acts else (0, 0))
    assert receivables - before[2] == (2 if imports else 0)


def test_collector_cannot_open_or_act_on_anothers_receivable(collection):  # noqa: F811
    zheng = collection.client("zheng")
    assert zheng.get("/collection/receivables/A-010").status_code == 403
    denied = zheng.post("/collection/receivables/A-010/payments",
                        data={**PAYMENT, "csrf_token": csrf(zheng, "/login")})  # fmt: skip
    assert denied.status_code == 403
    html = zheng.get("/collection/receivables").get_data(as_text=True)
    assert "A-010" not in html and "A-045" in html


def test_whoever_is_offered_a_step_of_the_case_sees_its_receivable(collection):  # noqa: F811
    """The call on A-010 (wu's) is offered to the collectors' pool: zheng, who may take
    it, may also open the receivable and record the promise the call brings; li, who is
    offered nothing of it, still may not. The list stays each collector's own."""
    app = collection.engine
    while Worker(app).run_once().fired:
        pass
    call = _open_step(app, "A-010", "Task_call")
    assert call.candidate_groups == ["collectors"] and call.assignee is None
    zheng, li = collection.client("zheng"), collection.client("li")
    assert zheng.get("/collection/receivables/A-010").status_code == 200
    assert zheng.get("/api/collection/receivables/A-010",
                     headers=bearer(collection.token("zheng"))).status_code == 200  # fmt: skip
    promised = zheng.post("/collection/receivables/A-010/promises",
                          data={**PROMISE, "csrf_token": csrf(zheng, "/login")})  # fmt: skip
    assert promised.status_code == 303
    assert "A-010" not in zheng.get("/collection/receivables").get_data(as_text=True)
    assert li.get("/collection/receivables/A-010").status_code == 403
    refused = li.get("/api/collection/receivables/A-010", headers=bearer(collection.token("li")))
    assert refused.status_code == 403 and "A-010" in refused.get_json()["message"]

    # Once wu has made the call, nothing of the case is offered to the pool: it is closed
    # to zheng again; the collector keeps it.
    app.execute(CompleteTask(call.id, "wu", {"contact_result": "reached"}, claim=True),
                actor="wu")  # fmt: skip
    assert _open_steps(app, "A-010") == []
    assert zheng.get("/collection/receivables/A-010").status_code == 403
    assert collection.client("wu").get("/collection/receivables/A-010").status_code == 200


def test_whoever_has_the_receivable_opens_its_collection_case(collection):  # noqa: F811
    """The receivable page links to its case: 孙经理 (heading collections) and zheng (its
    collector) open it though its steps sit in pools they may not be offered; wu, another
    collector, and li may not."""
    app = collection.engine
    case = app.read(lambda s: s.scalar(
        select(ProcessInstance.id).where(ProcessInstance.business_key == "A-045")
    ))  # fmt: skip
    assert case is not None
    page = collection.client("sun").get("/collection/receivables/A-045").get_data(as_text=True)
    assert f'href="/cases/{case}"' in page
    for user, status in (("sun", 200), ("zheng", 200), ("wu", 403), ("li", 403)):
        assert collection.client(user).get(f"/cases/{case}").status_code == status, user


def _open_steps(app, key: str) -> list[Task]:
    return app.read(lambda s: list(s.scalars(
        select(Task).join(ProcessInstance, ProcessInstance.id == Task.instance_id)
        .where(ProcessInstance.business_key == key, Task.state == "open")
    )))  # fmt: skip


def _open_step(app, key: str, element_id: str) -> Task:
    [task] = [t for t in _open_steps(app, key) if t.element_id == element_id]
    return task
