"""A person's notice language: an English-speaking reviewer gets the breach in English,
while the chase that follows reaches their Chinese-speaking superior in Chinese."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import ValidationError
from engine.org import ImportOrg
from engine.org_edit import SavePerson
from engine.store import OutboxMessage, Person

from .test_chase import fire_at, late  # noqa: F401 (fixture)


def subjects(app, recipient):
    return app.read(lambda s: s.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.recipient == recipient, OutboxMessage.channel == "email",
    ).order_by(OutboxMessage.id)).all())  # fmt: skip


def test_each_person_gets_notices_in_their_language(org_app, clock, late):  # noqa: F811
    org_app.execute(SavePerson("yang", "杨审核", "review", "liu", ["reviewers"],
                               "yang@example.gov.cn", locale="en"))  # fmt: skip
    fire_at(org_app, clock, "2026-10-12T17:31")
    assert subjects(org_app, "yang@example.gov.cn") == [
        "[Overdue] 审核 (BJ-C) was due 2026-10-12 17:30"
    ]
    [chase] = subjects(org_app, "liu@example.gov.cn")
    assert chase.startswith("【催办】")


def test_the_org_file_sets_the_language_and_refuses_an_unknown_one(org_app):
    org_app.execute(ImportOrg({"departments": [], "groups": [],
                               "people": [{"key": "li", "locale": "en"}]}))  # fmt: skip
    locale = org_app.read(lambda s: s.scalar(select(Person.locale).where(Person.key == "li")))
    assert locale == "en"
    with pytest.raises(ValidationError, match="locale 'fr'"):
        org_app.execute(ImportOrg({"departments": [], "groups": [],
                                   "people": [{"key": "li", "locale": "fr"}]}))  # fmt: skip
    with pytest.raises(ValidationError, match="locale 'fr'") as refused:
        org_app.execute(SavePerson("li", "李窗口", locale="fr"))
    assert refused.value.details["fields"] == {"locale": "locale 'fr': one of zh-CN, en"}


@pytest.mark.parametrize(
    "written, stored",
    [("en-GB", "en"), ("en_US", "en"), ("zh-Hans-CN", "zh-CN"), ("ZH_cn", "zh-CN")],
)
def test_a_regional_tag_counts_as_its_language(org_app, written, stored):
    org_app.execute(ImportOrg({"departments": [], "groups": [],
                               "people": [{"key": "li", "locale": written}]}))  # fmt: skip
    assert org_app.read(lambda s: s.scalar(select(Person.locale).where(Person.key == "li"))) == (
        stored
    )
    with pytest.raises(ValidationError, match="locale 'fr-FR'"):
        org_app.execute(SavePerson("li", "李窗口", locale="fr-FR"))
