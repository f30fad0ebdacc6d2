"""Scoring's tables: one result per sitting, examiners' item marks, key corrections, decisions.

A result is derived data: ``scoring.service.score`` recomputes it from the stored answers, the
pinned item versions, the grader's results, the examiners' marks and the key corrections, so
rescoring from the same inputs reproduces it exactly. What the candidate sees is
``released_view``, a copy taken when an examiner releases; a later change waits there until an
examiner confirms it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exam_service.models.base import Base, UUIDKey


class ResultState(enum.StrEnum):
    provisional = "provisional"  # grading or an examiner's mark is still pending
    withheld = "withheld"  # integrity review: risk past the window's threshold, an irregularity, a termination
    ready = "ready"  # complete and clean, waiting for an examiner's release
    released = "released"
    invalidated = "invalidated"


class Result(Base):
    __tablename__ = "results"

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), primary_key=True)
    window_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exam_windows.id"), index=True)
    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    blueprint_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("blueprint_versions.id"), index=True)
    tier: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[ResultState] = mapped_column(Enum(ResultState, native_enum=False, length=20), index=True)
    # the computed score: complete once nothing is pending
    complete: Mapped[bool]
    passed: Mapped[bool | None]
    points: Mapped[float]
    max_points: Mapped[float]
    percent: Mapped[float]
    scaled_score: Mapped[int | None]
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pending: Mapped[list[str]] = mapped_column(JSON)
    # integrity at the last scoring: risk score and whether it sends the result to review
    risk_score: Mapped[int]
    review_reasons: Mapped[list[str]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(default=1)  # counts the scorings that changed the result
    scored_at: Mapped[datetime]
    # what the candidate sees, copied at release (and at a confirmed change)
    released_view: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    released_at: Mapped[datetime | None]
    change_pending: Mapped[bool] = mapped_column(default=False)  # released, then rescored differently
    # invalidation needs two examiners: the first requests, a second agrees
    invalidation_reason: Mapped[str | None] = mapped_column(Text)
    invalidation_requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    invalidation_requested_at: Mapped[datetime | None]


class ResultDecision(UUIDKey, Base):
    """The audit trail of a result: every examiner decision and every automatic change of state."""

    __tablename__ = "result_decisions"

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("results.attempt_id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime]


class ScoreOverride(UUIDKey, Base):
    """An examiner's points for one item of one sitting; the latest row for a position counts."""

    __tablename__ = "score_overrides"

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), index=True)
    position: Mapped[int]
    points: Mapped[float]
    previous_points: Mapped[float | None]
    reason: Mapped[str] = mapped_column(Text)
    examiner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]


class KeyCorrection(UUIDKey, Base):
    """A corrected key, or an additional accepted answer, for one item version; rescoring applies it.

    The sittings it touches are rescored in the background (``RescoreRequest``), each in its own
    transaction; once all are (``state`` done), ``report`` names those whose score or outcome
    changed, before and after.
    """

    __tablename__ = "key_corrections"

    item_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bank_item_versions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "replace_key" or "accept_answer"
    value: Mapped[Any] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    examiner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), index=True)  # "rescoring" or "done"
    affected: Mapped[int]  # ended sittings whose form holds the version
    done_at: Mapped[datetime | None]
    report: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class RescoreRequest(Base):
    """A sitting to rescore for a key correction, with its result before: the outbox the scorer works off."""

    __tablename__ = "rescore_requests"

    correction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("key_corrections.id"), primary_key=True)
    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), primary_key=True, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    done: Mapped[bool] = mapped_column(default=False, index=True)
