from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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

    async def lock(self, keys: list[str], now: datetime) -> list[LoginThrottle]:
        """Creates missing records, then locks and returns them in key order (no deadlocks)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        rows = [{"key": k, "failures": 0, "window_started_at": now, "last_failure_at": now} for k in keys]
        await self.session.execute(insert(LoginThrottle).values(rows).on_conflict_do_nothing())
        statement = (
            select(LoginThrottle)
            .where(LoginThrottle.key.in_(keys))
            .order_by(LoginThrottle.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return list((await self.session.execute(statement)).scalars())

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
