"""The public pages work without scripts, under the strict CSP, and print."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from tests.credentials.helpers import examiner_headers, issue


def _is_strict_page(response: httpx.Response) -> None:
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script" not in response.text  # served complete: nothing to run, nothing inline
    assert " style=" not in response.text


async def test_the_verification_page_shows_the_verdict_and_how_to_check_it_offline(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock)
    page = await client.get(f"/credentials/{issued.id}")
    assert page.status_code == 200
    _is_strict_page(page)
    text = page.text
    assert 'data-status="valid"' in text
    for fact in (
        "Valid credential",
        "Test candidate",
        "MLOps Certified Professional - Foundation",
        "5 January 2026",
        "5 January 2029",
        str(issued.id),
    ):
        assert fact in text
    assert 'href="http://127.0.0.1:8000/.well-known/jwks.json"' in text
    assert f'href="http://127.0.0.1:8000/api/v1/credentials/{issued.id}/verification"' in text
    assert issued.candidate.email not in text


async def test_the_certificate_prints_the_facts_and_is_voided_once_revoked(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    issued = await issue(client, sessionmaker, clock, tier="professional")
    certificate = await client.get(f"/credentials/{issued.id}/certificate")
    assert certificate.status_code == 200
    _is_strict_page(certificate)
    for fact in (
        "Test candidate",
        "MLOps Certified Professional - Professional",
        "5 January 2026",
        str(issued.id),
        f"http://127.0.0.1:8000/credentials/{issued.id}",
    ):
        assert fact in certificate.text
    assert 'class="void"' not in certificate.text
    stylesheet = await client.get("/static/certificate.css")
    assert "@media print" in stylesheet.text

    examiner = await examiner_headers(client, sessionmaker, clock)
    await client.post(f"/api/v1/credentials/{issued.id}/revoke", headers=examiner, json={"reason": "exam leak"})
    voided = await client.get(f"/credentials/{issued.id}/certificate")
    assert 'class="void"' in voided.text
    assert "<strong>Revoked credential</strong>: revoked on 5 January 2026: exam leak" in voided.text


async def test_an_unknown_credential_has_a_page_that_says_so(client: httpx.AsyncClient) -> None:
    for path in (
        "/credentials/00000000-0000-4000-8000-000000000000",
        "/credentials/00000000-0000-4000-8000-000000000000/certificate",
    ):
        page = await client.get(path)
        assert page.status_code == 404
        _is_strict_page(page)
        assert "Unknown credential" in page.text
        assert "No credential with this id." in page.text


async def test_the_exams_page_lists_the_candidates_credentials_from_a_module(client: httpx.AsyncClient) -> None:
    page = await client.get("/exams")
    assert 'id="credentials"' in page.text
    assert '<script type="module" src="/static/js/credentials.js"></script>' in page.text
    script = await client.get("/static/js/credentials.js")
    assert script.status_code == 200
    assert "/api/v1/me/credentials" in script.text
