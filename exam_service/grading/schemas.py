from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class CheckResult(BaseModel):
    id: str
    message: str
    points: float
    max_points: float
    passed: bool
    feedback: list[str]
    log: str
    duration_ms: int
    sample: bool
    limit: str | None = None
    error: str | None = None


class GradingJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    position: int
    item_version_id: uuid.UUID
    revision: int
    state: str
    tries: int
    points: float | None
    max_points: float | None
    isolation: str | None
    checks: list[CheckResult] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
