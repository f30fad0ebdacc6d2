"""Sessions: a signed-in page trades single-use refresh tokens for new pairs; ending a session ends
every token of its family, whoever holds it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from jose import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.core.settings import Settings
from exam_service.models import AuthSession, Role
from tests.factories import bearer, login, make_user

ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"access_token_minutes": 15, "session_hours": 4})


async def _sign_in(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await login(client, email)
    assert response.status_code == 200, response.text
    grant: dict[str, Any] = response.json()
    return grant


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": refresh_token})


async def _me(client: httpx.AsyncClient, grant: dict[str, Any]) -> int:
    return (await client.get(ME, headers=bearer(grant["access_token"]))).status_code


async def test_refreshing_keeps_a_candidate_signed_in_through_a_long_exam(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    grant = await _sign_in(client, user.email)
    assert grant["expires_in"] == 15 * 60
    assert grant["refresh_expires_in"] == 4 * 3600
    session_id = jwt.get_unverified_claims(grant["access_token"])["sid"]
    for _ in range(15):  # 150 minutes, refreshing every ten
        clock.advance(minutes=10)
        assert await _me(client, grant) == 200
        refreshed = await _refresh(client, grant["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["expires_in"] == 15 * 60
        assert refreshed.json()["refresh_token"] != grant["refresh_token"]
        grant = refreshed.json()
    assert await _me(client, grant) == 200
    assert jwt.get_unverified_claims(grant["access_token"])["sid"] == session_id  # one session throughout


async def test_the_last_access_token_ends_with_the_session(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    grant = await _sign_in(client, user.email)
    for _ in range(24):  # four hours of refreshing every ten minutes
        clock.advance(minutes=10)
        response = await _refresh(client, grant["refresh_token"])
        if response.status_code != 200:
            break
        grant = response.json()
        assert grant["expires_in"] <= grant["refresh_expires_in"]  # never outlives its session
    assert response.status_code == 401
    assert "sign in again" in response.json()["detail"]
    assert await _me(client, grant) == 401


async def test_a_refresh_token_works_once_and_its_reuse_ends_the_whole_session(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A stolen refresh token: whoever presents it second ends the family for both."""
    user = await make_user(sessionmaker, clock)
    first = await _sign_in(client, user.email)
    clock.advance(minutes=10)
    second = (await _refresh(client, first["refresh_token"])).json()
    clock.advance(minutes=10)
    third = (await _refresh(client, second["refresh_token"])).json()
    assert await _me(client, third) == 200

    clock.advance(minutes=1)
    reused = await _refresh(client, first["refresh_token"])  # the thief replays an old one
    assert reused.status_code == 401
    assert "used twice" in reused.json()["detail"]
    # every token of the family is now refused, the newest included
    assert await _me(client, third) == 401
    assert (await _refresh(client, third["refresh_token"])).status_code == 401
    async with sessionmaker() as session:
        [ended] = (await session.execute(select(AuthSession))).scalars().all()
    assert ended.end_reason == "refresh token reused"
    # the user signs in again and carries on
    assert await _me(client, await _sign_in(client, user.email)) == 200


async def test_a_refresh_retried_after_a_lost_answer_is_not_taken_for_theft(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    grant = await _sign_in(client, user.email)
    clock.advance(minutes=10)
    lost = await _refresh(client, grant["refresh_token"])  # the answer never reached the page
    clock.advance(seconds=5)
    retried = await _refresh(client, grant["refresh_token"])
    assert retried.status_code == 200
    assert await _me(client, retried.json()) == 200
    # the answer that was lost cannot be used later: only one chain lives on
    assert (await _refresh(client, lost.json()["refresh_token"])).status_code == 401
    # ...and presenting it ended the session, as any reuse does
    assert await _me(client, retried.json()) == 401


async def test_a_late_retry_is_a_reuse(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    grant = await _sign_in(client, user.email)
    await _refresh(client, grant["refresh_token"])
    clock.advance(minutes=2)
    assert (await _refresh(client, grant["refresh_token"])).status_code == 401


async def test_two_refreshes_at_once_give_one_new_chain(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    grant = await _sign_in(client, user.email)
    responses = await asyncio.gather(*(_refresh(client, grant["refresh_token"]) for _ in range(4)))
    assert all(r.status_code == 200 for r in responses)
    living = [r.json() for r in responses if await _me(client, r.json()) == 200]
    assert living  # the session goes on


async def test_logout_ends_every_token_of_the_session(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Signing out with the newest token also ends the older access token and every refresh token."""
    user = await make_user(sessionmaker, clock)
    first = await _sign_in(client, user.email)
    clock.advance(minutes=5)
    second = (await _refresh(client, first["refresh_token"])).json()
    other_device = await _sign_in(client, user.email)

    assert (await client.post("/api/v1/auth/logout", headers=bearer(second["access_token"]))).status_code == 204
    assert await _me(client, first) == 401  # the older token of the family, still within its 15 minutes
    assert await _me(client, second) == 401
    assert (await _refresh(client, second["refresh_token"])).status_code == 401
    assert (await _refresh(client, first["refresh_token"])).status_code == 401
    assert await _me(client, other_device) == 200  # another sign-in is another session


async def test_an_admin_ends_all_sessions_of_a_user(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    admin = await make_user(sessionmaker, clock, Role.admin)
    laptop, phone = await _sign_in(client, user.email), await _sign_in(client, user.email)
    admin_grant = await _sign_in(client, admin.email)

    response = await client.delete(f"/api/v1/users/{user.id}/sessions", headers=bearer(admin_grant["access_token"]))
    assert response.status_code == 200
    assert response.json() == {"ended": 2}
    for grant in (laptop, phone):
        assert await _me(client, grant) == 401
        assert (await _refresh(client, grant["refresh_token"])).status_code == 401
    assert await _me(client, admin_grant) == 200
    assert await _me(client, await _sign_in(client, user.email)) == 200  # the user may sign in again

    # only an admin may, and only for a user who exists
    candidate = await _sign_in(client, user.email)
    forbidden = await client.delete(f"/api/v1/users/{admin.id}/sessions", headers=bearer(candidate["access_token"]))
    assert forbidden.status_code == 403
    missing = await client.delete(
        "/api/v1/users/00000000-0000-4000-8000-000000000000/sessions", headers=bearer(admin_grant["access_token"])
    )
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": ""}, {"refresh_token": "x" * 19}, {"refresh_token": "has spaces in it, 20+"}],
    ids=["missing", "empty", "too-short", "bad-characters"],
)
async def test_a_malformed_refresh_request_names_the_field(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    response = await client.post(REFRESH, json=body)
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "refresh_token"


async def test_an_unknown_refresh_token_and_an_access_token_are_refused(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    grant = await _sign_in(client, user.email)
    assert (await _refresh(client, "A" * 43)).status_code == 401
    # the old way, a bearer access token, no longer refreshes anything
    assert (await client.post(REFRESH, headers=bearer(grant["access_token"]), json={})).status_code == 422
    assert await _me(client, grant) == 200  # and an unknown token ends nobody's session
