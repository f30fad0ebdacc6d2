"""``exam-service worker`` on arq and Redis: a worker killed in the middle of grading, and the job graded once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.models import GradingJob, GradingState
from tests.conftest import NO_REDIS, REDIS_URL
from tests.delivery.helpers import sitting
from tests.factories import TEST_SECRET, item_payload
from tests.servers import EXE

pytestmark = pytest.mark.integration

SLOW_TASK = item_payload(
    "F-TASK-001",
    "serving",
    "performance_task",
    answer_files=["solve.py"],
    grader={
        "checks": [
            {
                "id": "square",
                "file": "solve.py",
                "kind": "call",
                "message": "solve squares its input",
                "cases": [{"call": "solve", "args": [7], "expect": 49}],
            }
        ]
    },
)
SLOW_ANSWER = "import time\n\ndef solve(x):\n    time.sleep(4)\n    return x * x\n"


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([*EXE, "worker"], env=env, stdout=out, stderr=out)


async def wait_for(
    sm: async_sessionmaker[AsyncSession], attempt_id: str, states: set[GradingState], seconds: float
) -> GradingJob:
    deadline = time.monotonic() + seconds
    while True:
        async with sm() as session:
            statement = select(GradingJob).where(GradingJob.attempt_id == uuid.UUID(attempt_id))
            jobs = list((await session.execute(statement)).scalars())
        if len(jobs) == 1 and jobs[0].state in states:
            return jobs[0]
        assert time.monotonic() < deadline, f"job never reached {states}: {[(j.state, j.tries) for j in jobs]}"
        await asyncio.sleep(0.2)


async def test_a_worker_killed_mid_grading_is_replaced_and_the_job_is_graded_once(
    backend: str,
    database_url: str,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    if REDIS_URL is None:
        pytest.skip(NO_REDIS)
    if backend == "sqlite":
        pytest.skip("the workers share the PostgreSQL database")
    s = await sitting(client, sessionmaker, clock, tasks=[SLOW_TASK])
    form = await s.form()
    position = next(i["position"] for i in form["items"] if i["item"]["type"] == "performance_task")
    assert (await s.save(position, 1, {"solve.py": SLOW_ANSWER})).status_code == 200
    assert (await s.post("/submit")).status_code == 200

    env = os.environ | {
        "EXAM_ENVIRONMENT": "test",
        "EXAM_TOKEN_SECRET": TEST_SECRET,
        "EXAM_DATABASE_URL": database_url,
        "EXAM_REDIS_URL": REDIS_URL,
        "EXAM_GRADING_QUEUE": f"test-grading-{uuid.uuid4().hex}",
        "EXAM_GRADING_JOB_TIMEOUT_SECONDS": "10",  # arq retries a dead worker's job 20 s after it started
        "EXAM_GRADING_LEASE_SECONDS": "8",
        "EXAM_LOG_JSON": "false",
    }
    log = tmp_path / "workers.log"
    first = start_worker(env, log)
    try:
        running = await wait_for(sessionmaker, s.attempt_id, {GradingState.running}, 30)
        assert running.tries == 1
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        second = start_worker(env, log)
        try:
            graded = await wait_for(sessionmaker, s.attempt_id, {GradingState.graded, GradingState.failed}, 60)
        finally:
            second.terminate()
            second.wait(15)
    finally:
        if first.poll() is None:
            first.kill()
    assert graded.state is GradingState.graded, log.read_text()[-3000:]
    assert (graded.points, graded.max_points, graded.tries) == (1.0, 1.0, 2)
    assert graded.worker is not None
    assert graded.worker.endswith(f":{second.pid}")
    assert graded.checks is not None
    assert [(c["id"], c["passed"]) for c in graded.checks] == [("square", True)]
