from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep
from exam_service.delivery.endpoints import status_of
from exam_service.delivery.repository import WindowRepository
from exam_service.delivery.schemas import AttemptStatus
from exam_service.identity.auth import AdminUser, CandidateUser, CurrentUser, ExaminerUser
from exam_service.scheduling import service as scheduling_service
from exam_service.scheduling.schemas import Registration, WaiverCreate, WaiverRead, WindowCreate, WindowRead

router = APIRouter(prefix="/api/v1", tags=["scheduling"])


@router.post("/windows", response_model=WindowRead, status_code=status.HTTP_201_CREATED)
async def create_window(session: SessionDep, admin: AdminUser, data: WindowCreate, clock: ClockDep) -> WindowRead:
    return WindowRead.model_validate(await scheduling_service.create_window(session, admin, data, clock))


@router.get("/windows", response_model=list[WindowRead])
async def list_windows(session: SessionDep, _user: CurrentUser, clock: ClockDep) -> list[WindowRead]:
    """Windows that have not closed yet: candidates book from this list."""
    return [WindowRead.model_validate(w) for w in await WindowRepository(session).list(open_after=clock.now())]


@router.post("/windows/{window_id}/registrations", response_model=AttemptStatus, status_code=status.HTTP_201_CREATED)
async def register_candidate(
    session: SessionDep, admin: AdminUser, window_id: uuid.UUID, data: Registration, clock: ClockDep
) -> AttemptStatus:
    window = await scheduling_service.get_window(session, window_id)
    candidate = await scheduling_service.candidate_by_id(session, data.candidate_id)
    return status_of(await scheduling_service.register(session, window, candidate, admin, clock), clock)


@router.post("/windows/{window_id}/bookings", response_model=AttemptStatus, status_code=status.HTTP_201_CREATED)
async def book_seat(
    session: SessionDep, candidate: CandidateUser, window_id: uuid.UUID, clock: ClockDep
) -> AttemptStatus:
    window = await scheduling_service.get_window(session, window_id)
    return status_of(await scheduling_service.register(session, window, candidate, candidate, clock), clock)


@router.post("/waivers", response_model=WaiverRead, status_code=status.HTTP_201_CREATED)
async def grant_waiver(session: SessionDep, examiner: ExaminerUser, data: WaiverCreate, clock: ClockDep) -> WaiverRead:
    return WaiverRead.model_validate(await scheduling_service.grant_waiver(session, examiner, data, clock))
