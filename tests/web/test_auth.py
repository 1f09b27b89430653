"""Logging in and out, sessions, CSRF, headers, accounts, languages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner
from sqlalchemy import select

from cli import main
from engine.accounts import SetAccountActive, SetRoles
from engine.store import AuditEvent
from engine.store.account_tables import Account

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
    keywords = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
    found = {
        message if isinstance(message, str) else message[0]
        for _, _, message, *_ in extract_from_dir(webapp, method_map, keywords=keywords)
    }
    po = webapp / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with Path(po).open("rb") as handle:
        translated = {
            m.id if isinstance(m.id, str) else m.id[0]
            for m in read_po(handle)
            if m.id and all(m.string if isinstance(m.string, tuple) else (m.string,))
        }
    assert found - translated == set()


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
