from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from exam_service.core.database import SessionDep, transaction
from exam_service.core.deps import ClientAddress, ClockDep, SettingsDep, TokenCodecDep
from exam_service.core.openapi import errors
from exam_service.identity import service as identity_service
from exam_service.identity.auth import AdminUser, CurrentCaller, CurrentUser, ExaminerUser
from exam_service.identity.repository import UserRepository
from exam_service.identity.schemas import (
    Accommodations,
    RefreshRequest,
    SessionsEnded,
    TokenResponse,
    UserCreate,
    UserRead,
)
from exam_service.models import Role, User

router = APIRouter(prefix="/api/v1", tags=["identity"])


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses=errors(429, e401="Wrong email or password, or the account may not sign in."),
)
async def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    codec: TokenCodecDep,
    clock: ClockDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> TokenResponse:
    """Signs in: a 15-minute access token and a single-use refresh token for a new session."""
    user = await identity_service.login(
        request.app.state.sessionmaker,
        email=form.username,
        password=form.password,
        address=address,
        clock=clock,
        settings=settings,
    )
    # No request session here: login takes its own short transactions (on SQLite, sessions of one
    # process take turns, so a request session held across login would wait on itself).
    async with transaction(request.app.state.sessionmaker) as session:
        issued = await identity_service.open_session(session, user, codec=codec, clock=clock, settings=settings)
    return _grant(user, issued)


@router.post(
    "/auth/refresh",
    response_model=TokenResponse,
    responses=errors(e401="The refresh token is unknown, used, expired, or its session has ended."),
)
async def refresh_token(
    session: SessionDep, data: RefreshRequest, codec: TokenCodecDep, clock: ClockDep, settings: SettingsDep
) -> TokenResponse:
    """Trades a refresh token for a new pair. Each refresh token works once: presenting a used one
    again ends the whole session."""
    user, issued = await identity_service.refresh(
        session, data.refresh_token, codec=codec, clock=clock, settings=settings
    )
    return _grant(user, issued)


def _grant(user: User, issued: identity_service.IssuedTokens) -> TokenResponse:
    claims = issued.claims
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=int((claims.expires_at - claims.issued_at).total_seconds()),
        role=user.role,
        refresh_token=issued.refresh_token,
        refresh_expires_in=int((issued.refresh_expires_at - claims.issued_at).total_seconds()),
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(session: SessionDep, caller: CurrentCaller, clock: ClockDep) -> None:
    """Ends the caller's session: every access and refresh token of this sign-in stops working."""
    await identity_service.logout(session, caller.claims, clock)


@router.get("/users/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.get("/users", response_model=list[UserRead])
async def list_users(
    session: SessionDep,
    _examiner: ExaminerUser,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[UserRead]:
    """Accounts with their accommodations, for examiners and admins; a proctor sees only the
    candidates of their own windows, through the proctoring routes."""
    users = await UserRepository(session).list(role=role, limit=limit, offset=offset)
    return [UserRead.model_validate(u) for u in users]


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED, responses=errors(409))
async def create_user(session: SessionDep, _admin: AdminUser, data: UserCreate, clock: ClockDep) -> UserRead:
    return UserRead.model_validate(await identity_service.create_user(session, data, clock))


@router.delete("/users/{user_id}/sessions", response_model=SessionsEnded)
async def end_sessions(session: SessionDep, _admin: AdminUser, user_id: uuid.UUID, clock: ClockDep) -> SessionsEnded:
    """Ends every session of a user at once (a lost device, a shared password)."""
    return SessionsEnded(ended=await identity_service.end_sessions(session, user_id, clock))


@router.put("/users/{user_id}/accommodations", response_model=UserRead)
async def set_accommodations(
    session: SessionDep, _admin: AdminUser, user_id: uuid.UUID, data: Accommodations
) -> UserRead:
    return UserRead.model_validate(await identity_service.set_accommodations(session, user_id, data))
