"""Every instant the JSON API answers is written one way (docs/api.md): ISO 8601 in the
organisation's zone, to the second. Some are read as stored, in UTC to the microsecond
(a definition's ``deployed_at``, an instance's ``started_at``, the audit payloads with a
breach's ``breached_at``); the answers write them like the rest. The clock here runs
with microseconds, as a real one does."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from engine.clock import FrozenClock
from engine.clock_control import RequestExtension
from engine.comments import AddComment
from engine.notice_templates import SetNoticeTemplate
from engine.runtime import ClaimTask, StartInstance
from timers.worker import Worker

from ..conftest import SHANGHAI
from .conftest import Site
from .test_api import bearer

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")  # what starts like a date and a time
LOCAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00")  # Asia/Shanghai, to the second
AS_WRITTEN = {"data", "case_data", "text"}  # case variables, comments: what people wrote
STORED = "2026-03-02T01:00:00.250000+00:00"  # a case variable that looks like an instant


@pytest.fixture
def clock() -> FrozenClock:
    """Monday 2 March 2026, a quarter second after 09:00 in Shanghai."""
    return FrozenClock(datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=SHANGHAI))


def instants(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string in an answer that starts like an instant."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in AS_WRITTEN:
                yield from instants(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from instants(item, f"{path}[]")
    elif isinstance(value, str) and INSTANT.match(value):
        yield path, value


def get(site: Site, user: str, url: str) -> Any:
    response = site.client().get(url, headers=bearer(site.token(user)))
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    return response.get_json()


def test_every_instant_in_every_answer_is_local_to_the_second(site: Site, clock) -> None:
    case = site.engine.execute(
        StartInstance("case_handling", "BJ-T", {"note": STORED}), actor="zhao"
    ).id
    site.engine.execute(ClaimTask(site.receive, "li"), actor="li")
    # Due Tuesday 17:30; the worker fires the breach on Wednesday, mid-second.
    clock.set(datetime(2026, 3, 4, 10, 0, 0, 654_321, tzinfo=SHANGHAI))
    Worker(site.engine).run_once()
    site.engine.execute(RequestExtension(site.receive, "li", "1 working day", "复杂"), actor="li")
    site.engine.execute(
        SetNoticeTemplate("urge", "en", "Hurry: {task}", "{person}, {task} is late."), actor="zhao"
    )
    site.engine.execute(AddComment(site.case, "li", STORED), actor="li")
    uploaded = site.client().post(
        f"/api/instances/{site.case}/attachments", headers=bearer(site.token("li")),
        data={"file": (io.BytesIO(b"notes"), "notes.txt")},
    )  # fmt: skip
    assert uploaded.status_code == 201
    answers = {
        url: get(site, user, url)
        for user, url in [
            ("li", "/api/definitions"),
            ("zhao", "/api/instances"),
            ("zhao", f"/api/instances/{site.case}"),
            ("zhao", f"/api/instances/{case}"),
            ("li", "/api/tasks"),
            ("li", "/api/inbox"),
            ("li", f"/api/tasks/{site.receive}"),
            ("li", "/api/notifications"),
            ("li", f"/api/instances/{site.case}/attachments"),
            ("wang", "/api/board"),
            ("zhou", "/api/ledger?from=2026-03-01&to=2026-03-31"),
            ("zhou", "/api/report?from=2026-03-01&to=2026-03-31"),
            ("zhao", "/api/notice-templates"),
        ]
    }
    found = [(url, path, text) for url, body in answers.items() for path, text in instants(body)]
    assert len(found) > 50
    assert [f for f in found if not LOCAL.fullmatch(f[2])] == []
    # The ones stored in UTC to the microsecond, and the breach as the audit trail has it.
    assert {d["deployed_at"] for d in answers["/api/definitions"]} == {"2026-03-02T09:00:00+08:00"}
    assert {i["started_at"] for i in answers["/api/instances"]} == {"2026-03-02T09:00:00+08:00"}
    history = answers[f"/api/instances/{site.case}"]["history"]
    breach = next(e["payload"] for e in history if "breached_at" in e["payload"])
    assert breach["breached_at"] == "2026-03-04T10:00:00+08:00"
    ledger = answers["/api/ledger?from=2026-03-01&to=2026-03-31"]
    assert ledger["rows"]  # the three cases' 受理, all late
    for row in ledger["rows"]:
        snapshot = ledger["snapshots"][str(row["breach_event_id"])]
        assert row["breached_at"] == snapshot["breached_at"] == breach["breached_at"]
        assert row["deadline"] == snapshot["deadline"] == "2026-03-03T17:30:00+08:00"
    edited = next(t for t in answers["/api/notice-templates"] if t["edited"])
    assert edited["updated_at"] == "2026-03-04T10:00:00+08:00"
    # A case variable or a comment is answered as it was written, whatever it looks like.
    assert answers[f"/api/instances/{case}"]["data"]["note"] == STORED
    assert [c["text"] for c in answers[f"/api/instances/{site.case}"]["comments"]] == [STORED]
