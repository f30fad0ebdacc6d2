"""A candidate sits an exam in a real browser: answers survive a reload and a dropped network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.servers import Server
from tests.web.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _api_form(base: str, attempt: str) -> dict[str, Any]:
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": "candidate@example.org", "password": "demo-candidate-password"}
    ).json()
    response = httpx.get(
        f"{base}/api/v1/attempts/{attempt}/form", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    form: dict[str, Any] = response.json()
    return form


def test_candidate_answers_reloads_goes_offline_and_submits(server: Server, tmp_path: Path) -> None:
    with chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(f"{server.base}/login")
        page.fill("#email", "candidate@example.org")
        page.fill("#password", "demo-candidate-password")
        page.click("button[type=submit]")
        page.wait_for_url("**/exams")
        row = page.locator("#exams tbody tr", has_text="self-paced")
        row.get_by_role("link", name="Open the briefing").click()
        page.wait_for_url("**/briefing")
        page.check("#accept")
        page.click("#start")
        page.wait_for_selector("#q1")
        attempt = page.url.rsplit("/", 1)[1]
        assert page.locator(".question").count() == 46  # the Foundation blueprint: 45 theory items, 1 task
        expect(page.locator("#clock")).to_contain_text("left")
        minutes_left = int(page.inner_text("#clock").split(":")[0])
        assert 115 <= minutes_left <= 120  # the Foundation blueprint's 120 minutes, from the server

        # answer the first single-choice question and wait for the server's acknowledgement
        card = page.locator(".question", has=page.locator("input[type=radio]")).first
        card_id = card.get_attribute("id")
        card.locator("input[type=radio]").nth(1).check()
        page.wait_for_selector(f"#{card_id} .state.saved")
        page.screenshot(path=str(tmp_path / "answered.png"), full_page=False)

        # a reload brings back the same answer
        page.reload()
        page.wait_for_selector(f"#{card_id}")
        assert page.locator(f"#{card_id} input[type=radio]").nth(1).is_checked()

        # offline: the answer waits in the browser, then reaches the server when the network returns
        second = page.locator(".question", has=page.locator("input[type=radio]")).nth(1)
        second_id = second.get_attribute("id")
        page.context.set_offline(True)
        second.locator("input[type=radio]").first.check()
        page.wait_for_selector("#connection.offline")
        page.context.set_offline(False)
        page.wait_for_selector(f"#{second_id} .state.saved", timeout=20000)
        stored = {i["position"]: i["answer"] for i in _api_form(server.base, attempt)["items"]}
        assert stored[int(card_id[1:])] is not None
        assert stored[int(second_id[1:])] is not None

        # a number typed in words is refused beside the input, and nothing is stored for it
        numeric = page.locator(".question", has=page.locator("input[inputmode=decimal]")).first
        numeric_id = numeric.get_attribute("id")
        expect(numeric.locator(".accepts")).to_contain_text("A number in digits")
        numeric.locator("input[inputmode=decimal]").fill("about four")
        expect(numeric.locator(".input-error")).to_contain_text("Type the answer in digits")
        assert numeric.locator("input[inputmode=decimal]").get_attribute("aria-invalid") == "true"
        assert _api_form(server.base, attempt)["items"][int(numeric_id[1:]) - 1]["answer"] is None
        numeric.locator("input[inputmode=decimal]").fill("1,500")
        page.wait_for_selector(f"#{numeric_id} .state.saved")
        expect(numeric.locator(".input-error")).to_be_empty()
        assert _api_form(server.base, attempt)["items"][int(numeric_id[1:]) - 1]["answer"] == "1,500"

        page.click("#review-open")
        page.click("#submit")
        page.click("#confirm-yes")
        page.wait_for_url(f"**/exams/{attempt}/receipt")
        expect(page.locator("#receipt-answered")).to_contain_text("3 of 46 questions")
