"""Exam windows, seats and the tier sequence (a valid credential of the previous tier, or a waiver)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import TIER_ORDER, Tier
from exam_service.core.clock import Clock
from exam_service.core.errors import Conflict, NotFound
from exam_service.delivery.repository import AttemptRepository, WindowRepository
from exam_service.delivery.service import Actor
from exam_service.identity.repository import UserRepository
from exam_service.models import Attempt, AttemptState, AttemptTransition, ExamWindow, Role, User, Waiver
from exam_service.scheduling.repository import PrerequisiteRepository
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
            created_by=admin.id,
            created_at=clock.now(),
        )
    )


async def get_window(session: AsyncSession, window_id: uuid.UUID) -> ExamWindow:
    window = await WindowRepository(session).get(window_id)
    if window is None:
        raise NotFound("no such exam window")
    return window


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


async def register(session: AsyncSession, window: ExamWindow, candidate: User, actor: User, clock: Clock) -> Attempt:
    now = clock.now()
    if candidate.role is not Role.candidate:
        raise Conflict("only candidates can be registered for an exam", field="candidate_id")
    if window.closes_at <= now:
        raise Conflict("the window has closed")
    attempts = AttemptRepository(session)
    await WindowRepository(session).lock(window.id)
    if await attempts.find(window.id, candidate.id) is not None:
        raise Conflict("already registered for this window")
    await check_prerequisite(session, candidate, window.tier, clock)
    if window.capacity is not None and await attempts.count_in_window(window.id) >= window.capacity:
        raise Conflict("the window is full")
    attempt = await attempts.add(
        Attempt(window_id=window.id, candidate_id=candidate.id, state=AttemptState.registered, created_at=now)
    )
    who = Actor.of(actor)
    reason = "booked by the candidate" if actor.id == candidate.id else "registered by an administrator"
    await attempts.record_transition(
        AttemptTransition(
            attempt_id=attempt.id,
            from_state="new",
            to_state=AttemptState.registered.value,
            actor_id=who.id,
            actor_role=who.role,
            reason=reason,
            at=now,
        )
    )
    return attempt


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
