"""What ``exam-service demo`` creates: an account per role, two open Foundation windows, and one
sitting already submitted, so an examiner has a result to review from the first start.

Development only (the command refuses production). Everything is kept if it already exists.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.presentation import to_shown
from exam_service.bank.repository import BlueprintRepository
from exam_service.core.clock import SystemClock
from exam_service.delivery import answers
from exam_service.delivery import service as delivery_service
from exam_service.delivery.repository import AttemptRepository
from exam_service.identity.repository import UserRepository
from exam_service.models import Attempt, AttemptState, Role
from exam_service.scheduling import service as scheduling_service
from exam_service.scheduling.repository import WindowRepository
from exam_service.scheduling.schemas import WindowCreate

ACCOUNTS: tuple[tuple[str, str, Role, str], ...] = (
    ("admin@example.org", "Ada Admin", Role.admin, "demo-admin-password"),
    ("examiner@example.org", "Erin Examiner", Role.examiner, "demo-examiner-password"),
    ("proctor@example.org", "Pat Proctor", Role.proctor, "demo-proctor-password"),
    ("candidate@example.org", "Casey Candidate", Role.candidate, "demo-candidate-password"),
    ("candidate2@example.org", "Robin Candidate", Role.candidate, "demo-candidate2-password"),
    ("candidate3@example.org", "Sam Candidate", Role.candidate, "demo-candidate3-password"),
)
WINDOWS = (
    ("Foundation - self-paced demo", False, "candidate@example.org"),
    ("Foundation - proctored demo", True, "candidate2@example.org"),
)
WEBCAM_SECONDS = 10
SAT = "candidate3@example.org"  # sat the self-paced window already: a result for the examiner
MISSED_EVERY = 5  # the demo sitting answers every fifth theory item wrongly


async def ensure_windows(session: AsyncSession) -> list[str]:
    """Two open Foundation windows, each with one demo candidate registered (kept if present)."""
    if await BlueprintRepository(session).latest("mlocp-foundation") is None:
        return ["No Foundation blueprint loaded: no demo windows."]
    clock, users = SystemClock(), UserRepository(session)
    admin = await users.get_by_email("admin@example.org")
    proctor = await users.get_by_email("proctor@example.org")
    assert admin is not None
    existing = {w.title: w for w in await WindowRepository(session).list()}
    lines = []
    for title, proctored, email in WINDOWS:
        window = existing.get(title)
        if window is None or window.closes_at <= clock.now():
            now = clock.now()
            data = WindowCreate(
                title=title,
                blueprint="mlocp-foundation",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=30),
                proctored=proctored,
                webcam_interval_seconds=WEBCAM_SECONDS if proctored else None,
            )
            window = await scheduling_service.create_window(session, admin, data, clock)
        if proctored and proctor is not None:
            await scheduling_service.assign_proctor(session, window, proctor.id, admin, clock)
        candidate = await users.get_by_email(email)
        assert candidate is not None
        if await AttemptRepository(session).find(window.id, candidate.id) is None:
            await delivery_service.register(session, window, candidate, admin, clock)
        watched = " - proctor@example.org watches it at /proctor" if proctored else ""
        lines.append(f"{title}: {email} is registered (window {window.id}){watched}")
    return lines


async def ensure_sitting(session: AsyncSession, bank_path: Path) -> list[str]:
    """A submitted Foundation sitting: most theory right, the task answered with its reference solution."""
    clock, users = SystemClock(), UserRepository(session)
    candidate, admin = await users.get_by_email(SAT), await users.get_by_email("admin@example.org")
    windows = {w.title: w for w in await WindowRepository(session).list()}
    window = windows.get(WINDOWS[0][0])
    if candidate is None or admin is None or window is None:
        return []
    attempts = AttemptRepository(session)
    attempt = await attempts.find(window.id, candidate.id)
    if attempt is None:
        attempt = await delivery_service.register(session, window, candidate, admin, clock)
    if attempt.state is AttemptState.registered:
        await _sit(session, attempt, bank_path)
    return [f"{SAT} has sat {window.title}: the examiner reviews the result at /examiner once it is graded"]


async def _sit(session: AsyncSession, attempt: Attempt, bank_path: Path) -> None:
    clock = SystemClock()
    candidate = await UserRepository(session).get(attempt.candidate_id)
    assert candidate is not None
    await delivery_service.check_in(session, attempt, candidate, clock)
    await delivery_service.start(session, attempt, candidate, clock)
    assert attempt.form_id is not None
    theory = 0
    for row, version in await bank_service.form_items(session, attempt.form_id):
        payload = version.payload
        if payload["type"] == "performance_task":
            value: Any = _reference_solution(bank_path, payload)
        else:
            theory += 1
            value = to_shown(payload, row.presentation, authored_answer(payload, right=theory % MISSED_EVERY != 0))
        await answers.save(
            session,
            attempt,
            row.position,
            revision=1,
            value=value,
            time_spent_seconds=60,
            sign_in="demo",
            clock=clock,
        )
    await delivery_service.submit(session, attempt, candidate, clock)


def authored_answer(payload: dict[str, Any], *, right: bool) -> Any:
    """An answer to a theory item in its authored ids: the key, or a plausible wrong one.

    What the demo sitting answers; the scoring benchmark and tests answer with it too.
    """
    kind = payload["type"]
    if kind == "ordering":
        ids = [o["id"] for o in payload["options"]]
        return ids if right else list(reversed(ids))
    if kind == "short_text":
        return (payload.get("accepted") or ["-"])[0] if right else "not the answer"
    key = payload["key"]
    if right:
        return key
    if kind == "single_choice":
        return next(o["id"] for o in payload["options"] if o["id"] != key)
    if kind == "multiple_response":
        return [o["id"] for o in payload["options"] if o["id"] not in key][:1] or key[:1]
    if kind == "true_false":
        return not key
    if kind == "numeric":
        return float(key) * 2 + 100
    responses = [r["id"] for r in payload["responses"]]  # matching: every premise paired with a wrong response
    return {premise: next(r for r in responses if r != right_one) for premise, right_one in key.items()}


def _reference_solution(bank_path: Path, payload: dict[str, Any]) -> dict[str, str] | None:
    folder = bank_path / "solutions" / payload["id"] / "reference"
    files = {name: (folder / name).read_text() for name in payload["answer_files"] if (folder / name).is_file()}
    return files or None
