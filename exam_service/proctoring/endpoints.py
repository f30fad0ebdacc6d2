"""Proctoring over HTTP: channel tickets, staff actions, the sitting's log and integrity, webcam snapshots.

The actions here and on the proctor channel both go through ``proctoring.service.act``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import Response

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep, SettingsDep
from exam_service.core.errors import NotFound, Unprocessable
from exam_service.core.openapi import BINARY, errors, media
from exam_service.delivery import answers, events
from exam_service.delivery import service as delivery_service
from exam_service.delivery.auth import CandidateAttempt, StaffAttempt, staff_attempt
from exam_service.delivery.endpoints import ClientSession, status_of
from exam_service.delivery.repository import AttemptRepository
from exam_service.delivery.schemas import AttemptStatus, EventRead, ItemTiming, TransitionRead
from exam_service.identity.auth import CandidateUser, ExaminerUser, StaffUser
from exam_service.proctoring import integrity, sittings, snapshots, tickets
from exam_service.proctoring import service as proctoring_service
from exam_service.proctoring.repository import IncidentRepository, SnapshotRepository
from exam_service.proctoring.schemas import (
    Authorize,
    ChainRead,
    Chat,
    Extend,
    IncidentRead,
    IntegrityRead,
    Note,
    Report,
    Resolve,
    SnapshotRead,
    TicketRead,
    TicketRequest,
    Warn,
    WindowSummary,
    WithReason,
    action_bodies,
)
from exam_service.scheduling import service as scheduling_service

router = APIRouter(prefix="/api/v1", tags=["proctoring"])
StaffAction = Literal["authorize", "warn", "chat", "pause", "resume", "extend", "terminate", "note", "report"]


# ---- candidates ------------------------------------------------------------------------------


@router.post("/attempts/{attempt_id}/channel-ticket", response_model=TicketRead)
async def candidate_ticket(
    session: SessionDep,
    attempt: CandidateAttempt,
    candidate: CandidateUser,
    clock: ClockDep,
    settings: SettingsDep,
    client_session: ClientSession = None,
) -> TicketRead:
    """A single-use pass for ``/ws/candidate``, valid for a few seconds."""
    lifetime = settings.channel_ticket_seconds
    ticket = await tickets.issue(
        session, candidate, clock, lifetime, attempt_id=attempt.id, client_session=client_session
    )
    return TicketRead(ticket=ticket, url=f"/ws/candidate?ticket={ticket}", expires_in=lifetime)


@router.post(
    "/attempts/{attempt_id}/snapshots",
    response_model=SnapshotRead,
    status_code=201,
    responses=errors(409),
    openapi_extra={"requestBody": {"required": True, "content": {"image/jpeg": {"schema": BINARY}}}},
)
async def upload_snapshot(
    request: Request, session: SessionDep, attempt: CandidateAttempt, clock: ClockDep, settings: SettingsDep
) -> SnapshotRead:
    """A webcam frame as the raw body (``Content-Type: image/jpeg``)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "image/jpeg":
        raise Unprocessable("content-type: snapshots are sent as image/jpeg", field="content-type")
    data = await request.body()
    storage = request.app.state.snapshot_storage
    snapshot = await snapshots.store(session, storage, attempt, data, settings.snapshot_max_bytes, clock)
    return SnapshotRead.model_validate(snapshot)


# ---- staff -----------------------------------------------------------------------------------


@router.post("/proctoring/channel-ticket", response_model=TicketRead, responses=errors(404))
async def proctor_ticket(
    session: SessionDep, staff: StaffUser, clock: ClockDep, settings: SettingsDep, data: TicketRequest | None = None
) -> TicketRead:
    """A single-use pass for ``/ws/proctor``: every window you proctor, or the one named."""
    window_id = data.window_id if data else None
    await proctoring_service.windows_in_scope(session, staff, window_id, clock)  # 404 if not yours
    lifetime = settings.channel_ticket_seconds
    ticket = await tickets.issue(session, staff, clock, lifetime, window_id=window_id)
    return TicketRead(ticket=ticket, url=f"/ws/proctor?ticket={ticket}", expires_in=lifetime)


@router.get("/proctoring/windows", response_model=list[WindowSummary])
async def my_windows(session: SessionDep, staff: StaffUser, clock: ClockDep) -> list[WindowSummary]:
    """Open windows you proctor (all of them for admins and examiners)."""
    return [WindowSummary.model_validate(w) for w in await scheduling_service.windows_for(session, staff, clock)]


@router.get("/proctoring/windows/{window_id}/attempts", response_model=list[AttemptStatus])
async def window_attempts(
    session: SessionDep, staff: StaffUser, window_id: uuid.UUID, clock: ClockDep
) -> list[AttemptStatus]:
    (window,) = await proctoring_service.windows_in_scope(session, staff, window_id, clock)
    attempts = await AttemptRepository(session).in_window(window.id)
    return [status_of(await delivery_service.settle(session, a, window, clock), clock) for a in attempts]


@router.get("/proctoring/windows/{window_id}/sittings")
async def window_sittings(
    request: Request, session: SessionDep, staff: StaffUser, window_id: uuid.UUID, clock: ClockDep
) -> list[dict[str, object]]:
    """The console's rows for one window, as the proctor channel's snapshot has them."""
    (window,) = await proctoring_service.windows_in_scope(session, staff, window_id, clock)
    hub = request.app.state.hub
    timeout = request.app.state.settings.heartbeat_timeout_seconds
    return await sittings.rows(session, [window.id], clock, hub.last_heartbeat, timeout)


