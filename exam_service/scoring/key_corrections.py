"""Correcting an item version's key, or accepting one more answer, and rescoring every sitting it touched.

The correction is stored once and applied by every later scoring (``engine`` reads it through
``inputs``), so a sitting scored after the correction and one rescored for it agree. The request
only records it, with one ``RescoreRequest`` per ended sitting whose form holds the version (its
result before); the background scorer rescores them one transaction at a time, so a correction
over thousands of sittings never holds the database for long, and a restart loses none. When the
last is rescored, ``settle`` writes the report: each sitting whose score, outcome or state
changed. A released result that changed waits for an examiner's confirmation before its candidate
sees it (``decisions.confirm_change``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.core.clock import Clock
from exam_service.core.database import publish_after_commit
from exam_service.core.errors import NotFound
from exam_service.grading.service import GRADING_CHANNEL
from exam_service.identity.repository import UserRepository
from exam_service.models import KeyCorrection, RescoreRequest, Result, User
from exam_service.scoring.corrections import Correction, CorrectionKind, check
from exam_service.scoring.repository import MarkRepository, ResultRepository

RESCORING, DONE = "rescoring", "done"


def snapshot(result: Result | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "points": result.points,
        "percent": result.percent,
        "scaled_score": result.scaled_score,
        "passed": result.passed,
        "state": result.state.value,
    }


async def correct_key(
    session: AsyncSession,
    version_id: uuid.UUID,
    kind: CorrectionKind,
    value: Any,
    reason: str,
    examiner: User,
    clock: Clock,
) -> KeyCorrection:
    version = await bank_service.version_by_id(session, version_id)
    check(version.payload, Correction(kind, value))
    results, now = ResultRepository(session), clock.now()
    touched = await results.attempts_with_version(version.id)
    row = KeyCorrection(
        item_version_id=version.id,
        kind=kind,
        value=value,
        reason=reason,
        examiner_id=examiner.id,
        at=now,
        state=RESCORING if touched else DONE,
        affected=len(touched),
        done_at=None if touched else now,
        report=[],
    )
    marks = MarkRepository(session)
    await marks.add(row)
    befores = {r.attempt_id: snapshot(r) for r in await results.many(touched)}
    await marks.request_rescores(
        [RescoreRequest(correction_id=row.id, attempt_id=a, before=befores.get(a), done=False) for a in touched]
    )
    if touched:  # wakes the scorers; their timer finds the requests anyway
        publish_after_commit(session, GRADING_CHANNEL, {"rescore": str(row.id)})
    return row


async def settle(session: AsyncSession, now: datetime) -> int:
    """Writes the report of every correction whose sittings are all rescored; returns how many finished."""
    marks, results, users = MarkRepository(session), ResultRepository(session), UserRepository(session)
    finished = 0
    for row in await marks.corrections_rescoring():
        requests = await marks.rescore_requests(row.id)
        if any(not r.done for r in requests):
            continue
        after = {r.attempt_id: r for r in await results.many([q.attempt_id for q in requests])}
        report = []
        for request in requests:
            result = after.get(request.attempt_id)
            if result is None or snapshot(result) == request.before:
                continue
            candidate = await users.get(result.candidate_id)
            report.append(
                {
                    "attempt_id": str(request.attempt_id),
                    "candidate_id": str(result.candidate_id),
                    "candidate": candidate.full_name if candidate else None,
                    "before": request.before,
                    "after": snapshot(result),
                    "outcome_changed": (request.before or {}).get("passed") != result.passed,
                    "needs_confirmation": result.change_pending,
                }
            )
        row.report, row.state, row.done_at = report, DONE, now
        await marks.forget_rescores(row.id)
        finished += 1
    await session.flush()
    return finished


async def get(session: AsyncSession, correction_id: uuid.UUID) -> KeyCorrection:
    row = await MarkRepository(session).correction(correction_id)
    if row is None:
        raise NotFound("no such key correction", field="correction_id")
    return row


async def corrections_of(session: AsyncSession, version_id: uuid.UUID) -> list[KeyCorrection]:
    return await MarkRepository(session).corrections([version_id])
