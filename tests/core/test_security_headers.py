"""What every response tells the browser: no sniffing, no referrer, no framing, and API answers are never stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.broker import Broker
from exam_service.core.clock import FrozenClock
from exam_service.core.settings import Settings
from exam_service.main import create_app
from exam_service.models import Role
from tests.delivery.helpers import sitting, value_for
from tests.factories import login, make_user


def assert_hardened(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_the_token_response_is_never_stored(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock, Role.proctor)
    response = await login(client, user.email)
    assert response.status_code == 200
    assert "access_token" in response.json()
    assert response.headers["cache-control"] == "no-store"
    assert_hardened(response)


async def test_the_candidates_form_with_their_answers_is_never_stored(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    first = (await s.form())["items"][0]
    answer = value_for(first["item"], 1)
    assert (await s.save(first["position"], 1, answer)).status_code == 200
    response = await s.get("/form")
    assert response.status_code == 200
    assert response.json()["items"][0]["answer"] == answer
    assert response.headers["cache-control"] == "no-store"
    assert_hardened(response)


async def test_api_refusals_are_not_stored_either(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me/credentials")
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-store"
    assert_hardened(response)


async def test_operations_answers_are_not_stored(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz"):
        response = await client.get(path)
        assert response.headers["cache-control"] == "no-store"
        assert_hardened(response)


async def test_static_assets_stay_cacheable(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/js/api.js")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")
    assert response.headers["etag"]
    assert_hardened(response)
    again = await client.get("/static/js/api.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


async def test_pages_keep_their_own_strict_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert_hardened(response)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert len(response.headers.get_list("content-security-policy")) == 1


async def test_no_hsts_by_default(client: httpx.AsyncClient) -> None:
    assert "strict-transport-security" not in (await client.get("/healthz")).headers


class TestHsts:
    @pytest.fixture
    async def hsts_client(
        self, settings: Settings, clock: FrozenClock, broker: Broker
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update={"hsts_seconds": 63_072_000}), clock=clock, broker=broker)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
                yield http

    async def test_every_response_asks_for_https_when_configured(self, hsts_client: httpx.AsyncClient) -> None:
        for path in ("/healthz", "/login", "/static/js/api.js", "/api/v1/me/credentials"):
            response = await hsts_client.get(path)
            assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
