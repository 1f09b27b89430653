"""What a request carries, turned into values the database can hold: ids and other whole
numbers (in URLs, JSON bodies and form fields) and the text of JSON bodies.

SQLite's INTEGER and PostgreSQL's BIGINT hold 64-bit signed ids; binding a larger one
raised OverflowError, a 500. Here it is no such id: a 404 in a URL (:class:`IdConverter`,
Flask's ``int`` app-wide), a 422 naming the field in a body (:func:`whole_number`). JSON
also lets a client send a lone UTF-16 surrogate (``"\\ud800"``), which no database
encoding stores: :func:`json_body` refuses it, naming the field.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map

from engine.errors import ValidationError, at_field
from engine.inputs import MAX_ID, whole_number

INT32 = 2**31 - 1  # the largest value of a plain Integer column on PostgreSQL


class IdConverter(IntegerConverter):
    """Flask's ``int`` converter, matching only ids a 64-bit signed column holds (a larger
    one is a 404); the OpenAPI document shows the bound as the parameter's maximum."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def install(app: Flask) -> None:
    """Replace ``int`` before any blueprint registers: a rule binds its converter then."""
    app.url_map.converters["int"] = IdConverter


def ids(values: object, field: str) -> list[int]:
    """``values``, a list (of JSON integers or form texts), as ids, or a 422 at ``field``."""
    found = [whole_number(v) for v in values] if isinstance(values, list) else [None]
    if any(i is None for i in found):
        raise at_field(field, "a list of ids (whole numbers from 1 to 2^63-1)")
    return [i for i in found if i is not None]


def json_body() -> Any:
    """The request's JSON (None if it has none or it does not parse), refused with a 422
    when nested too deeply to read or when a string holds a lone surrogate."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise ValidationError("the JSON body is nested too deeply") from None
    _refuse_what_json_has_not(data)
    return data


def _refuse_what_json_has_not(data: Any) -> None:
    """Walked without recursion (the parser accepts deeper nesting than Python's stack);
    the first string that cannot be encoded, or number that is not finite (Python's json
    reads NaN, Infinity and 1e99999, which JSON has not: a text field stored "nan"), is
    reported with its path (``data.name``, ``ids.0``), or as the body when it is a key or
    the whole body."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if not _encodable(key):
                    _surrogate(path)
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value))
        elif isinstance(value, str) and not _encodable(value):
            _surrogate(path)
        elif isinstance(value, float) and not math.isfinite(value):
            where = path or "body"
            raise at_field(where, f"{where} is not a JSON number (NaN and infinities are not)")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _surrogate(path: str) -> NoReturn:
    where = path or "body"
    raise at_field(where, f"{where} holds a lone UTF-16 surrogate (\\ud800-\\udfff)")
