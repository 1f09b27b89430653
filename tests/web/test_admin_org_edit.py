"""Editing one person, department or group on the admin page: the edit takes effect at
once (new work is routed by it), loops and unknown references are refused at the field,
and every edit is on the ``org`` audit chain with personal data in its erasable part."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import ValidationError
from engine.org_edit import SaveDepartment, SaveGroup, SavePerson
from engine.runtime import ClaimTask
from engine.store import Department, Group, GroupMember, Person

from .conftest import post
from .test_admin import events, text


@pytest.fixture
def admin(site):
    return site.client("zhao")


def person(site, key):
    def load(s):
        row = s.scalar(select(Person).where(Person.key == key))
        superior = s.get(Person, row.superior_id) if row.superior_id else None
        department = s.get(Department, row.department_id) if row.department_id else None
        groups = s.scalars(
            select(Group.key).join(GroupMember).where(GroupMember.person_id == row.id)
        ).all()
        return {
            "name": row.name, "email": row.email, "phone": row.phone, "locale": row.locale,
            "superior": superior.key if superior else None,
            "department": department.key if department else None, "groups": sorted(groups),
        }  # fmt: skip

    return site.engine.read(load)


def test_a_new_person_joins_a_group_and_can_claim_its_work(site, admin):
    response = post(admin, "/admin/org/people", {
        "new": "1", "key": "ma", "name": "马窗口", "department": "window", "superior": "wang",
        "groups": ["reception"], "email": "ma@example.gov.cn", "phone": "010-1234",
        "locale": "en",
    })  # fmt: skip
    assert response.status_code == 303
    assert person(site, "ma") == {
        "name": "马窗口", "email": "ma@example.gov.cn", "phone": "010-1234",
        "superior": "wang", "department": "window", "groups": ["reception"], "locale": "en",
    }  # fmt: skip
    # The org snapshot is reloaded: the new member may claim the group's task right away.
    site.engine.execute(ClaimTask(site.receive, "ma"), actor="ma")
    [event] = events(site, "org_save_person")
    assert event["person"] == "ma" and event["created"] is True
    assert event["groups"] == ["reception"] and "private_sha256" in event
    assert "马窗口" not in str(event)  # the name is in the erasable part only
    assert 'data-person="ma"' in text(admin.get("/admin/org"))


def test_editing_replaces_groups_and_moves_the_superior(site, admin):
    response = post(admin, "/admin/org/people", {
        "key": "li", "name": "李窗口", "department": "review", "superior": "liu",
        "groups": ["reviewers"],
    })  # fmt: skip
    assert response.status_code == 303
    li = person(site, "li")
    assert (li["department"], li["superior"], li["groups"]) == ("review", "liu", ["reviewers"])
    assert li["email"] is None  # the form states the entry as it should be


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"key": "wang", "name": "王科长", "superior": "li"}, "superior", "的下级"),
        ({"key": "li", "name": "李窗口", "superior": "li"}, "superior", "的下级"),
        ({"key": "li", "name": "李窗口", "department": "nowhere"}, "department", "未知的部门"),
        ({"key": "li", "name": "李窗口", "groups": ["ghosts"]}, "groups", "未知用户组"),
        ({"key": "li", "name": "", "department": "window"}, "name", "必填"),
        ({"key": "li", "name": "李窗口", "email": "not-an-address"}, "email", "不是电子邮件地址"),
        ({"new": "1", "key": "bad key!", "name": "某人"}, "key", "不是有效编号"),
        ({"key": "li", "name": "李窗口", "locale": "fr"}, "locale", "无效，可选"),
    ],
)
def test_bad_person_edits_are_refused_at_the_field(site, admin, data, field, message):
    before = person(site, "li")
    response = post(admin, "/admin/org/people", data)
    assert response.status_code == 422
    form = "person-new" if data.get("new") else f"person-{data['key']}"
    html = text(response)
    assert f'data-error="{form}.{field}"' in html and message in html
    assert person(site, "li") == before
    assert events(site, "org_save_person") == []


def test_departments_and_groups(site, admin):
    response = post(admin, "/admin/org/departments", {
        "new": "1", "key": "archive", "name": "档案室", "parent": "county", "head": "chen",
    })  # fmt: skip
    assert response.status_code == 303
    loop = post(admin, "/admin/org/departments", {"key": "county", "name": "县政务服务中心",
                                                  "parent": "window"})  # fmt: skip
    assert loop.status_code == 422 and 'data-error="department-county.parent"' in text(loop)
    assert post(admin, "/admin/org/groups", {
        "new": "1", "key": "archivists", "name": "档案员", "department": "archive",
    }).status_code == 303  # fmt: skip

    def load(s):
        archive = s.scalar(select(Department).where(Department.key == "archive"))
        county = s.scalar(select(Department).where(Department.key == "county"))
        group = s.scalar(select(Group).where(Group.key == "archivists"))
        head = s.get(Person, archive.head_id)
        return archive.parent_id == county.id, head.key, group.department_id == archive.id

    assert site.engine.read(load) == (True, "chen", True)
    assert county_parent_unchanged(site)
    assert [e["department"] for e in events(site, "org_save_department")] == ["archive"]
    assert [e["group"] for e in events(site, "org_save_group")] == ["archivists"]


def county_parent_unchanged(site):
    return site.engine.read(
        lambda s: s.scalar(select(Department.parent_id).where(Department.key == "county"))
    ) is None  # fmt: skip


def test_the_commands_refuse_a_department_loop_deeper_down(site):
    site.engine.execute(SaveDepartment("archive", "档案室", parent="window"))
    with pytest.raises(ValidationError, match="inside"):
        site.engine.execute(SaveDepartment("window", "综合受理窗口", parent="archive"))
    with pytest.raises(ValidationError, match="unknown department"):
        site.engine.execute(SaveGroup("g", "组", department="nowhere"))
    with pytest.raises(ValidationError, match="reports"):
        site.engine.execute(SavePerson("qian", "钱副主任", superior="li"))
