"""Grading's table: one job per submitted performance-task answer, the outbox and its result.

A job is written in the same transaction as the submit that asks for it, so a queue or worker
outage loses nothing: the dispatcher hands pending jobs to the queue after commit and again
after a restart. ``revision`` pins the answer graded; finishing is a conditional update, so a job
run twice stores one result.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exam_service.models.base import Base, UUIDKey


class GradingState(enum.StrEnum):
    pending = "pending"  # written with the submit, not yet handed to a queue
    queued = "queued"  # handed to the queue (or claimed by an in-process worker)
    running = "running"
    graded = "graded"
    failed = "failed"  # could not be graded automatically; an examiner grades it


class GradingJob(UUIDKey, Base):
    __tablename__ = "grading_jobs"
    __table_args__ = (UniqueConstraint("attempt_id", "position", "revision"),)

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), index=True)
    position: Mapped[int]
    item_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bank_item_versions.id"))
    revision: Mapped[int]
    state: Mapped[GradingState] = mapped_column(Enum(GradingState, native_enum=False, length=20), index=True)
    tries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]  # a running job whose lease passed is taken over
    finished_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(120))
    points: Mapped[float | None]
    max_points: Mapped[float | None]
    isolation: Mapped[str | None] = mapped_column(String(20))
    checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
