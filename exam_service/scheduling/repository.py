from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.models import Credential, ExamWindow, User, Waiver, WindowProctor


class WindowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, window_id: uuid.UUID) -> ExamWindow | None:
        return await self.session.get(ExamWindow, window_id)

    async def lock(self, window_id: uuid.UUID) -> ExamWindow | None:
        """Serialises bookings of one window, so capacity holds under parallel requests."""
        statement = (
            select(ExamWindow)
            .where(ExamWindow.id == window_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def list(
        self, *, open_after: datetime | None = None, proctor_id: uuid.UUID | None = None
    ) -> list[ExamWindow]:
        """Windows by opening time; with ``proctor_id`` only the windows that proctor is assigned to."""
        statement = select(ExamWindow).order_by(ExamWindow.opens_at)
        if open_after is not None:
            statement = statement.where(ExamWindow.closes_at > open_after)
        if proctor_id is not None:
            statement = statement.join(WindowProctor, WindowProctor.window_id == ExamWindow.id).where(
                WindowProctor.proctor_id == proctor_id
            )
        return list((await self.session.execute(statement)).scalars())

    async def add(self, window: ExamWindow) -> ExamWindow:
        self.session.add(window)
        await self.session.flush()
        return window


class AssignmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, window_id: uuid.UUID, proctor_id: uuid.UUID) -> WindowProctor | None:
        return await self.session.get(WindowProctor, (window_id, proctor_id))

    async def proctors(self, window_id: uuid.UUID) -> list[User]:
        statement = (
            select(User)
            .join(WindowProctor, WindowProctor.proctor_id == User.id)
            .where(WindowProctor.window_id == window_id)
            .order_by(User.email)
        )
        return list((await self.session.execute(statement)).scalars())

    async def add(self, assignment: WindowProctor) -> None:
        self.session.add(assignment)
        await self.session.flush()

    async def remove(self, window_id: uuid.UUID, proctor_id: uuid.UUID) -> bool:
        statement = delete(WindowProctor).where(
            WindowProctor.window_id == window_id, WindowProctor.proctor_id == proctor_id
        )
        return bool(getattr(await self.session.execute(statement), "rowcount", 0))


class PrerequisiteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def valid_credential(self, candidate_id: uuid.UUID, tier: str, now: datetime) -> Credential | None:
        statement = (
            select(Credential)
            .where(
                Credential.candidate_id == candidate_id,
                Credential.tier == tier,
                Credential.revoked_at.is_(None),
                Credential.expires_at > now,
            )
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def waiver(self, candidate_id: uuid.UUID, tier: str) -> Waiver | None:
        statement = select(Waiver).where(Waiver.candidate_id == candidate_id, Waiver.tier == tier)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def add_waiver(self, waiver: Waiver) -> Waiver:
        self.session.add(waiver)
        await self.session.flush()
        return waiver
