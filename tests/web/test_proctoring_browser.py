"""A proctored sitting in a real browser: the candidate's page and the proctor console, live."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.servers import Server
from tests.web.browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# a fake camera that needs no permission prompt: the demo window takes a snapshot every 10 s
CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@contextmanager
def chromium_with_camera() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[*ARGS, *CAMERA_ARGS])
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Page, base: str, email: str, password: str, lands_on: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{lands_on}")


def wait_until_acknowledged(page: Page, attempt: str) -> None:
    """Every event the page queued has been stored by the server (its `ack` came back)."""
    page.wait_for_function(
        "key => JSON.parse(sessionStorage.getItem(key) || '[]').length === 0",
        arg=f"exam.{attempt}.live.outbox",
        timeout=10000,
    )


HIDE_PAGE = """() => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_proctor_watches_authorises_pauses_and_chats_with_a_candidate(server: Server, tmp_path: Path) -> None:
    with chromium_with_camera() as browser:
        candidate = browser.new_context(permissions=["camera"]).new_page()
        proctor = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        proctor.on("dialog", lambda dialog: dialog.accept())
        errors: list[str] = []
        for page in (candidate, proctor):
            page.on("pageerror", lambda error: errors.append(str(error)))

        # the candidate checks in and starts; a proctored sitting waits for the proctor
        sign_in(candidate, server.base, "candidate2@example.org", "demo-candidate2-password", "/exams")
        row = candidate.locator("#exams tbody tr", has_text="proctored")
        attempt = row.get_attribute("data-attempt")
        assert attempt
        # before the clock starts the briefing says what is observed, the camera included
        row.get_by_role("link", name="Open the briefing").click()
        candidate.wait_for_url(f"**/exams/{attempt}/briefing")
        expect(candidate.locator("#briefing-recorded")).to_contain_text("A proctor admits you and watches")
        expect(candidate.locator("#briefing-recorded")).to_contain_text("a still picture every 10 seconds")
        candidate.click("#camera-check")
        expect(candidate.locator("#system-check")).to_contain_text("Camera: passed")
        candidate.check("#accept")
        candidate.click("#start")
        # the waiting state explains itself: the clock has not started, the page moves on alone
        expect(candidate.locator("#waiting")).to_be_visible()
        expect(candidate.locator("#waiting")).to_contain_text("Your clock has not started")

        # the proctor lands on the console, sees the sitting and authorises it
        sign_in(proctor, server.base, "proctor@example.org", "demo-proctor-password", "/proctor")
        expect(proctor.locator("#live-status")).to_contain_text("connected")
        sitting = proctor.locator(f'#sittings tr[data-attempt="{attempt}"]')
        expect(sitting.locator(".state")).to_contain_text("waiting")
        expect(sitting.locator(".risk")).to_contain_text("0")
        sitting.click()
        expect(proctor.locator("#detail")).to_be_visible()
        proctor.click("#act-authorize")
        expect(proctor.locator("#action-result")).to_contain_text("done")
        expect(sitting.locator(".state")).to_contain_text("in progress")

        # the candidate's page enters the exam on its own and joins the live channel
        candidate.wait_for_url(f"**/exams/{attempt}", timeout=15000)
        candidate.wait_for_selector("#q1")
        expect(candidate.locator("#live-status")).to_contain_text("connected")
        expect(sitting.locator(".connection")).to_have_text("connected", timeout=15000)
        expect(sitting.locator(".time-left")).to_have_text(re.compile(r"^\d+:\d\d"))

        # the page is hidden: the proctor's timeline shows it within a second of being stored
        wait_until_acknowledged(candidate, attempt)
        candidate.evaluate(HIDE_PAGE)
        wait_until_acknowledged(candidate, attempt)
        expect(proctor.locator("#timeline li[data-seq]", has_text="visibility_hidden")).to_have_count(1, timeout=1000)

        # a warning shows at once on the candidate's page
        proctor.fill("#message", "Please keep this tab in front.")
        proctor.click("#act-warn")
        expect(candidate.locator("#proctor-warning")).to_be_visible(timeout=2000)
        expect(candidate.locator("#proctor-warning")).to_contain_text("Please keep this tab in front.")
        candidate.click("#proctor-warning-close")

        # pause: the candidate sees the notice at once; resume lifts it
        proctor.fill("#reason", "Checking the room")
        proctor.click("#act-pause")
        expect(candidate.locator("#paused")).to_be_visible(timeout=2000)
        expect(sitting.locator(".state")).to_contain_text("paused")
        proctor.click("#act-resume")
        expect(candidate.locator("#paused")).to_be_hidden(timeout=2000)

        # chat both ways
        proctor.fill("#chat-input", "Please face the camera.")
        proctor.click("#chat-send")
        expect(candidate.locator("#chat-log")).to_contain_text("Please face the camera.", timeout=2000)
        candidate.fill("#chat-input", "Done, sorry.")
        candidate.click("#chat-send")
        expect(proctor.locator("#chat-log")).to_contain_text("Done, sorry.", timeout=2000)
        expect(proctor.locator("#timeline")).to_contain_text("chat")

        # the latest webcam snapshot appears on the console, fetched with the bearer token
        thumbnail = sitting.locator("img.snapshot")
        expect(thumbnail).to_have_attribute("src", re.compile(r"^blob:"), timeout=25000)
        proctor.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
        expect(proctor.locator("#timeline")).to_contain_text("webcam_snapshot")

        candidate.screenshot(path=str(tmp_path / "candidate.png"))
        proctor.screenshot(path=str(tmp_path / "console.png"), full_page=True)

        # termination cannot be undone: the console asks first, then the candidate's page ends
        proctor.fill("#reason", "End of the test")
        proctor.click("#act-terminate")
        expect(candidate.locator("#finished")).to_be_visible(timeout=3000)
        expect(sitting.locator(".state")).to_contain_text("terminated")
        assert errors == []
