from __future__ import annotations

import httpx
import pytest

from exam_service.core.broker import Broker, RedisBroker


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


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.put("/api/v1/users/00000000-0000-0000-0000-000000000001/accommodations", json={})
    text = (await client.get("/metrics")).text
    assert 'exam_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/api/v1/users/{user_id}/accommodations",status="401"' in text
    assert "exam_http_request_duration_seconds_bucket" in text


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "trace-abc-123"})
    assert echoed.headers["x-request-id"] == "trace-abc-123"


async def test_openapi_docs_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/auth/token" in spec["paths"]
