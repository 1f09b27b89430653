"""The one family of errors CaseClock raises on purpose.

Every adapter (CLI, web, worker) catches :class:`CaseClockError` once and shows it:
the CLI prints ``error: <message>`` and exits with :attr:`exit_code`, the web app
answers JSON with :attr:`http_status`. Anything else escaping the engine is a bug.
"""

from __future__ import annotations

from typing import Any


class CaseClockError(Exception):
    """Base class: a clear, user-facing message plus a stable machine code."""

    code = "error"
    http_status = 400
    exit_code = 1

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(CaseClockError):
    code = "not_found"
    http_status = 404


class ValidationError(CaseClockError):
    """Input that can never be accepted as given (bad form data, bad JSON, bad BPMN)."""

    code = "invalid"
    http_status = 422


def at_field(field: str, message: str) -> ValidationError:
    """A :class:`ValidationError` about one field, which pages show next to it."""
    return ValidationError(message, details={"fields": {field: message}})


class DeploymentError(ValidationError):
    """A diagram that cannot be deployed; ``details['problems']`` lists each one."""

    code = "invalid_definition"


class Conflict(CaseClockError):
    """The state changed underneath the caller (lost race, illegal transition)."""

    code = "conflict"
    http_status = 409


class Busy(CaseClockError):
    """A read the database could not answer now (locked, or a serialisation failure):
    nothing is wrong with the request, so it is a 503 the caller may retry."""

    code = "busy"
    http_status = 503
    retry_after = 5  # seconds: only a hint, the read has already waited the busy timeout


class Forbidden(CaseClockError):
    code = "forbidden"
    http_status = 403


class ScriptError(CaseClockError):
    """A script or expression from a diagram was refused or failed in the sandbox."""

    code = "script_error"
    http_status = 422


class TamperDetected(CaseClockError):
    """An audit chain does not verify: a row was edited, inserted or deleted."""

    code = "tamper_detected"
    http_status = 409
