"""The candidate's form, autosave with revisions, flags, and the second-browser check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.answers import AnswerFormatError, parse_number
from exam_service.bank.presentation import candidate_view, labels
from exam_service.core.clock import Clock
from exam_service.core.errors import Conflict, NotFound, Unprocessable
from exam_service.delivery import events, timing
from exam_service.delivery.forms import PinnedForms
from exam_service.delivery.repository import ResponseRepository
from exam_service.models import Attempt, AttemptState, FormItem, ItemVersion, Response

MAX_FILES = 10
MAX_FILE_BYTES = 64 * 1024
MAX_TOTAL_BYTES = 256 * 1024
MAX_TEXT = 2000
SECOND_BROWSER_WINDOW = timedelta(minutes=2)
# how stale the attempt's "last seen" may grow before a save writes it again: far inside the
# window above, so a second browser is still noticed, without a write to the attempt per save
SEEN_REFRESH = timedelta(seconds=30)
FILE_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,120}$")


@dataclass(frozen=True)
class SaveOutcome:
    position: int
    applied: bool
    stored_revision: int
    warnings: list[str]


async def _form(
    session: AsyncSession, attempt: Attempt, position: int | None = None
) -> list[tuple[FormItem, ItemVersion]]:
    if attempt.form_id is None:
        raise Conflict("the exam has not started", state=attempt.state.value)
    return await bank_service.form_items(session, attempt.form_id, position)


def client_noted(attempt: Attempt, sign_in: str, now: datetime) -> bool:
    """Whether this sign-in is the attempt's browser, noted lately: ``note_client`` would write nothing."""
    seen = attempt.client_seen_at
    return attempt.client_session == sign_in and seen is not None and timedelta(0) <= now - seen < SEEN_REFRESH


async def note_client(session: AsyncSession, attempt: Attempt, sign_in: str, now: datetime) -> list[str]:
    """Spots a second sign-in working on the same attempt, records it and warns both.

    ``sign_in`` is the session id inside the caller's signed token, so a client can neither
    borrow another browser's nor leave it out; a second browser needs a second sign-in.
    """
    warnings: list[str] = []
    if client_noted(attempt, sign_in, now):
        return warnings  # the same browser, seen moments ago: nothing to write
    seen = attempt.client_seen_at
    recent = seen is not None and now - seen <= SECOND_BROWSER_WINDOW
    if attempt.client_session and attempt.client_session != sign_in and recent:
        detail = {"previous": attempt.client_session[:8], "current": sign_in[:8]}
        await events.append(session, attempt, "concurrent_session", detail, events.SYSTEM, now)
        warnings.append("This exam is open in another browser or tab; the proctor has been notified.")
    attempt.client_session, attempt.client_seen_at = sign_in, now
    return warnings


async def form_view(session: AsyncSession, attempt: Attempt) -> list[dict[str, Any]]:
    responses = {r.position: r for r in await ResponseRepository(session).all(attempt.id)}
    view = []
    for row, version in await _form(session, attempt):
        saved = responses.get(row.position)
        view.append(
            {
                "position": row.position,
                "section": row.section,
                "item": candidate_view(version.payload, row.presentation),
                "answer": saved.value if saved else None,
                "revision": saved.revision if saved else 0,
                "flagged": saved.flagged if saved else False,
            }
        )
    return view


async def save(
    session: AsyncSession,
    attempt: Attempt,
    position: int,
    *,
    revision: int,
    value: Any,
    time_spent_seconds: int | None,
    sign_in: str,
    clock: Clock,
    forms: PinnedForms | None = None,
) -> SaveOutcome:
    """Stores an answer on a locked attempt: the shape is checked from the pinned form, then one statement.

    ``forms`` is the worker's cache of pinned forms; without it the form is read for this save.
    """
    now = clock.now()
    if not timing.accepts_saves(attempt, now):
        if attempt.state is AttemptState.in_progress:
            raise Conflict("the time limit has passed; this answer was not saved", state=attempt.state.value)
        raise Conflict(f"answers cannot be saved while the attempt is {attempt.state.value}", state=attempt.state.value)
    if attempt.form_id is None:
        raise Conflict("the exam has not started", state=attempt.state.value)
    slot = await (forms or PinnedForms()).slot(session, attempt.form_id, position)
    if slot is None:
        raise NotFound(f"the form has no question {position}", field="position")
    check_shape(slot.payload, slot.counts, value)
    warnings = await note_client(session, attempt, sign_in, now)
    # the browser reports its running total; the server's own clock bounds it
    seconds = None if time_spent_seconds is None else min(time_spent_seconds, timing.active_seconds(attempt, now))
    applied, stored = await ResponseRepository(session).save(attempt.id, position, revision, value, now, seconds)
    return SaveOutcome(position, applied, stored, warnings)


