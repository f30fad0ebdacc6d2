"""What a candidate is told before the clock starts, and the receipt they keep after submitting.

The briefing is built from the window and its blueprint, so it says what this sitting will
really do: the time limit with the candidate's accommodations, the sections and their item
counts, the rules, and what the proctoring records. Starting requires accepting the rules;
the acceptance is an entry of the sitting's log, with a digest of the rules accepted.

The receipt's reference is taken from the hash of the log entry that recorded the submission,
so an examiner can match a reference a candidate quotes against the tamper-evident log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.repository import BlueprintRepository
from exam_service.core.errors import Conflict
from exam_service.delivery import events, timing
from exam_service.delivery.repository import ResponseRepository
from exam_service.models import Attempt, AttemptState, ExamWindow, User

RULES = (
    "Work alone. No other person may help you or be in the room with you.",
    "Keep this exam in one browser tab. Do not open other pages, tabs or programs while the clock runs.",
    "No notes, books, phones or other devices, unless your accommodations allow them.",
    "Do not copy, photograph or share any question, during the exam or after it.",
    "Your answers are saved as you work. The exam is submitted for you when the time runs out.",
    "A proctor may warn you, pause your exam, or end it if these rules are broken.",
)
RULES_DIGEST = hashlib.sha256("\n".join(RULES).encode()).hexdigest()[:16]

NEXT_STEPS = (
    "Theory questions are scored automatically; performance tasks are run against their checks in a sandbox.",
    "An examiner confirms every result before it is released. A sitting with integrity notes is reviewed first,"
    " which can take longer.",
    "Your result appears on My exams once it is released. If you pass, your certificate appears there too.",
    "Keep the reference above. Quote it if you contact the certification body about this exam.",
)

SECTION_TITLES = {"theory": "Theory questions", "performance": "Performance tasks"}


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    items: int
    minutes: int | None  # the working time the section's tasks are written for


@dataclass(frozen=True)
class Briefing:
    time_limit_minutes: int
    your_time_limit_minutes: int
    accommodations: list[str]
    sections: list[Section]
    total_items: int
    rules: list[str]
    recorded: list[str]
    rules_accepted_at: datetime | None


def recorded(window: ExamWindow) -> list[str]:
    """What the sitting's proctoring records, said before the candidate accepts it."""
    lines = ["When you start, finish and submit, and every answer you save, with its time."]
    if window.proctored:
        lines += [
            "A proctor admits you and watches the sitting live.",
            "Leaving the exam tab or full screen, and opening the exam in a second tab or browser.",
            "Copying and pasting: the length of the text only, never the text itself.",
            "Printing, and losing or regaining the network connection.",
        ]
    if window.webcam_interval_seconds:
        lines.append(
            f"Your camera: a still picture every {window.webcam_interval_seconds} seconds goes to your proctor."
            " No sound is recorded."
        )
    return lines


def _accommodations(candidate: User) -> list[str]:
    lines = []
    if candidate.extra_time_multiplier != 1.0:
        lines.append(f"Extra time: your time limit is multiplied by {candidate.extra_time_multiplier:g}.")
    if candidate.extra_time_minutes:
        lines.append(f"Extra time: {candidate.extra_time_minutes} more minutes.")
    return lines


async def brief(session: AsyncSession, attempt: Attempt, window: ExamWindow, candidate: User) -> Briefing:
    blueprint = await BlueprintRepository(session).get(window.blueprint_version_id)
    assert blueprint is not None
    rules = bank_service.blueprint_of(blueprint)
    minutes = rules.time_limit_minutes
    yours = timing.time_limit_seconds(minutes, candidate.extra_time_multiplier, candidate.extra_time_minutes)
    sections = [
        Section(
            id=section.id,
            title=SECTION_TITLES.get(section.id, section.id.replace("_", " ").capitalize()),
            items=sum(quota.count for quota in section.quotas),
            minutes=section.task_minutes.target if section.task_minutes else None,
        )
        for section in rules.sections
    ]
    accepted = await events.last_of(session, attempt.id, ("rules_accepted",))
    return Briefing(
        time_limit_minutes=minutes,
        your_time_limit_minutes=yours // 60,
        accommodations=_accommodations(candidate),
        sections=sections,
        total_items=sum(s.items for s in sections),
        rules=list(RULES),
        recorded=recorded(window),
        rules_accepted_at=accepted.at if accepted else None,
    )


async def accept_rules(session: AsyncSession, attempt: Attempt, candidate: User, at: datetime) -> None:
    """The candidate's acceptance, kept in the sitting's log once."""
    if await events.last_of(session, attempt.id, ("rules_accepted",)) is None:
        origin = events.Origin("candidate", candidate.id)
        await events.append(session, attempt, "rules_accepted", {"rules": RULES_DIGEST}, origin, at)


@dataclass(frozen=True)
class Receipt:
    reference: str
    submitted_at: datetime
    submitted_by: str  # "candidate", or "time limit" when the clock submitted it
    answered: int
    total: int
    next_steps: list[str]


def reference_of(event_hash: str) -> str:
    """A reference a person can read out: 12 hex digits of the submission's log hash, in threes."""
    digits = event_hash[:12].upper()
    return "-".join(digits[i : i + 4] for i in range(0, 12, 4))


async def receipt(session: AsyncSession, attempt: Attempt) -> Receipt:
    if attempt.state is not AttemptState.submitted or attempt.submitted_at is None:
        raise Conflict(
            f"there is no submission receipt: the attempt is {attempt.state.value}", state=attempt.state.value
        )
    entry = await events.last_of(session, attempt.id, ("state_changed",))
    assert entry is not None  # submitting appends it; nothing follows a final state
    responses = await ResponseRepository(session).all(attempt.id)
    return Receipt(
        reference=reference_of(entry.hash),
        submitted_at=attempt.submitted_at,
        submitted_by="candidate" if entry.source == "candidate" else "time limit",
        answered=sum(1 for r in responses if r.value is not None),
        total=len(responses),
        next_steps=list(NEXT_STEPS),
    )
