"""Fixtures for the web tests: a case-handling app with accounts, and logged-in clients.

Accounts (password ``pw-<key>``) cover every persona: li and chen (staff, reception),
yang (staff, reviewers), wang (staff + supervisor, head of reception), zhou (auditor
only), huang (designer only), zhao (admin only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from engine.accounts import CreateAccount, IssueToken
from engine.app import CaseClock
from engine.runtime import StartInstance
from webapp import create_app

from ..conftest import SHIPPED, deploy
from ..helpers import open_tasks

PERSONAS = {
    "li": ("staff",),
    "chen": ("staff",),
    "yang": ("staff",),
    "wang": ("staff", "supervisor"),
    "zhou": ("auditor",),
    "huang": ("designer",),
    "zhao": ("admin",),
}


def password(key: str) -> str:
    return f"pw-{key}"


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    """Hashed once per run with cheap argon2 parameters (verification reads them from the
    hash): the default cost, right for production, takes 0.3 s per hash here."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return {key: cheap.hash(password(key)) for key in PERSONAS}


@dataclass
class Site:
    engine: CaseClock
    flask: Flask
    case: int  # BJ-0001, started by zhao: 受理 offered to reception
    receive: int  # its open 受理 task
    yang_case: int  # BJ-0002, started by yang (a reviewer): his own case, not his task
    yang_case_receive: int

    def client(self, user: str | None = None) -> FlaskClient:
        client = self.flask.test_client()
        if user is not None:
            login(client, user)
        return client

    def token(self, user: str) -> str:
        return self.engine.execute(IssueToken(user, "tests"), actor="tests")


def csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(client: FlaskClient, user: str, secret: str | None = None) -> Any:
    token = csrf(client)
    response = client.post(
        "/login", data={"user": user, "password": secret or password(user), "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None) -> Any:
    """A form submission as the browser sends it: with the page's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf(client, "/notifications")})


@pytest.fixture
def site(org_app: CaseClock, tmp_path: Path, password_hashes: dict[str, str]) -> Iterator[Site]:
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    for key, roles in PERSONAS.items():
        command = CreateAccount(key, roles, None, password_hash=password_hashes[key])
        org_app.execute(command, actor="tests")
    case = org_app.execute(StartInstance("case_handling", "BJ-0001"), actor="zhao").id
    own = org_app.execute(StartInstance("case_handling", "BJ-0002"), actor="yang").id
    flask = create_app(
        {"TESTING": True, "SECRET_KEY": "test-secret", "INSTANCE_PATH": str(tmp_path / "inst")},
        engine=org_app,
    )
    yield Site(
        org_app, flask, case, open_tasks(org_app, case)["Task_receive"]["id"],
        own, open_tasks(org_app, own)["Task_receive"]["id"],
    )  # fmt: skip
