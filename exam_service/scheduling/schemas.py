from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from exam_service.bank.authoring import Tier

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _plausible(moment: datetime) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise ValueError("must be between 2000-01-01 and 2099-12-31")
    return moment


WindowTime = Annotated[
    AwareDatetime,
    AfterValidator(_plausible),
    Field(description="with a time zone, between 2000-01-01 and 2099-12-31"),
]


class WindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=3, max_length=200)]
    blueprint: Annotated[str, Field(min_length=3, max_length=40, description="blueprint key, e.g. mlocp-foundation")]
    blueprint_version: Annotated[int | None, Field(ge=1, le=1_000_000, description="default: the latest version")] = (
        None
    )
    opens_at: WindowTime
    closes_at: Annotated[WindowTime, Field(description="after opens_at, with a time zone, before 2100")]
    proctored: bool = True
    capacity: Annotated[int | None, Field(ge=1, le=100_000)] = None
    risk_threshold: Annotated[
        int, Field(ge=1, le=100, description="risk score (0-100) from which a sitting goes to integrity review")
    ] = 50
    pause_on_disconnect: Annotated[bool, Field(description="stop the clock while a candidate is disconnected")] = False
    webcam_interval_seconds: Annotated[
        int | None, Field(ge=10, le=3600, description="webcam snapshot every N seconds; null: no webcam")
    ] = None

    @field_validator("closes_at")
    @classmethod
    def _after_opening(cls, closes_at: datetime, info: ValidationInfo) -> datetime:
        opens_at = info.data.get("opens_at")
        if opens_at is not None and closes_at <= opens_at:
            raise ValueError("must be after opens_at")
        return closes_at


class WindowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    tier: str
    blueprint_version_id: uuid.UUID
    opens_at: datetime
    closes_at: datetime
    proctored: bool
    capacity: int | None
    risk_threshold: int
    pause_on_disconnect: bool
    webcam_interval_seconds: int | None


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proctor_id: uuid.UUID


class ProctorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str


class WaiverCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidate_id: uuid.UUID
    tier: Tier
    reason: Annotated[str, Field(min_length=10, max_length=2000)]


class WaiverRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    candidate_id: uuid.UUID
    tier: str
    reason: str
    granted_by: uuid.UUID
    granted_at: datetime