@router.get("/proctoring/attempts/{attempt_id}", response_model=AttemptStatus)
async def read_attempt(attempt: StaffAttempt, clock: ClockDep) -> AttemptStatus:
    return status_of(attempt, clock)


@router.post(
    "/proctoring/attempts/{attempt_id}/{action}",
    response_model=AttemptStatus,
    responses=errors(409),
    openapi_extra=action_bodies(
        Authorize,
        Warn,
        Chat,
        WithReason,
        Extend,
        Note,
        Report,
        description="the body of the action named in the path (authorize takes none)",
    ),
)
async def take_action(
    session: SessionDep,
    attempt: StaffAttempt,
    staff: StaffUser,
    action: Annotated[StaffAction, Path()],
    clock: ClockDep,
    body: Annotated[dict[str, object] | None, Body()] = None,
) -> AttemptStatus:
    """``authorize`` (no body), ``warn`` {message}, ``chat`` {text}, ``pause``/``resume``/``terminate``
    {reason}, ``extend`` {minutes, reason}, ``note`` {text}, ``report`` {category, description}."""
    parsed = proctoring_service.parse_action({**(body or {}), "action": action})
    await proctoring_service.act(session, attempt, staff, parsed, clock)
    return status_of(attempt, clock)


@router.post(
    "/proctoring/incidents/{incident_id}/{decision}",
    response_model=IncidentRead,
    responses=errors(409),
    openapi_extra=action_bodies(
        Resolve, path_fields=("incident_id",), required=True, description="why the incident is confirmed or dismissed"
    ),
)
async def resolve_incident(
    session: SessionDep,
    staff: StaffUser,
    incident_id: uuid.UUID,
    decision: Annotated[Literal["confirm", "dismiss"], Path()],
    clock: ClockDep,
    body: Annotated[dict[str, object] | None, Body()] = None,
) -> IncidentRead:
    incident = await proctoring_service.resolve_incident_attempt(session, incident_id)
    attempt = await staff_attempt(incident.attempt_id, staff, session, clock)
    action = f"{decision}_incident"
    parsed = proctoring_service.parse_action({**(body or {}), "action": action, "incident_id": str(incident_id)})
    await proctoring_service.act(session, attempt, staff, parsed, clock)
    return IncidentRead.model_validate(incident)


@router.get("/proctoring/attempts/{attempt_id}/transitions", response_model=list[TransitionRead])
async def transitions(session: SessionDep, attempt: StaffAttempt) -> list[TransitionRead]:
    return [TransitionRead.model_validate(t) for t in await AttemptRepository(session).transitions(attempt.id)]


@router.get("/proctoring/attempts/{attempt_id}/events", response_model=list[EventRead])
async def sitting_events(
    session: SessionDep, attempt: StaffAttempt, after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0
) -> list[EventRead]:
    """The sitting's log, from ``after`` (exclusive)."""
    return [EventRead.model_validate(e) for e in await events.since(session, attempt.id, after)]


@router.get("/proctoring/attempts/{attempt_id}/events/verify", response_model=ChainRead)
async def verify_events(session: SessionDep, attempt: StaffAttempt, _examiner: ExaminerUser) -> ChainRead:
    """Recomputes the log's hash chain: any edited, removed or inserted entry is found."""
    report = await events.verify(session, attempt)
    return ChainRead(valid=report.valid, entries=report.entries, broken_at=report.broken_at, problem=report.problem)


@router.get("/proctoring/attempts/{attempt_id}/integrity", response_model=IntegrityRead)
async def read_integrity(session: SessionDep, attempt: StaffAttempt, clock: ClockDep) -> IntegrityRead:
    window = await delivery_service.window_of(session, attempt)
    row = await integrity.current(session, attempt, window, clock)
    incidents = await IncidentRepository(session).of_attempt(attempt.id)
    return IntegrityRead(
        attempt_id=attempt.id,
        risk_score=row.risk_score,
        review_required=row.review_required,
        threshold=window.risk_threshold,
        reasons=row.reasons,
        incidents=[IncidentRead.model_validate(i) for i in incidents],
    )


@router.get("/proctoring/attempts/{attempt_id}/timing", response_model=list[ItemTiming])
async def item_timing(session: SessionDep, attempt: StaffAttempt, _examiner: ExaminerUser) -> list[ItemTiming]:
    return [
        ItemTiming(
            position=r.position,
            time_spent_seconds=r.time_spent_seconds,
            answered=r.value is not None,
            flagged=r.flagged,
            revision=r.revision,
        )
        for r in await answers.responses_of(session, attempt)
    ]


@router.get("/proctoring/attempts/{attempt_id}/snapshots", response_model=list[SnapshotRead])
async def list_snapshots(session: SessionDep, attempt: StaffAttempt) -> list[SnapshotRead]:
    return [SnapshotRead.model_validate(s) for s in await SnapshotRepository(session).of_attempt(attempt.id)]


@router.get(
    "/proctoring/snapshots/{snapshot_id}",
    response_class=Response,
    responses=media("The webcam frame as stored.", {"image/jpeg": BINARY}),
)
async def read_snapshot(
    request: Request, session: SessionDep, staff: StaffUser, snapshot_id: uuid.UUID, clock: ClockDep
) -> Response:
    snapshot = await SnapshotRepository(session).get(snapshot_id)
    if snapshot is None:
        raise NotFound("no such snapshot")
    await staff_attempt(snapshot.attempt_id, staff, session, clock)  # 404 unless the sitting is yours
    data = await request.app.state.snapshot_storage.get(snapshot.storage_key)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
