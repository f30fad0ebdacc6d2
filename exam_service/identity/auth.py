"""Who may call: dependencies that resolve the caller or raise 401/403."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from exam_service.core.database import SessionDep, transaction
from exam_service.core.deps import ClockDep, TokenCodecDep
from exam_service.core.errors import Forbidden, NotAuthenticated
from exam_service.core.openapi import raises
from exam_service.core.tokens import TokenClaims
from exam_service.identity import service as identity_service
from exam_service.identity.sessions import SignIns
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


@dataclass(frozen=True)
class Principal:
    """A caller known without a database read: ids and role, checked against a live sign-in."""

    user_id: uuid.UUID
    role: Role
    session_id: str


@raises(403)
async def signed_in_candidate(
    request: Request,
    codec: TokenCodecDep,
    clock: ClockDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The candidate behind the token, for the hot routes: the worker's memory of sign-ins first.

    On a miss the sign-in is read in a transaction of its own, so a route that uses this must
    not also take a request session (on SQLite the sessions of a process take turns).
    """
    if not token:
        raise NotAuthenticated()
    now = clock.now()
    claims, user_id, session_id = identity_service.read_claims(token, codec, now)
    sign_ins: SignIns = request.app.state.sign_ins
    known = sign_ins.lookup(claims.session_id)
    if known is None:
        generation = sign_ins.generation
        async with transaction(request.app.state.sessionmaker) as session:
            user, auth_session = await identity_service.check_sign_in(session, claims, user_id, session_id, now)
        sign_ins.remember(claims.session_id, user.id, user.role, auth_session.expires_at, generation)
        role = user.role
    else:
        if known.user_id != user_id or known.role.value != claims.role or known.expires_at <= now:
            raise NotAuthenticated("The session has ended; please sign in again")
        role = known.role
    if role is not Role.candidate:
        raise Forbidden("this action needs the role candidate")
    return Principal(user_id, role, claims.session_id)


SignedInCandidate = Annotated[Principal, Depends(signed_in_candidate)]
