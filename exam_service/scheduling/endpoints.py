"""Windows (admins create them and assign their proctors), waivers (examiners grant them)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep
from exam_service.core.openapi import errors
from exam_service.identity.auth import AdminUser, CurrentUser, ExaminerUser
from exam_service.scheduling import service as scheduling_service
from exam_service.scheduling.repository import WindowRepository
from exam_service.scheduling.schemas import Assignment, ProctorRead, WaiverCreate, WaiverRead, WindowCreate, WindowRead

router = APIRouter(prefix="/api/v1", tags=["scheduling"])


@router.post("/windows", response_model=WindowRead, status_code=status.HTTP_201_CREATED, responses=errors(404, 409))
async def create_window(session: SessionDep, admin: AdminUser, data: WindowCreate, clock: ClockDep) -> WindowRead:
    return WindowRead.model_validate(await scheduling_service.create_window(session, admin, data, clock))


@router.get("/windows", response_model=list[WindowRead])
async def list_windows(session: SessionDep, _user: CurrentUser, clock: ClockDep) -> list[WindowRead]:
    """Windows that have not closed yet: candidates book from this list."""
    return [WindowRead.model_validate(w) for w in await WindowRepository(session).list(open_after=clock.now())]


@router.get("/windows/{window_id}/proctors", response_model=list[ProctorRead])
async def window_proctors(session: SessionDep, _admin: AdminUser, window_id: uuid.UUID) -> list[ProctorRead]:
    window = await scheduling_service.get_window(session, window_id)
    return [ProctorRead.model_validate(p) for p in await scheduling_service.proctors_of(session, window)]


@router.post("/windows/{window_id}/proctors", response_model=ProctorRead, status_code=status.HTTP_201_CREATED)
async def assign_proctor(
    session: SessionDep, admin: AdminUser, window_id: uuid.UUID, data: Assignment, clock: ClockDep
) -> ProctorRead:
    window = await scheduling_service.get_window(session, window_id)
    return ProctorRead.model_validate(
        await scheduling_service.assign_proctor(session, window, data.proctor_id, admin, clock)
    )


@router.delete("/windows/{window_id}/proctors/{proctor_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unassign_proctor(session: SessionDep, _admin: AdminUser, window_id: uuid.UUID, proctor_id: uuid.UUID) -> None:
    window = await scheduling_service.get_window(session, window_id)
    await scheduling_service.unassign_proctor(session, window, proctor_id)


@router.post("/waivers", response_model=WaiverRead, status_code=status.HTTP_201_CREATED, responses=errors(404, 409))
async def grant_waiver(session: SessionDep, examiner: ExaminerUser, data: WaiverCreate, clock: ClockDep) -> WaiverRead:
    return WaiverRead.model_validate(await scheduling_service.grant_waiver(session, examiner, data, clock))
