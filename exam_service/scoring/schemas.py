from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from exam_service.core.text import Reason
from exam_service.grading.schemas import GradingJobRead
from exam_service.models import ResultState


class SectionScore(BaseModel):
    id: str
    points: float
    max_points: float
    percent: float
    weight: float
    minimum_percent: float
    met: bool


class ItemScore(BaseModel):
    position: int
    item_id: str
    version_id: uuid.UUID
    section: str
    domain: str | None
    type: str
    awarded: float
    maximum: float
    source: str  # key, correction, grader, examiner or pending
    pending: bool


class ResultRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt_id: uuid.UUID
    window_id: uuid.UUID
    candidate_id: uuid.UUID
    tier: str
    state: ResultState
    complete: bool
    passed: bool | None
    points: float
    max_points: float
    percent: float
    scaled_score: int | None
    sections: list[SectionScore]
    pending: list[str]
    risk_score: int
    review_reasons: list[str]
    revision: int
    scored_at: datetime
    released_at: datetime | None
    change_pending: bool
    invalidation_reason: str | None
    invalidation_requested_by: uuid.UUID | None


class QueueRow(BaseModel):
    attempt_id: uuid.UUID
    candidate: str
    candidate_email: str
    window_id: uuid.UUID
    window: str
    tier: str
    state: ResultState
    passed: bool | None
    percent: float
    scaled_score: int | None
    risk_score: int
    pending: int
    change_pending: bool
    invalidation_requested: bool
    scored_at: datetime


class DecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_state: str
    to_state: str
    actor_id: uuid.UUID | None
    actor_name: str | None = None  # None: the system
    reason: str
    detail: dict[str, Any]
    at: datetime


class ReportItem(ItemScore):
    version: int
    stem: str
    stem_html: str  # rendered as the candidate saw it
    item: dict[str, Any]  # the version as scored (key corrections applied), without its grader
    answer: Any  # the candidate's answer in the item's authored ids
    time_spent_seconds: int
    flagged: bool
    overrides: list[dict[str, Any]]


class TimelineEntry(BaseModel):
    seq: int
    kind: str
    source: str
    at: datetime
    detail: dict[str, Any]


class IncidentSummary(BaseModel):
    rule: str
    severity: str
    points: int
    summary: str
    status: str
    event_seq: int


class ScoreReport(BaseModel):
    result: ResultRead
    candidate: str
    candidate_email: str
    window: str
    attempt_state: str
    started_at: datetime | None
    submitted_at: datetime | None
    items: list[ReportItem]
    grading: list[GradingJobRead]
    timeline: list[TimelineEntry]
    incidents: list[IncidentSummary]
    decisions: list[DecisionRead]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OverrideRequest(_Request):
    points: float = Field(ge=0, le=100, strict=True, allow_inf_nan=False)
    reason: Reason


class DecisionRequest(_Request):
    reason: Reason


class ReleaseRequest(_Request):
    reason: Reason | None = None


class WindowRelease(_Request):
    window_id: uuid.UUID


class ReleaseSummary(BaseModel):
    released: int
    attempt_ids: list[uuid.UUID]


class CorrectionRequest(_Request):
    kind: Literal["replace_key", "accept_answer"]
    value: Any
    reason: Reason


class CorrectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    item_version_id: uuid.UUID
    kind: str
    value: Any
    reason: str
    examiner_id: uuid.UUID
    at: datetime
    state: Literal["rescoring", "done"]
    affected: int  # ended sittings whose form holds the version
    done_at: datetime | None
    report: list[dict[str, Any]]  # once done: each sitting whose score, outcome or state changed


class CandidateResult(BaseModel):
    """What a candidate sees: nothing but a status until an examiner releases the result."""

    status: Literal["pending", "released", "invalidated"]
    message: str
    passed: bool | None = None
    scaled_score: int | None = None
    percent: float | None = None
    sections: list[dict[str, Any]] = []
    released_at: datetime | None = None


class AnalysedBlueprint(BaseModel):
    blueprint_version_id: uuid.UUID
    key: str
    version: int
    tier: str
    sittings: int


class ItemAnalysisRow(BaseModel):
    name: str
    item_id: str
    version: int
    version_id: uuid.UUID
    type: str
    maximum: float
    responses: int
    mean: float
    p_value: float | None
    discrimination: float | None
    flags: list[str]
    option_rates: dict[str, float] | None
    unused_distractors: list[str] = []
    key: list[str] = []  # choice items: the keyed option ids, as authored


class TestAnalysis(BaseModel):
    candidates: int
    items: int
    mean: float
    sd: float
    reliability: float | None
    method: str
    sem: float | None
    pass_rate: float | None
    histogram: list[tuple[float, float, int]]


class ItemAnalysis(BaseModel):
    items: list[ItemAnalysisRow]
    test: TestAnalysis
