from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.models import Credential


class CredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, credential_id: uuid.UUID) -> Credential | None:
        return await self.session.get(Credential, credential_id)

    async def owned(self, credential_id: uuid.UUID, candidate_id: uuid.UUID) -> Credential | None:
        """Selected by id *and* holder: another candidate's credential is as absent as a missing one."""
        statement = select(Credential).where(Credential.id == credential_id, Credential.candidate_id == candidate_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def standing_for_attempt(self, attempt_id: uuid.UUID) -> Credential | None:
        """The attempt's unrevoked credential (a unique index keeps it to one)."""
        statement = select(Credential).where(Credential.attempt_id == attempt_id, Credential.revoked_at.is_(None))
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def latest_for_attempt(self, attempt_id: uuid.UUID) -> Credential | None:
        statement = (
            select(Credential)
            .where(Credential.attempt_id == attempt_id)
            .order_by(Credential.issued_at.desc(), Credential.revoked_at.is_(None).desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def list(self, *, candidate_id: uuid.UUID | None = None, tier: str | None = None) -> list[Credential]:
        """Newest first."""
        statement = select(Credential).order_by(Credential.issued_at.desc(), Credential.id)
        if candidate_id is not None:
            statement = statement.where(Credential.candidate_id == candidate_id)
        if tier is not None:
            statement = statement.where(Credential.tier == tier)
        return list((await self.session.execute(statement)).scalars())

    async def add(self, credential: Credential) -> Credential:
        self.session.add(credential)
        await self.session.flush()
        return credential

    async def mark_revoked(self, credential_id: uuid.UUID, *, by: uuid.UUID | None, reason: str, at: datetime) -> bool:
        """Revokes unless already revoked: of two revocations at once, one wins and the other learns it."""
        statement = (
            update(Credential)
            .where(Credential.id == credential_id, Credential.revoked_at.is_(None))
            .values(revoked_at=at, revoked_by=by, revocation_reason=reason)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]
