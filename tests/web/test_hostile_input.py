"""Hostile input never gives a 500: redirects that leave the site, ids too big for the
database, digits int() refuses, lone surrogates in JSON, a locked database, the last
admin demoting themselves, and a garbage paging token. Real app, real database."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from flask import g
from sqlalchemy import create_engine, event, select, text

from engine.accounts import SetAccountActive, SetRoles, principal
from engine.errors import Conflict
from engine.store.account_tables import Account
from engine.store.models import Comment, Task
from webapp.converters import MAX_ID, IdConverter, whole_number
from webapp.inbox import header_counts
from webapp.security import safe_next

from .conftest import csrf, password, post
from .test_api import bearer

TOO_BIG = 2**63  # one more than a 64-bit signed INTEGER / BIGINT holds


def text_of(response):
    return response.get_data(as_text=True)


# --- 4: redirects stay on the site -----------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["/\t/example.com", "/\n/x", "/\r\nSet-Cookie: a=b", "//example.com", "/\\example.com",
     "\\\\example.com", "https://example.com", "https:/example.com", "javascript:alert(1)",
     " /inbox", "/in box", "inbox", "/\x00", "", None],
)  # fmt: skip
def test_safe_next_refuses_anything_but_a_local_path(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/inbox?filter=mine&q=BJ", "/tasks/3", "/cases/1#c"])
def test_safe_next_keeps_local_paths(target):
    assert safe_next(target) == target


def local_location(response) -> str:
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost"), location
    assert "\n" not in location and "\r" not in location
    return parts.path


@pytest.mark.parametrize("next_", ["/%09/example.com", "/%0a/x", "//x", "/%5Cx", "https://x"])
def test_language_switch_never_redirects_off_site(site, next_):
    response = site.client().get(f"/lang/en?next={next_}")
    assert response.status_code == 302
    assert local_location(response) == "/"


@pytest.mark.parametrize("next_", ["/\t/example.com", "/\n/x", "/\\x", "//x", "https://x"])
def test_login_never_redirects_off_site(site, next_):
    response = log_in_to(site.client(), next_)
    assert response.status_code == 302
    assert local_location(response) == "/"


def test_login_keeps_a_local_next(site):
    assert local_location(log_in_to(site.client(), "/notifications")) == "/notifications"


def log_in_to(client, next_):
    form = {"user": "li", "password": password("li"), "next": next_, "csrf_token": csrf(client)}
    return client.post("/login", data=form)


# --- 5 and 6: whole numbers the database holds ---------------------------------------------------


def test_whole_number_takes_ascii_digits_within_bounds():
    assert whole_number("42") == 42 and whole_number(42) == 42 and whole_number(" 7 ") == 7
    assert whole_number(MAX_ID) == MAX_ID and whole_number(str(MAX_ID)) == MAX_ID
    for bad in (TOO_BIG, str(TOO_BIG), "²", "١٢", "0", 0, -1, True, 1.5, "1e3", "", None, []):
        assert whole_number(bad) is None, bad
    assert whole_number(7.0) == 7  # an integer to JSON Schema
    assert whole_number("-5", -10, 10) == -5 and whole_number("11", -10, 10) is None


def test_int_urls_use_the_bounded_converter(site):
    assert site.flask.url_map.converters["int"] is IdConverter
    for rule in site.flask.url_map.iter_rules():
        for converter in rule._converters.values():
            if isinstance(converter, IdConverter):
                assert converter.max == MAX_ID


def test_ids_too_big_for_the_database_are_404_on_the_api(site):
    client, headers = site.client(), bearer(site.token("zhou"))
    staff = bearer(site.token("li"))
    for url, who in (
        (f"/api/instances/{TOO_BIG}", headers),
        (f"/api/tasks/{TOO_BIG}", staff),
        (f"/api/tasks/{'9' * 5000}", staff),
    ):
        response = client.get(url, headers=who)
        assert response.status_code == 404, url
        assert response.get_json()["error"] == "not_found"
    claim = client.post(f"/api/tasks/{TOO_BIG}/claim", headers=staff)
    assert claim.status_code == 404 and claim.get_json()["error"] == "not_found"
    # The largest id the database holds is looked up (and not found), not refused.
    assert client.get(f"/api/tasks/{MAX_ID}", headers=staff).status_code == 404


def test_ids_too_big_for_the_database_are_404_on_pages(site):
    """No route matches them: the 404 of an unknown URL."""
    staff, admin = site.client("li"), site.client("zhao")
    for client, method, url in (
        (staff, "get", f"/tasks/{TOO_BIG}"),
        (staff, "get", f"/cases/{TOO_BIG}"),
        (admin, "post", f"/admin/sla/{TOO_BIG}/retire"),
        (admin, "post", f"/admin/incidents/{TOO_BIG}/retry"),
    ):
        response = post(client, url) if method == "post" else client.get(url)
        assert response.status_code == 404, url
        # The browser's error page, in the page's language (the API's stays JSON).
        page = response.get_data(as_text=True)
        assert response.mimetype == "text/html" and 'data-code="not_found"' in page, url
        assert "没有这个页面" in page


@pytest.mark.parametrize("ids", [[TOO_BIG], [1, -1], ["²"], [1.5], [True], [None], [[1]]])
def test_notification_ids_in_json_are_checked(site, ids):
    response = site.client().post(
        "/api/notifications/read", headers=bearer(site.token("li")), json={"ids": ids}
    )
    assert response.status_code == 422
    assert "ids" in response.get_json()["details"]["fields"]


def test_the_largest_notification_id_is_accepted(site):
    response = site.client().post(
        "/api/notifications/read", headers=bearer(site.token("li")), json={"ids": [MAX_ID]}
    )
    assert response.status_code == 200 and response.get_json() == {"marked": 0}
    # 7.0 is an integer to JSON Schema, and so to the document's `ids` items.
    response = site.client().post(
        "/api/notifications/read", headers=bearer(site.token("li")), json={"ids": [7.0]}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("bad", ["²", str(TOO_BIG), "-3", "x"])
def test_notification_ids_in_forms_are_checked(site, bad):
    response = post(site.client("li"), "/notifications/read", {"id": bad})
    assert response.status_code == 422 and "error-page" in text_of(response)


@pytest.mark.parametrize("year", ["²", "²²²²", "١٩٩٩"])
def test_calendar_year_with_odd_digits_is_shown_at_the_field(site, year):
    response = site.client("zhao").get(f"/admin/calendars?year={year}")
    assert response.status_code == 422 and 'data-error="view.year"' in text_of(response)


def test_override_day_with_odd_digits_is_shown_at_the_field(site):
    response = post(site.client("zhao"), "/admin/calendars/override",
                    {"calendar": "default", "day": "²²²²-01-01", "kind": "holiday"})  # fmt: skip
    assert response.status_code == 422 and 'data-error="override.day"' in text_of(response)


@pytest.mark.parametrize("priority", ["99999999999999999999999", str(2**31), "²", "1.5"])
def test_standard_priority_must_fit_the_column(site, priority):
    form = {"process": "case_handling", "step": "Task_receive", "kind": "basic",
            "limit": "2 working days", "priority": priority}  # fmt: skip
    response = post(site.client("zhao"), "/admin/sla", form)
    assert response.status_code == 422 and 'data-error="standard.priority"' in text_of(response)


def test_standard_priority_in_range_is_saved(site):
    form = {"process": "case_handling", "step": "Task_receive", "kind": "basic",
            "limit": "2 working days", "priority": "-5"}  # fmt: skip
    response = post(site.client("zhao"), "/admin/sla", form)
    assert response.status_code == 303, re.findall(r"data-error=[^>]*>[^<]*", text_of(response))


# --- 8: lone surrogates in JSON ---------------------------------------------------------------


def send_json(client, url, raw: str | bytes, headers=None):
    return client.post(url, data=raw, content_type="application/json", headers=headers or {})


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"text": "a\\ud800"}', "text"),
        (b'{"text": "a\xed\xa0\x80"}', "text"),  # the surrogate as (invalid) UTF-8 bytes
        ('{"text": "ok", "extra": ["x", "\\udfff"]}', "extra.1"),
        ('{"a\\ud800": "x"}', "body"),
        ('"\\ud800"', "body"),
    ],
)
def test_lone_surrogates_in_api_bodies_are_422_at_the_field(site, raw, field):
    url = f"/api/tasks/{site.receive}/comment"
    response = send_json(site.client(), url, raw, bearer(site.token("li")))
    assert response.status_code == 422, text_of(response)
    body = response.get_json()
    assert body["error"] == "invalid" and field in body["details"]["fields"]
    assert "surrogate" in body["message"]


def test_a_lone_surrogate_deep_in_a_body_is_named_by_its_path(site):
    raw = '{"data": {"applicant_name": "\\ud800"}}'
    url = f"/api/tasks/{site.receive}/complete"
    response = send_json(site.client(), url, raw, bearer(site.token("li")))
    assert response.status_code == 422
    assert "data.applicant_name" in response.get_json()["details"]["fields"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"data": {"matter": NaN}}', "data.matter"),
        ('{"data": {"matter": Infinity}}', "data.matter"),
        ('{"data": {"matter": 1e99999}}', "data.matter"),
    ],
)
def test_numbers_json_has_not_are_422_at_the_field(site, raw, field):
    """Python's json reads them; a required text field stored "nan"."""
    url = f"/api/tasks/{site.receive}/complete"
    response = send_json(site.client(), url, raw, bearer(site.token("li")))
    assert response.status_code == 422, text_of(response)
    assert field in response.get_json()["details"]["fields"]
    assert site.engine.read(lambda s: s.get(Task, site.receive).state) == "open"


