from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.delivery import timing
from exam_service.delivery.state import NOT_STARTED
from exam_service.models import Attempt, AttemptState, AttemptTransition, ExamWindow, Response, User

# FOR NO KEY UPDATE: requests on one attempt take turns, but inserting a row that refers to the
# attempt (a log entry, an incident: the foreign key's KEY SHARE lock) never waits for them, so
# those inserts cannot close a deadlock between two writers
_ROW_LOCK: dict[str, Any] = {"key_share": True}


class AttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, attempt_id: uuid.UUID, *, candidate_id: uuid.UUID | None = None, skip_locked: bool = False
    ) -> Attempt | None:
        """Loads and locks the attempt; with ``candidate_id`` only that candidate's attempt matches.

        Every request on one attempt is serialised by the row lock (PostgreSQL) or the write
        lock (SQLite), so a save never races a submit or a pause.
        """
        statement = (
            select(Attempt).where(Attempt.id == attempt_id).with_for_update(**_ROW_LOCK, skip_locked=skip_locked)
        )
        if candidate_id is not None:
            statement = statement.where(Attempt.candidate_id == candidate_id)
        return (await self.session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()

    async def for_candidate(self, candidate_id: uuid.UUID) -> list[tuple[Attempt, ExamWindow]]:
        statement = (
            select(Attempt, ExamWindow)
            .join(ExamWindow, ExamWindow.id == Attempt.window_id)
            .where(Attempt.candidate_id == candidate_id)
            .order_by(ExamWindow.opens_at)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def peek(self, attempt_id: uuid.UUID, *, candidate_id: uuid.UUID) -> Attempt | None:
        """The candidate's attempt as it stands, without a lock (for reads)."""
        statement = select(Attempt).where(Attempt.id == attempt_id, Attempt.candidate_id == candidate_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def lock_many(self, attempt_ids: list[uuid.UUID]) -> dict[uuid.UUID, Attempt]:
        """Loads and locks several attempts in one statement, in id order (the order every writer locks in)."""
        statement = select(Attempt).where(Attempt.id.in_(attempt_ids)).order_by(Attempt.id).with_for_update(**_ROW_LOCK)
        rows = (await self.session.execute(statement.execution_options(populate_existing=True))).scalars()
        return {attempt.id: attempt for attempt in rows}

    async def many(self, attempt_ids: list[uuid.UUID]) -> list[Attempt]:
        """Several attempts as they stand, without locks (for reads that lock only what they change)."""
        statement = select(Attempt).where(Attempt.id.in_(attempt_ids)).order_by(Attempt.id)
        return list((await self.session.execute(statement.execution_options(populate_existing=True))).scalars())

    async def in_window(self, window_id: uuid.UUID) -> list[Attempt]:
        statement = select(Attempt).where(Attempt.window_id == window_id).order_by(Attempt.created_at)
        return list((await self.session.execute(statement)).scalars())

    async def find(self, window_id: uuid.UUID, candidate_id: uuid.UUID) -> Attempt | None:
        statement = select(Attempt).where(Attempt.window_id == window_id, Attempt.candidate_id == candidate_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def lock_candidate(self, candidate_id: uuid.UUID) -> None:
        """Holds the candidate's row until commit: their bookings and starts go one at a time."""
        await self.session.execute(select(User.id).where(User.id == candidate_id).with_for_update())

    async def live_in_tier(
        self, candidate_id: uuid.UUID, tier: str, states: frozenset[AttemptState], *, exclude: uuid.UUID | None = None
    ) -> tuple[Attempt, ExamWindow] | None:
        """The candidate's attempt in ``tier`` that is in one of ``states``, if any (the earliest window first)."""
        statement = (
            select(Attempt, ExamWindow)
            .join(ExamWindow, ExamWindow.id == Attempt.window_id)
            .where(Attempt.candidate_id == candidate_id, ExamWindow.tier == tier, Attempt.state.in_(states))
            .order_by(ExamWindow.opens_at)
            .limit(1)
        )
        if exclude is not None:
            statement = statement.where(Attempt.id != exclude)
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row else None

    async def count_in_window(self, window_id: uuid.UUID) -> int:
        statement = select(func.count()).select_from(Attempt).where(Attempt.window_id == window_id)
        return int((await self.session.execute(statement)).scalar_one())

    async def add(self, attempt: Attempt) -> Attempt:
        self.session.add(attempt)
        await self.session.flush()
        return attempt

    async def sweep_candidates(self, now: datetime) -> list[Attempt]:
        """Attempts the sweeper must act on: overdue running ones, unstarted ones in closed windows.

        One read selects them; only those are locked, so a sweep costs little while many
        candidates are sitting.
        """
        running = select(Attempt).where(Attempt.state == AttemptState.in_progress)
        unstarted = (
            select(Attempt.id)
            .join(ExamWindow, ExamWindow.id == Attempt.window_id)
            .where(Attempt.state.in_(NOT_STARTED), ExamWindow.closes_at <= now)
        )
        due = [a.id for a in (await self.session.execute(running)).scalars() if timing.overdue(a, now)]
        due += list((await self.session.execute(unstarted)).scalars())
        # in id order, skipping rows a request holds: no deadlock, the next sweep takes them
        locked = [await self.get(i, skip_locked=True) for i in sorted(set(due))]
        return [a for a in locked if a is not None]

    async def record_transition(self, transition: AttemptTransition) -> None:
        self.session.add(transition)
        await self.session.flush()

    async def transitions(self, attempt_id: uuid.UUID) -> list[AttemptTransition]:
        statement = (
            select(AttemptTransition).where(AttemptTransition.attempt_id == attempt_id).order_by(AttemptTransition.at)
        )
        return list((await self.session.execute(statement)).scalars())


class ResponseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create_empty(self, attempt_id: uuid.UUID, positions: list[int]) -> None:
        self.session.add_all(Response(attempt_id=attempt_id, position=p) for p in positions)
        await self.session.flush()

    async def all(self, attempt_id: uuid.UUID) -> list[Response]:
        statement = select(Response).where(Response.attempt_id == attempt_id).order_by(Response.position)
        return list((await self.session.execute(statement.execution_options(populate_existing=True))).scalars())

    async def get(self, attempt_id: uuid.UUID, position: int) -> Response | None:
        statement = select(Response).where(Response.attempt_id == attempt_id, Response.position == position)
        return (await self.session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()

    async def save(
        self, attempt_id: uuid.UUID, position: int, revision: int, value: Any, at: datetime, seconds: int | None
    ) -> tuple[bool, int]:
        """Stores the answer if ``revision`` is newer than the stored one, with the time on the item.

        One statement when the revision is newer (every save but a retried or reordered one);
        otherwise one more, which keeps the time growing and reads the stored revision.
        Returns whether the answer was applied and the revision now stored.
        """
        keys = (Response.attempt_id == attempt_id, Response.position == position)
        values: dict[str, Any] = {"revision": revision, "value": value, "saved_at": at}
        if seconds is not None:
            values["time_spent_seconds"] = self._grown(seconds)
        statement = update(Response).where(*keys, Response.revision < revision).values(**values)
        result = await self.session.execute(statement.execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0):
            return True, revision
        if seconds is None:
            found = await self.session.execute(select(Response.revision).where(*keys))
        else:
            grow = update(Response).where(*keys).values(time_spent_seconds=self._grown(seconds))
            found = await self.session.execute(
                grow.returning(Response.revision).execution_options(synchronize_session=False)
            )
        return False, int(found.scalar_one())

    @staticmethod
    def _grown(seconds: int) -> Any:
        """Time on an item only grows: the client reports its running total."""
        return case((Response.time_spent_seconds < seconds, seconds), else_=Response.time_spent_seconds)

    async def set_flag(self, attempt_id: uuid.UUID, position: int, flagged: bool) -> None:
        statement = (
            update(Response)
            .where(Response.attempt_id == attempt_id, Response.position == position)
            .values(flagged=flagged)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)
