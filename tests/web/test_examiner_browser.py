"""The review of a result in a real browser: graded in the sandbox by the running server, overridden,
released, then seen by the candidate and verified on the credential's public page."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from exam_service.core.clock import FrozenClock, SystemClock
from exam_service.core.database import create_engine, create_sessionmaker
from exam_service.models import Role
from tests.delivery.helpers import seed_bank
from tests.factories import PASSWORD, bearer, make_user
from tests.grading.conftest import NO_BWRAP
from tests.scoring.helpers import ROOT_DOCKERFILE, form_rows, right_answer, shown, wrong_answer
from tests.servers import Server
from tests.web.a11y import assert_accessible
from tests.web.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]

EXAMINER, CANDIDATE, ADMIN = "examiner@example.org", "candidate@example.org", "admin@example.org"
NON_ROOT_FEEDBACK = "the image must switch to a non-root USER"
KEYED = ("single_choice", "true_false", "numeric", "ordering")  # a wrong answer is a valid key for these


def _run(work: Any) -> Any:
    return asyncio.run(work)


async def _seed(url: str) -> None:
    """The synthetic foundation bank (each performance task checks for a non-root USER) and three accounts."""
    engine = create_engine(url)
    try:
        sm = create_sessionmaker(engine)
        clock = FrozenClock(SystemClock().now())
        await seed_bank(sm, clock)
        for email, role in ((ADMIN, Role.admin), (EXAMINER, Role.examiner), (CANDIDATE, Role.candidate)):
            await make_user(sm, clock, role, email=email)
    finally:
        await engine.dispose()


async def _form(url: str, attempt_id: str) -> list[tuple[int, dict[str, Any], dict[str, list[str]]]]:
    engine = create_engine(url)
    try:
        rows = await form_rows(create_sessionmaker(engine), attempt_id)
        return [(row.position, version.payload, row.presentation) for row, version in rows]
    finally:
        await engine.dispose()


@pytest.fixture
def review_server(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Server, str]]:
    if shutil.which("bwrap") is None:
        pytest.skip(NO_BWRAP)
    database = tmp_path / "review.db"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite+aiosqlite:///{database}"
    _run(_seed(url))
    env = {
        **os.environ,
        "EXAM_DATABASE_URL": url,
        "EXAM_LOG_JSON": "false",
        "EXAM_GRADING_DISPATCH": "local",
        "EXAM_CREDENTIAL_KEY_FILE": str(tmp_path / "credential-key.pem"),
        "EXAM_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
    }
    env.pop("EXAM_REDIS_URL", None)
    running = Server(env, tmp_path / "server.log")
    running.env["EXAM_PUBLIC_BASE_URL"] = running.base
    running.start()
    yield running, url
    running.stop()


def _token(http: httpx.Client, email: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def _sit_and_submit(http: httpx.Client, url: str) -> str:
    """A foundation sitting through the API: every theory item right, the task's Dockerfile running as root."""
    admin, candidate = _token(http, ADMIN), _token(http, CANDIDATE)
    now = SystemClock().now()
    window = http.post(
        "/api/v1/windows",
        headers=admin,
        json={
            "title": "Foundation review window",
            "blueprint": "mlocp-foundation",
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(hours=4)).isoformat(),
            "proctored": False,
        },
    )
    assert window.status_code == 201, window.text
    me = http.get("/api/v1/users/me", headers=candidate).json()
    registered = http.post(
        f"/api/v1/windows/{window.json()['id']}/registrations", headers=admin, json={"candidate_id": me["id"]}
    )
    assert registered.status_code == 201, registered.text
    attempt = registered.json()["id"]
    assert http.post(f"/api/v1/attempts/{attempt}/check-in", headers=candidate).status_code == 200
    started = http.post(f"/api/v1/attempts/{attempt}/start", headers=candidate, json={"accept_rules": True})
    assert started.status_code == 200, started.text
    for position, payload, presentation in _run(_form(url, attempt)):
        if payload["type"] == "performance_task":
            value: Any = {"Dockerfile": ROOT_DOCKERFILE}
        else:
            value = shown(payload, presentation, right_answer(payload))
        saved = http.put(
            f"/api/v1/attempts/{attempt}/responses/{position}", headers=candidate, json={"revision": 1, "value": value}
        )
        assert saved.status_code == 200, saved.text
    assert http.post(f"/api/v1/attempts/{attempt}/submit", headers=candidate).status_code == 200
    return attempt


