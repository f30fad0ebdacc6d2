"""Proctoring's rules: what candidates report, what staff may do to a sitting, and who may do it.

``ACTIONS`` is the one table of staff actions: for each, the roles that may take it and what it
does. The HTTP routes and the proctor channel both call ``act``, so an action means the same
whichever way it arrives. Every action is an entry of the sitting's log (who, when, why), and
the entry reaches the candidate's page and the proctors once the transaction commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.clock import Clock
from exam_service.core.errors import Forbidden, NotFound, Unprocessable
from exam_service.delivery import events
from exam_service.delivery import service as delivery_service
from exam_service.models import Attempt, ExamWindow, Incident, IncidentStatus, Role, SittingEvent, User
from exam_service.proctoring import integrity, rules
from exam_service.proctoring.repository import IncidentRepository
from exam_service.proctoring.schemas import (
    DETAIL_OF,
    Action,
    Authorize,
    CandidateFrame,
    Chat,
    Extend,
    NoDetail,
    Note,
    Report,
    Resolve,
    Warn,
    WithReason,
)
from exam_service.scheduling import service as scheduling_service

STAFF = frozenset({Role.proctor, Role.admin})
Handler = Callable[[AsyncSession, Attempt, User, Any, Clock], Awaitable[None]]


def _origin(user: User) -> events.Origin:
    return events.Origin(user.role.value, user.id)


async def _authorize(session: AsyncSession, attempt: Attempt, user: User, _a: Authorize, clock: Clock) -> None:
    await delivery_service.authorize(session, attempt, user, clock)


async def _warn(session: AsyncSession, attempt: Attempt, user: User, action: Warn, clock: Clock) -> None:
    await events.append(session, attempt, "warning", {"message": action.message}, _origin(user), clock.now())


async def _chat(session: AsyncSession, attempt: Attempt, user: User, action: Chat, clock: Clock) -> None:
    await events.append(session, attempt, "chat", {"text": action.text}, _origin(user), clock.now())


async def _with_reason(session: AsyncSession, attempt: Attempt, user: User, action: WithReason, clock: Clock) -> None:
    transition = {
        "pause": delivery_service.pause,
        "resume": delivery_service.resume,
        "terminate": delivery_service.terminate,
    }[action.action]
    await transition(session, attempt, user, action.reason, clock)


async def _extend(session: AsyncSession, attempt: Attempt, user: User, action: Extend, clock: Clock) -> None:
    await delivery_service.extend(session, attempt, user, action.minutes, action.reason, clock)


async def _note(session: AsyncSession, attempt: Attempt, user: User, action: Note, clock: Clock) -> None:
    await events.append(session, attempt, "note", {"text": action.text}, _origin(user), clock.now())


async def _report(session: AsyncSession, attempt: Attempt, user: User, action: Report, clock: Clock) -> None:
    detail = {"category": action.category, "description": action.description}
    await events.append(session, attempt, "irregularity_reported", detail, _origin(user), clock.now())


async def _resolve(session: AsyncSession, attempt: Attempt, user: User, action: Resolve, clock: Clock) -> None:
    incident = await IncidentRepository(session).get(action.incident_id)
    if incident is None or incident.attempt_id != attempt.id:
        raise NotFound("no such incident in this sitting", field="incident_id")
    status = IncidentStatus.confirmed if action.action == "confirm_incident" else IncidentStatus.dismissed
    incident.status, incident.resolution_note = status, action.note
    incident.resolved_by, incident.resolved_at = user.id, clock.now()
    window = await delivery_service.window_of(session, attempt)
    standing = integrity.standing_of(await IncidentRepository(session).of_attempt(attempt.id), window.risk_threshold)
    detail = {
        "incident_id": str(incident.id),
        "status": status.value,
        "note": action.note,
        "risk_score": standing.risk_score,
        "review_required": standing.review_required,
    }
    await events.append(session, attempt, "incident_resolved", detail, _origin(user), clock.now())


@dataclass(frozen=True)
class ActionRule:
    roles: frozenset[Role]
    handler: Handler


ACTIONS: dict[str, ActionRule] = {
    "authorize": ActionRule(STAFF, _authorize),
    "warn": ActionRule(STAFF, _warn),
    "chat": ActionRule(STAFF, _chat),
    "pause": ActionRule(STAFF, _with_reason),
    "resume": ActionRule(STAFF, _with_reason),
    "terminate": ActionRule(STAFF, _with_reason),
    "extend": ActionRule(STAFF, _extend),
    "note": ActionRule(STAFF | {Role.examiner}, _note),
    "report": ActionRule(STAFF, _report),
    "confirm_incident": ActionRule(STAFF | {Role.examiner}, _resolve),
    "dismiss_incident": ActionRule(STAFF | {Role.examiner}, _resolve),
}


async def act(session: AsyncSession, attempt: Attempt, user: User, action: Action, clock: Clock) -> None:
    """Takes one staff action on a locked attempt the user may see; the state machine decides legality."""
    rule = ACTIONS[action.action]
    if user.role not in rule.roles:
        names = " or ".join(sorted(r.value for r in rule.roles))
        raise Forbidden(f"{action.action} needs the role {names}")
    await rule.handler(session, attempt, user, action, clock)
    await integrity.evaluate(session, attempt, await delivery_service.window_of(session, attempt), clock)


class InvalidFrame(Exception):
    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail)
        self.detail, self.field = detail, field


def check_detail(frame: CandidateFrame) -> dict[str, Any]:
    model = DETAIL_OF.get(frame.kind, NoDetail)
    return model.model_validate(frame.detail).model_dump(exclude_none=True)


async def record_candidate_event(
    session: AsyncSession,
    attempt: Attempt,
    frame: CandidateFrame,
    detail: dict[str, Any],
    client: str,
    clock: Clock,
    *,
    evaluate: bool = True,
    check_duplicate: bool = True,
) -> SittingEvent:
    """Stores what the candidate's page reported, once per (tab, client_seq); returns the stored entry.

    ``check_duplicate=False`` is for a number the caller knows is new (above every number this
    tab has stored); the unique constraint still guards it.
    """
    if check_duplicate:
        existing = await events.find_client_event(session, attempt.id, client, frame.client_seq)
        if existing is not None:
            return existing
    origin = events.Origin("candidate", attempt.candidate_id, client, frame.client_seq)
    event = await events.append(session, attempt, frame.kind, detail, origin, clock.now())
    if evaluate and frame.kind in rules.RELEVANT:
        await integrity.evaluate(session, attempt, await delivery_service.window_of(session, attempt), clock)
    return event


async def record_system_event(
    session: AsyncSession, attempt: Attempt, kind: str, detail: dict[str, Any], clock: Clock
) -> SittingEvent:
    event = await events.append(session, attempt, kind, detail, events.SYSTEM, clock.now())
    await integrity.evaluate(session, attempt, await delivery_service.window_of(session, attempt), clock)
    return event


async def windows_in_scope(
    session: AsyncSession, user: User, window_id: uuid.UUID | None, clock: Clock
) -> list[ExamWindow]:
    """The windows a proctor channel or console covers: the one asked for, or every assigned open one."""
    if window_id is not None:
        if not await scheduling_service.may_proctor(session, user, window_id):
            raise NotFound("no such exam window")
        return [await scheduling_service.get_window(session, window_id)]
    return await scheduling_service.windows_for(session, user, clock)


async def resolve_incident_attempt(session: AsyncSession, incident_id: uuid.UUID) -> Incident:
    incident = await IncidentRepository(session).get(incident_id)
    if incident is None:
        raise NotFound("no such incident")
    return incident


_ACTION: TypeAdapter[Action] = TypeAdapter(Action)


def parse_action(data: dict[str, Any]) -> Action:
    """An action from JSON, with the field at fault named when it does not fit."""
    try:
        return _ACTION.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"][1:] or first["loc"])
        raise Unprocessable(f"{field}: {first['msg']}", field=field) from exc
