"""Logging in and out, sessions, CSRF, headers, accounts, languages, and throttling
failed logins."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner
from sqlalchemy import select

from cli import main
from engine.accounts import SetAccountActive, SetRoles
from engine.store import AuditEvent
from engine.store.account_tables import Account
from webapp import create_app
from webapp.security import throttle_from

from ..conftest import ROOT
from .conftest import csrf, login, post


def test_login_page_and_security_headers(site):
    response = site.client().get("/login")
    assert response.status_code == 200
    headers = response.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)


def test_login_logout(site):
    client = site.client()
    assert client.get("/inbox").headers["Location"].startswith("/login?next=/inbox")
    response = login(client, "li")
    assert response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/inbox"  # staff start in their inbox
    assert "李窗口" in client.get("/inbox").get_data(as_text=True)
    response = post(client, "/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/inbox").status_code == 302


def test_wrong_password_and_unknown_user_look_the_same(site):
    client = site.client()
    bodies = []
    for user, secret in (("li", "wrong"), ("ghost", "pw-ghost"), ("", "")):
        response = client.post(
            "/login", data={"user": user, "password": secret, "csrf_token": csrf(client)}
        )
        assert response.status_code == 401
        bodies.append(response.get_data(as_text=True))
    assert all("用户名或密码不正确" in body for body in bodies)
    assert client.get("/inbox").status_code == 302  # still anonymous


def test_login_refused_without_csrf_token(site):
    client = site.client()
    client.get("/login")
    response = client.post("/login", data={"user": "li", "password": "pw-li"})
    assert response.status_code == 400
    assert client.get("/inbox").status_code == 302


def test_next_never_leaves_the_site(site):
    client = site.client()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post("/login", data={
            "user": "li", "password": "pw-li", "csrf_token": csrf(client), "next": target,
        })  # fmt: skip
        assert response.headers["Location"] == "/"
        post(client, "/logout")
    response = client.post("/login", data={
        "user": "li", "password": "pw-li", "csrf_token": csrf(client), "next": "/notifications",
    })  # fmt: skip
    assert response.headers["Location"] == "/notifications"


def test_session_times_out_when_idle(site, clock):
    client = site.client("li")
    clock.advance(timedelta(minutes=20))
    assert client.get("/inbox").status_code == 200  # activity keeps it alive
    clock.advance(timedelta(minutes=20))
    assert client.get("/inbox").status_code == 200
    clock.advance(timedelta(minutes=31))
    response = client.get("/inbox")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "会话已超时" in client.get("/login").get_data(as_text=True)


def test_disabling_an_account_or_revoking_a_role_acts_at_once(site):
    client = site.client("li")
    site.engine.execute(SetRoles("li", ["auditor"]), actor="zhao")
    assert client.get("/inbox").status_code == 403
    site.engine.execute(SetAccountActive("li", False), actor="zhao")
    assert client.get("/inbox").status_code == 302
    response = client.post(
        "/login", data={"user": "li", "password": "pw-li", "csrf_token": csrf(client)}
    )
    assert response.status_code == 401


def test_passwords_are_argon2_hashes_and_never_audited(site):
    stored = site.engine.read(
        lambda s: s.scalar(select(Account.password_hash).where(Account.person_key == "li"))
    )
    assert stored.startswith("$argon2id$") and "pw-li" not in stored
    events = site.engine.read(
        lambda s: s.scalars(select(AuditEvent).where(AuditEvent.command == "create_account")).all()
    )
    assert {e.payload["person"] for e in events} == {
        "li", "chen", "yang", "wang", "zhou", "huang", "zhao"
    }  # fmt: skip
    assert all("pw-" not in str(e.payload) for e in events)


def test_language_switch_is_kept_in_the_session(site, clock):
    client = site.client()
    response = client.get("/lang/en?next=/login")
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page and "登录" not in page
    client.get("/lang/klingon")
    assert "Log in" in client.get("/login").get_data(as_text=True)
    login(client, "li")  # the choice survives logging in
    clock.advance(timedelta(hours=2))
    login(client, "li")  # (two idle hours: log in again)
    page = client.get("/inbox").get_data(as_text=True)
    assert "My inbox" in page and "1 working day 5 h left" in page and "on time" in page
    client.get("/lang/zh_CN")
    assert "待办任务" in client.get("/inbox").get_data(as_text=True)


def test_every_page_text_has_an_english_translation():
    webapp = ROOT / "webapp"
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {
        "_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2),
        "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2),
    }  # fmt: skip
    found = {
        (context, message if isinstance(message, str) else message[0])
        for _, _, message, _, context in extract_from_dir(webapp, method_map, keywords=keywords)
    }
    po = webapp / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with Path(po).open("rb") as handle:
        translated = {
            (m.context, m.id if isinstance(m.id, str) else m.id[0])
            for m in read_po(handle)
            if m.id and all(m.string if isinstance(m.string, tuple) else (m.string,))
        }
    assert found - translated == set()
    assert ("history", "办理") in found  # contexts are read, and checked


def test_cli_user_add_and_list(cli):
    cli("org", "import", str(ROOT / "demo" / "org.yaml"))
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None, ok: bool = True) -> str:
        result = runner.invoke(main, list(args), input=stdin)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    out = run("user", "add", "li", "--role", "staff", "--role", "supervisor",
              "--password-stdin", stdin="s3cret\n")  # fmt: skip
    assert "staff, supervisor" in out
    listing = run("--json", "user", "list")
    assert '"person": "li"' in listing and '"supervisor"' in listing
    assert "already has an account" in run("user", "add", "li", "--password-stdin",
                                           stdin="x1234\n", ok=False)  # fmt: skip
    assert "unknown person" in run("user", "add", "ghost", "--no-password", ok=False)
    assert "at least 4" in run("user", "add", "chen", "--password-stdin", stdin="ab\n", ok=False)
    assert run("user", "token", "li", "--name", "robot").strip().startswith("cc_")


# --- throttling failed logins ----------------------------------------------------------


def attempt(client, user, secret, address="127.0.0.1"):
    return client.post(
        "/login", data={"user": user, "password": secret, "csrf_token": csrf(client)},
        environ_base={"REMOTE_ADDR": address},
    )  # fmt: skip


def lockouts(site):
    return site.engine.read(
        lambda s: s.scalars(select(AuditEvent).where(AuditEvent.command == "login_locked")).all()
    )


def test_failed_logins_start_a_cooldown_even_for_the_right_password(site, clock):
    client = site.client()
    for _ in range(4):
        assert attempt(client, "li", "wrong").status_code == 401
    fifth = attempt(client, "li", "wrong")  # the fifth within 15 minutes starts it
    assert fifth.status_code == 429
    assert "登录失败次数过多，请于 2026-03-02 09:15 后再试" in fifth.get_data(as_text=True)
    clock.advance(timedelta(minutes=10))
    refused = attempt(client, "li", "pw-li")
    assert refused.status_code == 429 and client.get("/inbox").status_code == 302
    assert attempt(client, "chen", "pw-chen").status_code == 302  # other names are not locked
    [locked] = lockouts(site)
    assert locked.actor == "login"
    kept = {k: v for k, v in locked.payload.items() if k != "private_sha256"}
    assert kept == {"scope": "account", "person": "li", "failures": 5,
                    "until": "2026-03-02T01:15:00+00:00"}  # fmt: skip
    # The address is kept apart from the event, as personal data is (erasable).
    assert "127.0.0.1" not in str(locked.payload) and "private_sha256" in locked.payload
    clock.advance(timedelta(minutes=5))  # 09:15: the cool-down is over
    assert attempt(client, "li", "pw-li").status_code == 302
    assert "李窗口" in client.get("/inbox").get_data(as_text=True)


def test_a_successful_login_resets_the_count(site, clock):
    client = site.client()
    for _ in range(4):
        assert attempt(client, "li", "wrong").status_code == 401
    assert attempt(client, "li", "pw-li").status_code == 302
    post(client, "/logout")
    for _ in range(4):
        assert attempt(client, "li", "wrong").status_code == 401
    assert attempt(client, "li", "wrong").status_code == 429
    # Refused attempts are not failures: the cool-down ends on time however often one tries.
    for _ in range(3):
        clock.advance(timedelta(minutes=4))
        assert attempt(client, "li", "pw-li").status_code == 429
    clock.advance(timedelta(minutes=4))
    assert attempt(client, "li", "pw-li").status_code == 302
    assert len(lockouts(site)) == 1


def test_unknown_names_cool_down_alike_and_in_english(site):
    client = site.client()
    client.get("/lang/en")
    for _ in range(4):
        assert attempt(client, "ghost", "x").status_code == 401
    page = attempt(client, "ghost", "x")
    assert page.status_code == 429
    assert "Too many failed logins: try again after 2026-03-02 09:15." in page.get_data(
        as_text=True
    )


def test_an_address_cools_down_and_the_count_is_shared_by_every_worker(site, tmp_path):
    def worker(name):  # a second app on the same database: another gunicorn worker
        return create_app(
            {"TESTING": True, "SECRET_KEY": "test-secret", "LOGIN_MAX_FAILURES_PER_ADDRESS": 3,
             "INSTANCE_PATH": str(tmp_path / name)}, engine=site.engine,
        ).test_client()  # fmt: skip

    one, two = worker("one"), worker("two")
    assert attempt(one, "li", "x", "10.0.0.7").status_code == 401
    assert attempt(two, "chen", "x", "10.0.0.7").status_code == 401
    assert attempt(one, "yang", "x", "10.0.0.7").status_code == 429  # three names, one address
    assert attempt(two, "wang", "pw-wang", "10.0.0.7").status_code == 429
    assert attempt(two, "wang", "pw-wang", "10.0.0.8").status_code == 302  # another address
    assert [e.payload["scope"] for e in lockouts(site)] == ["address"]


def test_behind_a_proxy_each_client_address_counts_and_a_forged_header_does_not(site, tmp_path):
    def app(**config):
        return create_app(
            {"TESTING": True, "SECRET_KEY": "test-secret", "LOGIN_MAX_FAILURES_PER_ADDRESS": 2,
             "INSTANCE_PATH": str(tmp_path / "i"), **config}, engine=site.engine,
        ).test_client()  # fmt: skip

    def via_proxy(client, user, forwarded):  # every request reaches us from the proxy
        return client.post(
            "/login", data={"user": user, "password": "x", "csrf_token": csrf(client)},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},
            headers={"X-Forwarded-For": forwarded},
        )  # fmt: skip

    proxied = app(TRUSTED_PROXIES=1)
    assert via_proxy(proxied, "li", "203.0.113.5").status_code == 401
    assert via_proxy(proxied, "chen", "203.0.113.5").status_code == 429  # one client, two names
    # Another client behind the same proxy is not locked out with the first; a client that
    # forges the header is judged by the hop the proxy saw (the last one), not its claim.
    assert via_proxy(proxied, "yang", "198.51.100.7").status_code == 401
    assert via_proxy(proxied, "wang", "203.0.113.5, 198.51.100.7").status_code == 429

    direct = app()  # no proxy configured: the header is ignored, the peer address counts
    assert via_proxy(direct, "zhao", "192.0.2.1").status_code == 401
    assert via_proxy(direct, "sun", "192.0.2.2").status_code == 429
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        app(TRUSTED_PROXIES="two")


def test_the_token_api_is_unaffected(site):
    token = site.token("li")
    client = site.client()
    for _ in range(5):
        attempt(client, "li", "wrong")
    assert attempt(client, "li", "pw-li").status_code == 429
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["user"] == "li"


def test_throttle_settings_come_from_config_or_environment():
    env = {"CASECLOCK_LOGIN_MAX_FAILURES": "3", "CASECLOCK_LOGIN_COOLDOWN_MINUTES": "60"}
    throttle = throttle_from({"LOGIN_WINDOW_MINUTES": 5}, env)
    assert (throttle.failures, throttle.address_failures) == (3, 20)
    assert (throttle.window, throttle.cooldown) == (timedelta(minutes=5), timedelta(hours=1))
    for bad in ({"LOGIN_MAX_FAILURES": 0}, {"LOGIN_COOLDOWN_MINUTES": "soon"}):
        with pytest.raises(ValueError, match="positive whole number"):
            throttle_from(bad, {})
