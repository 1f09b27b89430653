"""Everyone: log in, log out, choose the language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from engine import accounts

from .filters import when
from .i18n import LANGUAGES, gettext
from .security import client_address, engine, log_in, login_throttle, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = safe_next(request.values.get("next")) or url_for("inbox.index")
    if request.method == "GET":
        expired = session.pop("expired", False)
        return render_template("login.html", next=target, expired=expired, error=None)
    key = request.form.get("user", "").strip()
    password = request.form.get("password", "")
    app, address, throttle = engine(), client_address(), login_throttle()
    until = app.read(lambda s: accounts.locked_until(s, throttle, key, address, app.clock.now()))
    if until is not None:
        # Refused before the password is checked: a guess in the cool-down learns nothing.
        return _cooling_down(target, key, until)
    principal = app.read(lambda s: accounts.authenticate(s, key, password)) if key else None
    if principal is None:
        failure = accounts.RecordLoginFailure(key, address, throttle)
        until = app.execute(failure, actor="login") if key else None
        if until is not None:
            return _cooling_down(target, key, until)
        # One message for unknown user and wrong password: no hint about who has an account.
        error = gettext("用户名或密码不正确。")
        return render_template("login.html", next=target, expired=False, error=error,
                               user=key), 401  # fmt: skip
    app.execute(accounts.ClearLoginFailures(key), actor="login")
    log_in(principal)
    return redirect(target)


def _cooling_down(target: str, key: str, until: datetime) -> Any:
    """The same for a user name and an address, known or not: it tells nobody which."""
    local = until.astimezone(engine().services.timezone).isoformat()
    error = gettext("登录失败次数过多，请于 %(t)s 后再试。", t=when(local))
    return render_template("login.html", next=target, expired=False, error=error,
                           user=key), 429  # fmt: skip


@bp.post("/logout")
def logout() -> Any:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(gettext("已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def language(code: str) -> Any:
    """A plain link (no state anyone is accountable for changes, so no form/CSRF)."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("inbox.index"))
