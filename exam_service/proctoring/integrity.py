"""Keeps a sitting's incidents and risk score in step with its log.

Evaluation is a pure function of the log (``rules.evaluate``) plus the proctors' decisions on
incidents; it runs after every entry proctoring appends, and lazily wherever a sitting is read
under its lock, so entries appended elsewhere (a second browser seen by autosave) are counted
at the next evaluation. The caller holds the attempt's lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.clock import Clock
from exam_service.delivery import events
from exam_service.delivery.repository import AttemptRepository
from exam_service.models import Attempt, ExamWindow, Incident, IncidentStatus, SittingIntegrity
from exam_service.proctoring import rules
from exam_service.proctoring.repository import IncidentRepository, IntegrityRepository
from exam_service.scheduling import service as scheduling_service

COUNTED = (IncidentStatus.open, IncidentStatus.confirmed)


@dataclass(frozen=True)
class Standing:
    risk_score: int
    review_required: bool
    reasons: list[dict[str, object]]


def standing_of(incidents: list[Incident], threshold: int) -> Standing:
    counted = [i for i in incidents if i.status in COUNTED]
    score = rules.risk_score(i.points for i in counted)
    reported = any(i.rule == "irregularity" and i.status is not IncidentStatus.dismissed for i in incidents)
    reasons: list[dict[str, object]] = [
        {"rule": i.rule, "points": i.points, "summary": i.summary, "status": i.status.value, "seq": i.event_seq}
        for i in counted
    ]
    return Standing(score, score >= threshold or reported, reasons)


async def evaluate(session: AsyncSession, attempt: Attempt, window: ExamWindow, clock: Clock) -> list[Incident]:
    """Opens the incidents the log now shows, appends ``incident_opened`` entries, stores the standing."""
    now = clock.now()
    repo = IncidentRepository(session)
    known = {i.key: i for i in await repo.of_attempt(attempt.id)}
    log = await events.since(session, attempt.id, 0, kinds=rules.RELEVANT, limit=1_000_000)
    policy = rules.Policy(webcam_required=window.webcam_interval_seconds is not None)
    opened: list[Incident] = []
    for finding in rules.evaluate(log, policy):
        if finding.key in known:
            continue
        incident = Incident(
            attempt_id=attempt.id,
            rule=finding.rule,
            key=finding.key,
            severity=finding.severity,
            points=finding.points,
            event_seq=finding.seq,
            summary=finding.summary,
            status=IncidentStatus.open,
            opened_at=now,
        )
        await repo.add(incident)
        known[finding.key] = incident
        opened.append(incident)
    standing = standing_of(list(known.values()), window.risk_threshold)
    for incident in opened:
        detail = {
            "incident_id": str(incident.id),
            "rule": incident.rule,
            "summary": incident.summary,
            "points": incident.points,
            "severity": incident.severity,
            "risk_score": standing.risk_score,
            "review_required": standing.review_required,
        }
        await events.append(session, attempt, "incident_opened", detail, events.SYSTEM, now)
    await store(session, attempt, standing, clock)
    return opened


async def evaluate_many(session: AsyncSession, attempt_ids: list[uuid.UUID], clock: Clock) -> None:
    """Evaluates many sittings with a few reads; locks and writes only those whose standing changed."""
    attempts = await AttemptRepository(session).many(attempt_ids)
    ids = [a.id for a in attempts]
    known = await IncidentRepository(session).for_attempts(ids)
    logs = await events.of_attempts(session, ids, rules.RELEVANT)
    stored = await IntegrityRepository(session).for_attempts(ids)
    windows: dict[uuid.UUID, ExamWindow] = {}
    for attempt in attempts:
        if attempt.window_id not in windows:
            windows[attempt.window_id] = await scheduling_service.get_window(session, attempt.window_id)
        window = windows[attempt.window_id]
        keys = {i.key for i in known[attempt.id]}
        policy = rules.Policy(webcam_required=window.webcam_interval_seconds is not None)
        if any(f.key not in keys for f in rules.evaluate(logs[attempt.id], policy)):
            locked = await AttemptRepository(session).get(attempt.id)  # new incidents are log entries
            if locked is not None:
                await evaluate(session, locked, window, clock)
            continue
        standing = standing_of(known[attempt.id], window.risk_threshold)
        row = stored.get(attempt.id)
        if row is None or (row.risk_score, row.review_required, row.reasons) != (
            standing.risk_score,
            standing.review_required,
            standing.reasons,
        ):
            await store(session, attempt, standing, clock)


async def store(session: AsyncSession, attempt: Attempt, standing: Standing, clock: Clock) -> SittingIntegrity:
    repo = IntegrityRepository(session)
    row = await repo.get(attempt.id)
    if row is None:
        row = SittingIntegrity(attempt_id=attempt.id)
    row.evaluated_seq = attempt.event_seq
    row.risk_score = standing.risk_score
    row.review_required = standing.review_required
    row.reasons = standing.reasons
    row.updated_at = clock.now()
    await repo.save(row)
    return row


async def current(session: AsyncSession, attempt: Attempt, window: ExamWindow, clock: Clock) -> SittingIntegrity:
    """The stored standing, re-evaluated first if the log has grown since."""
    row = await IntegrityRepository(session).get(attempt.id)
    if row is None or row.evaluated_seq < attempt.event_seq:
        await evaluate(session, attempt, window, clock)
        row = await IntegrityRepository(session).get(attempt.id)
    assert row is not None
    return row
