"""Every persona against every endpoint this slice adds: the expected status of each.

Personas: anonymous, staff in the task's group (li), staff in another group (yang), a
supervisor who is also staff in the group (wang), and accounts holding only auditor,
designer or admin. Endpoints that change state come last, so the reads see the fixture's
state; each persona gets a fresh site.
"""

from __future__ import annotations

import pytest

from .conftest import csrf, login

ANON, LI, YANG, WANG, AUDITOR, DESIGNER, ADMIN = (
    "anonymous", "li", "yang", "wang", "zhou", "huang", "zhao",
)  # fmt: skip
PERSONAS = [ANON, LI, YANG, WANG, AUDITOR, DESIGNER, ADMIN]


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(PERSONAS, statuses, strict=True))


def every(status: int, anonymous: int) -> dict[str, int]:
    return {p: anonymous if p == ANON else status for p in PERSONAS}


# (method, path, how) -> status per persona. ``how``: "page" (session cookie and CSRF
# token) or "api" (bearer token). {task} is BJ-0001's 受理 (offered to reception), {case}
# its case, {own} the case yang started.
MATRIX: list[tuple[str, str, str, dict[str, int]]] = [
    # pages                          anon li   yang wang aud  des  admin
    ("GET", "/login", "page", every(200, 200)),
    ("GET", "/", "page", row(302, 302, 302, 302, 302, 302, 302)),
    ("GET", "/inbox", "page", row(302, 200, 200, 200, 403, 403, 403)),
    ("GET", "/inbox?filter=group&q=BJ", "page", row(302, 200, 200, 200, 403, 403, 403)),
    ("GET", "/tasks/{task}", "page", row(302, 200, 403, 200, 403, 403, 403)),
    ("GET", "/tasks/99999", "page", row(302, 404, 404, 404, 403, 403, 403)),
    ("GET", "/cases/{case}", "page", row(302, 200, 403, 200, 200, 403, 200)),
    ("GET", "/cases/{own}", "page", row(302, 200, 200, 200, 200, 403, 200)),
    ("GET", "/cases/99999", "page", row(302, 404, 404, 404, 404, 404, 404)),
    ("GET", "/notifications", "page", every(200, 302)),
    ("GET", "/lang/en", "page", every(302, 302)),
    # slice 2: the supervisor board and the auditor's ledger
    ("GET", "/board", "page", row(302, 403, 403, 200, 403, 403, 403)),
    ("GET", "/ledger", "page", row(302, 403, 403, 403, 200, 403, 403)),
    (
        "GET",
        "/ledger?from=2026-03-01&to=2026-03-31&department=window&person=li&step=受理"
        "&exemption=none",
        "page",
        row(302, 403, 403, 403, 200, 403, 403),
    ),
    ("GET", "/ledger?from=x", "page", row(302, 403, 403, 403, 422, 403, 403)),
    ("GET", "/ledger/export/ledger.csv", "page", row(302, 403, 403, 403, 200, 403, 403)),
    ("GET", "/ledger/export/ledger.xlsx", "page", row(302, 403, 403, 403, 200, 403, 403)),
    ("GET", "/ledger/export/report.csv", "page", row(302, 403, 403, 403, 200, 403, 403)),
    ("GET", "/ledger/export/report.xlsx", "page", row(302, 403, 403, 403, 200, 403, 403)),
    ("GET", "/ledger/export/secrets.csv", "page", row(302, 403, 403, 403, 404, 403, 403)),
    # api                            anon li   yang wang aud  des  admin
    ("GET", "/health", "api", every(200, 200)),
    ("GET", "/metrics", "api", every(200, 200)),
    ("GET", "/api/me", "api", every(200, 401)),
    ("GET", "/api/definitions", "api", every(200, 401)),
    ("GET", "/api/instances", "api", row(401, 403, 403, 403, 200, 403, 200)),
    ("GET", "/api/instances/{case}", "api", row(401, 200, 403, 200, 200, 403, 200)),
    ("GET", "/api/instances/{own}", "api", row(401, 200, 200, 200, 200, 403, 200)),
    ("GET", "/api/tasks", "api", every(200, 401)),
    ("GET", "/api/tasks?user=li", "api", row(401, 200, 403, 403, 403, 403, 200)),
    ("GET", "/api/tasks?group=reception", "api", row(401, 200, 403, 200, 403, 403, 200)),
    ("GET", "/api/inbox", "api", row(401, 200, 200, 200, 403, 403, 403)),
    ("GET", "/api/tasks/{task}", "api", row(401, 200, 403, 200, 403, 403, 403)),
    ("GET", "/api/notifications", "api", every(200, 401)),
    ("GET", "/api/board", "api", row(401, 403, 403, 200, 403, 403, 403)),
    ("GET", "/api/ledger", "api", row(401, 403, 403, 403, 200, 403, 403)),
    ("GET", "/api/ledger?from=x", "api", row(401, 403, 403, 403, 422, 403, 403)),
    ("GET", "/api/ledger/verify", "api", row(401, 403, 403, 403, 200, 403, 403)),
    ("GET", "/api/report", "api", row(401, 403, 403, 403, 200, 403, 403)),
    # state changes, last                anon li   yang wang aud  des  admin
    ("POST", "/notifications/read", "page", every(303, 401)),
    ("POST", "/api/notifications/read", "api", every(200, 401)),
    # Empty forms: who may act gets the field error (422), who may not a 403.
    ("POST", "/cases/{case}/comment", "page", row(401, 422, 403, 422, 403, 403, 403)),
    ("POST", "/tasks/{task}/comment", "page", row(401, 422, 403, 422, 403, 403, 403)),
    ("POST", "/tasks/{task}/assist", "page", row(401, 422, 403, 422, 403, 403, 403)),
    ("POST", "/tasks/{task}/answer", "page", row(401, 422, 403, 422, 403, 403, 403)),
    ("POST", "/api/instances/{case}/comments", "api", row(401, 422, 403, 422, 403, 403, 403)),
    # {task} is no chase task (404 to a supervisor); no request 99999 exists.
    ("POST", "/board/chase/{task}/urge", "page", row(401, 403, 403, 404, 403, 403, 403)),
    ("POST", "/board/extension/99999/approve", "page", row(401, 403, 403, 404, 403, 403, 403)),
    ("POST", "/board/exemption/99999/refuse", "page", row(401, 403, 403, 422, 403, 403, 403)),
    ("POST", "/api/chase/{task}/handle", "api", row(401, 403, 403, 404, 403, 403, 403)),
    ("POST", "/api/extensions/99999/approve", "api", row(401, 403, 403, 404, 403, 403, 403)),
    ("POST", "/api/exemptions/99999/approve", "api", row(401, 403, 403, 404, 403, 403, 403)),
    ("POST", "/tasks/{task}/claim", "page", row(401, 303, 403, 303, 403, 403, 403)),
    # Claimed above by li/wang: claiming again as the assignee is a no-op.
    ("POST", "/api/tasks/{task}/claim", "api", row(401, 200, 403, 200, 403, 403, 403)),
    ("POST", "/api/tasks/{task}/unclaim", "api", row(401, 200, 403, 200, 403, 403, 403)),
    ("POST", "/logout", "page", every(302, 302)),
]


@pytest.mark.parametrize("persona", PERSONAS)
def test_authorization_matrix(site, persona):
    page = site.client()
    api_headers: dict[str, str] = {}
    if persona != ANON:
        login(page, persona)
        api_headers = {"Authorization": f"Bearer {site.token(persona)}"}
    ids = {"task": site.receive, "case": site.case, "own": site.yang_case}
    wrong = []
    for method, path, how, expected in MATRIX:
        url = path.format(**ids)
        if how == "page":
            data = {"csrf_token": csrf(page)} if method == "POST" else None
            response = page.open(url, method=method, data=data)
        else:
            response = page.open(url, method=method, headers=api_headers)
        if response.status_code >= 500:
            wrong.append(f"{method} {url}: {response.status_code} (a 500 is never right)")
        elif response.status_code != expected[persona]:
            wrong.append(f"{method} {url}: {response.status_code}, expected {expected[persona]}")
        if how == "api" and response.status_code >= 400:
            assert response.is_json, f"{method} {url}: an API error must be JSON"
    assert not wrong, f"{persona}:\n" + "\n".join(wrong)
