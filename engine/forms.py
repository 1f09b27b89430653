"""Validating submitted task data against the fields the diagram declares.

Fields come from ``camunda:formData`` (as Camunda Modeler writes it). A task that
declares fields accepts exactly those; each problem is reported at its field, and
nothing is applied unless every field is valid.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .errors import ValidationError

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
    _check_constraints(constraints, value)
    return value


def _convert(field: dict[str, Any], raw: Any) -> Any:
    kind = field["type"]
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"{raw!r} is not true or false")
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
