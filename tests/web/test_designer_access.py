"""Every persona against every designer endpoint: only designers and admins get in.

Anonymous page requests go to the login page; anonymous JSON calls get a JSON 401.
State-changing calls carry a valid CSRF token, so a 403 here is the role check.
"""

from __future__ import annotations

import pytest

from ..conftest import SHIPPED, deploy
from .conftest import csrf

PERSONAS = ["anonymous", "li", "yang", "wang", "zhou", "huang", "zhao"]
ALLOWED = {"huang", "zhao"}  # the designer and the admin
CASE_XML = (SHIPPED / "case_handling.bpmn").read_text(encoding="utf-8")

# (method, path, status for the allowed, status for anonymous)
ENDPOINTS = [
    ("GET", "/designer", 200, 302),
    ("GET", "/designer/case_handling", 200, 302),
    ("GET", "/designer/case_handling/xml", 200, 302),
    ("GET", "/designer/decisions/risk_grade.dmn", 200, 302),
    ("GET", "/designer/decisions/risk_grade.dmn/xml", 200, 302),
    ("POST", "/designer/validate", 200, 401),
    ("POST", "/designer/deploy", 200, 401),
]


@pytest.mark.parametrize("persona", PERSONAS)
def test_designer_endpoints_by_persona(site, persona):
    deploy(site.engine, SHIPPED / "risk_grade.dmn")
    client = site.client(None if persona == "anonymous" else persona)
    token = csrf(client, "/login")
    for method, path, allowed, anonymous in ENDPOINTS:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(
                path, json={"xml": CASE_XML, "file": "case_handling.bpmn"},
                headers={"X-CSRFToken": token},
            )  # fmt: skip
        expected = allowed if persona in ALLOWED else 403
        if persona == "anonymous":
            expected = anonymous
        assert response.status_code == expected, (persona, method, path)
        if (path.endswith("/xml") or method == "POST") and expected != 302:
            # The modeler's fetch calls always get JSON, even when refused.
            assert response.is_json, (persona, path)


def test_nav_link_only_for_designers_and_admins(site):
    for persona in ("li", "zhou", "huang", "zhao"):
        html = site.client(persona).get("/notifications").get_data(as_text=True)
        assert ('data-nav="designer"' in html) == (persona in ALLOWED), persona
