"""Accounts, login, logout and token resolution."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool

from exam_service.core.clock import Clock
from exam_service.core.database import checkpoint
from exam_service.core.errors import Conflict, NotAuthenticated, NotFound
from exam_service.core.settings import Settings
from exam_service.core.tokens import InvalidToken, TokenClaims, TokenCodec
from exam_service.identity import throttle
from exam_service.identity.passwords import hash_password, verify_password
from exam_service.identity.repository import SessionRepository, ThrottleRepository, UserRepository
from exam_service.identity.schemas import Accommodations, UserCreate
from exam_service.identity.sessions import announce_session_ended, announce_user_signed_out
from exam_service.models import AuthSession, RefreshToken, User

logger = logging.getLogger("exam_service.identity")

# a refresh retried this soon after the first try, whose answer never arrived, is not a reuse
REFRESH_RETRY_SECONDS = 30


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
    clock: Clock,
    settings: Settings,
) -> User:
    """Counts the try, checks the password and the account, and refunds the try on success.

    The caller opens a session for the user (``open_session``) in the request's transaction.

    Login keeps its own short transactions rather than the request's: the count of a failed
    try must be committed although the request ends in an error.
    """
    keys = throttle.throttle_keys(email, address)
    async with sessionmaker() as session:
        await throttle.admit(ThrottleRepository(session), keys, clock.now(), settings)
        await checkpoint(session)  # the count stands whatever happens to the request from here on
        user = await UserRepository(session).get_by_email(email) if len(email) <= 254 else None
        stored_hash = user.password_hash if user is not None else None

    password_ok = await run_in_threadpool(verify_password, password, stored_hash)
    now = clock.now()
    async with sessionmaker() as session, session.begin():
        if user is None or not password_ok or not user.is_active:
            await throttle.confirm(ThrottleRepository(session), keys, now, settings)
        else:
            await throttle.refund(ThrottleRepository(session), keys, now, settings)
    if user is None or not password_ok or not user.is_active:
        raise NotAuthenticated("Incorrect email or password")
    return user


@dataclass(frozen=True)
class IssuedTokens:
    """What a sign-in or a refresh hands out: a short access token and the next refresh token."""

    access_token: str
    claims: TokenClaims
    refresh_token: str
    refresh_expires_at: datetime


def _digest(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


async def open_session(
    session: AsyncSession, user: User, *, codec: TokenCodec, clock: Clock, settings: Settings
) -> IssuedTokens:
    """A new sign-in session for a user whose password was just checked."""
    now = clock.now()
    auth_session = await SessionRepository(session).add(
        AuthSession(user_id=user.id, authenticated_at=now, expires_at=now + timedelta(hours=settings.session_hours))
    )
    return await _issue(session, user, auth_session, codec=codec, now=now, settings=settings)


async def _issue(
    session: AsyncSession,
    user: User,
    auth_session: AuthSession,
    *,
    codec: TokenCodec,
    now: datetime,
    settings: Settings,
) -> IssuedTokens:
    lifetime = min(timedelta(minutes=settings.access_token_minutes), auth_session.expires_at - now)
    token, claims = codec.encode(
        subject=str(user.id),
        role=user.role.value,
        now=now,
        lifetime=lifetime,
        session_id=auth_session.id.hex,
        authenticated_at=auth_session.authenticated_at,
    )
    refresh_token = secrets.token_urlsafe(32)
    await SessionRepository(session).add_refresh(
        RefreshToken(token_hash=_digest(refresh_token), session_id=auth_session.id, issued_at=now)
    )
    return IssuedTokens(token, claims, refresh_token, auth_session.expires_at)


def read_claims(token: str, codec: TokenCodec, now: datetime) -> tuple[TokenClaims, uuid.UUID, uuid.UUID]:
    """A token's claims with its user and sign-in session ids, if its signature and lifetime hold."""
    try:
        claims = codec.decode(token, now=now)
        return claims, uuid.UUID(claims.subject), uuid.UUID(hex=claims.session_id)
    except (InvalidToken, ValueError) as exc:
        raise NotAuthenticated("Invalid or expired token") from exc


