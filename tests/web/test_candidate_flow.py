"""The candidate's exam in a real browser: My exams, the briefing, every item type, review, submit and receipt,
by mouse and by keyboard alone, checked with axe-core and at tablet size and 200% zoom."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import Blueprint
from exam_service.bank.service import Authorship, item_from_payload
from exam_service.core.clock import FrozenClock, SystemClock
from exam_service.core.database import create_engine, create_sessionmaker
from exam_service.models import Role
from tests.factories import PASSWORD, bearer, blueprint_payload, item_payload, make_user, synthetic_bank
from tests.servers import Server
from tests.web.a11y import assert_accessible, screenshot
from tests.web.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ADMIN = "flow-admin@example.org"
# one candidate per test, so no test sees another's sitting
CANDIDATES = {
    name: f"flow-{name}@example.org" for name in ("pointer", "keyboard", "retry", "axe", "clock", "mark", "markdown")
}
# an accommodation that makes the limit 60 minutes and 12 seconds: the clock reaches the 60-minute
# mark 12 seconds after the start
MARK_MULTIPLIER = 1.0033
ACCOMMODATIONS = {CANDIDATES["mark"]: {"extra_time_multiplier": MARK_MULTIPLIER}}
ZONE = "Europe/Berlin"
THEORY, TASKS = 20, 1  # five foundation domains of four theory items each, and one performance task
TOTAL = THEORY + TASKS
REFERENCE = re.compile(r"^[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$")
MARKDOWN_ITEM = "F-LIFE-001"  # a single-choice item (synthetic_bank's first kind)

MARKDOWN_STEM = (
    "The model server below is packaged as a container image. Which change makes the image smaller?\n\n"
    "| Base image | Size |\n"
    "|---|---:|\n"
    "| python:3.12 | 1.0 GB |\n"
    "| python:3.12-slim | 130 MB |\n\n"
    "```python\n"
    "def serve(model):\n"
    "    if model.ready:\n"
    "        return model.predict\n"
    "```\n\n"
    "Keep in mind:\n\n"
    "- the base image\n"
    "- the build cache\n"
    "- the files copied in\n"
)
TASK_STEM = (
    "Package the model server as a container image that does not run as root.\n\n"
    "| File | What it holds |\n"
    "|---|---|\n"
    "| Dockerfile | the image |\n"
    "| app/serve.py | the server |\n\n"
    "1. Start from a slim Python base image.\n"
    "2. Install the server's dependencies.\n"
    "3. Switch to a non-root user.\n"
)
README = (
    "# Model server\n\nThe server answers on port 8080.\n"
    "Write the image in Dockerfile and the server in app/serve.py.\n"
)

DOCKERFILE_TYPED = "FROM python:3.12-slim\nRUN pip install \\\n"
SERVE_TYPED = "from fastapi import FastAPI\napp = FastAPI()\n"

# the exam page's fixed bars and whether the focused element is hidden under either
COVERED = """() => {
  const el = document.activeElement;
  const header = document.querySelector('header.bar'), footer = document.querySelector('.submit-bar');
  if (!el || el === document.body || el.matches('.skip-link')) return null;
  if (el.closest('header.bar, .submit-bar, dialog')) return null;
  const box = el.getBoundingClientRect();
  return {
    what: `${el.tagName.toLowerCase()}#${el.id}.${el.className} name=${el.name || ''}`,
    top: box.top, bottom: box.bottom,
    headerBottom: header.getBoundingClientRect().bottom,
    footerTop: footer && !footer.hidden ? footer.getBoundingClientRect().top : window.innerHeight,
  };
}"""


def _bank() -> list[dict[str, Any]]:
    """synthetic_bank's theory items (every theory type), one dressed in Markdown, and one two-file task."""
    payloads = synthetic_bank(4, 0)
    for payload in payloads:
        if payload["id"] == MARKDOWN_ITEM:
            assert payload["type"] == "single_choice"
            payload["stem"] = MARKDOWN_STEM
            payload["options"][1]["text"] = "Use `python:3.12-slim` as the base image"
    task = item_payload(
        "F-TASK-001",
        "serving",
        "performance_task",
        stem=TASK_STEM,
        answer_files=["Dockerfile", "app/serve.py"],
        starter_files=[{"path": "README.md", "content": README}],
    )
    return [*payloads, task]


