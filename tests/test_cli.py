"""The quick-start path, run as a user runs it: real processes, a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exam_service.cli import DEMO_ACCOUNTS

pytestmark = pytest.mark.slow
EXE = [sys.executable, "-m", "exam_service.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # in a folder that does not exist yet, like ./var on a fresh clone
    return {**os.environ, "EXAM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/demo.db", "EXAM_LOG_JSON": "false"}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def served(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    demo = _run(["demo"], env)
    assert demo.returncode == 0, demo.stderr
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([*EXE, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not come up")
        yield base
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_demo_is_idempotent_and_prints_every_login(env: dict[str, str]) -> None:
    for _ in range(2):
        result = _run(["demo"], env)
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


def test_users_create_and_db_upgrade(env: dict[str, str]) -> None:
    assert _run(["db", "upgrade"], env).returncode == 0
    created = _run(
        [
            "users",
            "create",
            "--email",
            "p@example.org",
            "--name",
            "P",
            "--role",
            "proctor",
            "--password",
            "a long enough password",
        ],
        env,
    )
    assert created.returncode == 0, created.stderr
    again = _run(
        [
            "users",
            "create",
            "--email",
            "p@example.org",
            "--name",
            "P",
            "--role",
            "proctor",
            "--password",
            "a long enough password",
        ],
        env,
    )
    assert again.returncode == 1
    assert "already exists" in again.stdout


def test_metrics_add_up_across_several_workers(env: dict[str, str], tmp_path: Path) -> None:
    assert _run(["db", "upgrade"], env).returncode == 0
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    port = _free_port()
    with (tmp_path / "workers.log").open("wb") as log:
        process = subprocess.Popen(
            [*EXE, "serve", "--port", str(port), "--workers", "2"], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        for _ in range(40):  # new connections, spread over both workers by the kernel
            assert httpx.get(f"{base}/healthz").status_code == 200
        text = httpx.get(f"{base}/metrics").text
        [line] = [row for row in text.splitlines() if row.startswith("exam_http_requests_total") and "/healthz" in row]
        assert float(line.rsplit(" ", 1)[1]) >= 40
        # both workers counted requests, and /metrics added them up
        assert len(list(metrics_dir.glob("counter_*.db"))) == 2
    finally:
        process.terminate()
        process.wait(15)