async def check_sign_in(
    session: AsyncSession, claims: TokenClaims, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> tuple[User, AuthSession]:
    """The user and sign-in session behind valid claims, if the session is still open."""
    found = await SessionRepository(session).user_and_session(session_id)
    if found is None:
        raise NotAuthenticated("Invalid or expired token")
    user, auth_session = found
    if auth_session.ended_at is not None or auth_session.expires_at <= now:
        raise NotAuthenticated("The session has ended; please sign in again")
    if user.id != user_id or not user.is_active or user.role.value != claims.role:
        raise NotAuthenticated("Invalid or expired token")
    return user, auth_session


async def resolve_token(session: AsyncSession, token: str, codec: TokenCodec, clock: Clock) -> tuple[User, TokenClaims]:
    """The caller behind an access token, if its session is still open."""
    now = clock.now()
    claims, user_id, session_id = read_claims(token, codec, now)
    user, _ = await check_sign_in(session, claims, user_id, session_id, now)
    return user, claims


async def refresh(
    session: AsyncSession, refresh_token: str, *, codec: TokenCodec, clock: Clock, settings: Settings
) -> tuple[User, IssuedTokens]:
    """Trades a refresh token for a new pair; each refresh token works once.

    A refresh token presented a second time means two parties hold the family: the whole
    session ends, and both must sign in again. The one exception is a retry within
    ``refresh_retry_seconds`` whose successor was never used (the answer to the first try was
    lost on the way): it gets a new pair, and the lost successor stops working.
    """
    now = clock.now()
    sessions = SessionRepository(session)
    presented = await sessions.lock_refresh(_digest(refresh_token))
    if presented is None:
        raise NotAuthenticated("Invalid or expired refresh token")
    auth_session = await sessions.lock_session(presented.session_id)
    assert auth_session is not None  # refresh tokens go with their session
    if auth_session.ended_at is not None or auth_session.expires_at <= now:
        raise NotAuthenticated("The session has ended; please sign in again")
    if presented.used_at is not None:
        successor = await sessions.get_refresh(presented.replaced_by) if presented.replaced_by else None
        retry = (
            now - presented.used_at <= timedelta(seconds=REFRESH_RETRY_SECONDS)
            and successor is not None
            and successor.used_at is None
        )
        if not retry:
            auth_session.ended_at, auth_session.end_reason = now, "refresh token reused"
            announce_session_ended(session, auth_session.id)
            await checkpoint(session)  # the refusal below must not roll the ending back
            logger.warning("refresh token reused: session %s ended", auth_session.id)
            raise NotAuthenticated(
                "This sign-in was ended because its refresh token was used twice; please sign in again"
            )
        assert successor is not None
        successor.used_at = now
    user = await UserRepository(session).get(auth_session.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("Invalid or expired refresh token")
    issued = await _issue(session, user, auth_session, codec=codec, now=now, settings=settings)
    presented.used_at, presented.replaced_by = now, _digest(issued.refresh_token)
    await session.flush()
    return user, issued


async def logout(session: AsyncSession, claims: TokenClaims, clock: Clock) -> None:
    """Ends the caller's whole session: every access and refresh token of this sign-in."""
    auth_session = await SessionRepository(session).lock_session(uuid.UUID(hex=claims.session_id))
    if auth_session is not None and auth_session.ended_at is None:
        auth_session.ended_at, auth_session.end_reason = clock.now(), "signed out"
        announce_session_ended(session, auth_session.id)
        await session.flush()


async def end_sessions(session: AsyncSession, user_id: uuid.UUID, clock: Clock) -> int:
    """An administrator ends every session of a user (a lost laptop, a shared password)."""
    if await UserRepository(session).get(user_id) is None:
        raise NotFound("no such user")
    announce_user_signed_out(session, user_id)
    return await SessionRepository(session).end_all(user_id, clock.now(), "ended by an administrator")


async def purge_expired(session: AsyncSession, clock: Clock) -> None:
    """Forgets sessions over for a day, and stale login-failure records."""
    now = clock.now()
    await SessionRepository(session).purge_expired(now - timedelta(days=1))
    await ThrottleRepository(session).purge_before(now - timedelta(days=1))
