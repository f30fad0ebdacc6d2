from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.factories import auth_headers, login


async def test_admin_creates_accounts_and_others_cannot(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    new = {
        "email": "New.Person@Example.org",
        "full_name": "New Person",
        "role": "proctor",
        "password": "a long enough password",
    }
    created = await client.post("/api/v1/users", json=new, headers=admin)
    assert created.status_code == 201
    assert created.json()["email"] == "new.person@example.org"
    assert (await login(client, "new.person@example.org", "a long enough password")).status_code == 200
    duplicate = await client.post("/api/v1/users", json=new, headers=admin)
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "email"
    for role in (Role.candidate, Role.proctor, Role.examiner):
        _, headers = await auth_headers(client, sessionmaker, clock, role)
        refused = await client.post("/api/v1/users", json=new | {"email": "x@example.org"}, headers=headers)
        assert refused.status_code == 403


async def test_candidate_is_refused_on_staff_routes(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    _, candidate = await auth_headers(client, sessionmaker, clock, Role.candidate)
    _, proctor = await auth_headers(client, sessionmaker, clock, Role.proctor)
    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    assert (await client.get("/api/v1/users", headers=candidate)).status_code == 403
    # accounts and their accommodations are not for every proctor of every window
    assert (await client.get("/api/v1/users", headers=proctor)).status_code == 403
    listing = await client.get("/api/v1/users", params={"role": "candidate"}, headers=examiner)
    assert listing.status_code == 200
    assert [u["role"] for u in listing.json()] == ["candidate"]
    assert (await client.get("/api/v1/users")).status_code == 401


async def test_accommodations_are_set_by_an_admin(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    candidate, candidate_headers = await auth_headers(client, sessionmaker, clock, Role.candidate)
    url = f"/api/v1/users/{candidate.id}/accommodations"
    response = await client.put(url, json={"extra_time_multiplier": 1.5, "extra_time_minutes": 10}, headers=admin)
    assert response.status_code == 200
    me = (await client.get("/api/v1/users/me", headers=candidate_headers)).json()
    assert (me["extra_time_multiplier"], me["extra_time_minutes"]) == (1.5, 10)
    too_much = await client.put(url, json={"extra_time_multiplier": 9}, headers=admin)
    assert too_much.status_code == 422
    assert too_much.json()["fields"][0]["field"] == "extra_time_multiplier"
    assert (await client.put(url, json={}, headers=candidate_headers)).status_code == 403
