"""The autosave path: group commit, sign-ins known without a read, revocations that still bite at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.identity.sessions import SignIns
from exam_service.main import create_app
from exam_service.models import Attempt, Response, Role
from tests.conftest import app_settings
from tests.delivery.helpers import Sitting, sitting, value_for
from tests.factories import auth_headers


@pytest.fixture
async def s(client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Sitting:
    return await sitting(client, sessionmaker, clock)


def _sign_ins(client: httpx.AsyncClient) -> SignIns:
    sign_ins: SignIns = client.app.state.sign_ins  # type: ignore[attr-defined]
    return sign_ins


async def _stored(sm: async_sessionmaker[AsyncSession], attempt_id: str) -> dict[int, tuple[int, object]]:
    async with sm() as session:
        rows = await session.execute(select(Response).where(Response.attempt_id == uuid.UUID(attempt_id)))
        return {r.position: (r.revision, r.value) for r in rows.scalars()}


async def test_signing_out_stops_the_next_save(s: Sitting) -> None:
    item = (await s.form())["items"][0]
    assert (await s.save(item["position"], 1, value_for(item["item"], 1))).status_code == 200
    again = await s.save(item["position"], 2, value_for(item["item"], 2))
    assert again.status_code == 200
    assert _sign_ins(s.client).hits >= 1  # the second save was answered from the worker's memory

    assert (await s.client.post("/api/v1/auth/logout", headers=s.headers)).status_code == 204
    refused = await s.save(item["position"], 3, value_for(item["item"], 3))
    assert refused.status_code == 401, refused.text
    assert "sign in again" in refused.json()["detail"]


async def test_an_administrator_ending_sessions_stops_saves(s: Sitting) -> None:
    item = (await s.form())["items"][0]
    assert (await s.save(item["position"], 1, value_for(item["item"], 1))).status_code == 200
    ended = await s.client.delete(f"/api/v1/users/{s.candidate.id}/sessions", headers=s.admin)
    assert ended.status_code == 200, ended.text
    refused = await s.save(item["position"], 2, value_for(item["item"], 2))
    assert refused.status_code == 401


async def test_staff_tokens_cannot_save_even_when_known(s: Sitting) -> None:
    item = (await s.form())["items"][0]
    for _ in range(2):  # the second time from memory
        refused = await s.client.put(
            f"{s.url}/responses/{item['position']}", headers=s.proctor, json={"revision": 1, "value": None}
        )
        assert refused.status_code == 403


async def test_saves_arriving_together_are_all_stored_and_a_bad_one_is_refused_alone(
    s: Sitting,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    items = (await s.form())["items"]
    _, stranger = await auth_headers(client, sessionmaker, clock, Role.candidate)
    good = [s.save(i["position"], 5, value_for(i["item"], 5)) for i in items]
    shapeless = s.save(items[0]["position"], 9, {"not": "an answer"})  # no question takes this
    foreign = s.save(items[1]["position"], 9, value_for(items[1]["item"], 9), hdrs=stranger)
    answers = await asyncio.gather(*good, shapeless, foreign)

    assert [a.status_code for a in answers[: len(items)]] == [200] * len(items)
    assert all(a.json()["applied"] for a in answers[: len(items)])
    assert answers[-2].status_code == 422
    assert answers[-2].json()["field"] == "value"
    assert answers[-1].status_code == 404  # another candidate's attempt is not confirmed to exist
    stored = await _stored(sessionmaker, s.attempt_id)
    assert {p: rev for p, (rev, _) in stored.items()} == {i["position"]: 5 for i in items}
    assert {p: value for p, (_, value) in stored.items()} == {i["position"]: value_for(i["item"], 5) for i in items}


async def test_a_save_writes_the_attempt_only_when_its_browser_changes_or_goes_stale(
    s: Sitting, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    item = (await s.form())["items"][0]

    async def seen() -> datetime | None:
        async with sessionmaker() as session:
            attempt = await session.get(Attempt, uuid.UUID(s.attempt_id))
            assert attempt is not None
            return attempt.client_seen_at

    await s.save(item["position"], 1, value_for(item["item"], 1))
    first = await seen()
    clock.advance(seconds=10)
    await s.save(item["position"], 2, value_for(item["item"], 2))
    assert await seen() == first
    clock.advance(seconds=25)
    await s.save(item["position"], 3, value_for(item["item"], 3))
    later = await seen()
    assert later is not None
    assert first is not None
    assert later > first


async def test_time_on_an_item_grows_in_the_same_statement_and_on_a_stale_revision(
    s: Sitting, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    item = (await s.form())["items"][0]
    clock.advance(minutes=5)
    await s.save(item["position"], 2, value_for(item["item"], 2), time_spent_seconds=40)
    stale = await s.save(item["position"], 1, value_for(item["item"], 1), time_spent_seconds=90)
    assert (stale.json()["applied"], stale.json()["stored_revision"]) == (False, 2)
    async with sessionmaker() as session:
        row = await session.get(Response, (uuid.UUID(s.attempt_id), item["position"]))
        assert row is not None
        assert (row.revision, row.time_spent_seconds) == (2, 90)


def test_a_revocation_heard_during_a_read_is_not_undone_by_it() -> None:
    now = [0.0]
    sign_ins = SignIns(ttl_seconds=30, monotonic=lambda: now[0])
    user, ends = uuid.uuid4(), datetime.now(UTC) + timedelta(hours=1)
    began = sign_ins.generation  # a request starts reading the session from the database...
    sign_ins.forget({"session_id": "a" * 32})  # ...meanwhile another worker ends it
    sign_ins.remember("a" * 32, user, Role.candidate, ends, began)
    assert sign_ins.lookup("a" * 32) is None

    sign_ins.remember("b" * 32, user, Role.candidate, ends, sign_ins.generation)
    sign_ins.remember("c" * 32, user, Role.candidate, ends, sign_ins.generation)
    assert sign_ins.lookup("b" * 32) is not None
    sign_ins.forget({"user_id": str(user)})  # every session of the user ends
    assert sign_ins.lookup("b" * 32) is None
    assert sign_ins.lookup("c" * 32) is None

    sign_ins.remember("d" * 32, user, Role.candidate, ends, sign_ins.generation)
    now[0] = 31.0  # trusted for a bounded time only, in case a revocation was missed
    assert sign_ins.lookup("d" * 32) is None


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_signing_out_on_one_worker_stops_saves_on_another(
    database_url: str,
    redis_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    settings = app_settings(database_url, redis_url=redis_url)
    first, second = create_app(settings, clock=clock), create_app(settings, clock=clock)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        transports = [httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)) for app in (first, second)]
        async with (
            httpx.AsyncClient(transport=transports[0], base_url="http://testserver") as on_first,
            httpx.AsyncClient(transport=transports[1], base_url="http://testserver") as on_second,
        ):
            s = await sitting(on_first, sessionmaker, clock)
            item = (await s.form())["items"][0]
            url = f"{s.url}/responses/{item['position']}"
            for revision in (1, 2):  # the second worker now knows this sign-in
                saved = await on_second.put(
                    url, headers=s.headers, json={"revision": revision, "value": value_for(item["item"], revision)}
                )
                assert saved.status_code == 200, saved.text
            assert second.state.sign_ins.hits >= 1

            assert (await on_first.post("/api/v1/auth/logout", headers=s.headers)).status_code == 204
            status = 200
            for _ in range(40):  # the revocation crosses Redis: well under a second
                answer = await on_second.put(url, headers=s.headers, json={"revision": 3, "value": None})
                status = answer.status_code
                if status == 401:
                    break
                await asyncio.sleep(0.025)
            assert status == 401
