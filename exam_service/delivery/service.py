"""The attempt lifecycle: registration, check-in, start, authorise, pause, resume, extend, terminate, submit, expire.

Every transition is recorded twice: in the transitions table (who, when, why) and as a
``state_changed`` entry of the sitting's log, which is what proctors and the candidate's page
are sent once the transaction commits.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.repository import BlueprintRepository
from exam_service.core.clock import Clock
from exam_service.core.errors import Conflict
from exam_service.delivery import briefing, events, state, timing
from exam_service.delivery.repository import AttemptRepository, ResponseRepository
from exam_service.grading import service as grading_service
from exam_service.identity import service as identity_service
from exam_service.models import Attempt, AttemptState, AttemptTransition, ExamWindow, Role, User
from exam_service.scheduling import service as scheduling_service


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID | None
    role: str  # a role value, or "system"

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.role.value)

    @property
    def origin(self) -> events.Origin:
        return events.Origin(self.role, self.id)


SYSTEM = Actor(None, "system")


async def transition(
    session: AsyncSession, attempt: Attempt, target: AttemptState, actor: Actor, reason: str, at: datetime
) -> None:
    state.check(attempt.state, target)
    previous = attempt.state.value
    await AttemptRepository(session).record_transition(
        AttemptTransition(
            attempt_id=attempt.id,
            from_state=attempt.state.value,
            to_state=target.value,
            actor_id=actor.id,
            actor_role=actor.role,
            reason=reason,
            at=at,
        )
    )
    attempt.state = target
    await events.append(
        session, attempt, "state_changed", {"from": previous, "to": target.value, "reason": reason}, actor.origin, at
    )
    if target in (AttemptState.submitted, AttemptState.terminated):
        # the grading request is part of the submit: written in its transaction, or not at all
        # (a terminated sitting is graded too: examiners decide on it with its scores in view)
        await grading_service.request_for_attempt(session, attempt, at)


async def window_of(session: AsyncSession, attempt: Attempt) -> ExamWindow:
    return await scheduling_service.get_window(session, attempt.window_id)


async def enforce_clock(session: AsyncSession, attempt: Attempt, clock: Clock) -> bool:
    """Applies what time has decided: submit an overdue attempt, expire one never started.

    Runs whenever an attempt is loaded, so nothing depends on the sweeper having run. Returns
    whether it changed the attempt; the caller commits that on its own (``core.database.checkpoint``).
    """
    now = clock.now()
    if timing.overdue(attempt, now):
        end = timing.deadline(attempt, now)
        attempt.submitted_at = end
        await transition(session, attempt, AttemptState.submitted, SYSTEM, "time limit reached", now)
        return True
    if attempt.state in state.NOT_STARTED and (await window_of(session, attempt)).closes_at <= now:
        await transition(
            session, attempt, AttemptState.expired, SYSTEM, "the window closed before the exam started", now
        )
        return True
    return False


def clock_due(attempt: Attempt, window: ExamWindow, now: datetime) -> bool:
    """Whether time has decided something about the attempt that is not yet recorded."""
    return timing.overdue(attempt, now) or (attempt.state in state.NOT_STARTED and window.closes_at <= now)


async def settle(session: AsyncSession, attempt: Attempt, window: ExamWindow, clock: Clock) -> Attempt:
    """For attempts read in a list without locks: lock and apply the clock only where it is due."""
    if not clock_due(attempt, window, clock.now()):
        return attempt
    locked = await AttemptRepository(session).get(attempt.id)
    assert locked is not None
    await enforce_clock(session, locked, clock)
    return locked


async def register(session: AsyncSession, window: ExamWindow, candidate: User, actor: User, clock: Clock) -> Attempt:
    """A seat in the window: by an administrator, or booked by the candidate; capacity and tier order hold."""
    now = clock.now()
    if candidate.role is not Role.candidate:
        raise Conflict("only candidates can be registered for an exam", field="candidate_id")
    if window.closes_at <= now:
        raise Conflict("the window has closed")
    attempts = AttemptRepository(session)
    await scheduling_service.lock_window(session, window.id)
    if await attempts.find(window.id, candidate.id) is not None:
        raise Conflict("already registered for this window")
    await scheduling_service.check_prerequisite(session, candidate, window.tier, clock)
    await _one_live_attempt(attempts, candidate, window, now)
    if window.capacity is not None and await attempts.count_in_window(window.id) >= window.capacity:
        raise Conflict("the window is full")
    attempt = await attempts.add(
        Attempt(window_id=window.id, candidate_id=candidate.id, state=AttemptState.registered, created_at=now)
    )
    who = Actor.of(actor)
    reason = "booked by the candidate" if actor.id == candidate.id else "registered by an administrator"
    await attempts.record_transition(
        AttemptTransition(
            attempt_id=attempt.id,
            from_state="new",
            to_state=AttemptState.registered.value,
            actor_id=who.id,
            actor_role=who.role,
            reason=reason,
            at=now,
        )
    )
    detail = {"from": "new", "to": AttemptState.registered.value, "reason": reason}
    await events.append(session, attempt, "state_changed", detail, who.origin, now)
    return attempt


async def _one_live_attempt(attempts: AttemptRepository, candidate: User, window: ExamWindow, now: datetime) -> None:
    """One live attempt per candidate per tier: a second booking is refused while one is still to be sat."""
    await attempts.lock_candidate(candidate.id)
    held = await attempts.live_in_tier(candidate.id, window.tier, state.LIVE)
    if held is None:
        return
    other, other_window = held
    if other.state in state.NOT_STARTED and other_window.closes_at <= now:
        return  # its window has closed unstarted: it is expiring, not live
    raise Conflict(
        f"you already hold a {window.tier} exam ({other_window.title}, opening "
        f"{other_window.opens_at:%Y-%m-%d %H:%M} UTC); one {window.tier} attempt at a time",
        attempt_id=str(other.id),
    )


async def check_in(session: AsyncSession, attempt: Attempt, candidate: User, clock: Clock) -> None:
    window, now = await window_of(session, attempt), clock.now()
    if now < window.opens_at:
        raise Conflict(f"the window opens at {window.opens_at.isoformat()}", state=attempt.state.value)
    # checked again here: the previous tier's credential may have been revoked since the booking
    await scheduling_service.check_prerequisite(session, candidate, window.tier, clock)
    await transition(session, attempt, AttemptState.checked_in, Actor.of(candidate), "candidate checked in", now)


async def start(session: AsyncSession, attempt: Attempt, candidate: User, clock: Clock) -> None:
    """Assembles the candidate's form; the clock starts now, or when a proctor authorises.

    The candidate has accepted the rules (the endpoint refuses a start without it); the
    acceptance is recorded in the log before the transition.
    """
    window, now = await window_of(session, attempt), clock.now()
    target = AttemptState.awaiting_authorization if window.proctored else AttemptState.in_progress
    state.check(attempt.state, target)
    attempts = AttemptRepository(session)
    await attempts.lock_candidate(candidate.id)
    if (held := await attempts.live_in_tier(candidate.id, window.tier, state.STARTED, exclude=attempt.id)) is not None:
        raise Conflict(
            f"your {window.tier} exam in {held[1].title} is already under way; finish it before starting another",
            attempt_id=str(held[0].id),
        )
    await briefing.accept_rules(session, attempt, candidate, now)
    if attempt.form_id is None:
        blueprint = await BlueprintRepository(session).get(window.blueprint_version_id)
        assert blueprint is not None
        form, positions = await bank_service.create_form(session, blueprint, candidate.id, clock)
        attempt.form_id = form.id
        await ResponseRepository(session).create_empty(attempt.id, positions)
    if target is AttemptState.in_progress:
        await _begin_timing(session, attempt, window, candidate, now)
    reason = "waiting for a proctor" if window.proctored else "candidate started"
    await transition(session, attempt, target, Actor.of(candidate), reason, now)


async def _begin_timing(
    session: AsyncSession, attempt: Attempt, window: ExamWindow, candidate: User, now: datetime
) -> None:
    blueprint = await BlueprintRepository(session).get(window.blueprint_version_id)
    assert blueprint is not None
    attempt.time_limit_seconds = timing.time_limit_seconds(
        int(blueprint.payload["time_limit_minutes"]), candidate.extra_time_multiplier, candidate.extra_time_minutes
    )
    attempt.started_at = now


async def authorize(session: AsyncSession, attempt: Attempt, proctor: User, clock: Clock) -> None:
    state.check(attempt.state, AttemptState.in_progress)
    if attempt.state is not AttemptState.awaiting_authorization:
        raise state.IllegalTransition(
            "only an attempt awaiting authorisation can be authorised", state=attempt.state.value
        )
    candidate = await session.get(User, attempt.candidate_id)
    assert candidate is not None
    now = clock.now()
    await _begin_timing(session, attempt, await window_of(session, attempt), candidate, now)
    await transition(session, attempt, AttemptState.in_progress, Actor.of(proctor), "authorised by proctor", now)


def _actor(user: User | None) -> Actor:
    return Actor.of(user) if user is not None else SYSTEM


async def pause(session: AsyncSession, attempt: Attempt, proctor: User | None, reason: str, clock: Clock) -> None:
    """By a proctor, or by the system (``None``) when a window pauses disconnected candidates."""
    now = clock.now()
    await transition(session, attempt, AttemptState.paused, _actor(proctor), reason, now)
    attempt.paused_at = now


async def resume(session: AsyncSession, attempt: Attempt, proctor: User | None, reason: str, clock: Clock) -> None:
    now = clock.now()
    if attempt.state is not AttemptState.paused:
        raise state.IllegalTransition("only a paused attempt can be resumed", state=attempt.state.value)
    await transition(session, attempt, AttemptState.in_progress, _actor(proctor), reason, now)
    _close_pause(attempt, now)


def _close_pause(attempt: Attempt, now: datetime) -> None:
    if attempt.paused_at is not None:
        # rounded up: a pause never costs the candidate a fraction of a second
        attempt.paused_seconds += math.ceil((now - attempt.paused_at).total_seconds())
        attempt.paused_at = None


async def extend(
    session: AsyncSession, attempt: Attempt, proctor: User, minutes: int, reason: str, clock: Clock
) -> None:
    if attempt.state not in state.SITTING:
        raise Conflict(
            f"only a running or paused attempt can be extended; it is {attempt.state.value}", state=attempt.state.value
        )
    attempt.extension_seconds += minutes * 60
    now = clock.now()
    detail = {"minutes": minutes, "reason": reason, "deadline": _iso(timing.deadline(attempt, now))}
    await events.append(session, attempt, "time_extended", detail, Actor.of(proctor).origin, now)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def terminate(session: AsyncSession, attempt: Attempt, proctor: User, reason: str, clock: Clock) -> None:
    now = clock.now()
    await transition(session, attempt, AttemptState.terminated, Actor.of(proctor), reason, now)
    _close_pause(attempt, now)


async def submit(session: AsyncSession, attempt: Attempt, candidate: User, clock: Clock) -> None:
    now = clock.now()
    end = timing.deadline(attempt, now)
    await transition(session, attempt, AttemptState.submitted, Actor.of(candidate), "submitted by candidate", now)
    attempt.submitted_at = min(now, end) if end else now


async def sweep(session: AsyncSession, clock: Clock) -> dict[str, int]:
    """Submits overdue attempts and expires unstarted ones in closed windows."""
    counts = {"submitted": 0, "expired": 0}
    await identity_service.purge_expired(session, clock)
    for attempt in await AttemptRepository(session).sweep_candidates(clock.now()):
        before = attempt.state
        await enforce_clock(session, attempt, clock)
        if attempt.state is not before:
            counts[attempt.state.value] = counts.get(attempt.state.value, 0) + 1
    return counts
