"""Results: the examiners' review queue, score reports and decisions; key corrections; the candidate's result."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from exam_service.core.database import SessionDep
from exam_service.core.deps import ClockDep
from exam_service.core.errors import Conflict
from exam_service.core.openapi import TEXT, errors, media
from exam_service.credentials.keys import CredentialSignerDep
from exam_service.delivery.auth import CandidateAttempt
from exam_service.identity.auth import ExaminerUser
from exam_service.models import Result, ResultState
from exam_service.scoring import analysis, decisions, key_corrections, report, service
from exam_service.scoring import matrix as matrix_csv
from exam_service.scoring.auth import ExaminedAttempt
from exam_service.scoring.repository import QueueFilter, ResultRepository, blueprints_with_results
from exam_service.scoring.schemas import (
    AnalysedBlueprint,
    CandidateResult,
    CorrectionRead,
    CorrectionRequest,
    DecisionRequest,
    ItemAnalysis,
    OverrideRequest,
    QueueRow,
    ReleaseRequest,
    ReleaseSummary,
    ResultRead,
    ScoreReport,
    WindowRelease,
)

router = APIRouter(prefix="/api/v1", tags=["results"])
CSV = media("A spreadsheet (CSV, UTF-8), sent as an attachment.", {"text/csv": TEXT})


@router.get("/results", response_model=list[QueueRow])
async def review_queue(
    session: SessionDep,
    _examiner: ExaminerUser,
    window_id: uuid.UUID | None = None,
    tier: Annotated[str | None, Query(pattern="^(foundation|professional|advanced)$")] = None,
    state: ResultState | None = None,
    min_risk: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    change_pending: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[QueueRow]:
    """Results to review, riskiest first; filter by window, tier, state, risk, or changes awaiting confirmation."""
    where = QueueFilter(window_id, tier, state, min_risk, change_pending, limit, offset)
    return [
        QueueRow(
            attempt_id=r.attempt_id,
            candidate=user.full_name,
            candidate_email=user.email,
            window_id=window.id,
            window=window.title,
            tier=r.tier,
            state=r.state,
            passed=r.passed,
            percent=r.percent,
            scaled_score=r.scaled_score,
            risk_score=r.risk_score,
            pending=len(r.pending),
            change_pending=r.change_pending,
            invalidation_requested=r.invalidation_requested_by is not None,
            scored_at=r.scored_at,
        )
        for r, user, window in await ResultRepository(session).queue(where)
    ]


@router.get("/results/{attempt_id}", response_model=ScoreReport)
async def score_report(session: SessionDep, attempt: ExaminedAttempt) -> ScoreReport:
    """The whole record of a sitting: items with answers and keys, grader checks, timeline, incidents, decisions."""
    result = await service.get_result(session, attempt.id)
    return await report.score_report(session, attempt, result)


@router.post("/results/{attempt_id}/score", response_model=ResultRead, responses=errors(409))
async def rescore(session: SessionDep, attempt: ExaminedAttempt, clock: ClockDep) -> Result:
    result = await service.score(session, attempt, clock)
    if result is None:
        raise Conflict(f"a sitting that is {attempt.state.value} is not scored", state=attempt.state.value)
    return result


@router.post("/results/{attempt_id}/items/{position}/override", response_model=ResultRead, responses=errors(409))
async def override_item(
    session: SessionDep,
    attempt: ExaminedAttempt,
    examiner: ExaminerUser,
    position: Annotated[int, Path(ge=1, le=1000)],
    data: OverrideRequest,
    clock: ClockDep,
) -> Result:
    """Sets one item's points, with the reason; the trail keeps every mark and who gave it."""
    return await decisions.override(session, attempt, examiner, position, data.points, data.reason, clock)


@router.post("/results/{attempt_id}/release", response_model=ResultRead, responses=errors(409))
async def release(
    session: SessionDep,
    attempt: ExaminedAttempt,
    examiner: ExaminerUser,
    data: ReleaseRequest,
    signer: CredentialSignerDep,
    clock: ClockDep,
) -> Result:
    """Shows the candidate their result; a pass issues the tier's credential. A withheld result needs a reason."""
    return await decisions.release(session, attempt, examiner, data.reason, signer, clock)


@router.post("/results/release", response_model=ReleaseSummary)
async def release_window(
    session: SessionDep, examiner: ExaminerUser, data: WindowRelease, signer: CredentialSignerDep, clock: ClockDep
) -> ReleaseSummary:
    """Releases every result of a window that is complete and clean; withheld and provisional ones stay."""
    released = await decisions.release_window(session, data.window_id, examiner, signer, clock)
    return ReleaseSummary(released=len(released), attempt_ids=[r.attempt_id for r in released])


@router.post("/results/{attempt_id}/confirm-change", response_model=ResultRead, responses=errors(409))
async def confirm_change(
    session: SessionDep,
    attempt: ExaminedAttempt,
    examiner: ExaminerUser,
    data: DecisionRequest,
    signer: CredentialSignerDep,
    clock: ClockDep,
) -> Result:
    return await decisions.confirm_change(session, attempt, examiner, data.reason, signer, clock)


@router.post("/results/{attempt_id}/invalidation", response_model=ResultRead, responses=errors(409))
async def request_invalidation(
    session: SessionDep, attempt: ExaminedAttempt, examiner: ExaminerUser, data: DecisionRequest, clock: ClockDep
) -> Result:
    """The first examiner's request; the result is invalidated only when a second examiner agrees."""
    return await decisions.request_invalidation(session, attempt, examiner, data.reason, clock)


