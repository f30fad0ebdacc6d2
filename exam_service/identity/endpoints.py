from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClientAddress, ClockDep, SettingsDep, TokenCodecDep
from exam_service.identity import service as identity_service
from exam_service.identity.auth import AdminUser, CurrentCaller, CurrentUser, StaffUser
from exam_service.identity.repository import UserRepository
from exam_service.identity.schemas import Accommodations, TokenResponse, UserCreate, UserRead
from exam_service.models import Role

router = APIRouter(prefix="/api/v1", tags=["identity"])


@router.post("/auth/token", response_model=TokenResponse)
async def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    codec: TokenCodecDep,
    clock: ClockDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> TokenResponse:
    token, claims, user = await identity_service.login(
        request.app.state.sessionmaker,
        email=form.username,
        password=form.password,
        address=address,
        codec=codec,
        clock=clock,
        settings=settings,
    )
    lifetime = int((claims.expires_at - claims.issued_at).total_seconds())
    return TokenResponse(access_token=token, expires_in=lifetime, role=user.role)


@router.post("/auth/refresh", response_model=TokenResponse)
async def refresh_token(
    caller: CurrentCaller, codec: TokenCodecDep, clock: ClockDep, settings: SettingsDep
) -> TokenResponse:
    token, claims = identity_service.refresh(caller.user, caller.claims, codec, clock, settings)
    lifetime = int((claims.expires_at - claims.issued_at).total_seconds())
    return TokenResponse(access_token=token, expires_in=lifetime, role=caller.user.role)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(session: SessionDep, caller: CurrentCaller) -> None:
    await identity_service.logout(session, caller.claims)


@router.get("/users/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.get("/users", response_model=list[UserRead])
async def list_users(
    session: SessionDep,
    _staff: StaffUser,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[UserRead]:
    users = await UserRepository(session).list(role=role, limit=limit, offset=offset)
    return [UserRead.model_validate(u) for u in users]


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED)
async def create_user(session: SessionDep, _admin: AdminUser, data: UserCreate, clock: ClockDep) -> UserRead:
    return UserRead.model_validate(await identity_service.create_user(session, data, clock))


@router.put("/users/{user_id}/accommodations", response_model=UserRead)
async def set_accommodations(
    session: SessionDep, _admin: AdminUser, user_id: uuid.UUID, data: Accommodations
) -> UserRead:
    return UserRead.model_validate(await identity_service.set_accommodations(session, user_id, data))
