"""Examiners' decisions on a result: marks, release, confirming a changed result, invalidation.

Each decision rescores first (``service.score``), asks ``state.check`` whether the result may take
it, and records who decided what and why. Credentials follow the released outcome: a pass issues
one, an invalidation or a confirmed change to a fail revokes it.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.clock import Clock
from exam_service.core.errors import Conflict, NotFound, Unprocessable
from exam_service.credentials import service as credentials_service
from exam_service.credentials.keys import CredentialSigner
from exam_service.delivery.repository import AttemptRepository
from exam_service.identity.repository import UserRepository
from exam_service.models import Attempt, Result, ResultState, ScoreOverride, User
from exam_service.scoring import service, state
from exam_service.scoring.repository import MarkRepository, ResultRepository


async def _current(session: AsyncSession, attempt: Attempt, clock: Clock) -> Result:
    result = await service.score(session, attempt, clock)
    if result is None:
        raise Conflict("this sitting has not ended, so it has no result", state=attempt.state.value)
    return result


async def override(
    session: AsyncSession, attempt: Attempt, examiner: User, position: int, points: float, reason: str, clock: Clock
) -> Result:
    result = await _current(session, attempt, clock)
    state.check("override", result.state, examiner.role)
    item = next((i for i in result.items if i["position"] == position), None)
    if item is None:
        raise NotFound(f"the form has no item at position {position}", field="position")
    if not 0 <= points <= item["maximum"]:
        raise Unprocessable(f"points: must lie between 0 and the item's {item['maximum']:g}", field="points")
    now = clock.now()
    await MarkRepository(session).add(
        ScoreOverride(
            attempt_id=attempt.id,
            position=position,
            points=points,
            previous_points=item["awarded"],
            reason=reason,
            examiner_id=examiner.id,
            at=now,
        )
    )
    before = result.state
    rescored = await service.score(session, attempt, clock)
    assert rescored is not None
    detail = {"position": position, "item_id": item["item_id"], "from": item["awarded"], "to": points}
    await service.record(session, rescored, "override", before, examiner.id, reason, now, **detail)
    return rescored


async def release(
    session: AsyncSession, attempt: Attempt, examiner: User, reason: str | None, signer: CredentialSigner, clock: Clock
) -> Result:
    return await _release(session, await _current(session, attempt, clock), examiner, reason, signer, clock)


async def _release(
    session: AsyncSession, result: Result, examiner: User, reason: str | None, signer: CredentialSigner, clock: Clock
) -> Result:
    """Releases a result just scored (the caller rescored it)."""
    state.check("release", result.state, examiner.role)
    if not result.complete:
        raise Conflict("the result is not complete: " + "; ".join(result.pending), state=result.state.value)
    if result.state is ResultState.withheld and not reason:
        raise Unprocessable("reason: say why the integrity review lets this result stand", field="reason")
    before, now = result.state, clock.now()
    result.state = ResultState.released
    result.released_view, result.released_at, result.change_pending = service.candidate_view(result), now, False
    await service.record(session, result, "release", before, examiner.id, reason or "released", now)
    if result.passed:
        await _issue(session, result, signer, clock)
    return result


async def _issue(session: AsyncSession, result: Result, signer: CredentialSigner, clock: Clock) -> None:
    candidate = await UserRepository(session).get(result.candidate_id)
    assert candidate is not None
    blueprint = await service.blueprint_of(session, result)
    await credentials_service.issue(
        session,
        signer,
        attempt_id=result.attempt_id,
        candidate=candidate,
        tier=result.tier,
        validity_years=blueprint.validity_years,
        now=clock.now(),
        result_summary={"scaled_score": result.scaled_score, "percent": result.percent},
    )


async def confirm_change(
    session: AsyncSession, attempt: Attempt, examiner: User, reason: str, signer: CredentialSigner, clock: Clock
) -> Result:
    """Shows the candidate a released result's new score; the credential follows the new outcome."""
    result = await _current(session, attempt, clock)
    state.check("confirm_change", result.state, examiner.role)
    if not result.change_pending:
        raise Conflict("this released result has no change waiting for confirmation", state=result.state.value)
    was_pass, now = bool((result.released_view or {}).get("passed")), clock.now()
    result.released_view, result.change_pending = service.candidate_view(result), False
    await service.record(session, result, "confirm_change", result.state, examiner.id, reason, now)
    if result.passed and not was_pass:
        await _issue(session, result, signer, clock)
    if was_pass and not result.passed:
        await credentials_service.revoke_for_attempt(session, attempt.id, examiner, f"result changed: {reason}", now)
    return result


async def request_invalidation(
    session: AsyncSession, attempt: Attempt, examiner: User, reason: str, clock: Clock
) -> Result:
    result = await _current(session, attempt, clock)
    state.check("request_invalidation", result.state, examiner.role)
    if result.invalidation_requested_by is not None:
        raise Conflict("an invalidation is already waiting for a second examiner", state=result.state.value)
    now = clock.now()
    result.invalidation_reason, result.invalidation_requested_by, result.invalidation_requested_at = (
        reason,
        examiner.id,
        now,
    )
    await service.record(session, result, "request_invalidation", result.state, examiner.id, reason, now)
    return result


async def withdraw_invalidation(
    session: AsyncSession, attempt: Attempt, examiner: User, reason: str, clock: Clock
) -> Result:
    result = await _current(session, attempt, clock)
    state.check("withdraw_invalidation", result.state, examiner.role)
    if result.invalidation_requested_by is None:
        raise Conflict("no invalidation is waiting", state=result.state.value)
    now = clock.now()
    result.invalidation_reason = result.invalidation_requested_by = result.invalidation_requested_at = None
    await service.record(session, result, "withdraw_invalidation", result.state, examiner.id, reason, now)
    return result


async def confirm_invalidation(
    session: AsyncSession, attempt: Attempt, examiner: User, reason: str, clock: Clock
) -> Result:
    """The second examiner's agreement; the candidate then sees the result as invalidated."""
    result = await _current(session, attempt, clock)
    state.check("confirm_invalidation", result.state, examiner.role)
    if result.invalidation_requested_by is None:
        raise Conflict("invalidation needs an examiner's request first", state=result.state.value)
    if result.invalidation_requested_by == examiner.id:
        raise Conflict("a second examiner must agree to an invalidation you requested", state=result.state.value)
    before, now = result.state, clock.now()
    result.state, result.change_pending = ResultState.invalidated, False
    detail = {"requested_by": str(result.invalidation_requested_by), "request_reason": result.invalidation_reason}
    await service.record(session, result, "confirm_invalidation", before, examiner.id, reason, now, **detail)
    await credentials_service.revoke_for_attempt(session, attempt.id, examiner, f"result invalidated: {reason}", now)
    return result


async def release_window(
    session: AsyncSession, window_id: uuid.UUID, examiner: User, signer: CredentialSigner, clock: Clock
) -> list[Result]:
    """Releases every result of the window that is ready (complete, clean); the rest stay for review."""
    released = []
    for ready in await ResultRepository(session).of_window(window_id, ResultState.ready):
        attempt = await AttemptRepository(session).get(ready.attempt_id)
        assert attempt is not None
        result = await _current(session, attempt, clock)
        if result.state is ResultState.ready:  # still clean and complete on current facts
            released.append(await _release(session, result, examiner, "released with the window", signer, clock))
    return released
