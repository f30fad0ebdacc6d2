"""What a candidate's connection means for the sitting: lost and restored entries, and the optional pause.

A lost connection is recorded once (``connection_lost``) until the candidate is back
(``connection_restored``). A window with ``pause_on_disconnect`` stops the clock while the
candidate is away and starts it again when they return, if it was that rule that stopped it.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.clock import Clock
from exam_service.delivery import events
from exam_service.delivery import service as delivery_service
from exam_service.delivery.repository import AttemptRepository
from exam_service.delivery.state import NOT_STARTED, SITTING
from exam_service.models import AttemptState
from exam_service.proctoring import service as proctoring_service

CONNECTION_KINDS = ("connection_lost", "connection_restored")
LIVE = SITTING | NOT_STARTED
PAUSE_REASON = "connection lost"


async def record_lost(session: AsyncSession, attempt_id: uuid.UUID, silent_seconds: float, clock: Clock) -> bool:
    attempt = await AttemptRepository(session).get(attempt_id)
    if attempt is None or attempt.state not in LIVE:
        return False
    last = await events.last_of(session, attempt.id, CONNECTION_KINDS)
    if last is not None and last.kind == "connection_lost":
        return False
    detail = {"silent_seconds": round(silent_seconds, 1)}
    await proctoring_service.record_system_event(session, attempt, "connection_lost", detail, clock)
    window = await delivery_service.window_of(session, attempt)
    if window.pause_on_disconnect and attempt.state is AttemptState.in_progress:
        await delivery_service.pause(session, attempt, None, PAUSE_REASON, clock)
    return True


async def record_restored(session: AsyncSession, attempt_id: uuid.UUID, clock: Clock) -> bool:
    attempt = await AttemptRepository(session).get(attempt_id)
    if attempt is None:
        return False
    last = await events.last_of(session, attempt.id, CONNECTION_KINDS)
    if last is None or last.kind != "connection_lost":
        return False
    await events.append(session, attempt, "connection_restored", {}, events.SYSTEM, clock.now())
    if attempt.state is AttemptState.paused:
        change = await events.last_of(session, attempt.id, ("state_changed",))
        if change is not None and change.source == "system" and change.detail.get("reason") == PAUSE_REASON:
            await delivery_service.resume(session, attempt, None, "connection restored", clock)
    return True
