"""Who may reach a result: examiners and administrators any sitting's, a candidate only their own."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep
from exam_service.core.errors import NotFound
from exam_service.delivery.auth import settled
from exam_service.delivery.repository import AttemptRepository
from exam_service.identity.auth import ExaminerUser
from exam_service.models import Attempt


async def examined_attempt(
    attempt_id: uuid.UUID, _examiner: ExaminerUser, session: SessionDep, clock: ClockDep
) -> Attempt:
    """The sitting, locked, with what the clock decided applied first (an overdue sitting is submitted)."""
    attempt = await AttemptRepository(session).get(attempt_id)
    if attempt is None:
        raise NotFound("no such attempt", field="attempt_id")
    return await settled(session, attempt, clock)


ExaminedAttempt = Annotated[Attempt, Depends(examined_attempt)]
