"""Who is asking, and the headers every response carries.

Pages use a server-signed session cookie (idle timeout from the engine's clock, so tests
can move it); the API uses ``Authorization: Bearer <token>``. In both cases the account
is re-read on every request, so disabling it or revoking a role takes effect at once.
Password logins are throttled (:func:`login_throttle`); tokens are not (they are long
random strings, nothing to guess).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.middleware.proxy_fix import ProxyFix

from engine import accounts
from engine.app import CaseClock
from engine.errors import Forbidden

F = TypeVar("F", bound=Callable[..., Any])

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def engine() -> CaseClock:
    return current_app.extensions["caseclock"]


def secret_key(app: Flask) -> str:
    """From the config, the environment, or a key generated once into the instance folder
    (so several gunicorn workers and restarts share it)."""
    if app.config.get("SECRET_KEY"):
        return str(app.config["SECRET_KEY"])
    if os.environ.get("CASECLOCK_SECRET_KEY"):
        return os.environ["CASECLOCK_SECRET_KEY"]
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: link fails
        # if another worker got there first, and nobody ever reads a half-written key.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


# Flask config key -> (environment variable, default): failed logins before a cool-down.
THROTTLE_SETTINGS = {
    "LOGIN_MAX_FAILURES": ("CASECLOCK_LOGIN_MAX_FAILURES", 5),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": ("CASECLOCK_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
    "LOGIN_WINDOW_MINUTES": ("CASECLOCK_LOGIN_WINDOW_MINUTES", 15),
    "LOGIN_COOLDOWN_MINUTES": ("CASECLOCK_LOGIN_COOLDOWN_MINUTES", 15),
}


def throttle_from(config: Mapping[str, Any], environ: Mapping[str, str]) -> accounts.Throttle:
    """From the app config, else the environment, else the defaults; a value that is not a
    positive whole number stops the app at start, not at the first login."""
    values = {}
    for key, (variable, default) in THROTTLE_SETTINGS.items():
        raw = config.get(key, environ.get(variable, default))
        value = int(raw) if str(raw).strip().isdecimal() else 0
        if value < 1:
            raise ValueError(f"{key} ({variable}) must be a positive whole number, not {raw!r}")
        values[key] = value
    return accounts.Throttle(
        failures=values["LOGIN_MAX_FAILURES"],
        address_failures=values["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window=timedelta(minutes=values["LOGIN_WINDOW_MINUTES"]),
        cooldown=timedelta(minutes=values["LOGIN_COOLDOWN_MINUTES"]),
    )


def login_throttle() -> accounts.Throttle:
    throttle: accounts.Throttle = current_app.extensions["caseclock_login_throttle"]
    return throttle


def client_address() -> str:
    """The address failed logins are counted for: the client's, also behind reverse
    proxies when ``TRUSTED_PROXIES`` says how many there are (see :func:`trust_proxies`)."""
    return request.remote_addr or "unknown"


def trust_proxies(app: Flask, config: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    """Behind ``TRUSTED_PROXIES`` (``CASECLOCK_TRUSTED_PROXIES``) reverse proxies, take the
    client's address, scheme and host from the ``X-Forwarded-*`` headers they add.

    Only that many hops are believed, counted from the nearest: a client that sends its own
    ``X-Forwarded-For`` cannot pass for another address. 0 (the default) ignores the
    headers, as a server that clients reach directly must."""
    raw = config.get("TRUSTED_PROXIES", environ.get("CASECLOCK_TRUSTED_PROXIES", 0))
    if not str(raw).strip().isdecimal():
        raise ValueError(
            f"TRUSTED_PROXIES (CASECLOCK_TRUSTED_PROXIES) must be a whole number, not {raw!r}"
        )
    hops = int(raw)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def init(app: Flask) -> None:
    trust_proxies(app, app.config, os.environ)
    app.extensions["caseclock_login_throttle"] = throttle_from(app.config, os.environ)
    app.before_request(load_user)
    app.after_request(security_headers)

    @app.context_processor
    def user_context() -> dict[str, Any]:
        return {"me": g.get("user")}


def load_user() -> None:
    g.user = None
    key = session.get("user")
    if not key or request.endpoint == "static":
        return
    now = engine().clock.now().timestamp()
    idle = current_app.permanent_session_lifetime.total_seconds()
    if now - float(session.get("seen", 0)) > idle:
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        session["expired"] = True
        return
    principal = engine().read(lambda s: accounts.principal(s, key))
    if principal is None:
        session.clear()
        return
    session["seen"] = now
    g.user = principal


def log_in(principal: accounts.Principal) -> None:
    lang = session.get("lang")
    # A fresh session on login: an identifier planted before login is worthless after.
    session.clear()
    session.permanent = True
    session["user"] = principal.key
    session["seen"] = engine().clock.now().timestamp()
    if lang:
        session["lang"] = lang
    g.user = principal


def login_required(*roles: str) -> Callable[[F], F]:
    """Pages: anonymous → the login page; logged in without one of ``roles`` → 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            user = g.get("user")
            if user is None:
                if request.method == "GET":
                    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
                abort(401)
            if roles and not user.has(*roles):
                raise Forbidden(f"{user.key} lacks the role {' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def safe_next(target: str | None) -> str | None:
    """Only a local path: a login link must not redirect to another site.

    Browsers drop tabs and newlines from URLs and read ``\\`` as ``/``, so ``/<TAB>/x``
    and ``/\\x`` mean ``//x``, another host; a newline would also break the Location
    header. So: no control characters, whitespace or backslash at all, then no scheme or
    host and a path starting with a single ``/``."""
    if not target or "\\" in target or any(c.isspace() or not c.isprintable() for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith("//"):
        return None
    return target


def security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if g.get("user") is not None or request.blueprint in ("auth", "inbox"):
        # Pages with someone's work on them must not be kept by shared caches or the
        # browser's back button after logout.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
