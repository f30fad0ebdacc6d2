"""Sittings answered to order (right or wrong per item), graded in the real sandbox, then scored."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank.presentation import to_shown
from exam_service.core.clock import FrozenClock
from exam_service.demo import authored_answer
from exam_service.grading.jobs import GradingContext, run_job
from exam_service.grading.sandbox import Sandbox
from exam_service.models import Attempt, FormItem, GradingJob, ItemVersion, Result
from exam_service.scoring import service as scoring_service
from tests.delivery.helpers import Sitting

GOOD_DOCKERFILE = 'FROM python:3.12-slim\nRUN useradd -r app\nUSER app\nCMD ["python", "-m", "serve"]\n'
ROOT_DOCKERFILE = "FROM python:3.12-slim\nUSER root\n"


def shown(payload: dict[str, Any], presentation: dict[str, list[str]], authored: Any) -> Any:
    """An answer in authored ids, as the candidate's page sends it (shown labels)."""
    return to_shown(payload, presentation, authored)


def right_answer(payload: dict[str, Any]) -> Any:
    return authored_answer(payload, right=True)


def wrong_answer(payload: dict[str, Any]) -> Any:
    return authored_answer(payload, right=False)


async def form_rows(sm: async_sessionmaker[AsyncSession], attempt_id: str) -> list[tuple[FormItem, ItemVersion]]:
    async with sm() as session:
        attempt = await session.get(Attempt, uuid.UUID(attempt_id))
        assert attempt is not None
        statement = (
            select(FormItem, ItemVersion)
            .join(ItemVersion, ItemVersion.id == FormItem.item_version_id)
            .where(FormItem.form_id == attempt.form_id)
            .order_by(FormItem.position)
        )
        return [(r[0], r[1]) for r in (await session.execute(statement)).all()]


async def answer(
    s: Sitting,
    sm: async_sessionmaker[AsyncSession],
    *,
    wrong: frozenset[int] = frozenset(),
    dockerfile: str | None = None,
    revision: int = 1,
) -> dict[int, dict[str, Any]]:
    """Answers every theory item (wrongly at the positions in ``wrong``) and the task; returns payloads by position."""
    payloads = {}
    for row, version in await form_rows(sm, s.attempt_id):
        payloads[row.position] = version.payload
        if version.payload["type"] == "performance_task":
            if dockerfile is not None:
                assert (await s.save(row.position, revision, {"Dockerfile": dockerfile})).status_code == 200
            continue
        authored = wrong_answer(version.payload) if row.position in wrong else right_answer(version.payload)
        response = await s.save(row.position, revision, shown(version.payload, row.presentation, authored))
        assert response.status_code == 200, response.text
    return payloads


async def grade_all(
    sm: async_sessionmaker[AsyncSession], clock: FrozenClock, sandbox: Sandbox, attempt_id: str
) -> None:
    context = GradingContext(sm, clock, sandbox, concurrency=2, max_tries=3, worker="t", lease=timedelta(seconds=60))
    async with sm() as session:
        statement = select(GradingJob.id).where(GradingJob.attempt_id == uuid.UUID(attempt_id))
        job_ids = list((await session.execute(statement)).scalars())
    for job_id in job_ids:
        assert await run_job(context, job_id) == "graded"


async def score(sm: async_sessionmaker[AsyncSession], clock: FrozenClock, attempt_id: str) -> Result:
    async with sm() as session, session.begin():
        result = await scoring_service.score_by_id(session, uuid.UUID(attempt_id), clock)
        assert result is not None
        return result


async def verify(sm: async_sessionmaker[AsyncSession], clock: FrozenClock, attempt_id: str) -> list[str]:
    async with sm() as session:
        attempt = await session.get(Attempt, uuid.UUID(attempt_id))
        assert attempt is not None
        return await scoring_service.verify(session, attempt, clock)


async def submit(s: Sitting) -> None:
    response = await s.post("/submit")
    assert response.status_code == 200, response.text


async def examiner_post(client: httpx.AsyncClient, headers: dict[str, str], path: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/results/{path}", headers=headers, json=body)
