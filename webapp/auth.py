"""Everyone: log in, log out, choose the language."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from engine import accounts

from .i18n import LANGUAGES, gettext
from .security import engine, log_in, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = safe_next(request.values.get("next")) or url_for("inbox.index")
    if request.method == "GET":
        expired = session.pop("expired", False)
        return render_template("login.html", next=target, expired=expired, error=None)
    key = request.form.get("user", "").strip()
    password = request.form.get("password", "")
    principal = engine().read(lambda s: accounts.authenticate(s, key, password)) if key else None
    if principal is None:
        # One message for unknown user and wrong password: no hint about who has an account.
        error = gettext("用户名或密码不正确。")
        return render_template("login.html", next=target, expired=False, error=error,
                               user=key), 401  # fmt: skip
    log_in(principal)
    return redirect(target)


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
