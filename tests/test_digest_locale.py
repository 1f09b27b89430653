"""Daily digests in the recipient's language: an English-speaking reviewer's digest is
English from subject to framing, a Chinese-speaking one's stays Chinese."""

from __future__ import annotations

from sqlalchemy import select

from engine.digests import ComposeDigests
from engine.org import ImportOrg
from engine.store import OutboxMessage
from timers.worker import Worker

from .test_sla import at, started  # noqa: F401 (fixture)


def digest_of(app, recipient: str) -> OutboxMessage:
    [mail] = app.read(lambda s: s.scalars(select(OutboxMessage).where(
        OutboxMessage.payload["kind"].as_string() == "digest",
        OutboxMessage.recipient == recipient,
    )).all())  # fmt: skip
    return mail


def two_warnings_held(app, clock, started, locale: str) -> None:  # noqa: F811
    """yang (who wants a digest, in ``locale``) holds a task whose two warnings fired."""
    yang = {"key": "yang", "digest": True, "locale": locale}
    app.execute(ImportOrg({"departments": [], "groups": [], "people": [yang]}))
    started(when="2026-03-02T09:00", limit="3 working days", warnings="1/3; 2/3")
    clock.set(at("2026-03-05T17:00"))
    Worker(app).run_once()
    assert app.execute(ComposeDigests()) == 1


def test_an_english_speaking_person_gets_an_english_digest(org_app, clock, started):  # noqa: F811
    two_warnings_held(org_app, clock, started, "en")
    mail = digest_of(org_app, "yang@example.gov.cn")
    assert mail.subject == "[Daily digest] 2 case warnings (2026-03-05)"
    assert mail.body.startswith("Here are the 2 case warnings gathered for you on 2026-03-05:")
    assert mail.body.endswith("warning e-mails are gathered and sent once a day.")
    # The warnings themselves were written in English when they fired.
    assert mail.body.count("[Warning]") == 2 and "【" not in mail.body


def test_a_chinese_speaking_person_gets_the_chinese_digest(org_app, clock, started):  # noqa: F811
    two_warnings_held(org_app, clock, started, "zh-CN")
    mail = digest_of(org_app, "yang@example.gov.cn")
    assert mail.subject == "【每日汇总】2 条办件预警（2026-03-05）"
    assert mail.body.startswith("以下是 2026-03-05 为您汇总的 2 条办件预警：")
    assert mail.body.count("【预警】") == 2 and "Daily digest" not in mail.body
