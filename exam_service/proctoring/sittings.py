"""The proctor's view of sittings: one row per attempt with clock, presence, risk and incidents."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.clock import Clock
from exam_service.delivery import timing
from exam_service.models import Attempt
from exam_service.proctoring.repository import (
    IncidentRepository,
    IntegrityRepository,
    SittingRepository,
    SnapshotRepository,
)

LastHeartbeat = Callable[[str], float | None]


def presence_of(last: float | None, timeout: float) -> dict[str, Any]:
    return {
        "connected": last is not None and time.time() - last <= timeout,
        "last_heartbeat": datetime.fromtimestamp(last, UTC).isoformat() if last else None,
    }


async def rows(
    session: AsyncSession,
    window_ids: list[uuid.UUID],
    clock: Clock,
    last_heartbeat: LastHeartbeat,
    silence: float,
    *,
    attempt_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    pairs = await SittingRepository(session).in_windows(window_ids)
    if attempt_id is not None:
        pairs = [(a, u) for a, u in pairs if a.id == attempt_id]
    ids = [a.id for a, _ in pairs]
    if not ids:
        return []
    integrity = await IntegrityRepository(session).for_attempts(ids)
    snapshots = await SnapshotRepository(session).latest_for(ids)
    incidents: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for incident in await IncidentRepository(session).open_for(ids):
        incidents.setdefault(incident.attempt_id, []).append(
            {
                "id": str(incident.id),
                "rule": incident.rule,
                "summary": incident.summary,
                "points": incident.points,
                "severity": incident.severity,
                "status": incident.status.value,
                "seq": incident.event_seq,
            }
        )
    now = clock.now()
    result = []
    for attempt, candidate in pairs:
        standing = integrity.get(attempt.id)
        snapshot = snapshots.get(attempt.id)
        result.append(
            {
                **_clock(attempt, now),
                "candidate": {"id": str(candidate.id), "name": candidate.full_name, "email": candidate.email},
                **presence_of(last_heartbeat(str(attempt.id)), silence),
                "risk_score": standing.risk_score if standing else 0,
                "review_required": standing.review_required if standing else False,
                "reasons": standing.reasons if standing else [],
                "open_incidents": incidents.get(attempt.id, []),
                "latest_snapshot": {"id": str(snapshot.id), "taken_at": snapshot.taken_at.isoformat()}
                if snapshot
                else None,
            }
        )
    result.sort(key=lambda row: -int(row["risk_score"]))
    return result


def _clock(attempt: Attempt, now: datetime) -> dict[str, Any]:
    deadline = timing.deadline(attempt, now)
    return {
        "attempt_id": str(attempt.id),
        "window_id": str(attempt.window_id),
        "state": attempt.state.value,
        "remaining_seconds": timing.remaining_seconds(attempt, now),
        "deadline": deadline.isoformat() if deadline else None,
        "last_seq": attempt.event_seq,
    }
