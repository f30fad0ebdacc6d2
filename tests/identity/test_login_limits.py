"""Login limits slow guessers down without letting anyone keep a user out of their account."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from tests.factories import login, make_user

WRONG = "not the password 123"
From = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def from_address(client: httpx.AsyncClient) -> AsyncIterator[From]:
    """Clients of the same app, each connecting from the address given."""
    app: FastAPI = client.app  # type: ignore[attr-defined]
    async with AsyncExitStack() as stack:

        def connect(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            stack.push_async_callback(http.aclose)
            return http

        yield connect


def retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    return int(response.headers["retry-after"])


async def test_guesses_from_many_addresses_do_not_keep_the_owner_out(
    from_address: From, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    for n in range(1, 11):
        assert (await login(from_address(f"198.51.100.{n}"), user.email, WRONG)).status_code == 401
    # the owner, from an address that never failed on the account, gets in at once
    assert (await login(from_address("192.0.2.44"), user.email)).status_code == 200


async def test_an_address_that_guessed_is_slowed_by_the_account_under_attack(
    from_address: From, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    for n in range(1, 11):
        assert (await login(from_address(f"198.51.100.{n}"), user.email, WRONG)).status_code == 401
    # each guessing address has failed only once, but the account has failed ten times
    wait = retry_after(await login(from_address("198.51.100.1"), user.email, WRONG))
    assert 1 <= wait <= 30
    clock.advance(seconds=wait)
    assert (await login(from_address("198.51.100.1"), user.email)).status_code == 200


async def test_people_behind_one_address_who_mistype_do_not_slow_each_other(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    room = [await make_user(sessionmaker, clock) for _ in range(6)]
    for person in room:
        assert (await login(client, person.email, WRONG)).status_code == 401
    for person in room:
        assert (await login(client, person.email)).status_code == 200


async def test_a_whole_test_centre_behind_one_address_signs_in(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    room = [await make_user(sessionmaker, clock) for _ in range(30)]
    for person in room:  # everyone mistypes twice, then gets it right
        for _ in range(2):
            assert (await login(client, person.email, WRONG)).status_code == 401
        assert (await login(client, person.email)).status_code == 200


async def test_a_test_centre_signing_in_at_the_same_moment_is_not_taken_for_a_sprayer(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    room = [await make_user(sessionmaker, clock) for _ in range(25)]
    answers = await asyncio.gather(*(login(client, person.email) for person in room))
    assert [a.status_code for a in answers] == [200] * len(room)


async def test_someone_who_signed_in_may_mistype_again_without_waiting(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    for _ in range(3):
        for _ in range(4):
            assert (await login(client, user.email, WRONG)).status_code == 401
        assert (await login(client, user.email)).status_code == 200


async def test_one_address_guessing_one_account_is_slowed_never_locked(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    for _ in range(5):
        assert (await login(client, user.email, WRONG)).status_code == 401
    # the sixth try comes too soon: even the right password waits
    wait = retry_after(await login(client, user.email))
    assert 1 <= wait <= 60
    waits = []
    for _ in range(40):  # a guesser who keeps going, waiting each time as told
        clock.advance(seconds=wait)
        assert (await login(client, user.email, WRONG)).status_code == 401
        wait = retry_after(await login(client, user.email, WRONG))
        waits.append(wait)
    assert max(waits) <= 30
    assert waits[-1] == 30  # the wait grew to its cap and stays there
    clock.advance(seconds=wait)
    assert (await login(client, user.email)).status_code == 200


async def test_one_address_spraying_many_accounts_is_locked(
    client: httpx.AsyncClient,
    from_address: From,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    targets = [await make_user(sessionmaker, clock) for _ in range(12)]
    for target in targets[:10]:
        assert (await login(client, target.email, WRONG)).status_code == 401
    for target in targets[10:]:
        refused = await login(client, target.email, WRONG)
        assert retry_after(refused) == 15 * 60
        assert "many accounts" in refused.json()["detail"]
    # the lock is the address's: the same accounts are open from anywhere else
    assert (await login(from_address("192.0.2.44"), targets[0].email)).status_code == 200
    clock.advance(minutes=15)
    assert (await login(client, targets[11].email)).status_code == 200


async def test_failures_are_forgotten_after_a_quiet_window(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    for _ in range(5):
        assert (await login(client, user.email, WRONG)).status_code == 401
    retry_after(await login(client, user.email, WRONG))
    clock.advance(minutes=15)
    for _ in range(5):
        assert (await login(client, user.email, WRONG)).status_code == 401