async def set_flag(session: AsyncSession, attempt: Attempt, position: int, flagged: bool) -> None:
    if attempt.state is not AttemptState.in_progress:
        raise Conflict(f"flags cannot change while the attempt is {attempt.state.value}", state=attempt.state.value)
    await _item_at(session, attempt, position)
    await ResponseRepository(session).set_flag(attempt.id, position, flagged)


async def unanswered(session: AsyncSession, attempt: Attempt) -> int:
    return sum(1 for r in await ResponseRepository(session).all(attempt.id) if r.value is None)


async def responses_of(session: AsyncSession, attempt: Attempt) -> list[Response]:
    return await ResponseRepository(session).all(attempt.id)


async def _item_at(session: AsyncSession, attempt: Attempt, position: int) -> tuple[FormItem, ItemVersion]:
    for row, version in await _form(session, attempt, position):
        return row, version
    raise NotFound(f"the form has no question {position}", field="position")


def _bad(message: str) -> Unprocessable:
    return Unprocessable(f"value: {message}", field="value")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def check_shape(payload: dict[str, Any], counts: dict[str, int], value: Any) -> None:
    """Refuses answers that cannot belong to this question; ``None`` clears an answer.

    ``counts`` is how many entries of each option list the candidate is shown (``forms.counts_of``).
    """
    if value is None:
        return
    kind = payload["type"]
    options = labels("options", counts.get("options", 0))
    if kind == "single_choice" and value not in options:
        raise _bad(f"must be one of {', '.join(options)}")
    if kind == "multiple_response" and not (
        _strings(value) and len(set(value)) == len(value) and set(value) <= set(options)
    ):
        raise _bad(f"must be a list of distinct choices from {', '.join(options)}")
    if kind == "ordering" and not (_strings(value) and sorted(value) == options):
        raise _bad(f"must list every one of {', '.join(options)} once, in your order")
    if kind == "true_false" and not (isinstance(value, bool) or value in ("true", "false")):
        raise _bad("must be true or false")
    if kind == "matching":
        premises = labels("premises", counts["premises"])
        responses = labels("responses", counts["responses"])
        if not (isinstance(value, dict) and all(p in premises and r in responses for p, r in value.items())):
            raise _bad(f"must map premises {', '.join(premises)} to responses {', '.join(responses)}")
    if kind == "numeric":
        try:
            parse_number(payload, value)
        except AnswerFormatError as exc:
            raise _bad(str(exc)) from None
    if kind == "short_text" and not (isinstance(value, str) and len(value) <= MAX_TEXT):
        raise _bad(f"must be text of at most {MAX_TEXT} characters")
    if kind == "performance_task":
        _check_files(payload, value)


def _check_files(payload: dict[str, Any], value: Any) -> None:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _bad("must map file names to their text")
    if len(value) > MAX_FILES:
        raise _bad(f"at most {MAX_FILES} files")
    allowed = set(payload["answer_files"])
    total = 0
    for name, text in value.items():
        if not FILE_NAME.match(name) or ".." in name.split("/") or name not in allowed:
            raise _bad(f"file {name!r} is not one of {', '.join(sorted(allowed))}")
        size = len(text.encode())
        if size > MAX_FILE_BYTES:
            raise _bad(f"file {name!r} is {size} bytes; the limit is {MAX_FILE_BYTES}")
        total += size
    if total > MAX_TOTAL_BYTES:
        raise _bad(f"the files total {total} bytes; the limit is {MAX_TOTAL_BYTES}")
