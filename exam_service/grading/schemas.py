from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from exam_service.grading.engine import CheckOutcome


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
    checks: list[CheckOutcome] | None  # each check's outcome, as the engine stored it
    error: str | None
    created_at: datetime
    finished_at: datetime | None
