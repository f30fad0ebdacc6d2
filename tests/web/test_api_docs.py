"""The API reference at /docs: Swagger UI from the service itself, under the pages' strict policy, offline too;
and staff who sign in land on their own pages, not on the reference."""

from __future__ import annotations

import re
from importlib import resources
from typing import cast

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.servers import Server
from tests.web.browser import chromium

SCRIPT_SRC = re.compile(r"<script\b([^>]*)>")
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


def _src(attributes: str) -> str | None:
    found = re.search(r'\bsrc="([^"]+)"', attributes)
    return found.group(1) if found else None


async def _docs(client: httpx.AsyncClient) -> tuple[httpx.Response, list[str], list[str]]:
    response = await client.get("/docs")
    assert response.status_code == 200
    scripts = [_src(attributes) for attributes in SCRIPT_SRC.findall(response.text)]
    assert None not in scripts, "an inline script: the policy would block it"
    return response, [s for s in scripts if s], STYLESHEET.findall(response.text)


async def test_the_docs_page_loads_only_its_own_files_under_the_pages_policy(client: httpx.AsyncClient) -> None:
    response, scripts, stylesheets = await _docs(client)
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui-bundle.js" in " ".join(scripts)
    assert scripts[-1] == "/static/js/api-docs.js"
    for url in [*scripts, *stylesheets]:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
    assert not re.search(r"(src|href)=\"(https?:)?//", response.text)
    # the same policy as every other page, nothing loosened for Swagger UI
    policy = response.headers["content-security-policy"]
    assert policy == (await client.get("/login")).headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe" not in policy
    assert response.headers["cache-control"] == "no-store"


async def test_redoc_is_gone_and_the_openapi_document_stays(client: httpx.AsyncClient) -> None:
    assert (await client.get("/redoc")).status_code == 404
    document = await client.get("/openapi.json")
    assert document.status_code == 200
    assert "/api/v1/auth/token" in document.json()["paths"]


async def test_the_pinned_bundle_and_stylesheet_are_served_for_a_year(client: httpx.AsyncClient) -> None:
    _, scripts, stylesheets = await _docs(client)
    (bundle_url,) = [s for s in scripts if s.endswith("/swagger-ui-bundle.js")]
    (css_url,) = stylesheets
    shipped = resources.files("swagger_ui") / "static"
    for url, content_type, name in (
        (bundle_url, "text/javascript", "swagger-ui-bundle.js"),
        (css_url, "text/css", "swagger-ui.css"),
    ):
        plain = await client.get(url, headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200
        assert plain.headers["content-type"].startswith(content_type)
        assert "content-encoding" not in plain.headers
        assert plain.content == (shipped / name).read_bytes()
        assert re.search(r"max-age=(\d+)", plain.headers["cache-control"])[1] == "31536000"  # type: ignore[index]
        assert plain.headers["x-content-type-options"] == "nosniff"
        # browsers get it compressed
        packed = await client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed.headers["content-encoding"] == "gzip"
        assert int(packed.headers["content-length"]) < len(plain.content) / 2
        assert packed.content == plain.content  # httpx decoded it
    assert b"SwaggerUIBundle" in (await client.get(bundle_url)).content


async def test_no_other_file_of_the_package_is_served(client: httpx.AsyncClient) -> None:
    _, scripts, _ = await _docs(client)
    (bundle_url,) = [s for s in scripts if s.endswith("/swagger-ui-bundle.js")]
    folder = bundle_url.rsplit("/", 1)[0]
    # the editor, the standalone preset and the OAuth page (an inline script) stay unpublished
    for name in ("swagger-editor-bundle.js", "swagger-ui-standalone-preset.js", "oauth2-redirect.html", "LICENSE"):
        response = await client.get(f"{folder}/{name}")
        assert response.status_code == 404, name
        assert response.json()["error"] == "not_found"
    assert (await client.get("/static/swagger-ui/0.0.1/swagger-ui-bundle.js")).status_code == 404
    assert (await client.get(f"{folder}/..%2F..%2F__init__.py")).status_code == 404


# --- in a real browser -------------------------------------------------------------------------


def _offline_but_for(page: Page, origin: str) -> list[str]:
    """Every request to another origin fails, as on a machine without internet access; returns their URLs."""
    elsewhere: list[str] = []

    def handle(route: Route) -> None:
        url = route.request.url
        if url == origin or url.startswith(f"{origin}/") or url.startswith("data:"):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort("internetdisconnected")

    page.route("**/*", handle)
    return elsewhere


@pytest.mark.slow
@pytest.mark.browser
def test_the_docs_page_renders_offline_without_breaking_the_policy(server: Server) -> None:
    with chromium() as launched:
        page = cast(Browser, launched).new_page()
        elsewhere = _offline_but_for(page, server.base)
        console: list[str] = []
        errors: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(f"{server.base}/docs")
        token = page.locator('.opblock-summary-path[data-path="/api/v1/auth/token"]')
        expect(token).to_be_visible(timeout=15000)
        expect(token).to_have_text("/api/v1/auth/token")
        expect(page.locator(".opblock-tag-section").first).to_be_visible()
        # an operation opens with its parameters and responses, all drawn by the same-origin bundle
        token.click()
        expect(page.locator(".opblock.is-open .responses-wrapper").first).to_be_visible()

        violations = [line for line in console if "Content Security Policy" in line]
        assert not violations, violations
        assert not errors, errors
        assert not elsewhere, elsewhere


def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


@pytest.mark.slow
@pytest.mark.browser
def test_staff_land_on_their_own_pages_never_on_the_reference(server: Server) -> None:
    with chromium() as launched:
        browser = cast(Browser, launched)
        for email, password, home in (
            ("admin@example.org", "demo-admin-password", "/proctor"),
            ("proctor@example.org", "demo-proctor-password", "/proctor"),
            ("examiner@example.org", "demo-examiner-password", "/examiner"),
            ("candidate@example.org", "demo-candidate-password", "/exams"),
        ):
            page = browser.new_context().new_page()
            _sign_in(page, server.base, email, password)
            page.wait_for_url(f"{server.base}{home}")
            page.context.close()

        # an account whose role no page is made for is told so on the sign-in page and stays signed out
        page = browser.new_context().new_page()

        def unknown_role(route: Route) -> None:
            answer = route.fetch()
            route.fulfill(response=answer, json={**answer.json(), "role": "auditor"})

        page.route("**/api/v1/auth/token", unknown_role)
        _sign_in(page, server.base, "admin@example.org", "demo-admin-password")
        expect(page.locator("#login-error")).to_have_text("This account has no pages here; ask an administrator.")
        assert page.url == f"{server.base}/login"
        assert page.evaluate("Object.keys(sessionStorage)") == []