async def _seed(url: str) -> dict[str, str]:
    """The bank, its 60-minute foundation blueprint, an admin and the candidates (email -> user id)."""
    engine = create_engine(url)
    try:
        sm = create_sessionmaker(engine)
        clock = FrozenClock(SystemClock().now())
        blueprint = blueprint_payload(per_domain=THEORY // 5, tasks=TASKS, time_limit_minutes=60)
        async with sm() as session, session.begin():
            await bank_service.import_content(
                session,
                [item_from_payload(p) for p in _bank()],
                [Blueprint.model_validate(blueprint)],
                Authorship("seed", "seed"),
                clock,
            )
        await make_user(sm, clock, Role.admin, email=ADMIN)
        return {
            email: str((await make_user(sm, clock, Role.candidate, email=email, **ACCOMMODATIONS.get(email, {}))).id)
            for email in CANDIDATES.values()
        }
    finally:
        await engine.dispose()


@dataclass
class Flow:
    """The running server and each candidate's sitting in one open, unproctored window."""

    server: Server
    attempts: dict[str, str] = field(default_factory=dict)  # candidate email -> attempt id

    @property
    def base(self) -> str:
        return self.server.base


def _token(http: httpx.Client, email: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Flow]:
    folder = tmp_path_factory.mktemp("candidate-flow")
    database = folder / "flow.db"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite+aiosqlite:///{database}"
    candidate_ids = asyncio.run(_seed(url))
    env = {
        **os.environ,
        "EXAM_DATABASE_URL": url,
        "EXAM_LOG_JSON": "false",
        "EXAM_GRADING_DISPATCH": "off",  # the task's grading job waits in the outbox: no sandbox needed
        "EXAM_CREDENTIAL_KEY_FILE": str(folder / "credential-key.pem"),
        "EXAM_SNAPSHOT_DIR": str(folder / "snapshots"),
    }
    env.pop("EXAM_REDIS_URL", None)
    running = Server(env, folder / "server.log")
    running.start()
    try:
        flow = Flow(running)
        with httpx.Client(base_url=running.base, timeout=30) as http:
            admin = _token(http, ADMIN)
            now = SystemClock().now()
            window = http.post(
                "/api/v1/windows",
                headers=admin,
                json={
                    "title": "Foundation exam",
                    "blueprint": "mlocp-foundation",
                    "opens_at": (now - timedelta(minutes=1)).isoformat(),
                    "closes_at": (now + timedelta(hours=4)).isoformat(),
                    "proctored": False,
                },
            )
            assert window.status_code == 201, window.text
            for email, user_id in candidate_ids.items():
                registered = http.post(
                    f"/api/v1/windows/{window.json()['id']}/registrations",
                    headers=admin,
                    json={"candidate_id": user_id},
                )
                assert registered.status_code == 201, registered.text
                flow.attempts[email] = registered.json()["id"]
        yield flow
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched  # type: ignore[misc]


class Pages:
    """Browser contexts for one test; every script error or refused script on any of them is a fault."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []

    def open(self, **options: Any) -> Page:
        settings: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "timezone_id": ZONE, **options}
        context = self.browser.new_context(**settings)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda m: (
                self.problems.append(f"console: {m.text}")
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    opened.close()
    assert not opened.problems, opened.problems


# ---- helpers ---------------------------------------------------------------------------------


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/exams")


def _start_by_api(flow: Flow, email: str) -> str:
    attempt = flow.attempts[email]
    with httpx.Client(base_url=flow.base, timeout=30) as http:
        headers = _token(http, email)
        assert http.post(f"/api/v1/attempts/{attempt}/check-in", headers=headers).status_code == 200
        started = http.post(f"/api/v1/attempts/{attempt}/start", headers=headers, json={"accept_rules": True})
        assert started.status_code == 200, started.text
    return attempt


def _form(flow: Flow, email: str) -> list[dict[str, Any]]:
    """The candidate's form as the API gives it (no client session: it counts as no second browser)."""
    with httpx.Client(base_url=flow.base, timeout=30) as http:
        response = http.get(f"/api/v1/attempts/{flow.attempts[email]}/form", headers=_token(http, email))
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda entry: entry["position"])


