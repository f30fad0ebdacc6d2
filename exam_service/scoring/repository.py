"""Every query scoring makes; examiners' lists are built from the filters they give."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.models import (
    Attempt,
    AttemptState,
    BlueprintVersion,
    ExamWindow,
    FormItem,
    GradingJob,
    KeyCorrection,
    RescoreRequest,
    Result,
    ResultDecision,
    ResultState,
    ScoreOverride,
    SittingIntegrity,
    User,
)

SCORABLE = (AttemptState.submitted, AttemptState.terminated)


@dataclass(frozen=True)
class QueueFilter:
    window_id: uuid.UUID | None = None
    tier: str | None = None
    state: ResultState | None = None
    min_risk: int | None = None
    change_pending: bool | None = None
    limit: int = 100
    offset: int = 0


class ResultRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, attempt_id: uuid.UUID) -> Result | None:
        return await self.session.get(Result, attempt_id, populate_existing=True)

    async def add(self, result: Result) -> Result:
        self.session.add(result)
        await self.session.flush()
        return result

    async def record(self, decision: ResultDecision) -> None:
        self.session.add(decision)
        await self.session.flush()

    async def decisions(self, attempt_id: uuid.UUID) -> list[ResultDecision]:
        statement = select(ResultDecision).where(ResultDecision.attempt_id == attempt_id).order_by(ResultDecision.at)
        return list((await self.session.execute(statement)).scalars())

    async def queue(self, where: QueueFilter) -> list[tuple[Result, User, ExamWindow]]:
        statement = (
            select(Result, User, ExamWindow)
            .join(User, User.id == Result.candidate_id)
            .join(ExamWindow, ExamWindow.id == Result.window_id)
        )
        if where.window_id is not None:
            statement = statement.where(Result.window_id == where.window_id)
        if where.tier is not None:
            statement = statement.where(Result.tier == where.tier)
        if where.state is not None:
            statement = statement.where(Result.state == where.state)
        if where.min_risk is not None:
            statement = statement.where(Result.risk_score >= where.min_risk)
        if where.change_pending is not None:
            statement = statement.where(Result.change_pending.is_(where.change_pending))
        statement = statement.order_by(Result.risk_score.desc(), Result.scored_at, Result.attempt_id)
        rows = await self.session.execute(statement.limit(where.limit).offset(where.offset))
        return [(r[0], r[1], r[2]) for r in rows.all()]

    async def of_blueprint(self, blueprint_version_id: uuid.UUID, states: tuple[ResultState, ...]) -> list[Result]:
        statement = (
            select(Result)
            .where(Result.blueprint_version_id == blueprint_version_id, Result.state.in_(states))
            .order_by(Result.attempt_id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def of_window(self, window_id: uuid.UUID, state: ResultState) -> list[Result]:
        statement = select(Result).where(Result.window_id == window_id, Result.state == state)
        return list((await self.session.execute(statement.order_by(Result.attempt_id))).scalars())

    async def due(self, limit: int) -> list[uuid.UUID]:
        """Sittings to score: ended without a result, or open with grading finished or the integrity
        standing changed since (an incident reported or dismissed after the sitting ended)."""
        unscored = (
            select(Attempt.id)
            .outerjoin(Result, Result.attempt_id == Attempt.id)
            .where(Attempt.state.in_(SCORABLE), Attempt.form_id.is_not(None), Result.attempt_id.is_(None))
            .limit(limit)
        )
        regraded = (
            select(Result.attempt_id)
            .join(GradingJob, GradingJob.attempt_id == Result.attempt_id)
            .where(
                Result.state.in_((ResultState.provisional, ResultState.withheld, ResultState.ready)),
                GradingJob.finished_at.is_not(None),
                GradingJob.finished_at > Result.scored_at,
            )
            .distinct()
            .limit(limit)
        )
        reviewed = (
            select(Result.attempt_id)
            .join(SittingIntegrity, SittingIntegrity.attempt_id == Result.attempt_id)
            .where(
                Result.state.in_((ResultState.provisional, ResultState.withheld, ResultState.ready)),
                SittingIntegrity.updated_at > Result.scored_at,
            )
            .limit(limit)
        )
        corrected = select(RescoreRequest.attempt_id).where(RescoreRequest.done.is_(False)).distinct().limit(limit)
        found: list[uuid.UUID] = []
        for statement in (unscored, regraded, reviewed, corrected):
            found += [i for i in (await self.session.execute(statement)).scalars() if i not in found]
        return found

    async def many(self, attempt_ids: list[uuid.UUID]) -> list[Result]:
        if not attempt_ids:
            return []
        statement = select(Result).where(Result.attempt_id.in_(attempt_ids))
        return list((await self.session.execute(statement.execution_options(populate_existing=True))).scalars())

    async def attempts_with_version(self, version_id: uuid.UUID) -> list[uuid.UUID]:
        """Ended sittings whose form holds the item version (scored or not yet)."""
        statement = (
            select(Attempt.id)
            .join(FormItem, FormItem.form_id == Attempt.form_id)
            .where(FormItem.item_version_id == version_id, Attempt.state.in_(SCORABLE))
            .order_by(Attempt.id)
        )
        return list((await self.session.execute(statement)).scalars())


class MarkRepository:
    """Examiners' marks per item and key corrections per item version."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: ScoreOverride | KeyCorrection) -> None:
        self.session.add(row)
        await self.session.flush()

    async def overrides(self, attempt_id: uuid.UUID) -> list[ScoreOverride]:
        statement = select(ScoreOverride).where(ScoreOverride.attempt_id == attempt_id).order_by(ScoreOverride.at)
        return list((await self.session.execute(statement)).scalars())

    async def correction(self, correction_id: uuid.UUID) -> KeyCorrection | None:
        return await self.session.get(KeyCorrection, correction_id, populate_existing=True)

    async def corrections_rescoring(self) -> list[KeyCorrection]:
        statement = select(KeyCorrection).where(KeyCorrection.state == "rescoring").order_by(KeyCorrection.at)
        return list((await self.session.execute(statement)).scalars())

    async def request_rescores(self, requests: list[RescoreRequest]) -> None:
        self.session.add_all(requests)
        await self.session.flush()

    async def rescore_requests(self, correction_id: uuid.UUID) -> list[RescoreRequest]:
        statement = select(RescoreRequest).where(RescoreRequest.correction_id == correction_id)
        return list((await self.session.execute(statement.order_by(RescoreRequest.attempt_id))).scalars())

    async def rescored(self, attempt_id: uuid.UUID, correction_ids: set[uuid.UUID]) -> None:
        """The sitting was scored with these corrections applied: their requests for it are done."""
        if not correction_ids:
            return
        statement = (
            update(RescoreRequest)
            .where(RescoreRequest.attempt_id == attempt_id, RescoreRequest.correction_id.in_(correction_ids))
            .values(done=True)
        )
        await self.session.execute(statement)

    async def forget_rescores(self, correction_id: uuid.UUID) -> None:
        await self.session.execute(delete(RescoreRequest).where(RescoreRequest.correction_id == correction_id))

    async def corrections(self, version_ids: list[uuid.UUID]) -> list[KeyCorrection]:
        statement = (
            select(KeyCorrection)
            .where(KeyCorrection.item_version_id.in_(version_ids))
            .order_by(KeyCorrection.at, KeyCorrection.id)
        )
        return list((await self.session.execute(statement)).scalars())


async def blueprints_with_results(session: AsyncSession) -> list[tuple[uuid.UUID, str, int, str, int]]:
    """(blueprint version id, key, version, tier, sittings counted) for every blueprint version with results."""
    statement = (
        select(BlueprintVersion.id, BlueprintVersion.key, BlueprintVersion.version, BlueprintVersion.tier, func.count())
        .join(Result, Result.blueprint_version_id == BlueprintVersion.id)
        .where(Result.state.in_((ResultState.ready, ResultState.withheld, ResultState.released)))
        .group_by(BlueprintVersion.id, BlueprintVersion.key, BlueprintVersion.version, BlueprintVersion.tier)
        .order_by(BlueprintVersion.key, BlueprintVersion.version)
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in (await session.execute(statement)).all()]
