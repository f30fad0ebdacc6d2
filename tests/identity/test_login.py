from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.delivery.sweeper import sweep_once
from exam_service.models import AuthSession, LoginThrottle, RefreshToken, Role, User
from tests.factories import PASSWORD, bearer, login, make_user


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_can_log_in_and_see_itself(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, role: Role
) -> None:
    user = await make_user(sessionmaker, clock, role)
    response = await login(client, user.email.upper())  # emails are case-insensitive
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == role.value
    assert body["expires_in"] == 600 * 60
    me = await client.get("/api/v1/users/me", headers=bearer(body["access_token"]))
    assert me.json()["role"] == role.value
    assert "password_hash" not in me.json()


async def test_wrong_password_and_unknown_account_look_the_same(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    wrong = await login(client, user.email, "wrong password!!")
    unknown = await login(client, "nobody@example.org", "wrong password!!")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_repeated_failures_are_slowed_but_never_locked(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    for attempt in range(5):
        if attempt:
            clock.advance(seconds=1)
        assert (await login(client, user.email, "bad password 123")).status_code == 401
    # the sixth try comes too soon: even the right password waits, but only seconds
    slowed = await login(client, user.email)
    assert slowed.status_code == 429
    assert 1 <= int(slowed.headers["retry-after"]) <= 30
    clock.advance(seconds=int(slowed.headers["retry-after"]))
    # failures keep growing the wait, up to half a minute, and never turn into a lock
    waits = []
    for _ in range(8):
        response = await login(client, user.email, "bad password 123")
        if response.status_code == 429:
            waits.append(int(response.headers["retry-after"]))
            assert "locked" not in response.json()["detail"]
            clock.advance(seconds=waits[-1])
            response = await login(client, user.email, "bad password 123")
        assert response.status_code == 401
    assert waits
    assert max(waits) <= 30
    assert waits == sorted(waits)
    clock.advance(seconds=30)
    assert (await login(client, user.email)).status_code == 200


async def test_success_clears_the_account_record(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    for _ in range(4):
        await login(client, user.email, "bad password 123")
    assert (await login(client, user.email)).status_code == 200
    async with sessionmaker() as session:
        rows = {row.key: row.failures for row in (await session.execute(select(LoginThrottle))).scalars()}
    # the account and its pair start afresh; the address fails on no account any more
    assert rows == {"address:203.0.113.7": 0}


async def test_one_address_guessing_many_accounts_is_locked(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    victims = [await make_user(sessionmaker, clock) for _ in range(10)]
    for victim in victims:
        assert (await login(client, victim.email, "guess guess guess")).status_code == 401
    # the address sprayed ten accounts: even a fresh account's right password is refused from it
    fresh = await make_user(sessionmaker, clock)
    refused = await login(client, fresh.email, PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 60
    clock.advance(minutes=16)
    assert (await login(client, fresh.email, PASSWORD)).status_code == 200


async def test_inactive_account_cannot_log_in(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    async with sessionmaker() as session, session.begin():
        row = await session.get(User, user.id)
        assert row is not None
        row.is_active = False
    assert (await login(client, user.email)).status_code == 401


async def test_the_sweeper_forgets_old_sessions_and_old_failures(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    token = (await login(client, user.email)).json()["access_token"]
    await client.post("/api/v1/auth/logout", headers=bearer(token))
    await login(client, user.email, "wrong password 123")
    await sweep_once(sessionmaker, clock)
    async with sessionmaker() as session:
        [ended] = (await session.execute(select(AuthSession))).scalars().all()
        assert ended.end_reason == "signed out"
        assert len((await session.execute(select(RefreshToken))).scalars().all()) == 1
    clock.advance(days=2)
    await sweep_once(sessionmaker, clock)
    async with sessionmaker() as session:
        assert (await session.execute(select(AuthSession))).scalars().all() == []
        assert (await session.execute(select(RefreshToken))).scalars().all() == []
        assert (await session.execute(select(LoginThrottle))).scalars().all() == []


async def test_parallel_guesses_are_each_counted_and_throttled(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    responses = await asyncio.gather(*(login(client, user.email, f"guess number {n:04d}") for n in range(30)))
    codes = sorted(r.status_code for r in responses)
    # the throttle lets five through before it slows this account from this address down
    assert codes.count(401) == 5
    assert codes.count(429) == 25
    async with sessionmaker() as session:
        rows = {row.key.split(":")[0]: row.failures for row in (await session.execute(select(LoginThrottle))).scalars()}
    # five failures of the account, five of the pair; the address fails on one account
    assert rows == {"account": 5, "pair": 5, "address": 1}


async def test_absurd_usernames_are_refused_like_wrong_passwords(client: httpx.AsyncClient) -> None:
    for username in ("x" * 5000 + "@example.org", "ünïcödé@例え.jp", "' OR 1=1 --"):
        response = await login(client, username, "whatever password")
        assert response.status_code == 401
        assert response.json()["detail"] == "Incorrect email or password"
