"""Accounts, login, logout and token resolution."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool

from exam_service.core.clock import Clock
from exam_service.core.errors import Conflict, NotAuthenticated, NotFound
from exam_service.core.settings import Settings
from exam_service.core.tokens import InvalidToken, TokenClaims, TokenCodec
from exam_service.identity import throttle
from exam_service.identity.passwords import hash_password, verify_password
from exam_service.identity.repository import ThrottleRepository, TokenRepository, UserRepository
from exam_service.identity.schemas import Accommodations, UserCreate
from exam_service.models import User


async def create_user(session: AsyncSession, data: UserCreate, clock: Clock) -> User:
    users = UserRepository(session)
    if await users.get_by_email(data.email) is not None:
        raise Conflict(f"a user with email {data.email} already exists", field="email")
    password_hash = await run_in_threadpool(hash_password, data.password)
    return await users.add(
        User(
            email=data.email.lower(),
            full_name=data.full_name,
            role=data.role,
            password_hash=password_hash,
            created_at=clock.now(),
            extra_time_multiplier=data.extra_time_multiplier,
            extra_time_minutes=data.extra_time_minutes,
        )
    )


async def set_accommodations(session: AsyncSession, user_id: uuid.UUID, data: Accommodations) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise NotFound("no such user")
    user.extra_time_multiplier = data.extra_time_multiplier
    user.extra_time_minutes = data.extra_time_minutes
    await session.flush()
    return user


async def login(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    email: str,
    password: str,
    address: str,
    codec: TokenCodec,
    clock: Clock,
    settings: Settings,
) -> tuple[str, TokenClaims, User]:
    """Counts the try, checks the password and the account, and refunds the try on success.

    Login keeps its own short transactions rather than the request's: the count of a failed
    try must be committed although the request ends in an error.
    """
    keys = throttle.throttle_keys(email, address)
    async with sessionmaker() as session, session.begin():
        await throttle.admit(ThrottleRepository(session), keys, clock.now(), settings)
        user = await UserRepository(session).get_by_email(email) if len(email) <= 254 else None
        stored_hash = user.password_hash if user is not None else None

    password_ok = await run_in_threadpool(verify_password, password, stored_hash)
    now = clock.now()
    if user is None or not password_ok or not user.is_active:
        raise NotAuthenticated("Incorrect email or password")
    async with sessionmaker() as session, session.begin():
        await throttle.refund(ThrottleRepository(session), keys, now, settings)
    token, claims = codec.encode(
        subject=str(user.id),
        role=user.role.value,
        now=now,
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )
    return token, claims, user


async def resolve_token(session: AsyncSession, token: str, codec: TokenCodec, clock: Clock) -> tuple[User, TokenClaims]:
    try:
        claims = codec.decode(token, now=clock.now())
        user_id = uuid.UUID(claims.subject)
    except (InvalidToken, ValueError) as exc:
        raise NotAuthenticated("Invalid or expired token") from exc
    if await TokenRepository(session).is_revoked(claims.token_id):
        raise NotAuthenticated("Token has been revoked")
    user = await UserRepository(session).get(user_id)
    if user is None or not user.is_active or user.role.value != claims.role:
        raise NotAuthenticated("Invalid or expired token")
    return user, claims


def refresh(
    caller: User, claims: TokenClaims, codec: TokenCodec, clock: Clock, settings: Settings
) -> tuple[str, TokenClaims]:
    """A fresh token for a signed-in user, so a sitting outlives one token's lifetime.

    The session as a whole still ends ``session_hours`` after the password was checked.
    """
    now = clock.now()
    if now - claims.authenticated_at >= timedelta(hours=settings.session_hours):
        raise NotAuthenticated("The session has ended; please sign in again")
    return codec.encode(
        subject=str(caller.id),
        role=caller.role.value,
        now=now,
        lifetime=timedelta(minutes=settings.access_token_minutes),
        authenticated_at=claims.authenticated_at,
    )


async def logout(session: AsyncSession, claims: TokenClaims) -> None:
    await TokenRepository(session).revoke(claims.token_id, claims.expires_at)


async def purge_expired(session: AsyncSession, clock: Clock) -> None:
    """Forgets revocations of tokens that have expired anyway, and stale login-failure records."""
    now = clock.now()
    await TokenRepository(session).purge_expired(now)
    await ThrottleRepository(session).purge_before(now - timedelta(days=1))
