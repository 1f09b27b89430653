"""Languages: Chinese (zh_CN) by default, English switchable, the choice kept in the session.

Page text is written in Chinese in the templates and code (the language staff work
in); ``translations/en/LC_MESSAGES/messages.po`` holds the English. The binary ``.mo``
is never committed: at app start it is compiled from the ``.po`` into the instance
folder (again whenever the ``.po`` is newer), so no setup step is needed and a stale
catalogue cannot be served.

Translations are looked up once per request and kept on ``g`` (:func:`translations`):
Flask-Babel's own callables resolve the request context, the domain and the locale on
every ``_()``, which made up half of an inbox page's time (docs/benchmarks.md, "Staff
inbox"). The strings and the output are the same.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_translations
from flask_babel.speaklater import LazyString

__all__ = [
    "LANGUAGES", "colon", "gettext", "init", "lazy_gettext", "lazy_pgettext", "listed",
    "ngettext", "pgettext",
]  # fmt: skip

DEFAULT_LOCALE = "zh_CN"
# Locale -> what the switch link says (each in its own language).
LANGUAGES = {"zh_CN": "中文", "en": "English"}
SOURCE = Path(__file__).parent / "translations"


API_PREFIX = "/api/"
API_PAGES = ("/api/docs",)  # under /api/ but for people: in the chosen language


def current_locale() -> str:
    """The page's language: the one chosen in this session, else zh-CN. The JSON API
    speaks English whoever calls it, as the engine's own messages do: a machine client
    matches on one wording, not on whichever a shared check was written in."""
    path = request.path if has_request_context() else ""
    if path.startswith(API_PREFIX) and path not in API_PAGES:
        return "en"
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT_LOCALE


def colon() -> str:
    """What joins a label and its value: the full-width colon in Chinese (no space after
    it), ": " in English."""
    return ": " if current_locale() == "en" else "："


def listed(items: Iterable[Any]) -> str:
    """Names one after another: "甲、乙" in Chinese, "a, b" in English."""
    return (", " if current_locale() == "en" else "、").join(str(item) for item in items)


def translations() -> NullTranslations:
    """The request's catalogue, looked up once per request (outside one: no translation)."""
    if not g:
        return get_translations()
    found: NullTranslations | None = g.get("_translations")
    if found is None:
        found = g._translations = get_translations()
    return found


def gettext(string: str, **variables: Any) -> str:
    text: str = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    text: str = translations().ungettext(singular, plural, num)
    return text % variables


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """Translated when used (module-level labels), in the language of that request."""
    return LazyString(gettext, string, **variables)


def pgettext(context: str, string: str) -> str:
    """``string`` as ``context`` words it: the same Chinese can need two English words
    (办理 is the inbox's "Open" button and the history's "completed")."""
    text: str = translations().upgettext(context, string)
    return text


def lazy_pgettext(context: str, string: str) -> LazyString:
    return LazyString(pgettext, context, string)


def init(app: Flask) -> None:
    compiled = Path(app.instance_path) / "translations"
    compile_catalogues(SOURCE, compiled)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    Babel(app, locale_selector=current_locale)
    # Replaces the callables Flask-Babel installed: same catalogue, looked up once.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
    )

    app.jinja_env.globals["colon"] = colon
    app.jinja_env.filters["listed"] = listed

    @app.context_processor
    def languages() -> dict[str, object]:
        locale = current_locale()
        return {"languages": LANGUAGES, "locale": locale, "html_lang": locale.replace("_", "-")}


def compile_catalogues(source: Path, target: Path) -> None:
    for po in source.glob("*/LC_MESSAGES/messages.po"):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as handle:
            catalog = read_po(handle)
        # Written beside the target and renamed: several workers starting at once never
        # read a half-written catalogue.
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)
