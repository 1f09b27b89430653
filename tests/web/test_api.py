"""The JSON API with bearer tokens: what the inbox does, errors as JSON, never a 500."""

from __future__ import annotations

from sqlalchemy import select

from engine.accounts import SetAccountActive
from engine.runtime import StartInstance
from engine.store import Task
from engine.store.account_tables import ApiToken

from ..helpers import open_tasks
from .conftest import login

GOOD = {"applicant_name": "张三", "matter": "食品经营许可证", "documents_complete": True}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_token_bad_token_revoked_token(site):
    client = site.client()
    for headers in ({}, {"Authorization": "Basic bGk6cHc="}, bearer("cc_nope")):
        response = client.get("/api/inbox", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    token = site.token("li")
    assert client.get("/api/me", headers=bearer(token)).get_json()["user"] == "li"
    site.engine.execute(SetAccountActive("li", False), actor="zhao")
    assert client.get("/api/me", headers=bearer(token)).status_code == 401


def test_tokens_are_stored_hashed(site):
    token = site.token("li")
    stored = site.engine.read(lambda s: s.scalars(select(ApiToken.token_hash)).all())
    assert token not in stored and len(stored[0]) == 64


def test_the_session_cookie_does_not_authenticate_the_api(site):
    client = site.client()
    login(client, "li")
    assert client.get("/inbox").status_code == 200
    assert client.get("/api/me").status_code == 401


def test_inbox_claim_complete_over_the_api(site):
    client, headers = site.client(), bearer(site.token("li"))
    rows = client.get("/api/inbox?filter=group&q=BJ-0001", headers=headers).get_json()
    assert [r["business_key"] for r in rows] == ["BJ-0001"]
    assert rows[0]["sla"]["light"] == "green" and rows[0]["may"] == ["claim", "complete"]
    detail = client.get(f"/api/tasks/{site.receive}", headers=headers).get_json()
    assert [f["id"] for f in detail["form"]][:2] == ["applicant_name", "matter"]
    # No CSRF token needed: the API takes no cookie.
    claimed = client.post(f"/api/tasks/{site.receive}/claim", headers=headers)
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "li"
    bad = client.post(
        f"/api/tasks/{site.receive}/complete", headers=headers,
        json={"data": {"applicant_name": "", "colour": "blue"}},
    )  # fmt: skip
    assert bad.status_code == 422
    fields = bad.get_json()["details"]["fields"]
    assert set(fields) == {"applicant_name", "matter", "colour"}
    assert site.engine.read(lambda s: s.get(Task, site.receive).state) == "open"
    done = client.post(f"/api/tasks/{site.receive}/complete", headers=headers, json={"data": GOOD})
    assert done.status_code == 200
    assert "Task_review" in open_tasks(site.engine, site.case)


def test_clock_actions_over_the_api(site):
    client, headers = site.client(), bearer(site.token("li"))
    client.post(f"/api/tasks/{site.receive}/claim", headers=headers)
    missing = client.post(f"/api/tasks/{site.receive}/pause", headers=headers, json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["details"]["fields"]
    paused = client.post(
        f"/api/tasks/{site.receive}/pause", headers=headers, json={"reason": "补正"}
    )
    assert paused.get_json()["sla"]["light"] == "paused"
    again = client.post(f"/api/tasks/{site.receive}/pause", headers=headers, json={"reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"
    resumed = client.post(f"/api/tasks/{site.receive}/resume", headers=headers)
    assert resumed.get_json()["sla"]["light"] == "green"
    bad = client.post(f"/api/tasks/{site.receive}/extend", headers=headers,
                      json={"amount": "soon", "reason": "r"})  # fmt: skip
    assert bad.status_code == 422 and "amount" in bad.get_json()["details"]["fields"]
    ok = client.post(f"/api/tasks/{site.receive}/extend", headers=headers,
                     json={"amount": "1 working day", "reason": "复杂"})  # fmt: skip
    assert ok.get_json()["sla"]["extensions"][0]["status"] == "pending"
    delegated = client.post(f"/api/tasks/{site.receive}/delegate", headers=headers,
                            json={"to": "chen"})  # fmt: skip
    assert delegated.get_json()["assignee"] == "chen"


def test_bad_input_is_json_never_500(site):
    client, headers = site.client(), bearer(site.token("li"))
    broken = {"data": "{not json", "content_type": "application/json"}
    cases = [
        ("post", f"/api/tasks/{site.receive}/claim", broken, 422),
        ("post", f"/api/tasks/{site.receive}/claim", {"json": [1, 2]}, 422),
        ("post", f"/api/tasks/{site.receive}/complete", {"json": {"data": "text"}}, 422),
        ("post", f"/api/tasks/{site.receive}/fly", {}, 404),
        ("post", "/api/tasks/99999/claim", {}, 404),
        ("get", "/api/tasks/abc", {}, 404),
        ("get", "/api/inbox?filter=everything", {}, 422),
        ("post", "/api/notifications/read", {"json": {"ids": "all"}}, 422),
        ("post", "/api/notifications/read", {"json": {"ids": [True]}}, 422),
        ("delete", f"/api/tasks/{site.receive}", {}, 405),
    ]  # fmt: skip
    for method, url, kwargs, status in cases:
        response = getattr(client, method)(url, headers=headers, **kwargs)
        assert response.status_code == status, (url, kwargs, response.get_data(as_text=True))
        body = response.get_json()
        assert body["error"] and body["message"], (url, body)
        if status == 405:  # says which methods the URL takes
            assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}


def test_object_level_refusals_over_the_api(site):
    client, headers = site.client(), bearer(site.token("yang"))
    for method, url in (
        ("get", f"/api/tasks/{site.receive}"),
        ("post", f"/api/tasks/{site.receive}/claim"),
        ("get", f"/api/instances/{site.case}"),
        ("get", "/api/tasks?user=li"),
        ("get", "/api/tasks?group=reception"),
        ("get", "/api/instances"),
    ):
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code == 403, url
        assert response.get_json()["error"] == "forbidden"
    assert client.get(f"/api/instances/{site.yang_case}", headers=headers).status_code == 200


def test_notifications_over_the_api(site):
    client, headers = site.client(), bearer(site.token("li"))
    body = client.get("/api/notifications", headers=headers).get_json()
    assert body == {"unread": 0, "notifications": []}
    assert client.post("/api/notifications/read", headers=headers).get_json() == {"marked": 0}


def test_the_inbox_pages_through_link_headers(site):
    """51 more cases than the two of the fixture: the first page has 50 rows and a
    rel=next link, the next one the rest and a rel=prev link; no row is lost or repeated."""
    for n in range(51):
        site.engine.execute(StartInstance("case_handling", f"PG-{n:03d}"), actor="zhao")
    client, headers = site.client(), bearer(site.token("li"))
    first = client.get("/api/inbox?filter=group", headers=headers)
    assert len(first.get_json()) == 50
    links = dict(
        (rel.split('"')[1], url.strip()[1:-1])
        for url, rel in (part.split(";") for part in first.headers["Link"].split(","))
    )
    assert set(links) == {"next"} and "filter=group" in links["next"]
    second = client.get(links["next"], headers=headers)
    assert 'rel="prev"' in second.headers["Link"] and 'rel="next"' not in second.headers["Link"]
    ids = [row["id"] for row in first.get_json() + second.get_json()]
    assert len(ids) == len(set(ids)) == 53
    bad = client.get("/api/inbox?after=nonsense", headers=headers)
    assert bad.status_code == 422 and "not a position" in bad.get_json()["message"]
