"""Short-lived tokens and long exams: a signed-in page refreshes its token before it expires."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.core.settings import Settings
from tests.factories import bearer, make_user, token_for


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"access_token_minutes": 15, "session_hours": 4})


async def test_refreshing_keeps_a_candidate_signed_in_through_a_long_exam(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    token = await token_for(client, user.email)
    for _ in range(15):  # 150 minutes, refreshing every ten
        clock.advance(minutes=10)
        assert (await client.get("/api/v1/users/me", headers=bearer(token))).status_code == 200
        refreshed = await client.post("/api/v1/auth/refresh", headers=bearer(token))
        assert refreshed.status_code == 200
        assert refreshed.json()["expires_in"] == 15 * 60
        token = refreshed.json()["access_token"]
    assert (await client.get("/api/v1/users/me", headers=bearer(token))).status_code == 200


async def test_an_expired_token_cannot_be_refreshed(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    token = await token_for(client, user.email)
    clock.advance(minutes=16)
    assert (await client.post("/api/v1/auth/refresh", headers=bearer(token))).status_code == 401


async def test_the_session_ends_after_its_hours_and_at_logout(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    token = await token_for(client, user.email)
    for _ in range(24):  # four hours of refreshing every ten minutes
        clock.advance(minutes=10)
        response = await client.post("/api/v1/auth/refresh", headers=bearer(token))
        if response.status_code != 200:
            break
        token = response.json()["access_token"]
    assert response.status_code == 401
    assert "sign in again" in response.json()["detail"]
    fresh = await token_for(client, user.email)
    await client.post("/api/v1/auth/logout", headers=bearer(fresh))
    assert (await client.post("/api/v1/auth/refresh", headers=bearer(fresh))).status_code == 401
