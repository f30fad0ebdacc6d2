from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.models import Credential, Waiver


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
