from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from exam_service.core.broker import Broker, RedisBroker
from exam_service.core.settings import Settings


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


class TestUnreachableBroker:
    @pytest.fixture
    def broker(self) -> Broker:
        return RedisBroker("redis://127.0.0.1:1/0")  # nothing listens on port 1

    async def test_readiness_fails_when_the_broker_is_unreachable(self, client: httpx.AsyncClient) -> None:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["broker"] == "unreachable"
        assert (await client.get("/healthz")).status_code == 200


METRICS_TOKEN = "scrape-0f3c9a7e51d24b6c8e0a4f7d2b9c1e63"


class TestUnreachableDatabase:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"})

    async def test_readiness_says_what_is_down_not_how(self, client: httpx.AsyncClient) -> None:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "unreachable", "broker": "ok"}
        assert "Error" not in ready.text
        assert "asyncpg" not in ready.text


async def test_metrics_are_not_served_without_a_token_setting(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer anything"}):
        refused = await client.get("/metrics", headers=headers)
        assert refused.status_code == 404
        assert "exam_http_requests_total" not in refused.text


class TestMetricsBehindAToken:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})

    async def test_only_a_bearer_of_the_metrics_token_reads_them(self, client: httpx.AsyncClient) -> None:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
            assert (await client.get("/metrics", headers=headers)).status_code == 404
        scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 200
        assert "exam_http_requests_total" in scraped.text

    async def test_metrics_count_requests_by_route_template(self, client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        await client.put("/api/v1/users/00000000-0000-0000-0000-000000000001/accommodations", json={})
        text = (await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
        assert 'exam_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
        assert 'route="/api/v1/users/{user_id}/accommodations",status="401"' in text
        assert "exam_http_request_duration_seconds_bucket" in text


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "trace-abc-123"})
    assert echoed.headers["x-request-id"] == "trace-abc-123"


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/auth/token" in spec["paths"]
