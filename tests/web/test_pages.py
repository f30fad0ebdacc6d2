from __future__ import annotations

import uuid

import httpx


async def test_pages_are_served_with_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    for path in ("/login", "/exams", f"/exams/{uuid.uuid4()}"):
        response = await client.get(path)
        assert response.status_code == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "<script>" not in response.text  # no inline scripts: the policy would block them
    assert (await client.get("/")).headers["location"] == "/login"
    assert (await client.get("/exams/not-an-id")).status_code == 422
    assert (await client.get("/static/js/sitting.js")).status_code == 200
