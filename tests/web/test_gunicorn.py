"""Production serving, for real: ``gunicorn -w 3 'webapp:create_app()'`` as a subprocess
on a free port against this test's database (the SQLite file, or PostgreSQL under
``CASECLOCK_TEST_DATABASE_URL``), and ``caseclock worker --once`` as a separate process.

Over HTTP: /health, a browser-like login (cookie jar, the CSRF token from the login
form) whose session every web worker accepts (they share ``CASECLOCK_SECRET_KEY``), the
inbox, and a claim and completion through the JSON API with a bearer token. Every wait
has a timeout and the server's process group is killed in ``finally``, so a broken
server fails the test instead of hanging CI.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from engine.accounts import CreateAccount, IssueToken
from engine.app import CaseClock
from engine.runtime import StartInstance

from ..conftest import ROOT, SHIPPED, deploy
from ..helpers import open_tasks

BIN = Path(sys.executable).parent
GUNICORN = BIN / "gunicorn"
CASECLOCK = BIN / "caseclock"
STARTUP_SECONDS = 60
REQUEST_SECONDS = 20
GOOD = {"applicant_name": "张三", "matter": "食品经营许可证", "documents_complete": True}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECLOCK_")}
    env.update(
        CASECLOCK_DATABASE_URL=database_url,
        # One key for every web worker: a session made by one is read by the others.
        CASECLOCK_SECRET_KEY=secrets.token_hex(32),
    )
    return env


@pytest.fixture
def served(org_app: CaseClock, database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The case handling process with li (staff, reception) and one case whose 受理 task
    is offered to reception, then gunicorn with three workers on that database."""
    deploy(org_app, SHIPPED / "case_handling.bpmn")
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    org_app.execute(CreateAccount("li", ["staff"], None, password_hash=cheap.hash("pw-li")),
                    actor="tests")  # fmt: skip
    case = org_app.execute(StartInstance("case_handling", "GU-0001"), actor="zhao").id
    task = open_tasks(org_app, case)["Task_receive"]["id"]
    token = org_app.execute(IssueToken("li", "gunicorn test"), actor="tests")
    gunicorn = GUNICORN if GUNICORN.exists() else shutil.which("gunicorn")
    if gunicorn is None:  # in the test extra: a missing server is a failure, not a skip
        pytest.fail("gunicorn is not installed: pip install -e '.[test]'")
    port = free_port()
    env = environment(database_url)
    log = (tmp_path / "gunicorn.log").open("wb")
    command = [
        str(gunicorn),
        "-w", "3", "-b", f"127.0.0.1:{port}", "--timeout", "30",
        "--graceful-timeout", "5", "webapp:create_app()",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, tmp_path / "gunicorn.log")
        yield {"base": base, "case": case, "task": task, "token": token, "env": env,
               "engine": org_app, "log": tmp_path / "gunicorn.log"}  # fmt: skip
    finally:
        stop(server)
        log.close()


def wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


def stop(server: subprocess.Popen[bytes]) -> None:
    """TERM to the whole process group (the arbiter and its workers), KILL if it lingers."""
    if server.poll() is None:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=10)


def call(
    opener: urllib.request.OpenerDirector, url: str, data: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, str]:  # fmt: skip
    """(status, final URL, body) without raising on 4xx/5xx."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=REQUEST_SECONDS) as response:
            return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode()


def api(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_SECONDS) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_gunicorn_workers_serve_sessions_the_api_and_health(served):
    base, task = served["base"], served["task"]

    status, _, body = call(urllib.request.build_opener(), f"{base}/health")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok"
    backend = (
        "sqlite" if served["env"]["CASECLOCK_DATABASE_URL"].startswith("sqlite") else "postgresql"
    )
    assert health["database"] == backend
    assert health["worker"] is None  # web processes run no timers: `caseclock worker` does

    # A browser: cookie jar, the CSRF token from the login form, a real session.
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, _, page = call(browser, f"{base}/login")
    assert status == 200
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert csrf, page[:500]
    wrong = urllib.parse.urlencode({"user": "li", "password": "nope", "csrf_token": csrf[1]})
    status, url, _ = call(browser, f"{base}/login", wrong.encode())
    assert url.endswith("/login") and status in (200, 401, 422)
    form = urllib.parse.urlencode({"user": "li", "password": "pw-li", "csrf_token": csrf[1]})
    status, url, page = call(browser, f"{base}/login", form.encode())
    assert status == 200 and url.endswith("/inbox"), (status, url)
    assert any(c.name == "session" for c in jar)
    # Several requests: with three workers they land on more than one, and each accepts
    # the session (the shared secret key) and shows li's group task.
    for _ in range(6):
        status, url, page = call(browser, f"{base}/inbox")
        assert status == 200 and url.endswith("/inbox"), (status, url)
        assert f'data-task="{task}"' in page
    # Without the CSRF token a form post is refused.
    status, _, _ = call(browser, f"{base}/tasks/{task}/claim", b"")
    assert status == 400

    # A separate timer worker process on the same database: the case was started on the
    # tests' frozen clock (March 2026), so its SLA timers are due by the real clock.
    worker = subprocess.run(
        [str(CASECLOCK), "worker", "--once"], cwd=ROOT, env=served["env"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stdout + worker.stderr
    fired = re.search(r"fired (\d+) timer\(s\), (\d+) failed", worker.stdout)
    assert fired and int(fired[1]) >= 1 and fired[2] == "0", worker.stdout

    # A machine client: claim and complete through the API with the bearer token.
    token = served["token"]
    status, me = api(base, token, "GET", "/api/me")
    assert status == 200 and me["user"] == "li"
    status, claimed = api(base, token, "POST", f"/api/tasks/{task}/claim")
    assert status == 200 and claimed["assignee"] == "li", claimed
    status, bad = api(base, token, "POST", f"/api/tasks/{task}/complete", {"data": {}})
    assert status == 422 and "applicant_name" in bad["details"]["fields"]
    status, done = api(base, token, "POST", f"/api/tasks/{task}/complete", {"data": GOOD})
    assert status == 200, done
    assert "Task_review" in open_tasks(served["engine"], served["case"])

    # The browser's session still works after all that, and the server logged no error.
    status, url, page = call(browser, f"{base}/inbox")
    assert status == 200 and url.endswith("/inbox") and f'data-task="{task}"' not in page
    assert "Traceback" not in served["log"].read_text()