def _wait_until_ready(http: httpx.Client, attempt: str) -> dict[str, Any]:
    """The server grades the task in its pool and its scorer scores the sitting; the examiner's API shows it."""
    examiner = _token(http, EXAMINER)
    deadline, report = time.monotonic() + 120, None
    while time.monotonic() < deadline:
        response = http.get(f"/api/v1/results/{attempt}", headers=examiner)
        if response.status_code == 200:
            report = response.json()
            if report["result"]["state"] == "ready":
                return dict(report)
        time.sleep(0.5)
    raise AssertionError(f"the result never became ready: {report}")


def _sign_in(page: Page, base: str, email: str, lands_on: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{lands_on}")


def test_an_examiner_reviews_overrides_and_releases_and_the_credential_verifies(
    review_server: tuple[Server, str], tmp_path: Path
) -> None:
    server, url = review_server
    with httpx.Client(base_url=server.base, timeout=30) as http:
        attempt = _sit_and_submit(http, url)
        ready = _wait_until_ready(http, attempt)
        task = next(i for i in ready["items"] if i["type"] == "performance_task")
        assert (ready["result"]["passed"], task["source"], task["awarded"]) == (False, "grader", 0)

        with chromium() as browser:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            # a refused request is logged by the browser too; anything else (a script error, a CSP refusal) is a fault
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None
                ),
            )

            # the examiner lands on the review queue and finds the sitting, its state written out
            _sign_in(page, server.base, EXAMINER, "/examiner")
            row = page.locator(f'#queue tbody tr[data-attempt="{attempt}"]')
            expect(row.locator(".state")).to_have_text("Ready to release")
            expect(row.locator(".outcome")).to_have_text("Not passed")
            page.get_by_label("Result state").select_option("withheld")
            page.get_by_role("button", name="Apply filters").click()
            expect(page.locator("#queue-empty")).to_be_visible()
            expect(row).to_have_count(0)
            page.get_by_label("Result state").select_option("ready")
            page.get_by_label("Window", exact=True).select_option(label="Foundation review window (Foundation)")
            page.get_by_role("button", name="Apply filters").click()
            expect(row).to_have_count(1)
            assert "state=ready" in page.url
            page.screenshot(path=str(tmp_path / "queue.png"))
            row.get_by_role("link", name="Test candidate").click()
            page.wait_for_url(f"**/examiner/results/{attempt}")

            # the score report: the outcome, the failed section, and the task's failing check with its feedback
            expect(page.locator("#outcome")).to_have_text("Not passed")
            expect(page.locator("#result-state")).to_have_text("Ready to release")
            expect(page.locator('#sections tr[data-section="performance"]')).to_contain_text("Not met")
            check = page.locator('#grading tr[data-check="user"]')
            expect(check).to_contain_text("Failed")
            expect(check).to_contain_text(NON_ROOT_FEEDBACK)

            # the examiner gives the task full points, with a reason; the outcome becomes a pass
            item = page.locator(f'#items tr[data-position="{task["position"]}"]')
            expect(item.locator(".points")).to_have_text(f"0 of {task['maximum']:g}")
            item.locator("summary", has_text="Override").click()
            item.get_by_label(re.compile("^Points")).fill(f"{task['maximum']:g}")
            # a reason too short is refused by the API and shown beside the reason field, which takes focus
            item.get_by_label("Reason").fill("ok")
            item.get_by_role("button", name="Set points").click()
            expect(item.locator(f"#override-reason-{task['position']}-error")).to_contain_text("Reason:")
            expect(item.get_by_label("Reason")).to_be_focused()
            expect(page.locator("#outcome")).to_have_text("Not passed")
            item.get_by_label("Reason").fill("Second marking: the USER line is a documented base-image convention")
            item.get_by_role("button", name="Set points").click()
            expect(page.locator("#outcome")).to_have_text("Passed")
            expect(page.locator("#status")).to_contain_text(f"Item {task['position']} set to")
            expect(page.locator("#summary-title")).to_be_focused()
            expect(item.locator(".source")).to_contain_text("Examiner override")
            expect(page.locator('#trail tr[data-action="override"]')).to_contain_text("Second marking")

            # a ready result is released without a reason
            page.get_by_role("button", name="Release result").click()
            expect(page.locator("#result-state")).to_have_text("Released")
            expect(page.locator("#status")).to_contain_text("Result released to the candidate: passed")
            expect(page.locator('#trail tr[data-action="release"]')).to_have_count(1)
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

            # the candidate sees the released pass, and anyone can verify the credential it issued
            candidate = _token(http, CANDIDATE)
            result = http.get(f"/api/v1/attempts/{attempt}/result", headers=candidate).json()
            assert (result["status"], result["passed"]) == ("released", True)
            credentials = http.get("/api/v1/me/credentials", headers=candidate)
            assert credentials.status_code == 200, credentials.text
            [credential] = [c for c in credentials.json() if c["attempt_id"] == attempt]
            expect(page.locator("#credential-link")).to_have_attribute("href", f"/credentials/{credential['id']}")
            public = browser.new_context().new_page()
            public.goto(f"{server.base}/credentials/{credential['id']}")
            expect(public.locator(".verdict")).to_contain_text("Valid credential")
            expect(public.locator("body")).to_contain_text("Test candidate")
            assert_accessible(public, "public credential page")

            # ... and on "My exams": the released result beside the sitting, the credential below it
            mine = browser.new_context().new_page()
            _sign_in(mine, server.base, CANDIDATE, "/exams")
            row = mine.locator(f'#exams tr[data-attempt="{attempt}"]')
            expect(row.locator(".result-line")).to_contain_text("Passed: scaled score")
            expect(row.get_by_role("link", name=re.compile("^Submission receipt"))).to_be_visible()
            expect(mine.locator("#credentials")).to_be_visible()
            expect(mine.locator("#credentials")).to_contain_text("Valid")
            assert_accessible(mine, "My exams with a released result and a credential")

            _analyse_and_correct(page, ready, attempt, tmp_path)
            assert problems == []