def test_json_nested_too_deeply_is_422(site):
    raw = "[" * 100_000 + "]" * 100_000
    url = f"/api/tasks/{site.receive}/comment"
    response = send_json(site.client(), url, raw, bearer(site.token("li")))
    assert response.status_code == 422 and response.get_json()["error"] == "invalid"


def test_a_plain_comment_still_works(site):
    url = f"/api/tasks/{site.receive}/comment"
    response = site.client().post(url, headers=bearer(site.token("li")), json={"text": "好 🙂"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/designer/validate", "/designer/deploy"])
def test_lone_surrogate_in_the_designer_json_is_422(site, path):
    client = site.client("huang")
    token = csrf(client, "/designer")
    raw = '{"xml": "<bpmn:definitions>\\ud800", "file": "x.bpmn"}'
    response = send_json(client, path, raw, {"X-CSRFToken": token})
    assert response.status_code == 422
    assert "xml" in response.get_json()["details"]["fields"]


def test_surrogates_in_form_data_do_not_get_through(site):
    """Werkzeug decodes form bodies as UTF-8 with replacement: nothing reaches a command
    that the database cannot store."""
    client = site.client("li")
    token = csrf(client, "/notifications")
    for body, status in ((b"text=a%ED%A0%80", 303), (b"text=a\xed\xa0\x80", 400)):
        response = client.post(
            f"/cases/{site.case}/comment", data=body + b"&csrf_token=" + token.encode(),
            content_type="application/x-www-form-urlencoded",
        )  # fmt: skip
        # Raw bytes that are not UTF-8 make the whole form unreadable: the CSRF check's 400.
        assert response.status_code == status, text_of(response)
    stored = site.engine.read(lambda s: s.scalars(select(Comment.text)).all())
    assert stored and all(t.encode("utf-8") for t in stored)


# --- 9: a database too busy to answer ------------------------------------------------------------


@contextmanager
def database_held(site) -> Iterator[None]:
    """Another connection holds a lock the app's reads wait for, and the app waits only
    briefly: SQLite's write lock (BEGIN IMMEDIATE), or PostgreSQL's lock on the account
    table with a short lock_timeout."""
    db = site.engine.db
    sqlite = db.dialect.name == "sqlite"

    def short_wait(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=100" if sqlite else "SET lock_timeout = '200ms'")
        cursor.close()
        if not sqlite:
            dbapi_connection.commit()  # a SET in a transaction rolled back is undone

    event.listen(db, "connect", short_wait)
    db.dispose()  # pooled connections were opened with the long wait
    if sqlite:
        holder = sqlite3.connect(db.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
    else:
        other = create_engine(db.url)
        with other.connect() as connection:
            connection.execute(text("LOCK TABLE account IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()
        other.dispose()
    event.remove(db, "connect", short_wait)
    db.dispose()


def test_a_locked_database_is_a_503_with_retry_after_on_the_api(site):
    client, headers = site.client(), bearer(site.token("li"))
    with database_held(site):
        response = client.get("/api/me", headers=headers)
    assert response.status_code == 503, text_of(response)
    assert response.get_json()["error"] == "busy"
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/api/me", headers=headers).status_code == 200  # and it passes


def test_a_locked_database_is_a_503_page(site):
    client = site.client("li")
    with database_held(site):
        response = client.get("/inbox")
    assert response.status_code == 503, text_of(response)
    assert 'data-code="busy"' in text_of(response) and "系统繁忙" in text_of(response)
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/inbox").status_code == 200


def test_header_counts_survive_a_database_that_cannot_answer(site):
    """The error page renders them too: a logged-in user's count is left out, not a 500."""
    user = site.engine.read(lambda s: principal(s, "li"))
    with site.flask.test_request_context("/inbox"):
        g.user = user
        with database_held(site):
            assert header_counts() == {"unread": 0}


# --- 10: somebody stays admin ----------------------------------------------------------------


def roles_of(site, key):
    account = site.engine.read(lambda s: s.scalar(select(Account).where(Account.person_key == key)))
    return sorted(r.role for r in account.roles)


def test_the_last_admin_cannot_drop_the_admin_role(site):
    response = post(site.client("zhao"), "/admin/accounts/zhao/roles", {"roles": ["staff"]})
    assert response.status_code == 409
    page, said = text_of(response), "最后一个启用的管理员账号不能失去管理员角色。"
    assert page.count(said) == 1 and 'data-error="roles-zhao.roles"' in page  # at the field
    assert roles_of(site, "zhao") == ["admin"]
    with pytest.raises(Conflict):
        site.engine.execute(SetRoles("zhao", ["auditor"]), actor="cli")
    with pytest.raises(Conflict):
        site.engine.execute(SetAccountActive("zhao", False), actor="cli")


def test_an_admin_may_step_down_once_another_is_active(site):
    site.engine.execute(SetRoles("wang", ["admin", "staff", "supervisor"]), actor="zhao")
    response = post(site.client("zhao"), "/admin/accounts/zhao/roles", {"roles": ["staff"]})
    assert response.status_code == 303
    assert roles_of(site, "zhao") == ["staff"]
    # wang is now the last one; a disabled admin would not count either.
    with pytest.raises(Conflict):
        site.engine.execute(SetRoles("wang", ["staff"]), actor="cli")


def test_a_disabled_admin_does_not_count(site):
    site.engine.execute(SetRoles("wang", ["admin", "staff"]), actor="zhao")
    site.engine.execute(SetAccountActive("wang", False), actor="zhao")
    with pytest.raises(Conflict):
        site.engine.execute(SetRoles("zhao", ["staff"]), actor="zhao")
    assert roles_of(site, "zhao") == ["admin"]


# --- 14: a garbage paging token ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["after", "before"])
def test_a_bad_inbox_position_is_422_at_its_parameter(site, name):
    response = site.client().get(f"/api/inbox?{name}=garbage", headers=bearer(site.token("li")))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid" and name in body["details"]["fields"]


def test_a_bad_inbox_position_on_the_page_is_422(site):
    response = site.client("li").get("/inbox?after=garbage")
    assert response.status_code == 422 and "error-page" in text_of(response)
