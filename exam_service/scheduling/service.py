"""Exam windows, their proctors and the tier sequence (a valid credential of the previous tier, or a waiver).

Scheduling knows nothing of attempts: delivery asks it for windows, locks and prerequisites.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import TIER_ORDER, Tier
from exam_service.core.broker import LIVE_CHANNEL
from exam_service.core.clock import Clock
from exam_service.core.database import publish_after_commit
from exam_service.core.errors import Conflict, NotFound
from exam_service.identity.repository import UserRepository
from exam_service.models import ExamWindow, Role, User, Waiver, WindowProctor
from exam_service.scheduling.repository import AssignmentRepository, PrerequisiteRepository, WindowRepository
from exam_service.scheduling.schemas import WaiverCreate, WindowCreate


async def create_window(session: AsyncSession, admin: User, data: WindowCreate, clock: Clock) -> ExamWindow:
    if data.closes_at <= clock.now():
        raise Conflict("closes_at is in the past", field="closes_at")
    blueprint = await bank_service.blueprint_version(session, data.blueprint, data.blueprint_version)
    # every candidate's form must be assemblable from today's pool
    await bank_service.check_blueprint(session, bank_service.blueprint_of(blueprint))
    return await WindowRepository(session).add(
        ExamWindow(
            title=data.title,
            tier=blueprint.tier,
            blueprint_version_id=blueprint.id,
            opens_at=data.opens_at,
            closes_at=data.closes_at,
            proctored=data.proctored,
            capacity=data.capacity,
            risk_threshold=data.risk_threshold,
            pause_on_disconnect=data.pause_on_disconnect,
            webcam_interval_seconds=data.webcam_interval_seconds,
            created_by=admin.id,
            created_at=clock.now(),
        )
    )


async def get_window(session: AsyncSession, window_id: uuid.UUID) -> ExamWindow:
    window = await WindowRepository(session).get(window_id)
    if window is None:
        raise NotFound("no such exam window")
    return window


async def lock_window(session: AsyncSession, window_id: uuid.UUID) -> ExamWindow:
    """Holds the window's row until commit, so seats are counted one booking at a time."""
    window = await WindowRepository(session).lock(window_id)
    if window is None:
        raise NotFound("no such exam window")
    return window


async def windows_for(
    session: AsyncSession, user: User, clock: Clock, *, include_closed: bool = False
) -> list[ExamWindow]:
    """The windows a staff member works on: a proctor's assigned ones, every window for others."""
    open_after = None if include_closed else clock.now()
    proctor_id = user.id if user.role is Role.proctor else None
    return await WindowRepository(session).list(open_after=open_after, proctor_id=proctor_id)


async def may_proctor(session: AsyncSession, user: User, window_id: uuid.UUID) -> bool:
    """Admins and examiners reach every window; a proctor only those they are assigned to."""
    if user.role is not Role.proctor:
        return user.role in (Role.admin, Role.examiner)
    return await AssignmentRepository(session).find(window_id, user.id) is not None


async def assign_proctor(
    session: AsyncSession, window: ExamWindow, proctor_id: uuid.UUID, admin: User, clock: Clock
) -> User:
    proctor = await UserRepository(session).get(proctor_id)
    if proctor is None or proctor.role is not Role.proctor:
        raise NotFound("no such proctor", field="proctor_id")
    assignments = AssignmentRepository(session)
    if await assignments.find(window.id, proctor.id) is None:
        await assignments.add(
            WindowProctor(window_id=window.id, proctor_id=proctor.id, assigned_by=admin.id, assigned_at=clock.now())
        )
    return proctor


async def unassign_proctor(session: AsyncSession, window: ExamWindow, proctor_id: uuid.UUID) -> None:
    """Takes the window from the proctor, including from the consoles they have open right now."""
    if not await AssignmentRepository(session).remove(window.id, proctor_id):
        raise NotFound("that proctor is not assigned to this window", field="proctor_id")
    message = {"type": "unassigned", "window_id": str(window.id), "user_id": str(proctor_id)}
    publish_after_commit(session, LIVE_CHANNEL, message)


async def proctors_of(session: AsyncSession, window: ExamWindow) -> list[User]:
    return await AssignmentRepository(session).proctors(window.id)


async def check_prerequisite(session: AsyncSession, candidate: User, tier: str, clock: Clock) -> None:
    index = TIER_ORDER.index(Tier(tier))
    if index == 0:
        return
    previous = TIER_ORDER[index - 1].value
    repo = PrerequisiteRepository(session)
    if await repo.valid_credential(candidate.id, previous, clock.now()) or await repo.waiver(candidate.id, tier):
        return
    raise Conflict(
        f"the {tier} exam needs a valid {previous} credential or an examiner's waiver",
        prerequisite=previous,
    )


async def candidate_by_id(session: AsyncSession, candidate_id: uuid.UUID) -> User:
    user = await UserRepository(session).get(candidate_id)
    if user is None or user.role is not Role.candidate:
        raise NotFound("no such candidate", field="candidate_id")
    return user


async def grant_waiver(session: AsyncSession, examiner: User, data: WaiverCreate, clock: Clock) -> Waiver:
    candidate = await candidate_by_id(session, data.candidate_id)
    if data.tier is TIER_ORDER[0]:
        raise Conflict("the foundation tier has no prerequisite to waive", field="tier")
    repo = PrerequisiteRepository(session)
    if await repo.waiver(candidate.id, data.tier.value) is not None:
        raise Conflict(f"a {data.tier.value} waiver already exists for this candidate", field="tier")
    return await repo.add_waiver(
        Waiver(
            candidate_id=candidate.id,
            tier=data.tier.value,
            reason=data.reason,
            granted_by=examiner.id,
            granted_at=clock.now(),
        )
    )
