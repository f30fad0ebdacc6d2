"""Who may call: dependencies that resolve the caller or raise 401/403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep, TokenCodecDep
from exam_service.core.errors import Forbidden, NotAuthenticated
from exam_service.core.openapi import raises
from exam_service.core.tokens import TokenClaims
from exam_service.identity import service as identity_service
from exam_service.models import Role, User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Caller:
    user: User
    claims: TokenClaims


async def current_caller(
    session: SessionDep,
    codec: TokenCodecDep,
    clock: ClockDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Caller:
    if not token:
        raise NotAuthenticated()
    user, claims = await identity_service.resolve_token(session, token, codec, clock)
    return Caller(user, claims)


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def current_user(caller: CurrentCaller) -> User:
    return caller.user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    allowed = frozenset(roles)

    @raises(403)
    async def dependency(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden(f"this action needs the role {' or '.join(sorted(r.value for r in allowed))}")
        return user

    return dependency


CandidateUser = Annotated[User, Depends(require_role(Role.candidate))]
ProctorUser = Annotated[User, Depends(require_role(Role.proctor, Role.admin))]
ExaminerUser = Annotated[User, Depends(require_role(Role.examiner, Role.admin))]
StaffUser = Annotated[User, Depends(require_role(Role.proctor, Role.examiner, Role.admin))]
AdminUser = Annotated[User, Depends(require_role(Role.admin))]
