"""Examiners read how each performance task of a sitting was graded, check by check."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from exam_service.core.database import SessionDep
from exam_service.core.errors import NotFound
from exam_service.grading import service as grading_service
from exam_service.grading.schemas import GradingJobRead
from exam_service.identity.auth import ExaminerUser
from exam_service.models import Attempt

router = APIRouter(prefix="/api/v1", tags=["grading"])


@router.get("/attempts/{attempt_id}/grading", response_model=list[GradingJobRead])
async def attempt_grading(session: SessionDep, _examiner: ExaminerUser, attempt_id: uuid.UUID) -> list[GradingJobRead]:
    """Every grading job of the sitting: state, points, and each check's outcome, feedback and log."""
    if await session.get(Attempt, attempt_id) is None:
        raise NotFound("no such attempt", field="attempt_id")
    return [GradingJobRead.model_validate(job) for job in await grading_service.jobs_of(session, attempt_id)]
