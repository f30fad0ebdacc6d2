"""Small helpers that build test data through the real services and API."""

from __future__ import annotations

import itertools

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import Clock
from exam_service.identity import service as identity_service
from exam_service.identity.schemas import UserCreate
from exam_service.models import Role, User

TEST_SECRET = "test-secret-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


async def make_user(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    role: Role = Role.candidate,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    **extra: float,
) -> User:
    email = email or f"{role.value}{next(_counter)}@example.org"
    async with sessionmaker() as session, session.begin():
        return await identity_service.create_user(
            session,
            UserCreate(email=email, full_name=f"Test {role.value}", role=role, password=password, **extra),
            clock,
        )


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": email, "password": password})


async def token_for(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await login(client, email, password)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def auth_headers(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    role: Role,
    **extra: float,
) -> tuple[User, dict[str, str]]:
    user = await make_user(sessionmaker, clock, role, **extra)
    return user, bearer(await token_for(client, user.email))
