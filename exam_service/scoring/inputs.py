"""Gathers what decides a sitting's score from the other domains, in the item's authored ids.

Scoring reads delivery's answers, bank's pinned versions, grading's results and proctoring's
integrity standing; it owns only the examiners' marks and key corrections.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import Blueprint
from exam_service.bank.presentation import to_authored
from exam_service.bank.repository import BlueprintRepository
from exam_service.core.clock import Clock
from exam_service.delivery.repository import AttemptRepository, ResponseRepository
from exam_service.grading import service as grading_service
from exam_service.models import Attempt, AttemptState, ExamWindow, GradingJob, KeyCorrection
from exam_service.proctoring import integrity
from exam_service.scheduling import service as scheduling_service
from exam_service.scoring.corrections import Correction, CorrectionKind
from exam_service.scoring.engine import Entry, GraderResult
from exam_service.scoring.repository import MarkRepository


@dataclass(frozen=True)
class Facts:
    window: ExamWindow
    blueprint: Blueprint
    entries: list[Entry]
    risk_score: int
    review_reasons: list[str]
    correction_ids: set[uuid.UUID]  # the key corrections applied


def _latest_jobs(jobs: list[GradingJob]) -> dict[int, GradingJob]:
    latest: dict[int, GradingJob] = {}
    for job in sorted(jobs, key=lambda j: (j.position, j.revision, j.created_at)):
        latest[job.position] = job
    return latest


def _grader(job: GradingJob | None) -> GraderResult | None:
    if job is None:
        return None
    return GraderResult(job.state.value, job.points, job.max_points, needs_examiner=job.error is not None)


def corrections_by_version(rows: list[KeyCorrection]) -> dict[uuid.UUID, list[Correction]]:
    found: dict[uuid.UUID, list[Correction]] = {}
    for row in rows:
        kind: CorrectionKind = "replace_key" if row.kind == "replace_key" else "accept_answer"
        found.setdefault(row.item_version_id, []).append(Correction(kind, row.value))
    return found


async def gather(session: AsyncSession, attempt: Attempt, clock: Clock) -> Facts:
    assert attempt.form_id is not None
    window = await scheduling_service.get_window(session, attempt.window_id)
    row = await BlueprintRepository(session).get(window.blueprint_version_id)
    assert row is not None
    form = await bank_service.form_items(session, attempt.form_id)
    answers = {r.position: r for r in await ResponseRepository(session).all(attempt.id)}
    jobs = _latest_jobs(await grading_service.jobs_of(session, attempt.id))
    marks = MarkRepository(session)
    overrides = {o.position: o.points for o in await marks.overrides(attempt.id)}
    correction_rows = await marks.corrections([version.id for _, version in form])
    corrections = corrections_by_version(correction_rows)
    entries = []
    for item, version in form:
        stored = answers.get(item.position)
        value = stored.value if stored else None
        response = to_authored(version.payload, item.presentation, value) if value is not None else None
        entries.append(
            Entry(
                position=item.position,
                section=item.section,
                item_id=version.item_id,
                version_id=str(version.id),
                payload=version.payload,
                response=response,
                grading=_grader(jobs.get(item.position)),
                override=overrides.get(item.position),
                corrections=corrections.get(version.id, []),
            )
        )
    standing = await integrity.current(session, attempt, window, clock)
    reasons = []
    if standing.risk_score >= window.risk_threshold:
        reasons.append(f"risk score {standing.risk_score} reaches the window's threshold of {window.risk_threshold}")
    if any(r.get("rule") == "irregularity" for r in standing.reasons):
        reasons.append("a proctor reported an irregularity")
    if standing.review_required and not reasons:
        reasons.append("the proctoring record needs an integrity review")
    if attempt.state is AttemptState.terminated:
        ended = [t for t in await AttemptRepository(session).transitions(attempt.id) if t.to_state == "terminated"]
        why = ended[-1].reason if ended else "no reason recorded"
        reasons.append(f"the sitting was terminated by a proctor: {why}")
    applied = {c.id for c in correction_rows}
    return Facts(window, bank_service.blueprint_of(row), entries, standing.risk_score, reasons, applied)
