"""Attempt dependencies: load the caller's attempt (or any, for staff) and apply the clock."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep
from exam_service.core.errors import NotFound
from exam_service.delivery import service as delivery_service
from exam_service.delivery.repository import AttemptRepository
from exam_service.identity.auth import CandidateUser, StaffUser
from exam_service.models import Attempt


async def candidate_attempt(
    attempt_id: uuid.UUID, candidate: CandidateUser, session: SessionDep, clock: ClockDep
) -> Attempt:
    """The candidate's own attempt; someone else's is a 404 so ids are never confirmed."""
    attempt = await AttemptRepository(session).get(attempt_id, candidate_id=candidate.id)
    if attempt is None:
        raise NotFound("no such attempt")
    await delivery_service.enforce_clock(session, attempt, clock)
    return attempt


async def staff_attempt(attempt_id: uuid.UUID, _staff: StaffUser, session: SessionDep, clock: ClockDep) -> Attempt:
    attempt = await AttemptRepository(session).get(attempt_id)
    if attempt is None:
        raise NotFound("no such attempt")
    await delivery_service.enforce_clock(session, attempt, clock)
    return attempt


CandidateAttempt = Annotated[Attempt, Depends(candidate_attempt)]
StaffAttempt = Annotated[Attempt, Depends(staff_attempt)]