@router.post("/results/{attempt_id}/invalidation/confirm", response_model=ResultRead, responses=errors(409))
async def confirm_invalidation(
    session: SessionDep, attempt: ExaminedAttempt, examiner: ExaminerUser, data: DecisionRequest, clock: ClockDep
) -> Result:
    return await decisions.confirm_invalidation(session, attempt, examiner, data.reason, clock)


@router.post("/results/{attempt_id}/invalidation/withdraw", response_model=ResultRead, responses=errors(409))
async def withdraw_invalidation(
    session: SessionDep, attempt: ExaminedAttempt, examiner: ExaminerUser, data: DecisionRequest, clock: ClockDep
) -> Result:
    return await decisions.withdraw_invalidation(session, attempt, examiner, data.reason, clock)


@router.post("/bank/versions/{version_id}/corrections", response_model=CorrectionRead, status_code=202)
async def correct_key(
    session: SessionDep, examiner: ExaminerUser, version_id: uuid.UUID, data: CorrectionRequest, clock: ClockDep
) -> CorrectionRead:
    """Corrects the version's key or accepts one more answer. Every ended sitting holding the version is
    rescored in the background; the correction's ``report`` (``GET /api/v1/corrections/{id}``) names those
    whose score or outcome changed once ``state`` is ``done``."""
    row = await key_corrections.correct_key(session, version_id, data.kind, data.value, data.reason, examiner, clock)
    return CorrectionRead.model_validate(row)


@router.get("/corrections/{correction_id}", response_model=CorrectionRead)
async def correction(session: SessionDep, _examiner: ExaminerUser, correction_id: uuid.UUID) -> CorrectionRead:
    return CorrectionRead.model_validate(await key_corrections.get(session, correction_id))


@router.get("/bank/versions/{version_id}/corrections", response_model=list[CorrectionRead])
async def corrections(session: SessionDep, _examiner: ExaminerUser, version_id: uuid.UUID) -> list[CorrectionRead]:
    return [CorrectionRead.model_validate(r) for r in await key_corrections.corrections_of(session, version_id)]


PENDING = "Your result is not released yet. It is being finalised; you will see it here once it is."


@router.get("/attempts/{attempt_id}/result", response_model=CandidateResult)
async def candidate_result(session: SessionDep, attempt: CandidateAttempt) -> CandidateResult:
    """The candidate's own result: only what an examiner released, never items, keys or review notes."""
    result = await ResultRepository(session).get(attempt.id)
    if result is None or (result.released_view is None and result.state is not ResultState.invalidated):
        return CandidateResult(status="pending", message=PENDING)
    if result.state is ResultState.invalidated:
        return CandidateResult(status="invalidated", message="This result was invalidated after an integrity review.")
    view = result.released_view or {}
    return CandidateResult(
        status="released",
        message="Passed." if view.get("passed") else "Not passed.",
        passed=view.get("passed"),
        scaled_score=view.get("scaled_score"),
        percent=view.get("percent"),
        sections=view.get("sections", []),
        released_at=result.released_at,
    )


@router.get("/analysis", response_model=list[AnalysedBlueprint])
async def analysed_blueprints(session: SessionDep, _examiner: ExaminerUser) -> list[AnalysedBlueprint]:
    """Blueprint versions with scored sittings, for choosing what to analyse."""
    return [
        AnalysedBlueprint(blueprint_version_id=i, key=k, version=v, tier=t, sittings=n)
        for i, k, v, t, n in await blueprints_with_results(session)
    ]


@router.get("/analysis/{blueprint_version_id}", response_model=ItemAnalysis)
async def item_analysis(
    session: SessionDep,
    _examiner: ExaminerUser,
    blueprint_version_id: uuid.UUID,
    bins: Annotated[int, Query(ge=2, le=50)] = 10,
) -> dict[str, Any]:
    """Per item version: responses, difficulty, discrimination, option choice rates and flags; per blueprint:
    the score distribution, pass rate, reliability and standard error of measurement."""
    return await analysis.analyse(session, blueprint_version_id, bins)


@router.get("/analysis/{blueprint_version_id}/responses.csv", response_class=Response, responses=CSV)
async def response_matrix(session: SessionDep, _examiner: ExaminerUser, blueprint_version_id: uuid.UUID) -> Response:
    """The response matrix as ``exam-service stats items`` reads it (one row per sitting, one column per item)."""
    matrix, _, _ = await analysis.matrix_of(session, blueprint_version_id)
    return _csv(matrix_csv.write_matrix(matrix), f"responses-{blueprint_version_id}.csv")


@router.get("/analysis/{blueprint_version_id}/items.csv", response_class=Response, responses=CSV)
async def item_table(session: SessionDep, _examiner: ExaminerUser, blueprint_version_id: uuid.UUID) -> Response:
    """The item statistics as a spreadsheet."""
    document = await analysis.analyse(session, blueprint_version_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["item", "version", "type", "responses", "p_value", "discrimination", "flags"])
    for row in document["items"]:
        writer.writerow(
            [
                row["item_id"],
                row["version"],
                row["type"],
                row["responses"],
                row["p_value"],
                row["discrimination"],
                " ".join(row["flags"]),
            ]
        )
    return _csv(out.getvalue(), f"items-{blueprint_version_id}.csv")


def _csv(text: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
