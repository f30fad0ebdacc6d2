"""The service as a user meets it: ``exam-service demo`` on a fresh SQLite file, then a real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Server, run_cli


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = {**os.environ, "EXAM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/web.db", "EXAM_LOG_JSON": "false"}
    demo = run_cli(["demo"], env)
    assert demo.returncode == 0, demo.stderr
    running = Server(env, tmp_path / "server.log")
    running.start()
    yield running
    running.stop()
