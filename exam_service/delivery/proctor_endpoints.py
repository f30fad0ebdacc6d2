"""Staff actions on a sitting over HTTP: authorise, pause, resume, extend, terminate; audit views."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep
from exam_service.delivery import answers
from exam_service.delivery import service as delivery_service
from exam_service.delivery.auth import StaffAttempt
from exam_service.delivery.endpoints import status_of
from exam_service.delivery.repository import AttemptRepository
from exam_service.delivery.schemas import AttemptStatus, EventRead, Extension, ItemTiming, Reason, TransitionRead
from exam_service.identity.auth import ExaminerUser, ProctorUser, StaffUser
from exam_service.scheduling import service as scheduling_service

router = APIRouter(prefix="/api/v1/proctoring", tags=["proctoring"])


@router.get("/windows/{window_id}/attempts", response_model=list[AttemptStatus])
async def window_attempts(
    session: SessionDep, _staff: StaffUser, window_id: uuid.UUID, clock: ClockDep
) -> list[AttemptStatus]:
    window = await scheduling_service.get_window(session, window_id)
    attempts = await AttemptRepository(session).in_window(window.id)
    return [status_of(await delivery_service.settle(session, a, window, clock), clock) for a in attempts]


@router.get("/attempts/{attempt_id}", response_model=AttemptStatus)
async def read_attempt(attempt: StaffAttempt, clock: ClockDep) -> AttemptStatus:
    return status_of(attempt, clock)


@router.post("/attempts/{attempt_id}/authorize", response_model=AttemptStatus)
async def authorize(session: SessionDep, attempt: StaffAttempt, proctor: ProctorUser, clock: ClockDep) -> AttemptStatus:
    await delivery_service.authorize(session, attempt, proctor, clock)
    return status_of(attempt, clock)


@router.post("/attempts/{attempt_id}/pause", response_model=AttemptStatus)
async def pause(
    session: SessionDep, attempt: StaffAttempt, proctor: ProctorUser, data: Reason, clock: ClockDep
) -> AttemptStatus:
    await delivery_service.pause(session, attempt, proctor, data.reason, clock)
    return status_of(attempt, clock)


@router.post("/attempts/{attempt_id}/resume", response_model=AttemptStatus)
async def resume(
    session: SessionDep, attempt: StaffAttempt, proctor: ProctorUser, data: Reason, clock: ClockDep
) -> AttemptStatus:
    await delivery_service.resume(session, attempt, proctor, data.reason, clock)
    return status_of(attempt, clock)


@router.post("/attempts/{attempt_id}/extend", response_model=AttemptStatus)
async def extend(
    session: SessionDep, attempt: StaffAttempt, proctor: ProctorUser, data: Extension, clock: ClockDep
) -> AttemptStatus:
    await delivery_service.extend(session, attempt, proctor, data.minutes, data.reason, clock)
    return status_of(attempt, clock)


@router.post("/attempts/{attempt_id}/terminate", response_model=AttemptStatus)
async def terminate(
    session: SessionDep, attempt: StaffAttempt, proctor: ProctorUser, data: Reason, clock: ClockDep
) -> AttemptStatus:
    await delivery_service.terminate(session, attempt, proctor, data.reason, clock)
    return status_of(attempt, clock)


@router.get("/attempts/{attempt_id}/transitions", response_model=list[TransitionRead])
async def transitions(session: SessionDep, attempt: StaffAttempt) -> list[TransitionRead]:
    return [TransitionRead.model_validate(t) for t in await AttemptRepository(session).transitions(attempt.id)]


@router.get("/attempts/{attempt_id}/events", response_model=list[EventRead])
async def events(session: SessionDep, attempt: StaffAttempt) -> list[EventRead]:
    return [EventRead.model_validate(e) for e in await AttemptRepository(session).events(attempt.id)]


@router.get("/attempts/{attempt_id}/timing", response_model=list[ItemTiming])
async def item_timing(session: SessionDep, attempt: StaffAttempt, _examiner: ExaminerUser) -> list[ItemTiming]:
    return [
        ItemTiming(
            position=r.position,
            time_spent_seconds=r.time_spent_seconds,
            answered=r.value is not None,
            flagged=r.flagged,
            revision=r.revision,
        )
        for r in await answers.responses_of(session, attempt)
    ]
