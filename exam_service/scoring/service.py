"""Scores sittings and keeps each result where its facts put it; every change is recorded.

``score`` runs when a sitting ends, when its last grading job finishes, and again before any
examiner decision, so decisions are taken on current facts. It is idempotent: the same inputs
store the same result and record nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import Blueprint
from exam_service.bank.repository import BlueprintRepository
from exam_service.core.clock import Clock
from exam_service.core.errors import NotFound
from exam_service.delivery.repository import AttemptRepository
from exam_service.models import Attempt, Result, ResultDecision, ResultState
from exam_service.scoring import engine, inputs, state
from exam_service.scoring.repository import SCORABLE, MarkRepository, ResultRepository

SCORED_FIELDS = (
    "complete",
    "passed",
    "points",
    "max_points",
    "percent",
    "scaled_score",
    "sections",
    "items",
    "pending",
)


def candidate_view(result: Result) -> dict[str, Any]:
    """What the candidate may see of a result: the outcome and section scores, never items or keys."""
    return {
        "passed": result.passed,
        "scaled_score": result.scaled_score,
        "percent": result.percent,
        "sections": [{k: s[k] for k in ("id", "percent", "minimum_percent", "met")} for s in result.sections],
    }


async def record(
    session: AsyncSession,
    result: Result,
    action: str,
    before: ResultState,
    actor: uuid.UUID | None,
    reason: str,
    at: datetime,
    **detail: Any,
) -> None:
    decision = ResultDecision(
        attempt_id=result.attempt_id,
        action=action,
        from_state=before.value,
        to_state=result.state.value,
        actor_id=actor,
        reason=reason,
        detail=detail,
        at=at,
    )
    await ResultRepository(session).record(decision)


async def compute(session: AsyncSession, attempt: Attempt, clock: Clock) -> tuple[engine.Outcome, inputs.Facts]:
    facts = await inputs.gather(session, attempt, clock)
    return engine.score(facts.blueprint, facts.entries), facts


async def score(session: AsyncSession, attempt: Attempt, clock: Clock) -> Result | None:
    """Scores an ended sitting (the caller holds its lock); ``None`` for one that has not ended."""
    if attempt.state not in SCORABLE or attempt.form_id is None:
        return None
    outcome, facts = await compute(session, attempt, clock)
    now = clock.now()
    await MarkRepository(session).rescored(attempt.id, facts.correction_ids)
    results = ResultRepository(session)
    result = await results.get(attempt.id)
    values = {name: getattr(outcome, name) for name in SCORED_FIELDS}
    review = {"risk_score": facts.risk_score, "review_reasons": facts.review_reasons}
    if result is None:
        result = Result(
            attempt_id=attempt.id,
            window_id=attempt.window_id,
            candidate_id=attempt.candidate_id,
            blueprint_version_id=facts.window.blueprint_version_id,
            tier=facts.window.tier,
            state=ResultState.provisional,
            revision=1,
            scored_at=now,
            change_pending=False,
            **values,
            **review,
        )
        result.state = state.automatic(None, complete=outcome.complete, review=bool(facts.review_reasons))
        await results.add(result)
        await record(session, result, "score", ResultState.provisional, None, "scored", now, **_summary(result))
        return result
    changed = any(getattr(result, k) != v for k, v in values.items())
    before = result.state
    for name, value in {**values, **review}.items():
        setattr(result, name, value)
    result.state = state.automatic(before, complete=outcome.complete, review=bool(facts.review_reasons))
    result.scored_at = now  # the last scoring, changed or not: what ``ResultRepository.due`` compares with
    if changed:
        result.revision += 1
    result.change_pending = result.state is ResultState.released and result.released_view != candidate_view(result)
    if changed or result.state is not before:
        await record(session, result, "score", before, None, "rescored", now, **_summary(result))
    await session.flush()
    return result


def _summary(result: Result) -> dict[str, Any]:
    return {
        "percent": result.percent,
        "scaled_score": result.scaled_score,
        "passed": result.passed,
        "complete": result.complete,
        "revision": result.revision,
    }


async def score_by_id(session: AsyncSession, attempt_id: uuid.UUID, clock: Clock) -> Result | None:
    """Locks the sitting, then scores it: what the background scorer and examiners' actions call."""
    attempt = await AttemptRepository(session).get(attempt_id)
    if attempt is None:
        raise NotFound("no such attempt", field="attempt_id")
    return await score(session, attempt, clock)


async def verify(session: AsyncSession, attempt: Attempt, clock: Clock) -> list[str]:
    """Rescoring from the stored inputs must reproduce the stored result; names each field that differs."""
    result = await ResultRepository(session).get(attempt.id)
    if result is None:
        return ["no result stored"]
    outcome, _ = await compute(session, attempt, clock)
    return [name for name in SCORED_FIELDS if getattr(result, name) != getattr(outcome, name)]


async def get_result(session: AsyncSession, attempt_id: uuid.UUID) -> Result:
    result = await ResultRepository(session).get(attempt_id)
    if result is None:
        raise NotFound("this sitting has no result yet", field="attempt_id")
    return result


async def blueprint_of(session: AsyncSession, result: Result) -> Blueprint:
    row = await BlueprintRepository(session).get(result.blueprint_version_id)
    assert row is not None
    return bank_service.blueprint_of(row)
