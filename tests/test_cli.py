"""The quick-start path, run as a user runs it: real processes, a real port."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exam_service.demo import ACCOUNTS as DEMO_ACCOUNTS
from tests.servers import Server, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # in a folder that does not exist yet, like ./var on a fresh clone
    return {**os.environ, "EXAM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/demo.db", "EXAM_LOG_JSON": "false"}


@pytest.fixture
def served(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    demo = run_cli(["demo"], env)
    assert demo.returncode == 0, demo.stderr
    server = Server(env, tmp_path / "serve.log")
    server.start()
    yield server.base
    server.stop()


def test_demo_is_idempotent_and_prints_every_login(env: dict[str, str]) -> None:
    for _ in range(2):
        result = run_cli(["demo"], env)
        assert result.returncode == 0, result.stderr
        for email, _name, role, password in DEMO_ACCOUNTS:
            assert email in result.stdout
            assert password in result.stdout
            assert role.value in result.stdout


def test_served_service_logs_in_every_demo_account(served: str) -> None:
    assert httpx.get(f"{served}/docs").status_code == 200
    assert httpx.get(f"{served}/readyz").json()["status"] == "ready"
    for email, _name, role, password in DEMO_ACCOUNTS:
        response = httpx.post(f"{served}/api/v1/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        assert response.json()["role"] == role.value


def test_the_examiner_finds_the_demo_sitting_scored_in_the_review_queue(served: str) -> None:
    examiner = next(a for a in DEMO_ACCOUNTS if a[2].value == "examiner")
    token = httpx.post(f"{served}/api/v1/auth/token", data={"username": examiner[0], "password": examiner[3]})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    deadline, waiting = time.monotonic() + 60, ["no result yet"]
    while time.monotonic() < deadline and waiting:  # the server grades the task and its scorer scores the sitting
        rows = httpx.get(f"{served}/api/v1/results", headers=headers).json()
        if rows:
            report = httpx.get(f"{served}/api/v1/results/{rows[0]['attempt_id']}", headers=headers).json()
            # what may still wait is a manually marked answer, which only an examiner can mark
            waiting = [p for p in report["result"]["pending"] if "marked by an examiner" not in p]
            if shutil.which("bwrap") is None:
                break
        time.sleep(0.5)
    [row] = rows
    assert row["candidate_email"] == "candidate3@example.org"
    if shutil.which("bwrap") is not None:  # graded in the sandbox: the reference solution earns full marks
        assert waiting == []
        task = next(i for i in report["items"] if i["type"] == "performance_task")
        assert task["awarded"] == task["maximum"]


def test_users_create_and_db_upgrade(env: dict[str, str]) -> None:
    assert run_cli(["db", "upgrade"], env).returncode == 0
    command = ["users", "create", "--email", "p@example.org", "--name", "P", "--role", "proctor",
               "--password", "a long enough password"]  # fmt: skip
    created = run_cli(command, env)
    assert created.returncode == 0, created.stderr
    again = run_cli(command, env)
    assert again.returncode == 1
    assert "already exists" in again.stdout


def test_metrics_add_up_across_several_workers(env: dict[str, str], tmp_path: Path) -> None:
    assert run_cli(["db", "upgrade"], env).returncode == 0
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    token = "scrape-5b1e0c9d7a3f42e68c0d1f9a4b7e2c35"
    workers_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "EXAM_METRICS_TOKEN": token}
    server = Server(workers_env, tmp_path / "workers.log", workers=2)
    server.start()
    try:
        for _ in range(40):  # new connections, spread over both workers by the kernel
            assert httpx.get(f"{server.base}/healthz").status_code == 200
        text = httpx.get(f"{server.base}/metrics", headers={"Authorization": f"Bearer {token}"}).text
        [line] = [row for row in text.splitlines() if row.startswith("exam_http_requests_total") and "/healthz" in row]
        assert float(line.rsplit(" ", 1)[1]) >= 40
        # both workers counted requests, and /metrics added them up
        assert len(list(metrics_dir.glob("counter_*.db"))) == 2
    finally:
        server.stop()
