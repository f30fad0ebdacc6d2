from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.models import LoginThrottle, RevokedToken, Role, User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(User.email == email.lower()))
        return result.scalar_one_or_none()

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def list(self, *, role: Role | None = None, limit: int = 100, offset: int = 0) -> list[User]:
        statement = select(User).order_by(User.email).limit(limit).offset(offset)
        if role is not None:
            statement = statement.where(User.role == role)
        return list((await self.session.execute(statement)).scalars())

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(User))).scalar_one())


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_revoked(self, token_id: str) -> bool:
        return await self.session.get(RevokedToken, token_id) is not None

    async def revoke(self, token_id: str, expires_at: datetime) -> None:
        if await self.session.get(RevokedToken, token_id) is None:
            self.session.add(RevokedToken(token_id=token_id, expires_at=expires_at))
            await self.session.flush()

    async def purge_expired(self, now: datetime) -> int:
        result = await self.session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)


class ThrottleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_many(self, keys: list[str]) -> list[LoginThrottle]:
        result = await self.session.execute(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
        return list(result.scalars())

    async def get(self, key: str) -> LoginThrottle | None:
        return await self.session.get(LoginThrottle, key)

    async def add(self, row: LoginThrottle) -> None:
        self.session.add(row)
        await self.session.flush()

    async def purge_before(self, moment: datetime) -> None:
        """Drops records whose last failure is older than ``moment`` and that hold no lock."""
        await self.session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.last_failure_at < moment,
                (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < moment),
            )
        )

    async def clear(self, key: str) -> None:
        await self.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
