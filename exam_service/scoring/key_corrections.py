"""Correcting an item version's key, or accepting one more answer, and rescoring every sitting it touched.

The correction is stored once and applied by every later scoring (``engine`` reads it through
``inputs``), so a sitting scored after the correction and one rescored by it agree. The report
names each sitting whose score or outcome changed; a released result that changed waits for an
examiner's confirmation before its candidate sees it (``decisions.confirm_change``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.core.clock import Clock
from exam_service.delivery.repository import AttemptRepository
from exam_service.identity.repository import UserRepository
from exam_service.models import KeyCorrection, Result, User
from exam_service.scoring import service
from exam_service.scoring.corrections import Correction, CorrectionKind, check
from exam_service.scoring.repository import MarkRepository, ResultRepository

COMPARED = ("points", "percent", "scaled_score", "passed", "state")


def _snapshot(result: Result | None) -> dict[str, Any] | None:
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
    row = KeyCorrection(
        item_version_id=version.id,
        kind=kind,
        value=value,
        reason=reason,
        examiner_id=examiner.id,
        at=clock.now(),
        report=[],
    )
    await MarkRepository(session).add(row)
    results, attempts, users = ResultRepository(session), AttemptRepository(session), UserRepository(session)
    report = []
    for attempt_id in await results.attempts_with_version(version.id):
        attempt = await attempts.get(attempt_id)
        assert attempt is not None
        before = _snapshot(await results.get(attempt_id))
        result = await service.score(session, attempt, clock)
        after = _snapshot(result)
        if result is None or before == after:
            continue
        candidate = await users.get(attempt.candidate_id)
        report.append(
            {
                "attempt_id": str(attempt_id),
                "candidate_id": str(attempt.candidate_id),
                "candidate": candidate.full_name if candidate else None,
                "before": before,
                "after": after,
                "outcome_changed": (before or {}).get("passed") != result.passed,
                "needs_confirmation": result.change_pending,
            }
        )
    row.report = report
    await session.flush()
    return row


async def corrections_of(session: AsyncSession, version_id: uuid.UUID) -> list[KeyCorrection]:
    return await MarkRepository(session).corrections([version_id])
