"""The web app's health and JSON views; errors are JSON, never a 500."""

from __future__ import annotations

import pytest

from engine.accounts import CreateAccount, IssueToken
from engine.runtime import StartInstance
from webapp import create_app

from .conftest import SHIPPED, deploy


@pytest.fixture
def client(org_app, tmp_path):
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    org_app.execute(StartInstance("case_handling", "BJ-W"))
    # The JSON views need a token; an admin may list anyone's tasks.
    org_app.execute(CreateAccount("zhao", ["admin"], None))
    token = org_app.execute(IssueToken("zhao", "tests"))
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")}, org_app)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_health(client):
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["database"] in ("sqlite", "postgresql")


def test_health_and_metrics_need_no_token(client):
    del client.environ_base["HTTP_AUTHORIZATION"]
    assert client.get("/health").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/definitions").status_code == 401


def test_json_views(client):
    assert client.get("/api/definitions").get_json()[0]["key"] == "case_handling"
    [instance] = client.get("/api/instances").get_json()
    detail = client.get(f"/api/instances/{instance['id']}").get_json()
    assert detail["open_tasks"][0]["name"] == "受理"
    assert client.get("/api/tasks?user=li").get_json()[0]["candidate_groups"] == ["reception"]
    assert client.get("/api/tasks?group=reviewers").get_json() == []


@pytest.mark.parametrize(
    "url, status, code",
    [
        ("/api/instances/999", 404, "not_found"),
        ("/api/tasks?user=ghost", 404, "not_found"),
        ("/api/instances?state=bogus", 422, "invalid"),
        ("/api/nowhere", 404, "not_found"),
    ],
)
def test_errors_are_json(client, url, status, code):
    response = client.get(url)
    assert response.status_code == status
    assert response.get_json()["error"] == code
    assert response.get_json()["message"]
