"""The candidate's side of a sitting. Every response carries the server's remaining seconds."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, status
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.clock import Clock
from exam_service.core.database import SessionDep, Sessions, reading, transaction
from exam_service.core.deps import ClockDep
from exam_service.core.errors import Conflict, NotFound, Unprocessable
from exam_service.core.openapi import errors
from exam_service.delivery import answers, briefing, timing
from exam_service.delivery import service as delivery_service
from exam_service.delivery.auth import CandidateAttempt, settled
from exam_service.delivery.autosave import SaveCommand, SaveWriterDep
from exam_service.delivery.repository import AttemptRepository
from exam_service.delivery.schemas import (
    AttemptStatus,
    AttemptSummary,
    BriefingRead,
    BriefingSection,
    FlagRequest,
    FormEntry,
    FormRead,
    ReceiptRead,
    Registration,
    SaveRequest,
    SaveResult,
    StartRequest,
    SubmitResult,
)
from exam_service.delivery.state import SITTING
from exam_service.identity.auth import AdminUser, CandidateUser, SignedInCandidate
from exam_service.models import Attempt, AttemptState
from exam_service.scheduling import service as scheduling_service

router = APIRouter(prefix="/api/v1", tags=["delivery"])
ClientSession = Annotated[str | None, Header(alias="X-Client-Session", max_length=64)]
Position = Annotated[int, Path(ge=1, le=1000)]


def status_of(attempt: Attempt, clock: Clock, warnings: list[str] | None = None) -> AttemptStatus:
    now = clock.now()
    return AttemptStatus(
        id=attempt.id,
        window_id=attempt.window_id,
        state=attempt.state,
        remaining_seconds=timing.remaining_seconds(attempt, now),
        deadline=timing.deadline(attempt, now),
        started_at=attempt.started_at,
        submitted_at=attempt.submitted_at,
        warnings=warnings or [],
    )


@router.post(
    "/windows/{window_id}/registrations",
    response_model=AttemptStatus,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409),
)
async def register_candidate(
    session: SessionDep, admin: AdminUser, window_id: uuid.UUID, data: Registration, clock: ClockDep
) -> AttemptStatus:
    window = await scheduling_service.get_window(session, window_id)
    candidate = await scheduling_service.candidate_by_id(session, data.candidate_id)
    return status_of(await delivery_service.register(session, window, candidate, admin, clock), clock)


@router.post(
    "/windows/{window_id}/bookings",
    response_model=AttemptStatus,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409),
)
async def book_seat(
    session: SessionDep, candidate: CandidateUser, window_id: uuid.UUID, clock: ClockDep
) -> AttemptStatus:
    window = await scheduling_service.get_window(session, window_id)
    return status_of(await delivery_service.register(session, window, candidate, candidate, clock), clock)


@router.get("/me/attempts", response_model=list[AttemptSummary])
async def my_attempts(session: SessionDep, candidate: CandidateUser, clock: ClockDep) -> list[AttemptSummary]:
    summaries = []
    for listed, window in await AttemptRepository(session).for_candidate(candidate.id):
        attempt = await delivery_service.settle(session, listed, window, clock)
        summaries.append(
            AttemptSummary(
                **status_of(attempt, clock).model_dump(),
                title=window.title,
                tier=window.tier,
                opens_at=window.opens_at,
                closes_at=window.closes_at,
                proctored=window.proctored,
                webcam_interval_seconds=window.webcam_interval_seconds,
            )
        )
    return summaries


@router.get("/attempts/{attempt_id}", response_model=AttemptStatus)
async def read_attempt(attempt: CandidateAttempt, clock: ClockDep) -> AttemptStatus:
    return status_of(attempt, clock)


@router.post("/attempts/{attempt_id}/check-in", response_model=AttemptStatus, responses=errors(409))
async def check_in(
    session: SessionDep, attempt: CandidateAttempt, candidate: CandidateUser, clock: ClockDep
) -> AttemptStatus:
    await delivery_service.check_in(session, attempt, candidate, clock)
    return status_of(attempt, clock)


@router.get("/attempts/{attempt_id}/briefing", response_model=BriefingRead)
async def read_briefing(
    session: SessionDep, attempt: CandidateAttempt, candidate: CandidateUser, clock: ClockDep
) -> BriefingRead:
    window = await delivery_service.window_of(session, attempt)
    told = await briefing.brief(session, attempt, window, candidate)
    return BriefingRead(
        attempt=status_of(attempt, clock),
        title=window.title,
        tier=window.tier,
        opens_at=window.opens_at,
        closes_at=window.closes_at,
        proctored=window.proctored,
        webcam_interval_seconds=window.webcam_interval_seconds,
        time_limit_minutes=told.time_limit_minutes,
        your_time_limit_minutes=told.your_time_limit_minutes,
        accommodations=told.accommodations,
        sections=[BriefingSection(**vars(section)) for section in told.sections],
        total_items=told.total_items,
        rules=told.rules,
        recorded=told.recorded,
        rules_accepted_at=told.rules_accepted_at,
    )


@router.post(
    "/attempts/{attempt_id}/start",
    response_model=AttemptStatus,
    responses=errors(409),
    # the body is checked below, to refuse a missing one in the field's words; the document says what it needs
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StartRequest"}}},
        }
    },
)
async def start(
    session: SessionDep,
    attempt: CandidateAttempt,
    candidate: CandidateUser,
    clock: ClockDep,
    data: Annotated[StartRequest | None, Body()] = None,
) -> AttemptStatus:
    if data is None or not data.accept_rules:
        raise Unprocessable("accept_rules: read the briefing and accept the exam rules to start", field="accept_rules")
    await delivery_service.start(session, attempt, candidate, clock)
    return status_of(attempt, clock)


@router.get("/attempts/{attempt_id}/form", response_model=FormRead, responses=errors(404, 409))
async def read_form(attempt_id: uuid.UUID, caller: SignedInCandidate, clock: ClockDep, sessions: Sessions) -> FormRead:
    """The form with the saved answers, read without waiting for the writers.

    Only when there is something to write (the clock has decided, or this browser is new or was
    last noted a while ago) does a short transaction lock the attempt first.
    """
    now = clock.now()
    async with reading(sessions.read) as session:
        attempt = await AttemptRepository(session).peek(attempt_id, candidate_id=caller.user_id)
    if attempt is None:
        raise NotFound("no such attempt")
    warnings: list[str] = []
    noted = answers.client_noted(attempt, caller.session_id, now)
    if attempt.state not in SITTING or timing.overdue(attempt, now) or not noted:
        async with transaction(sessions.write) as session:
            locked = await AttemptRepository(session).get(attempt_id, candidate_id=caller.user_id)
            if locked is None:
                raise NotFound("no such attempt")
            attempt = await settled(session, locked, clock)
            if attempt.state not in SITTING:
                raise Conflict(
                    f"the form is not available while the attempt is {attempt.state.value}", state=attempt.state.value
                )
            warnings = await answers.note_client(session, attempt, caller.session_id, clock.now())
    async with reading(sessions.read) as session:
        items = [FormEntry(**entry) for entry in await answers.form_view(session, attempt)]
    return FormRead(attempt=status_of(attempt, clock, warnings), items=items)


@router.put("/attempts/{attempt_id}/responses/{position}", response_model=SaveResult, responses=errors(404, 409))
async def save_response(
    attempt_id: uuid.UUID, position: Position, data: SaveRequest, caller: SignedInCandidate, saves: SaveWriterDep
) -> SaveResult:
    """Autosave: answered once the answer is committed (group commit; no request session of its own)."""
    saved = await saves.submit(
        SaveCommand(
            attempt_id=attempt_id,
            candidate_id=caller.user_id,
            position=position,
            revision=data.revision,
            value=data.value,
            time_spent_seconds=data.time_spent_seconds,
            sign_in=caller.session_id,
        )
    )
    return SaveResult(
        position=saved.outcome.position,
        applied=saved.outcome.applied,
        stored_revision=saved.outcome.stored_revision,
        remaining_seconds=saved.remaining_seconds,
        warnings=saved.outcome.warnings,
    )


@router.put("/attempts/{attempt_id}/flags/{position}", response_model=AttemptStatus, responses=errors(409))
async def flag(
    session: SessionDep, attempt: CandidateAttempt, position: Position, data: FlagRequest, clock: ClockDep
) -> AttemptStatus:
    await answers.set_flag(session, attempt, position, data.flagged)
    return status_of(attempt, clock)


@router.post("/attempts/{attempt_id}/submit", response_model=SubmitResult, responses=errors(409))
async def submit(
    session: SessionDep, attempt: CandidateAttempt, candidate: CandidateUser, clock: ClockDep
) -> SubmitResult:
    """Submits once; a retry (its answer lost to the network) gets the same receipt, not an error."""
    if attempt.state is not AttemptState.submitted:
        await delivery_service.submit(session, attempt, candidate, clock)
    kept = await _receipt(session, attempt)
    return SubmitResult(attempt=status_of(attempt, clock), unanswered=kept.total - kept.answered, receipt=kept)


@router.get("/attempts/{attempt_id}/receipt", response_model=ReceiptRead, responses=errors(409))
async def read_receipt(session: SessionDep, attempt: CandidateAttempt) -> ReceiptRead:
    return await _receipt(session, attempt)


async def _receipt(session: AsyncSession, attempt: Attempt) -> ReceiptRead:
    window = await delivery_service.window_of(session, attempt)
    kept = await briefing.receipt(session, attempt)
    return ReceiptRead(attempt_id=attempt.id, title=window.title, tier=window.tier, **vars(kept))