def _analyse_and_correct(page: Page, ready: dict[str, Any], attempt: str, tmp_path: Path) -> None:
    """Item analysis with its histogram and CSV; a key correction changes the released sitting, which an
    examiner then confirms on its report."""
    page.get_by_role("link", name="Item analysis").click()
    page.wait_for_url("**/examiner/analysis")
    page.get_by_label("Blueprint version").select_option(index=1)
    page.get_by_label("Histogram bins").fill("5")
    page.get_by_role("button", name="Analyse").click()
    expect(page.locator("#test-title")).to_be_focused()
    expect(page.locator("#test")).to_contain_text("Candidates1")
    expect(page.locator("#histogram svg[role=img] rect.bar")).to_have_count(5)
    expect(page.locator('#histogram rect.bar[data-count="1"]')).to_have_attribute("data-lower", "80")
    with page.expect_download() as download:
        page.get_by_role("button", name="Item statistics (CSV)").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "item,version,type,responses,p_value,discrimination,flags"
    assert len(lines) == 1 + len(ready["items"])

    # the key of a theory item the candidate answered right is replaced by a wrong one
    target = next(i for kind in KEYED for i in ready["items"] if i["type"] == kind)
    name = f"{target['item_id']} v{target['version']}"
    page.locator("#analysis-items tbody tr", has_text=name).get_by_role("button", name="Correct key").click()
    expect(page.get_by_label("Item version")).to_be_focused()
    expect(page.locator("#c-current")).to_contain_text("Key as authored")
    page.get_by_label("Value (JSON)").fill(json.dumps(wrong_answer(target["item"])))
    page.get_by_label("Reason").fill("The published key contradicts the reference")
    page.get_by_role("button", name="Apply correction and rescore").click()
    changed = page.locator(f'#c-report-table tr[data-attempt="{attempt}"]')
    expect(changed).to_contain_text("Yes: released, confirm on its report")
    expect(page.locator("#c-report-title")).to_be_focused()
    expect(page.locator("#c-history")).to_contain_text("The published key contradicts the reference")
    page.screenshot(path=str(tmp_path / "analysis.png"), full_page=True)

    changed.get_by_role("link").click()
    page.wait_for_url(f"**/examiner/results/{attempt}")
    expect(page.locator("#change-pending")).to_contain_text("awaiting an examiner's confirmation")
    page.locator("#confirm-reason").fill("Key correction confirmed")
    page.get_by_role("button", name="Confirm change").click()
    expect(page.locator("#status")).to_contain_text("Change confirmed: the candidate now sees a pass")
    expect(page.locator("#change-pending")).to_have_count(0)
    expect(page.locator('#trail tr[data-action="confirm_change"]')).to_have_count(1)
