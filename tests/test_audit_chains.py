"""Which chain an event on no instance goes to: configuration on ``org`` (whose head stamps
every cache of configuration), accounts and logins on ``access``, the debtors' business on
``collection``. A busy day of logins and collection work leaves the caches warm."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine import audit
from engine.accounts import CreateAccount, IssueToken, RecordLoginFailure, Throttle
from engine.audit_verify import verify
from engine.calendars import OverrideDay
from engine.collection.receivables import RecordPayment
from engine.store import AuditEvent

from .collection.helpers import import_rows, row


def chains(app) -> dict[str, str]:
    """Command -> chain key of every event on no instance."""
    found = app.read(lambda s: s.execute(
        select(AuditEvent.command, AuditEvent.chain_key).where(AuditEvent.instance_id.is_(None))
    ).all())  # fmt: skip
    return dict(found)


def org_stamp(app) -> int:
    return app.execute(lambda ctx: ctx.org().stamp)


def test_logins_and_collection_work_leave_the_configuration_stamp_alone(org_app):
    app = org_app
    import_rows(app, row("CH-1", "1000.00", "2026-01-01"))
    stamp = org_stamp(app)
    loads = []
    calendar = app.services.calendars
    original = calendar._load
    calendar._load = lambda session, key: loads.append(key) or original(session, key)
    app.execute(lambda ctx: ctx.calendar())  # built once

    for _ in range(2):
        app.execute(RecordLoginFailure("li", "10.0.0.9", Throttle(failures=2)))
    app.execute(CreateAccount("li", ["staff"], None))
    app.execute(IssueToken("li", "robot"))
    app.execute(RecordPayment("CH-1", "100.00", date(2026, 2, 1)))
    app.execute(lambda ctx: ctx.calendar())

    assert org_stamp(app) == stamp and loads == ["default"], "the cached calendar was kept"
    found = chains(app)
    assert {found[c] for c in ("login_locked", "create_account", "issue_token")} == {audit.ACCESS}
    assert (found["collection.import"], found["collection.payment"]) == (
        audit.COLLECTION, audit.COLLECTION,
    )  # fmt: skip
    assert found["org_import"] == audit.ORG

    # Configuration still moves the stamp, so every process reloads what it cached.
    app.execute(OverrideDay(date(2026, 3, 2), "holiday", "test"))
    app.execute(lambda ctx: ctx.calendar())
    assert org_stamp(app) > stamp and loads == ["default", "default"]
    assert chains(app)[OverrideDay.name] == audit.ORG
    assert app.read(lambda s: [str(b) for b in verify(s)]) == []
