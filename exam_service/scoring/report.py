"""The examiner's score report of one sitting: every item with its answer and key, the grader's checks,
the event timeline, incidents, risk reasons and every decision taken on the result."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.presentation import to_authored
from exam_service.bank.rendering import render_block
from exam_service.delivery import events
from exam_service.delivery.repository import ResponseRepository
from exam_service.grading import service as grading_service
from exam_service.grading.schemas import GradingJobRead
from exam_service.identity.repository import UserRepository
from exam_service.models import Attempt, Result
from exam_service.proctoring.repository import IncidentRepository
from exam_service.scheduling import service as scheduling_service
from exam_service.scoring import inputs
from exam_service.scoring.corrections import corrected_payload
from exam_service.scoring.repository import MarkRepository, ResultRepository
from exam_service.scoring.schemas import (
    DecisionRead,
    IncidentSummary,
    ReportItem,
    ResultRead,
    ScoreReport,
    TimelineEntry,
)

TIMELINE_LIMIT = 5000


def _overrides_by_position(rows: list[Any]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for o in rows:
        found.setdefault(o.position, []).append(
            {
                "points": o.points,
                "previous_points": o.previous_points,
                "reason": o.reason,
                "examiner_id": str(o.examiner_id),
                "at": o.at.isoformat(),
            }
        )
    return found


async def score_report(session: AsyncSession, attempt: Attempt, result: Result) -> ScoreReport:
    assert attempt.form_id is not None
    candidate = await UserRepository(session).get(attempt.candidate_id)
    assert candidate is not None
    window = await scheduling_service.get_window(session, attempt.window_id)
    form = await bank_service.form_items(session, attempt.form_id)
    answers = {r.position: r for r in await ResponseRepository(session).all(attempt.id)}
    marks = MarkRepository(session)
    overrides = _overrides_by_position(await marks.overrides(attempt.id))
    corrections = inputs.corrections_by_version(await marks.corrections([v.id for _, v in form]))
    scored = {i["position"]: i for i in result.items}
    items = []
    for row, version in form:
        stored = answers.get(row.position)
        value = stored.value if stored else None
        shown = corrected_payload(version.payload, corrections.get(version.id, []))
        items.append(
            ReportItem(
                **scored[row.position],
                version=version.version,
                stem=str(version.payload.get("stem", "")),
                stem_html=render_block(str(version.payload.get("stem", ""))),
                item={k: v for k, v in shown.items() if k != "grader"},
                answer=to_authored(version.payload, row.presentation, value) if value is not None else None,
                time_spent_seconds=stored.time_spent_seconds if stored else 0,
                flagged=stored.flagged if stored else False,
                overrides=overrides.get(row.position, []),
            )
        )
    log = await events.since(session, attempt.id, 0, limit=TIMELINE_LIMIT)
    incidents = await IncidentRepository(session).of_attempt(attempt.id)
    return ScoreReport(
        result=ResultRead.model_validate(result),
        candidate=candidate.full_name,
        candidate_email=candidate.email,
        window=window.title,
        attempt_state=attempt.state.value,
        started_at=attempt.started_at,
        submitted_at=attempt.submitted_at,
        items=items,
        grading=[GradingJobRead.model_validate(j) for j in await grading_service.jobs_of(session, attempt.id)],
        timeline=[TimelineEntry(seq=e.seq, kind=e.kind, source=e.source, at=e.at, detail=e.detail) for e in log],
        incidents=[
            IncidentSummary(
                rule=i.rule,
                severity=i.severity,
                points=i.points,
                summary=i.summary,
                status=i.status.value,
                event_seq=i.event_seq,
            )
            for i in incidents
        ],
        decisions=await _decisions(session, attempt),
    )


async def _decisions(session: AsyncSession, attempt: Attempt) -> list[DecisionRead]:
    """The trail, each decision with the name of the examiner who took it."""
    rows = await ResultRepository(session).decisions(attempt.id)
    users = UserRepository(session)
    names: dict[object, str] = {}
    for actor in {d.actor_id for d in rows if d.actor_id is not None}:
        user = await users.get(actor)
        names[actor] = user.full_name if user else str(actor)
    return [DecisionRead.model_validate(d).model_copy(update={"actor_name": names.get(d.actor_id)}) for d in rows]
