"""Attempt dependencies: load the caller's attempt (or one a staff member may see) and apply the clock.

What the clock decides (an overdue attempt submitted, an unstarted one expired) is committed
on its own before the route runs, so a route that then refuses the request cannot undo it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.clock import Clock
from exam_service.core.database import SessionDep, checkpoint
from exam_service.core.deps import ClockDep
from exam_service.core.errors import NotFound
from exam_service.delivery import service as delivery_service
from exam_service.delivery.repository import AttemptRepository
from exam_service.identity.auth import CandidateUser, StaffUser
from exam_service.models import Attempt
from exam_service.scheduling import service as scheduling_service


async def settled(session: AsyncSession, attempt: Attempt, clock: Clock) -> Attempt:
    """Applies the clock to a locked attempt; a decision is committed at once, then the row is locked again."""
    if not await delivery_service.enforce_clock(session, attempt, clock):
        return attempt
    await checkpoint(session)
    relocked = await AttemptRepository(session).get(attempt.id)
    assert relocked is not None
    return relocked


async def candidate_attempt(
    attempt_id: uuid.UUID, candidate: CandidateUser, session: SessionDep, clock: ClockDep
) -> Attempt:
    """The candidate's own attempt; someone else's is a 404 so ids are never confirmed."""
    attempt = await AttemptRepository(session).get(attempt_id, candidate_id=candidate.id)
    if attempt is None:
        raise NotFound("no such attempt")
    return await settled(session, attempt, clock)


async def staff_attempt(attempt_id: uuid.UUID, staff: StaffUser, session: SessionDep, clock: ClockDep) -> Attempt:
    """Any attempt for admins and examiners; for a proctor, only the sittings of their windows."""
    attempt = await AttemptRepository(session).get(attempt_id)
    if attempt is None or not await scheduling_service.may_proctor(session, staff, attempt.window_id):
        raise NotFound("no such attempt")
    return await settled(session, attempt, clock)


CandidateAttempt = Annotated[Attempt, Depends(candidate_attempt)]
StaffAttempt = Annotated[Attempt, Depends(staff_attempt)]