def _first(form: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(entry for entry in form if entry["item"]["type"] == kind)


def _open_exam(page: Page, flow: Flow, email: str) -> None:
    _sign_in(page, flow.base, email)
    page.goto(f"{flow.base}/exams/{flow.attempts[email]}")
    expect(page.locator(".question")).to_have_count(TOTAL)
    expect(page.locator("#clock")).to_contain_text("left")


def _eventually(check: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    """Polls ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _not_covered(page: Page) -> None:
    seen = page.evaluate(COVERED)
    if seen is None:
        return
    assert seen["top"] >= seen["headerBottom"] - 0.5, f"under the sticky header: {seen}"
    assert seen["bottom"] <= seen["footerTop"] + 0.5, f"under the footer bar: {seen}"


def _top_under_header(page: Page, selector: str) -> None:
    box = page.evaluate(
        "(s) => ({top: document.querySelector(s).getBoundingClientRect().top,"
        " header: document.querySelector('header.bar').getBoundingClientRect().bottom})",
        selector,
    )
    assert box["top"] >= box["header"] - 0.5, box


class Keys:
    """Only the keyboard. ``tab`` checks, for the first ``checks`` presses it is told to, that focus is not
    hidden under the exam page's sticky header or fixed footer."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.checks = 0
        self.checked = 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def tab(self, shift: bool = False) -> None:
        self.page.keyboard.press("Shift+Tab" if shift else "Tab")
        if self.checked < self.checks:
            self.checked += 1
            _not_covered(self.page)

    def focused(self, predicate: str) -> bool:
        """``predicate`` is JavaScript about ``el``, the focused element."""
        return bool(self.page.evaluate(f"() => {{ const el = document.activeElement; return Boolean({predicate}); }}"))

    def tab_until(self, predicate: str, cap: int = 200, shift: bool = False) -> None:
        """Tabs on until the focused element matches (no press at all if it already does)."""
        if self.focused(predicate):
            return
        for _ in range(cap):
            self.tab(shift)
            if self.focused(predicate):
                return
        where = self.page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
        raise AssertionError(f"{cap} Tab presses never reached {predicate}; focus is on {where}")


# ---- tests -----------------------------------------------------------------------------------


def test_item_markdown_renders_as_tables_code_and_lists(flow: Flow, pages: Pages) -> None:
    email = CANDIDATES["markdown"]
    _start_by_api(flow, email)
    page = pages.open()
    _open_exam(page, flow, email)

    card = page.locator(".question", has=page.locator(".stem table"), has_text="Which change makes the image smaller")
    expect(card).to_have_count(1)
    table = card.locator(".stem .table-scroll > table")
    expect(table.locator("thead th")).to_have_text(["Base image", "Size"])
    expect(table.locator("tbody tr")).to_have_count(2)
    code = card.locator(".stem pre code")
    expect(code).to_have_count(1)
    lines = code.inner_text().splitlines()
    assert lines[:3] == ["def serve(model):", "    if model.ready:", "        return model.predict"], lines
    expect(card.locator(".stem ul li")).to_have_text(["the base image", "the build cache", "the files copied in"])
    option = card.locator(".choice-text code")
    expect(option).to_have_text("python:3.12-slim")

    task = page.locator(".question", has=page.locator(".task-editor"))
    expect(task.locator(".stem table th")).to_have_text(["File", "What it holds"])
    expect(task.locator(".stem ol li")).to_have_count(3)

    text = page.locator("body").inner_text()
    assert "|---" not in text
    assert "---|" not in text
    assert "`" not in text
    card.scroll_into_view_if_needed()
    screenshot(page, "item")


def test_candidate_goes_from_briefing_to_receipt(flow: Flow, pages: Pages) -> None:
    email = CANDIDATES["pointer"]
    attempt = flow.attempts[email]
    page = pages.open()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # My exams: the window in the browser's own time zone, named
    _sign_in(page, flow.base, email)
    expect(page.locator("#zone")).to_contain_text(ZONE)
    row = page.locator(f'#exams tbody tr[data-attempt="{attempt}"]')
    expect(row).to_contain_text(ZONE)
    expect(row).to_contain_text("Foundation exam")
    row.get_by_role("link", name=re.compile("^Open the briefing")).click()
    page.wait_for_url(f"**/exams/{attempt}/briefing")

    # the briefing: time, sections, rules, what is recorded, the system check
    expect(page.locator("#briefing")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#briefing-time")).to_contain_text("60 minutes")
    sections = page.locator("#briefing-sections tbody tr")
    expect(sections).to_have_count(3)
    expect(sections.nth(0)).to_contain_text(f"Theory questions{THEORY}")
    expect(sections.nth(1)).to_contain_text(f"Performance tasks{TASKS}")
    expect(sections.nth(2)).to_contain_text(f"In all{TOTAL}")
    expect(page.locator("#briefing-rules li")).to_have_count(6)
    expect(page.locator("#briefing-recorded li").first).to_contain_text("every answer you save")
    checks = page.locator("#system-check li")
    expect(checks).to_have_count(3)
    expect(checks).to_contain_text(["Browser: passed", "Network: passed", "Clock"])
    screenshot(page, "briefing", full_page=True)

    # Start without accepting: told why, and nothing starts
    page.click("#start")
    expect(page.locator("#accept-error")).to_have_text("Tick the box to accept the rules before you start.")
    expect(page.locator("#accept")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#accept")).to_be_focused()
    assert page.url.endswith(f"/exams/{attempt}/briefing")
    page.get_by_label("I have read the rules above and accept them.").check()
    expect(page.locator("#accept-error")).to_be_empty()
    page.click("#start")
    page.wait_for_url(re.compile(rf"/exams/{attempt}$"))
    expect(page.locator(".question")).to_have_count(TOTAL)

    # every item type answered through the page
    form = _form(flow, email)
    assert {entry["item"]["type"] for entry in form} == {
        "single_choice",
        "multiple_response",
        "true_false",
        "numeric",
        "short_text",
        "ordering",
        "matching",
        "performance_task",
    }
    for entry in form:
        _answer_by_pointer(page, entry)
    for entry in form:
        expect(page.locator(f"#q{entry['position']} .state")).to_have_class(re.compile(r"\bsaved\b"), timeout=15000)
    expect(page.locator("#save-status")).to_have_class(re.compile(r"\bsaved\b"))

    # the server holds an answer for every question, the task's files as typed (Tab indented by four spaces)
    task = _first(form, "performance_task")

    def stored() -> list[dict[str, Any]] | None:
        now = _form(flow, email)
        files = now[task["position"] - 1]["answer"] or {}
        done = all(e["answer"] is not None for e in now) and files.get("app/serve.py") == SERVE_TYPED
        return now if done else None

    saved = _eventually(stored, "every answer to reach the server")
    files = saved[task["position"] - 1]["answer"]
    assert files["Dockerfile"] == DOCKERFILE_TYPED + "    fastapi\nUSER app\n"
    assert "\n    fastapi\n" in files["Dockerfile"]
    assert files["app/serve.py"] == SERVE_TYPED

    # two flagged: the navigator says so in icon and in text
    flagged = [form[1]["position"], form[6]["position"]]
    for position in flagged:
        page.check(f"#flag-q{position}")
    for position in flagged:
        link = page.locator(f'#overview-list a[data-position="{position}"]')
        expect(link.locator(".icon")).to_contain_text("⚑")
        expect(link.locator(".status")).to_contain_text("flagged")
    expect(page.locator("#progress")).to_have_text(f"{TOTAL} of {TOTAL} answered, 2 flagged")

    # the review: the two flagged, nothing unanswered; a link goes back to its question, in view
    page.click("#review-open")
    expect(page.locator("#review")).to_be_visible()
    expect(page.locator("#review-flagged a")).to_have_text([f"Question {p}" for p in flagged])
    expect(page.locator("#review-unanswered a")).to_have_count(0)
    expect(page.locator("#review-unanswered")).to_have_text("None: every question has an answer.")
    screenshot(page, "review")
    page.locator("#review-flagged a").nth(1).click()
    expect(page.locator(f"#q{flagged[1]}")).to_be_focused()
    expect(page.locator(f"#q{flagged[1]}")).to_be_in_viewport()
    _top_under_header(page, f"#q{flagged[1]}")

    # submit: asked once, in the page's own dialog, then the receipt
    page.click("#review-open")
    page.click("#submit")
    dialog = page.locator("#confirm-submit")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-text")).to_contain_text("2 are flagged for review")
    expect(page.locator("#confirm-no")).to_be_focused()
    page.click("#confirm-yes")
    page.wait_for_url(f"**/exams/{attempt}/receipt")
    reference = page.locator("#receipt-reference")
    expect(reference).to_have_text(REFERENCE)
    expect(page.locator("#receipt-answered")).to_have_text(f"{TOTAL} of {TOTAL} questions")
    expect(page.locator("#receipt-next li")).to_have_count(4)
    screenshot(page, "receipt")
    assert dialogs == []

    # submitting again answers with the same receipt
    with httpx.Client(base_url=flow.base, timeout=30) as http:
        again = http.post(f"/api/v1/attempts/{attempt}/submit", headers=_token(http, email))
    assert again.status_code == 200, again.text
    assert again.json()["receipt"]["reference"] == reference.inner_text()
    assert again.json()["receipt"]["answered"] == TOTAL


def _answer_by_pointer(page: Page, entry: dict[str, Any]) -> None:
    position, item = entry["position"], entry["item"]
    card = page.locator(f"#q{position}")
    kind = item["type"]
    if kind == "single_choice":
        card.locator(f"label[for='q{position}-option-B']").click()
    elif kind == "true_false":
        card.locator(f"#q{position}-option-true").check()
    elif kind == "multiple_response":
        card.locator(f"#q{position}-option-A").check()
        card.locator(f"#q{position}-option-C").check()
    elif kind == "numeric":
        card.locator(f"#answer-q{position}").fill("0.25")
    elif kind == "short_text":
        card.locator(f"#answer-q{position}").fill("HEALTHCHECK")
    elif kind == "ordering":
        card.get_by_role("button", name=re.compile(r"^Move A down")).click()
        expect(card.locator(".order li").first).to_have_attribute("data-id", "B")
    elif kind == "matching":
        selects = card.locator("select")
        for index in range(selects.count()):
            selects.nth(index).select_option(item["responses"][index]["id"])
    else:
        assert kind == "performance_task"
        expect(card.get_by_role("tab")).to_have_text(["Dockerfile", "app/serve.py", "README.md (read only)"])
        card.locator("textarea[data-path='Dockerfile']").click()
        page.keyboard.type(DOCKERFILE_TYPED)
        page.keyboard.press("Tab")
        page.keyboard.type("fastapi\nUSER app\n")
        expect(card.locator("textarea[data-path='Dockerfile']")).to_be_focused()  # Tab indented, focus stayed
        card.get_by_role("tab", name="app/serve.py").click()
        card.locator("textarea[data-path='app/serve.py']").click()
        page.keyboard.type(SERVE_TYPED)


def test_a_submit_whose_answer_is_lost_is_retried_and_gets_the_same_receipt(flow: Flow, pages: Pages) -> None:
    email = CANDIDATES["retry"]
    attempt = _start_by_api(flow, email)
    page = pages.open()
    _open_exam(page, flow, email)

    reached: list[int] = []

    def lose_the_answer(route: Route) -> None:
        reached.append(route.fetch().status)  # the server gets it and submits...
        route.abort()  # ...but its answer never reaches the page

    page.route("**/submit", lose_the_answer)
    page.click("#review-open")
    page.click("#submit")
    page.click("#confirm-yes")
    expect(page.locator("#submit-error")).to_contain_text("The network dropped")
    assert reached == [200]
    assert "/receipt" not in page.url
    page.unroute("**/submit")

    page.click("#submit")
    expect(page.locator("#confirm-submit")).to_be_visible()
    page.click("#confirm-yes")
    page.wait_for_url(f"**/exams/{attempt}/receipt")
    expect(page.locator("#receipt-reference")).to_have_text(REFERENCE)
    with httpx.Client(base_url=flow.base, timeout=30) as http:
        receipt = http.get(f"/api/v1/attempts/{attempt}/receipt", headers=_token(http, email))
    assert receipt.status_code == 200, receipt.text
    assert page.locator("#receipt-reference").inner_text() == receipt.json()["reference"]
    expect(page.locator("#receipt-answered")).to_have_text(f"0 of {TOTAL} questions")


def test_the_whole_flow_by_keyboard_only(flow: Flow, pages: Pages) -> None:
    email = CANDIDATES["keyboard"]
    attempt = flow.attempts[email]
    page = pages.open()
    keys = Keys(page)

    # sign in: the first Tab reaches the skip link
    page.goto(f"{flow.base}/login")
    keys.tab()
    assert keys.focused("el.matches('a.skip-link')")
    keys.tab_until("el.id === 'email'")
    page.keyboard.type(email)
    keys.tab_until("el.id === 'password'")
    page.keyboard.type(PASSWORD)
    keys.press("Enter")
    page.wait_for_url("**/exams")

    # My exams to the briefing; accept with Space, start with Enter
    expect(page.locator(f'#exams tbody tr[data-attempt="{attempt}"] a')).to_be_visible()
    keys.tab_until(f"el.matches('a.button') && el.closest('tr').dataset.attempt === '{attempt}'")
    keys.press("Enter")
    page.wait_for_url(f"**/exams/{attempt}/briefing")
    expect(page.locator("#briefing")).to_have_attribute("aria-busy", "false")
    keys.tab_until("el.id === 'accept'")
    keys.press("Space")
    expect(page.locator("#accept")).to_be_checked()
    keys.tab_until("el.id === 'start'")
    keys.press("Enter")
    page.wait_for_url(re.compile(rf"/exams/{attempt}$"))
    expect(page.locator(".question")).to_have_count(TOTAL)

    # the exam page: the skip link jumps past the navigator to the questions
    form = _form(flow, email)
    keys.checks = 60
    keys.tab()
    assert keys.focused("el.matches('a.skip-link') && el.getAttribute('href') === '#questions'")
    keys.press("Enter")
    keys.tab()
    assert keys.focused("document.getElementById('questions').contains(el)")

    radio, boxes, match = _first(form, "single_choice"), _first(form, "multiple_response"), _first(form, "matching")
    task, flagged = _first(form, "performance_task"), _first(form, "true_false")
    steps: list[tuple[int, int, Callable[[], None]]] = []

    def choose_radio() -> None:
        p = radio["position"]
        keys.tab_until(f"el.type === 'radio' && el.name === 'q{p}'")
        keys.press("Space")
        keys.press("ArrowDown")  # arrows move within the group and choose
        expect(page.locator(f"#q{p}-option-B")).to_be_checked()

    def tick_boxes() -> None:
        p = boxes["position"]
        keys.tab_until(f"el.type === 'checkbox' && el.name === 'q{p}'")
        keys.press("Space")
        keys.tab()
        keys.press("Space")
        expect(page.locator(f"#q{p} .choices input:checked")).to_have_count(2)

    def pick_match() -> None:
        p = match["position"]
        keys.tab_until(f"el.tagName === 'SELECT' && el.id.startsWith('q{p}-premise-')")
        keys.press("ArrowDown")
        assert page.evaluate("() => document.activeElement.value") == "A"

    def flag() -> None:
        p = flagged["position"]
        keys.tab_until(f"el.id === 'flag-q{p}'")
        keys.press("Space")
        expect(page.locator(f"#flag-q{p}")).to_be_checked()

    def write_task() -> None:
        p = task["position"]
        keys.tab_until(f"el.getAttribute('role') === 'tab' && Boolean(el.closest('#q{p}'))")
        keys.tab()
        assert keys.focused("el.dataset.path === 'Dockerfile'")
        page.keyboard.type(DOCKERFILE_TYPED)
        keys.tab()  # indents
        assert keys.focused("el.dataset.path === 'Dockerfile'")
        page.keyboard.type("fastapi\n")
        keys.press("Escape")
        keys.tab()  # now leaves the editor
        assert not keys.focused("el.dataset.path === 'Dockerfile'")
        value = page.locator(f"#q{p} textarea[data-path='Dockerfile']").input_value()
        assert value == DOCKERFILE_TYPED + "    fastapi\n"

    steps += [(radio["position"], 1, choose_radio), (boxes["position"], 1, tick_boxes)]
    steps += [(match["position"], 1, pick_match), (flagged["position"], 0, flag), (task["position"], 1, write_task)]
    for _, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
        step()
    assert keys.checked == keys.checks  # the header/footer check ran on that many Tab presses

    # review and submit: the dialog starts on "Keep working"
    keys.checks = 0
    if not keys.focused("el.id === 'review-open'"):
        keys.tab_until("el.id === 'review-open'")
    keys.press("Enter")
    expect(page.locator("#review")).to_be_focused()
    expect(page.locator("#review-flagged a")).to_have_text([f"Question {flagged['position']}"])
    keys.tab_until("el.id === 'submit'")
    keys.press("Enter")
    expect(page.locator("#confirm-submit")).to_be_visible()
    expect(page.locator("#confirm-no")).to_be_focused()
    keys.tab()
    expect(page.locator("#confirm-yes")).to_be_focused()
    keys.press("Enter")
    page.wait_for_url(f"**/exams/{attempt}/receipt")
    expect(page.locator("#receipt-reference")).to_have_text(REFERENCE)
    expect(page.locator("#receipt-answered")).to_have_text(f"4 of {TOTAL} questions")


def test_every_candidate_page_passes_axe(flow: Flow, pages: Pages) -> None:
    email = CANDIDATES["axe"]
    attempt = flow.attempts[email]
    page = pages.open()

    page.goto(f"{flow.base}/login")
    assert_accessible(page, "login")
    _sign_in(page, flow.base, email)
    expect(page.locator(f'#exams tbody tr[data-attempt="{attempt}"]')).to_be_visible()
    assert_accessible(page, "my exams")
    page.goto(f"{flow.base}/exams/{attempt}/briefing")
    expect(page.locator("#system-check li")).to_have_count(3)
    assert_accessible(page, "briefing")
    _fits_small_screens(pages, flow, email, f"/exams/{attempt}/briefing", "#briefing-sections")

    page.check("#accept")
    page.click("#start")
    page.wait_for_url(re.compile(rf"/exams/{attempt}$"))
    expect(page.locator(".question")).to_have_count(TOTAL)
    expect(page.locator(".task-editor")).to_have_count(1)
    assert_accessible(page, "exam page")
    _fits_small_screens(pages, flow, email, f"/exams/{attempt}", ".question")

    page.click("#review-open")
    expect(page.locator("#review")).to_be_visible()
    assert_accessible(page, "review")
    page.click("#submit")
    expect(page.locator("#confirm-submit")).to_be_visible()
    assert_accessible(page, "confirm dialog")
    page.click("#confirm-yes")
    page.wait_for_url(f"**/exams/{attempt}/receipt")
    expect(page.locator("#receipt")).to_have_attribute("aria-busy", "false")
    assert_accessible(page, "receipt")


def _fits_small_screens(pages: Pages, flow: Flow, email: str, path: str, ready: str) -> None:
    """A tablet, and 200% zoom of a 1280x800 window: no sideways page scroll; on the exam page the clock and
    the Review button stay in view."""
    for name, options in (
        ("tablet", {"viewport": {"width": 768, "height": 1024}}),
        ("200% zoom", {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2}),
    ):
        page = pages.open(**options)
        _sign_in(page, flow.base, email)
        page.goto(f"{flow.base}{path}")
        expect(page.locator(ready).first).to_be_visible()
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{path} at {name}: the page scrolls sideways ({widths[0]} > {widths[1]})"
        if path.endswith(flow.attempts[email]):
            expect(page.locator("#clock")).to_be_in_viewport()
            expect(page.locator("#clock")).to_contain_text("left")
            expect(page.locator("#review-open")).to_be_in_viewport()
        page.context.close()
        pages.contexts.remove(page.context)


WATCH_CLOCK = """() => {
  window.announced = [];
  window.shown = new Set();
  const announce = document.getElementById('clock-announce'), clock = document.getElementById('clock');
  new MutationObserver(() => window.announced.push(announce.textContent))
    .observe(announce, {childList: true, characterData: true, subtree: true});
  new MutationObserver(() => window.shown.add(clock.textContent))
    .observe(clock, {childList: true, characterData: true, subtree: true});
}"""


def test_the_clock_is_read_out_once_when_it_reaches_a_ten_minute_mark(flow: Flow, pages: Pages) -> None:
    email = CANDIDATES["mark"]
    _start_by_api(flow, email)
    page = pages.open()
    _open_exam(page, flow, email)
    expect(page.locator("#clock")).to_contain_text(re.compile(r"^60:\d\d left$"))  # 60:12 and falling
    page.evaluate(WATCH_CLOCK)
    page.wait_for_function("() => window.announced.length > 0", timeout=20000)
    assert page.evaluate("() => window.announced") == ["60 minutes left."]
    # ... and not again in the seconds after it
    page.wait_for_function("() => [...window.shown].some((t) => t.startsWith('59:5'))", timeout=15000)
    assert page.evaluate("() => window.announced") == ["60 minutes left."]


def test_the_clock_is_not_read_out_every_second(flow: Flow, pages: Pages) -> None:
    email = CANDIDATES["clock"]
    _start_by_api(flow, email)
    page = pages.open()
    _open_exam(page, flow, email)

    clock, announce = page.locator("#clock"), page.locator("#clock-announce")
    expect(clock).to_have_attribute("role", "timer")
    assert clock.get_attribute("aria-live") is None
    expect(announce).to_have_attribute("aria-live", "polite")
    expect(clock).to_contain_text("left")
    page.evaluate(WATCH_CLOCK)
    page.wait_for_function("() => window.shown.size >= 4", timeout=10000)  # about three seconds of ticking
    assert page.evaluate("() => window.announced") == []
    expect(announce).to_be_empty()
