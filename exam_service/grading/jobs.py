"""The grading job: the same code whether arq runs it on a worker host or the local pool does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank.authoring import Item, PerformanceTask
from exam_service.core.clock import Clock
from exam_service.core.database import transaction
from exam_service.grading import engine
from exam_service.grading import service as grading_service
from exam_service.grading.sandbox import Sandbox, SandboxUnavailable

ITEM = TypeAdapter(Item)

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class GradingContext:
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    sandbox: Sandbox
    concurrency: int
    max_tries: int
    worker: str
    lease: timedelta = timedelta(seconds=60)


async def run_job(context: GradingContext, job_id: uuid.UUID) -> str:
    """Claims, grades and stores one job; returns what happened (for logs and tests)."""
    async with transaction(context.sessionmaker) as session:
        now = context.clock.now()
        claim = await grading_service.claim(session, job_id, context.worker, now, context.max_tries, context.lease)
    if claim is None:
        return "skipped"
    try:
        task = ITEM.validate_python(claim.payload)
    except ValidationError as exc:
        async with transaction(context.sessionmaker) as session:
            reason = (
                f"this task version's grader cannot run ({exc.error_count()} format errors); an examiner must grade it"
            )
            await grading_service.fail(session, claim, reason, context.clock.now())
        return "failed"
    assert isinstance(task, PerformanceTask)
    answer = claim.answer if isinstance(claim.answer, dict) else {}
    answer = {k: v for k, v in answer.items() if isinstance(k, str) and isinstance(v, str)}
    try:
        async with _renewing(context, job_id):
            if answer:
                grade = await engine.grade_task(task, answer, context.sandbox, concurrency=context.concurrency)
            else:
                grade = engine.unanswered(task)
    except SandboxUnavailable as exc:
        log.error("grading job %s not run: %s", job_id, exc)
        async with transaction(context.sessionmaker) as session:
            await grading_service.release(session, job_id, str(exc))
        raise
    async with transaction(context.sessionmaker) as session:
        stored = await grading_service.finish(session, claim, grade, context.worker, context.clock.now())
    log.info("graded", extra={"job": str(job_id), "points": grade.points, "stored": stored})
    return "graded" if stored else "duplicate"


@contextlib.asynccontextmanager
async def _renewing(context: GradingContext, job_id: uuid.UUID) -> AsyncIterator[None]:
    """Keeps the job's lease while it runs, so nobody takes over a job that is still alive."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(context.lease.total_seconds() / 4)
            try:
                async with transaction(context.sessionmaker) as session:
                    until = context.clock.now() + context.lease
                    await grading_service.renew(session, job_id, context.worker, until)
            except Exception:
                log.exception("could not renew the lease of grading job %s", job_id)

    renewer = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
