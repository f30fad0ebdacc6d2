"""Bad input gets a 4xx naming the field at fault, never a 500."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.factories import auth_headers


async def test_malformed_json(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    response = await client.post(
        "/api/v1/users", content=b'{"email": "a@b.org",', headers=admin | {"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "body"
    assert "malformed JSON" in response.json()["detail"]


async def test_missing_and_wrong_fields_are_named(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    response = await client.post("/api/v1/users", json={"email": "not-an-email", "role": "wizard"}, headers=admin)
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["fields"]}
    assert {"email", "role", "full_name", "password"} <= fields
    extra = await client.post("/api/v1/users", json={"unknown": 1}, headers=admin)
    assert "unknown" in {f["field"] for f in extra.json()["fields"]}


async def test_login_form_missing_password(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "a@b.org"})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "password"


async def test_over_long_body_is_refused_before_parsing(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    huge = {"email": "a@b.org", "full_name": "x" * 500_000, "role": "candidate", "password": "p" * 20}
    response = await client.post("/api/v1/users", json=huge, headers=admin)
    assert response.status_code == 413
    assert response.json()["field"] == "body"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(500):
            yield b"x" * 1000

    streamed = await client.post("/api/v1/users", content=chunks(), headers=admin)
    assert streamed.status_code == 413


async def test_bad_path_parameter_and_unknown_route(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    response = await client.put("/api/v1/users/not-a-uuid/accommodations", json={}, headers=admin)
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "user_id"
    missing = await client.put(
        "/api/v1/users/00000000-0000-0000-0000-000000000000/accommodations", json={}, headers=admin
    )
    assert missing.status_code == 404
    assert (await client.get("/api/v1/nowhere")).json()["error"] == "not_found"
