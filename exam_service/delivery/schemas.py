from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from exam_service.models import AttemptState


class AttemptStatus(BaseModel):
    """Every candidate response carries the server's remaining seconds."""

    id: uuid.UUID
    window_id: uuid.UUID
    state: AttemptState
    remaining_seconds: int | None
    deadline: datetime | None
    started_at: datetime | None
    submitted_at: datetime | None
    warnings: list[str] = []


class AttemptSummary(AttemptStatus):
    title: str
    tier: str
    opens_at: datetime
    closes_at: datetime
    proctored: bool
    webcam_interval_seconds: int | None


class FormEntry(BaseModel):
    position: int
    section: str
    item: dict[str, Any]
    answer: Any
    revision: int
    flagged: bool


class FormRead(BaseModel):
    attempt: AttemptStatus
    items: list[FormEntry]


class SaveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: Annotated[int, Field(ge=1, le=2**31 - 1, description="client revision; higher wins")]
    value: Any = Field(description="the answer in the shown labels; null clears it")
    time_spent_seconds: Annotated[int | None, Field(ge=0, le=24 * 3600)] = None


class SaveResult(BaseModel):
    position: int
    applied: bool
    stored_revision: int
    remaining_seconds: int | None
    warnings: list[str] = []


class FlagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flagged: bool


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept_rules: Literal[True] = Field(description="the candidate has read the briefing and accepts the exam rules")


class BriefingSection(BaseModel):
    id: str
    title: str
    items: int
    minutes: int | None = Field(description="the working time the section's tasks are written for")


class BriefingRead(BaseModel):
    """What the candidate is told before the clock starts."""

    attempt: AttemptStatus
    title: str
    tier: str
    opens_at: datetime
    closes_at: datetime
    proctored: bool
    webcam_interval_seconds: int | None
    time_limit_minutes: int = Field(description="the blueprint's time limit")
    your_time_limit_minutes: int = Field(description="the time limit with this candidate's accommodations")
    accommodations: list[str]
    sections: list[BriefingSection]
    total_items: int
    rules: list[str]
    recorded: list[str] = Field(description="what the sitting records about the candidate")
    rules_accepted_at: datetime | None


class ReceiptRead(BaseModel):
    """Proof of submission: the reference matches the sitting's log entry that recorded it."""

    attempt_id: uuid.UUID
    reference: str
    title: str
    tier: str
    submitted_at: datetime
    submitted_by: str
    answered: int
    total: int
    next_steps: list[str]


class SubmitResult(BaseModel):
    attempt: AttemptStatus
    unanswered: int
    receipt: ReceiptRead


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidate_id: uuid.UUID


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=3, max_length=2000)]


class Extension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: Annotated[int, Field(ge=1, le=240)]
    reason: Annotated[str, Field(min_length=3, max_length=2000)]


class TransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: str
    to_state: str
    actor_id: uuid.UUID | None
    actor_role: str
    reason: str
    at: datetime


class EventRead(BaseModel):
    """One entry of the sitting's log."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    kind: str
    source: str
    actor_id: uuid.UUID | None
    detail: dict[str, Any]
    at: datetime
    hash: str


class ItemTiming(BaseModel):
    position: int
    time_spent_seconds: int
    answered: bool
    flagged: bool
    revision: int
