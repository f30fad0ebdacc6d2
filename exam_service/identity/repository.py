from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.models import AuthSession, LoginThrottle, RefreshToken, Role, User


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


class SessionRepository:
    """Sign-in sessions and their refresh tokens."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, auth_session: AuthSession) -> AuthSession:
        self.session.add(auth_session)
        await self.session.flush()
        return auth_session

    async def user_and_session(self, session_id: uuid.UUID) -> tuple[User, AuthSession] | None:
        """The session's user with the session, in one query."""
        statement = select(User, AuthSession).join(AuthSession, AuthSession.user_id == User.id)
        row = (await self.session.execute(statement.where(AuthSession.id == session_id))).first()
        return None if row is None else (row[0], row[1])

    async def add_refresh(self, token: RefreshToken) -> None:
        self.session.add(token)
        await self.session.flush()

    async def lock_refresh(self, token_hash: str) -> RefreshToken | None:
        statement = (
            select(RefreshToken)
            .where(RefreshToken.token_hash == token_hash)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_refresh(self, token_hash: str) -> RefreshToken | None:
        return await self.session.get(RefreshToken, token_hash)

    async def lock_session(self, session_id: uuid.UUID) -> AuthSession | None:
        statement = (
            select(AuthSession)
            .where(AuthSession.id == session_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def end_all(self, user_id: uuid.UUID, now: datetime, reason: str) -> int:
        """Ends every open session of a user; the number ended."""
        result = await self.session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None), AuthSession.expires_at > now)
            .values(ended_at=now, end_reason=reason)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def purge_expired(self, before: datetime) -> int:
        """Forgets sessions that ended or expired before ``before`` (their refresh tokens go with them)."""
        old = select(AuthSession.id).where((AuthSession.expires_at < before) | (AuthSession.ended_at < before))
        await self.session.execute(delete(RefreshToken).where(RefreshToken.session_id.in_(old)))
        result = await self.session.execute(
            delete(AuthSession).where((AuthSession.expires_at < before) | (AuthSession.ended_at < before))
        )
        return int(getattr(result, "rowcount", 0) or 0)


class ThrottleRepository:
    """Failed-login records, each under its key (see ``identity/throttle.py``)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, keys: list[str], now: datetime) -> dict[str, LoginThrottle]:
        """Creates missing records, then locks and returns them, taken in key order (no deadlocks)."""
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
        return {row.key: row for row in (await self.session.execute(statement)).scalars()}

    async def count_failing(self, prefix: str, since: datetime) -> int:
        """How many records under ``prefix`` hold a failure after ``since`` whose check has ended
        (pending changes included)."""
        await self.session.flush()
        statement = select(func.count()).where(
            LoginThrottle.key.startswith(prefix, autoescape=True),
            LoginThrottle.failures > LoginThrottle.checking,
            LoginThrottle.last_failure_at > since,
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def purge_before(self, moment: datetime) -> None:
        """Drops records whose last failure is older than ``moment`` and that hold no lock."""
        await self.session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.last_failure_at < moment,
                (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < moment),
            )
        )

    async def clear(self, keys: list[str]) -> None:
        await self.session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))
