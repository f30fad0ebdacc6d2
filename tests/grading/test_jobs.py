"""Grading jobs end to end: written with the submit, graded in the sandbox, stored once, read by examiners."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.broker import InProcessBroker
from exam_service.core.clock import FrozenClock
from exam_service.core.database import transaction
from exam_service.grading import service as grading_service
from exam_service.grading.jobs import GradingContext, run_job
from exam_service.grading.queue import Dispatcher, LocalPool
from exam_service.grading.sandbox import Sandbox
from exam_service.models import GradingJob, GradingState, Role
from tests.delivery.helpers import Sitting, sitting
from tests.factories import auth_headers

GOOD = 'FROM python:3.12-slim\nRUN useradd -r app\nUSER app\nCMD ["python", "-m", "serve"]\n'
ROOT = "FROM python:3.12-slim\nUSER root\n"


def context(
    sm: async_sessionmaker[AsyncSession], clock: FrozenClock, sandbox: Sandbox, worker: str = "w1"
) -> GradingContext:
    return GradingContext(sm, clock, sandbox, concurrency=2, max_tries=3, worker=worker, lease=timedelta(seconds=60))


async def submitted(
    client: httpx.AsyncClient, sm: async_sessionmaker[AsyncSession], clock: FrozenClock, dockerfile: str | None
) -> tuple[Sitting, int]:
    s = await sitting(client, sm, clock)
    form = await s.form()
    position = next(i["position"] for i in form["items"] if i["item"]["type"] == "performance_task")
    if dockerfile is not None:
        assert (await s.save(position, 1, {"Dockerfile": "FROM scratch\n"})).status_code == 200
        assert (await s.save(position, 2, {"Dockerfile": dockerfile})).status_code == 200
    assert (await s.post("/submit")).status_code == 200
    return s, position


async def jobs(sm: async_sessionmaker[AsyncSession], attempt_id: str) -> list[GradingJob]:
    async with sm() as session:
        statement = select(GradingJob).where(GradingJob.attempt_id == uuid.UUID(attempt_id))
        return list((await session.execute(statement)).scalars())


async def test_the_submit_writes_one_job_per_task_pinning_the_answer_revision(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s, position = await submitted(client, sessionmaker, clock, GOOD)
    [job] = await jobs(sessionmaker, s.attempt_id)
    assert (job.position, job.revision, job.state) == (position, 2, GradingState.pending)
    # a retried submit returns the same receipt and writes no second job
    assert (await s.post("/submit")).status_code == 200
    assert len(await jobs(sessionmaker, s.attempt_id)) == 1


async def test_a_job_grades_the_pinned_answer_and_only_examiners_read_the_checks(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, sandbox: Sandbox
) -> None:
    s, position = await submitted(client, sessionmaker, clock, GOOD)
    [job] = await jobs(sessionmaker, s.attempt_id)
    assert await run_job(context(sessionmaker, clock, sandbox), job.id) == "graded"
    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    response = await client.get(f"{s.url}/grading", headers=examiner)
    assert response.status_code == 200, response.text
    [graded] = response.json()
    assert (graded["position"], graded["state"], graded["points"], graded["max_points"]) == (
        position,
        "graded",
        1.0,
        1.0,
    )
    assert graded["isolation"] == "bubblewrap"
    assert [(c["id"], c["passed"]) for c in graded["checks"]] == [("user", True)]
    for headers in (s.headers, s.proctor):
        assert (await client.get(f"{s.url}/grading", headers=headers)).status_code == 403
    missing = await client.get(f"/api/v1/attempts/{uuid.uuid4()}/grading", headers=examiner)
    assert missing.status_code == 404


async def test_a_failing_answer_scores_zero_with_feedback_and_no_answer_is_not_run(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, sandbox: Sandbox
) -> None:
    s, _ = await submitted(client, sessionmaker, clock, ROOT)
    [job] = await jobs(sessionmaker, s.attempt_id)
    await run_job(context(sessionmaker, clock, sandbox), job.id)
    [stored] = await jobs(sessionmaker, s.attempt_id)
    assert (stored.state, stored.points) == (GradingState.graded, 0.0)
    assert stored.checks is not None
    assert stored.checks[0]["feedback"] == ["the image must switch to a non-root USER"]

    empty, _ = await submitted(client, sessionmaker, clock, None)
    [job] = await jobs(sessionmaker, empty.attempt_id)
    await run_job(context(sessionmaker, clock, sandbox), job.id)
    [stored] = await jobs(sessionmaker, empty.attempt_id)
    assert (stored.state, stored.points, stored.isolation) == (GradingState.graded, 0.0, "none")
    assert stored.checks is not None
    assert stored.checks[0]["feedback"] == ["no answer was submitted"]


async def test_a_job_run_twice_keeps_one_result_and_a_dead_workers_job_is_taken_over(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, sandbox: Sandbox
) -> None:
    s, _ = await submitted(client, sessionmaker, clock, GOOD)
    [job] = await jobs(sessionmaker, s.attempt_id)
    first = context(sessionmaker, clock, sandbox, worker="first")
    # the first worker claims the job and dies before finishing
    async with transaction(sessionmaker) as session:
        claim = await grading_service.claim(session, job.id, "first", clock.now(), 3, first.lease)
    assert claim is not None
    second = context(sessionmaker, clock, sandbox, worker="second")
    assert await run_job(second, job.id) == "skipped"  # the lease is still alive
    clock.advance(seconds=61)
    assert await run_job(second, job.id) == "graded"
    assert await run_job(second, job.id) == "skipped"
    # the first worker comes back to life and tries to store its own result: refused
    from exam_service.grading.engine import unanswered
    from exam_service.grading.jobs import ITEM

    task = ITEM.validate_python(claim.payload)
    async with transaction(sessionmaker) as session:
        assert not await grading_service.finish(session, claim, unanswered(task), "first", clock.now())  # type: ignore[arg-type]
    [stored] = await jobs(sessionmaker, s.attempt_id)
    assert (stored.state, stored.points, stored.worker, stored.tries) == (GradingState.graded, 1.0, "second", 2)


async def test_a_job_that_keeps_killing_its_workers_is_handed_to_an_examiner(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, sandbox: Sandbox
) -> None:
    s, _ = await submitted(client, sessionmaker, clock, GOOD)
    [job] = await jobs(sessionmaker, s.attempt_id)
    for _ in range(3):
        async with transaction(sessionmaker) as session:
            assert await grading_service.claim(session, job.id, "w", clock.now(), 3, timedelta(seconds=60))
        clock.advance(seconds=61)
    assert await run_job(context(sessionmaker, clock, sandbox), job.id) == "skipped"
    [stored] = await jobs(sessionmaker, s.attempt_id)
    assert stored.state is GradingState.failed
    assert stored.error is not None
    assert "an examiner must grade" in stored.error


async def test_the_local_pool_grades_what_the_outbox_holds(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, sandbox: Sandbox
) -> None:
    """Jobs written while nothing was grading (a restart, an outage) are picked up by the next dispatcher."""
    first, _ = await submitted(client, sessionmaker, clock, GOOD)
    second, _ = await submitted(client, sessionmaker, clock, ROOT)
    grading = context(sessionmaker, clock, sandbox)
    pool = LocalPool(grading)
    dispatcher = Dispatcher(grading, InProcessBroker(), pool.hand_over, timedelta(minutes=10), mark=False)
    assert await dispatcher.tick() == 2
    await pool.drain()
    assert await dispatcher.tick() == 0
    points = {}
    for s in (first, second):
        [stored] = await jobs(sessionmaker, s.attempt_id)
        points[s.attempt_id] = (stored.state, stored.points)
    assert points == {first.attempt_id: (GradingState.graded, 1.0), second.attempt_id: (GradingState.graded, 0.0)}
