"""The JSON API with bearer tokens: what the inbox does, errors as JSON, never a 500."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.accounts import SetAccountActive
from engine.runtime import StartInstance
from engine.store import Task
from engine.store.account_tables import ApiToken

from ..helpers import open_tasks
from .conftest import login
from .late import go_overdue

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


# --- what the API is sent, and how it says no -------------------------------------------


def unread(site, user: str) -> int:
    found = site.client().get("/api/notifications", headers=bearer(site.token(user)))
    return found.get_json()["unread"]


def test_ids_null_or_not_a_list_marks_nothing_and_no_ids_marks_all(site, clock):
    go_overdue(site, clock)  # li's 受理 breached: notices for li
    client, headers = site.client(), bearer(site.token("li"))
    count = unread(site, "li")
    assert count >= 1
    for ids in (None, "all", 3, {"0": 3}):
        refused = client.post("/api/notifications/read", headers=headers, json={"ids": ids})
        assert refused.status_code == 422, ids
        assert set(refused.get_json()["details"]["fields"]) == {"ids"}, ids
        assert unread(site, "li") == count, ids  # null is no list: it does not mean "all"
    assert client.post("/api/notifications/read", headers=headers, json={"ids": []}).get_json() == {
        "marked": 0
    }  # fmt: skip
    # Without `ids` (an empty object, or no body at all): all of yours, as documented.
    done = client.post("/api/notifications/read", headers=headers, json={})
    assert done.get_json() == {"marked": count} and unread(site, "li") == 0


def test_json_sent_as_text_plain_is_told_to_say_application_json(site):
    client, headers = site.client(), bearer(site.token("li"))
    client.post(f"/api/tasks/{site.receive}/claim", headers=headers)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        refused = client.post(
            f"/api/tasks/{site.receive}/pause", headers=headers, data='{"reason": "补正"}',
            content_type=content_type,
        )  # fmt: skip
        assert refused.status_code == 422, content_type
        message = refused.get_json()["message"]
        assert "Content-Type: application/json" in message, message
        assert (content_type or "no Content-Type") in message, message
    assert site.engine.read(lambda s: s.get(Task, site.receive).paused_at) is None
    # The same body as application/json is read; a JSON body that is no object still
    # says so.
    paused = client.post(f"/api/tasks/{site.receive}/pause", headers=headers,
                         data='{"reason": "补正"}', content_type="application/json")  # fmt: skip
    assert paused.status_code == 200 and paused.get_json()["sla"]["light"] == "paused"
    listed = client.post(f"/api/tasks/{site.receive}/resume", headers=headers, json=[1])
    assert listed.get_json()["message"] == "the body must be a JSON object"


def test_unknown_values_of_enumerated_options_are_refused(site):
    """A misspelt option is a 422 naming it and its values, never the default's answer."""
    for user, url, name, values in (
        ("zhao", "/api/instances?state=runing", "state", "running, completed, error"),
        ("li", "/api/inbox?filter=everything", "filter", "all, mine, group"),
        ("li", "/api/inbox?filter=", "filter", "all, mine, group"),
    ):
        refused = site.client().get(url, headers=bearer(site.token(user)))
        assert refused.status_code == 422, url
        fields = refused.get_json()["details"]["fields"]
        assert set(fields) == {name} and values in fields[name], (url, fields)
    ok = site.client().get("/api/instances?state=running", headers=bearer(site.token("zhao")))
    assert ok.status_code == 200 and {i["state"] for i in ok.get_json()} == {"running"}


def wording(response) -> list[str]:
    body = response.get_json()
    return [body["message"], *(body.get("details") or {}).get("fields", {}).values()]


def for_api_clients(texts: list[str]) -> bool:
    """English, and about the API: no command-line flag or command, no Chinese term such
    as 协办 (a quoted value may be Chinese: what was sent, or an example of what is read,
    '3个工作日')."""
    words = [re.sub(r"'[^']*'", "''", t) for t in texts]
    return not any(re.search(r"--[a-z]|caseclock |[\u4e00-\u9fff]", w) for w in words)


def test_error_messages_are_worded_for_an_api_client(site, clock):
    """The engine words some messages for the command line (a date's flag, a command to
    run) or calls a request 协办; the API says the query argument and the endpoint."""
    client = site.client()
    bad_periods = [
        ("zhou", "/api/ledger?from=bad", "from='bad' is not a date (YYYY-MM-DD)"),
        ("zhou", "/api/ledger?from=2026-03-10&to=2026-03-01",
         "to=2026-03-01 is before from=2026-03-10"),
        ("zhou", "/api/report?from=0001-01-01&to=9999-12-31",
         "from=0001-01-01: the year must be 1900-2999; to=9999-12-31: the year must be "
         "1900-2999"),
        ("wang", "/api/board/trends?from=2026-03-10&to=2026-03-01",
         "to=2026-03-01 is before from=2026-03-10"),
    ]  # fmt: skip
    for user, url, message in bad_periods:
        refused = client.get(url, headers=bearer(site.token(user)))
        assert refused.status_code == 422 and refused.get_json()["message"] == message, url
        assert for_api_clients(wording(refused)), wording(refused)
    tokens = {user: bearer(site.token(user)) for user in ("li", "yang")}

    def act(user: str, task_id: int, action: str, body: dict | None = None):
        return client.post(f"/api/tasks/{task_id}/{action}", headers=tokens[user], json=body)

    asked = {"group": "reviewers", "question": "材料齐吗?"}
    said = [act("li", site.receive, "assist", asked)]  # not claimed yet
    act("li", site.receive, "claim")
    said += [
        act("li", site.receive, "assist", {**asked, "limit": "soon"}),
        act("li", site.receive, "assist", {**asked, "group": "reception"}),
        act("yang", site.receive, "answer", {"answer": "a"}),
    ]
    assert act("li", site.receive, "assist", asked).status_code == 200
    request_id = site.engine.read(
        lambda s: s.scalars(select(Task.id).where(Task.kind == "assist")).one()
    )
    said += [act("yang", request_id, "answer", {"answer": "a"}),
             act("yang", request_id, "complete", {})]  # fmt: skip
    assert [r.status_code for r in said] == [403, 422, 422, 403, 403, 409]
    messages = [r.get_json()["message"] for r in said]
    assert messages[0] == f"only the holder of task {site.receive} can ask for assistance on it"
    assert messages[1].startswith("limit: cannot read duration 'soon'")
    assert messages[2].endswith(": ask another group for assistance")
    assert messages[4] == f"claim assist request {request_id} before answering it"
    assert messages[5] == (
        f"task {request_id} is an assist request: answer it (POST /api/tasks/{request_id}/answer)"
    )
    assert all(for_api_clients(wording(r)) for r in said), messages
    # No token: how to send one, not which command prints it.
    assert client.get("/api/me").get_json()["message"] == (
        "send your API token in the header Authorization: Bearer <token>"
    )


def test_a_chase_task_is_acted_on_through_the_chase_endpoints(site, clock):
    chase = go_overdue(site, clock)
    refused = site.client().post(f"/api/tasks/{chase}/complete",
                                 headers=bearer(site.token("wang")), json={})  # fmt: skip
    assert refused.status_code == 409
    assert refused.get_json()["message"] == (
        f"task {chase} is a chase task: urge or handle it "
        f"(POST /api/chase/{chase}/urge or /api/chase/{chase}/handle)"
    )
