"""Grading jobs: requested with the submit, claimed by one worker at a time, finished once."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.core.database import publish_after_commit
from exam_service.grading.engine import TaskGrade
from exam_service.grading.repository import FINISHED, GradingRepository, answer_at
from exam_service.models import Attempt, GradingJob, GradingState

GRADING_CHANNEL = "grading"  # "jobs are waiting" and "a job finished", for dispatchers and scoring

log = logging.getLogger(__name__)


async def request_for_attempt(session: AsyncSession, attempt: Attempt, now: datetime) -> list[uuid.UUID]:
    """Writes a job per performance task of a submitted attempt, in the submit's transaction.

    The jobs are announced only after commit; if the announcement is lost, dispatchers still
    find them pending, so the request cannot be lost with the queue.
    """
    if attempt.form_id is None:
        return []
    repository = GradingRepository(session)
    existing = await repository.existing(attempt.id)
    created = []
    for row, version in await bank_service.form_items(session, attempt.form_id):
        if version.payload.get("type") != "performance_task":
            continue
        stored = await answer_at(session, attempt.id, row.position)
        revision = stored[0] if stored else 0
        if (row.position, revision) in existing:
            continue
        job = GradingJob(
            attempt_id=attempt.id,
            position=row.position,
            item_version_id=version.id,
            revision=revision,
            state=GradingState.pending,
            created_at=now,
        )
        created.append((await repository.add(job)).id)
    # announced even without tasks: scoring hears that the sitting ended with nothing to grade
    message = {"pending": [str(i) for i in created], "attempt_id": str(attempt.id)}
    publish_after_commit(session, GRADING_CHANNEL, message)
    return created


@dataclass(frozen=True)
class Claim:
    job_id: uuid.UUID
    attempt_id: uuid.UUID
    position: int
    payload: dict[str, Any]
    answer: Any


async def claim(
    session: AsyncSession, job_id: uuid.UUID, worker: str, now: datetime, max_tries: int, lease: timedelta
) -> Claim | None:
    """Takes the job for ``worker``; ``None`` when it is finished or another live worker holds it."""
    repository = GradingRepository(session)
    job = await repository.lock(job_id)
    if job is None or job.state in FINISHED:
        return None
    if job.state is GradingState.running and job.lease_until is not None and job.lease_until > now:
        return None
    if job.tries >= max_tries:
        job.state, job.finished_at = GradingState.failed, now
        job.error = f"grading did not complete in {job.tries} tries; an examiner must grade this task"
        publish_after_commit(session, GRADING_CHANNEL, {"finished": str(job.id), "attempt_id": str(job.attempt_id)})
        return None
    stored = await answer_at(session, job.attempt_id, job.position)
    version = await bank_service.version_by_id(session, job.item_version_id)
    job.tries += 1
    job.state, job.worker = GradingState.running, worker
    job.started_at, job.lease_until = now, now + lease
    answer = stored[1] if stored and stored[0] == job.revision else None
    if stored and stored[0] != job.revision:
        log.error("grading job %s pins revision %s but the answer is at %s", job.id, job.revision, stored[0])
    return Claim(job.id, job.attempt_id, job.position, version.payload, answer)


async def renew(session: AsyncSession, job_id: uuid.UUID, worker: str, until: datetime) -> bool:
    """Extends a running job's lease while its worker is alive."""
    return await GradingRepository(session).renew(job_id, worker, until)


async def finish(session: AsyncSession, claim: Claim, grade: TaskGrade, worker: str, now: datetime) -> bool:
    """Stores the grade; ``False`` when another run already stored one (that one stands)."""
    values = {
        "state": GradingState.graded,
        "points": grade.points,
        "max_points": grade.max_points,
        "checks": [c.as_dict() for c in grade.checks],
        "isolation": grade.isolation,
        "worker": worker,
        "error": "a check could not judge this answer; an examiner should look" if grade.needs_examiner else None,
    }
    return await _store(session, claim, values, now)


async def fail(session: AsyncSession, claim: Claim, reason: str, now: datetime) -> bool:
    return await _store(session, claim, {"state": GradingState.failed, "error": reason}, now)


async def _store(session: AsyncSession, claim: Claim, values: dict[str, Any], now: datetime) -> bool:
    stored = await GradingRepository(session).finish(claim.job_id, {**values, "finished_at": now, "lease_until": None})
    if stored:
        message = {"finished": str(claim.job_id), "attempt_id": str(claim.attempt_id)}
        publish_after_commit(session, GRADING_CHANNEL, message)
    return stored


async def release(session: AsyncSession, job_id: uuid.UUID, reason: str) -> None:
    """Gives an unfinished job back (the grader could not run), to be tried again later."""
    job = await GradingRepository(session).lock(job_id)
    if job is not None and job.state not in FINISHED:
        job.state, job.lease_until, job.error = GradingState.pending, None, reason
        job.tries = max(0, job.tries - 1)


async def due(session: AsyncSession, now: datetime, requeue_after: timedelta, limit: int = 100) -> list[GradingJob]:
    return await GradingRepository(session).due(now, now - requeue_after, limit)


async def mark_queued(session: AsyncSession, job_ids: list[uuid.UUID], now: datetime) -> None:
    await GradingRepository(session).mark_queued(job_ids, now)


async def jobs_of(session: AsyncSession, attempt_id: uuid.UUID) -> list[GradingJob]:
    return await GradingRepository(session).of_attempt(attempt_id)
