from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.models import GradingJob, GradingState, Response

FINISHED = (GradingState.graded, GradingState.failed)


class GradingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, job: GradingJob) -> GradingJob:
        self.session.add(job)
        await self.session.flush()
        return job

    async def existing(self, attempt_id: uuid.UUID) -> dict[tuple[int, int], GradingJob]:
        statement = select(GradingJob).where(GradingJob.attempt_id == attempt_id)
        return {(j.position, j.revision): j for j in (await self.session.execute(statement)).scalars()}

    async def lock(self, job_id: uuid.UUID) -> GradingJob | None:
        statement = select(GradingJob).where(GradingJob.id == job_id).with_for_update()
        return (await self.session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()

    async def of_attempt(self, attempt_id: uuid.UUID) -> list[GradingJob]:
        statement = select(GradingJob).where(GradingJob.attempt_id == attempt_id).order_by(GradingJob.position)
        return list((await self.session.execute(statement)).scalars())

    async def due(self, now: datetime, stale_before: datetime, limit: int) -> list[GradingJob]:
        """Jobs to hand over: pending ones, queued ones nobody finished in time, running ones whose lease passed."""
        statement = (
            select(GradingJob)
            .where(
                or_(
                    GradingJob.state == GradingState.pending,
                    (GradingJob.state == GradingState.queued) & (GradingJob.queued_at < stale_before),
                    (GradingJob.state == GradingState.running) & (GradingJob.lease_until < now),
                )
            )
            .order_by(GradingJob.created_at)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())

    async def finish(self, job_id: uuid.UUID, values: dict[str, Any]) -> bool:
        """Stores the outcome unless a result is already stored: a job run twice keeps one result."""
        statement = (
            update(GradingJob)
            .where(GradingJob.id == job_id, GradingJob.state.not_in(FINISHED))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_queued(self, job_ids: list[uuid.UUID], now: datetime) -> None:
        """Handed to the queue: waiting jobs become queued; a running one keeps its state (its lease decides)."""
        for states, values in (
            ((GradingState.pending, GradingState.queued), {"state": GradingState.queued, "queued_at": now}),
            ((GradingState.running,), {"queued_at": now}),
        ):
            statement = (
                update(GradingJob)
                .where(GradingJob.id.in_(job_ids), GradingJob.state.in_(states))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            await self.session.execute(statement)

    async def renew(self, job_id: uuid.UUID, worker: str, lease_until: datetime) -> bool:
        statement = (
            update(GradingJob)
            .where(GradingJob.id == job_id, GradingJob.worker == worker, GradingJob.state == GradingState.running)
            .values(lease_until=lease_until)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]


async def answer_at(session: AsyncSession, attempt_id: uuid.UUID, position: int) -> tuple[int, Any] | None:
    """The stored answer (revision, value) at one form position."""
    statement = select(Response.revision, Response.value).where(
        Response.attempt_id == attempt_id, Response.position == position
    )
    row = (await session.execute(statement)).one_or_none()
    return (int(row[0]), row[1]) if row else None
