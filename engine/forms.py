"""Validating submitted task data against the fields the diagram declares.

Fields come from ``camunda:formData`` (as Camunda Modeler writes it). A task that
declares fields accepts exactly those; each problem is reported at its field, and
nothing is applied unless every field is valid.

Constraints are Camunda's (``required``, ``minlength``, ``maxlength``, ``min``,
``max``) plus ``format`` (config ``email`` or ``phone``): a text field whose value must
look like an e-mail address or a phone number, checked as :mod:`engine.inputs` checks a
person's, since a notice goes to what is stored. A diagram naming another format is
refused at deploy (:func:`field_problems`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from . import inputs
from .errors import ValidationError

# format name -> (the shared check, what the value should look like)
FORMATS: dict[str, tuple[Callable[[str, str], str | None], str]] = {
    "email": (inputs.check_email, "is not an e-mail address: write name@domain.tld"),
    "phone": (
        inputs.check_phone,
        f"is not a phone number: {inputs.PHONE_DIGITS[0]} to {inputs.PHONE_DIGITS[1]} digits, "
        "with an optional leading + and spaces, dashes or parentheses",
    ),
}
_SHOWN = 60  # a longer refused value is not echoed back
TRUE_WORDS = {"true", "1", "yes", "on", "是"}
FALSE_WORDS = {"false", "0", "no", "off", "否", ""}


def validate(
    fields: list[dict[str, Any]], data: dict[str, Any], partial: bool = False
) -> dict[str, Any]:
    """Return the cleaned values, or raise :class:`ValidationError` with per-field errors.

    ``partial`` (saving a draft, resolving a delegation) checks only the fields given.
    """
    if not fields:
        return dict(data)
    declared = {f["id"]: f for f in fields}
    errors: dict[str, str] = {}
    for key in data:
        if key not in declared:
            errors[key] = f"unknown field; this task accepts: {', '.join(declared)}"
    cleaned: dict[str, Any] = {}
    for field_id, field in declared.items():
        if partial and field_id not in data:
            continue
        if field["type"] == "boolean" and field_id not in data:
            # An unticked checkbox is not sent by browsers: it means false.
            cleaned[field_id] = False
            continue
        try:
            value = _clean(field, data.get(field_id))
        except ValueError as exc:
            errors[field_id] = str(exc)
            continue
        if value is not None:
            cleaned[field_id] = value
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise ValidationError(f"invalid form data: {summary}", details={"fields": errors})
    return cleaned


def _clean(field: dict[str, Any], raw: Any) -> Any:
    constraints = field.get("constraints") or {}
    if raw is None or (isinstance(raw, str) and raw.strip() == "" and field["type"] != "boolean"):
        if "required" in constraints:
            raise ValueError("is required")
        return None
    value = _convert(field, raw)
    if "format" in constraints:
        # First: "not a phone number" says more than "at most 20 characters".
        value = _formatted(str(constraints["format"]), value)
    _check_constraints(constraints, value)
    return value


def _formatted(name: str, value: Any) -> Any:
    """``value`` stripped if it has the format, else a ValueError saying what it should be."""
    if name not in FORMATS:
        return value  # a version deployed before formats were checked at deploy
    check, problem = FORMATS[name]
    try:
        cleaned = check(str(value), "value")
    except ValidationError:
        shown = repr(value) if len(str(value)) <= _SHOWN else "the value"
        raise ValueError(f"{shown} {problem}") from None
    return cleaned if cleaned is not None else value


def field_problems(field: dict[str, Any]) -> list[str]:
    """What is wrong with a field's declaration (checked at deploy, so a diagram cannot
    promise a check the engine does not make)."""
    constraints = field.get("constraints") or {}
    if "format" not in constraints:
        return []
    name = constraints["format"]
    known = ", ".join(FORMATS)
    if name not in FORMATS:
        return [f"form field {field['id']!r}: unknown format {name!r}; known: {known}"]
    if field["type"] != "string":
        return [f"form field {field['id']!r}: format {name!r} needs type string, "
                f"not {field['type']!r}"]  # fmt: skip
    return []


def yes_or_no(raw: Any) -> bool:
    """A yes/no value as people write it (a form's checkbox, a CSV cell): text is never
    true merely for being non-empty ("false" is false); anything else is a ValueError."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{raw!r} is not true or false")


def _convert(field: dict[str, Any], raw: Any) -> Any:
    kind = field["type"]
    if kind == "boolean":
        return yes_or_no(raw)
    if kind == "long":
        if isinstance(raw, bool):
            raise ValueError("must be a whole number")
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValueError(f"{raw!r} is not a whole number") from None
    if kind == "date":
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)") from None
    if kind == "enum":
        options = [o["id"] for o in field.get("options") or []]
        if str(raw) not in options:
            raise ValueError(f"{raw!r} is not one of {', '.join(options)}")
        return str(raw)
    # bool is an int to Python: true would be stored as the text "True".
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError("must be text")
    return str(raw)


def _check_constraints(constraints: dict[str, Any], value: Any) -> None:
    if isinstance(value, str):
        if "minlength" in constraints and len(value) < int(constraints["minlength"]):
            raise ValueError(f"must be at least {constraints['minlength']} characters")
        if "maxlength" in constraints and len(value) > int(constraints["maxlength"]):
            raise ValueError(f"must be at most {constraints['maxlength']} characters")
    if isinstance(value, int) and not isinstance(value, bool):
        if "min" in constraints and value < int(constraints["min"]):
            raise ValueError(f"must be at least {constraints['min']}")
        if "max" in constraints and value > int(constraints["max"]):
            raise ValueError(f"must be at most {constraints['max']}")
