"""The engine's messages as an API client reads them.

The engine words a few messages for the command line, its first adapter: a report's
dates are its flags (``--from``), a task of the wrong kind points to a command
(``caseclock chase``), and a 协办 request is called by its Chinese name. An API client
sent query arguments and calls endpoints, and reads English (docs/api.md), so the API
rewords those parts here, in ``message`` and in each ``details.fields`` entry; the pages
have their own wording (:mod:`webapp.engine_text`) and the CLI keeps the engine's.
"""

from __future__ import annotations

import re
from typing import Any

_ID = r"(?P<id>\d+)"

# (pattern, replacement), applied in order wherever the pattern occurs in a message (a
# message may join several: "--from …; --to …").
REWORDINGS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # the period of the ledger, the report and the trends (engine.accountability)
        (r"--(?P<name>from|to) ", r"\g<name>="),
        # a task of another kind than the action takes (engine.runtime.lock_task)
        (
            rf"task {_ID} is a chase task: handle or urge it \(caseclock chase\)",
            r"task \g<id> is a chase task: urge or handle it "
            r"(POST /api/chase/\g<id>/urge or /api/chase/\g<id>/handle)",
        ),
        (
            rf"task {_ID} is a 协办 request: answer it \(caseclock assist answer\)",
            r"task \g<id> is an assist request: answer it (POST /api/tasks/\g<id>/answer)",
        ),
        # 协办 is the API's `assist` (the action, and the kind of task it opens)
        (r"\ba 协办 request", "an assist request"),
        (r"协办 limit: ", "limit: "),
        (r"for 协办", "for assistance"),
        (r"协办", "assist"),
    )
]


def reworded(message: str) -> str:
    for pattern, replacement in REWORDINGS:
        message = pattern.sub(replacement, message)
    return message


def reword_error(body: dict[str, Any]) -> bool:
    """Rewords an error answer's ``message`` and ``details.fields`` in place; whether
    anything changed."""
    changed = False
    if isinstance(body.get("message"), str):
        new = reworded(body["message"])
        changed, body["message"] = new != body["message"], new
    details = body.get("details")
    fields = details.get("fields") if isinstance(details, dict) else None
    for name, text in fields.items() if isinstance(fields, dict) else ():
        new = reworded(text) if isinstance(text, str) else text
        changed, fields[name] = changed or new != text, new
    return changed
