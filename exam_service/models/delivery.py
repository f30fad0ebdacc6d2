from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exam_service.models.base import Base, UUIDKey


class AttemptState(enum.StrEnum):
    registered = "registered"
    checked_in = "checked_in"
    awaiting_authorization = "awaiting_authorization"
    in_progress = "in_progress"
    paused = "paused"
    submitted = "submitted"
    terminated = "terminated"
    expired = "expired"


class Attempt(UUIDKey, Base):
    """One candidate's sitting in one window; ``state`` moves only through ``delivery.state``."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("window_id", "candidate_id"),)

    window_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exam_windows.id"))
    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    form_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("forms.id"))
    state: Mapped[AttemptState] = mapped_column(Enum(AttemptState, native_enum=False, length=30), index=True)
    created_at: Mapped[datetime]
    # the clock: deadline = started_at + time_limit + extensions + paused time
    time_limit_seconds: Mapped[int | None]
    started_at: Mapped[datetime | None]
    extension_seconds: Mapped[int] = mapped_column(default=0)
    paused_seconds: Mapped[int] = mapped_column(default=0)
    paused_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    # the browser session currently working on the attempt, to spot a second one
    client_session: Mapped[str | None] = mapped_column(String(64))
    client_seen_at: Mapped[datetime | None]
    # the sitting's event log: the last sequence number given out and the hash of that event
    event_seq: Mapped[int] = mapped_column(default=0)
    event_hash: Mapped[str] = mapped_column(String(64), default="")


class AttemptTransition(UUIDKey, Base):
    __tablename__ = "attempt_transitions"

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20))  # a role, or "system"
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class SittingEvent(UUIDKey, Base):
    """One entry of a sitting's append-only log, numbered per sitting and hash-chained.

    ``hash`` covers the entry and ``prev_hash``, so editing or removing any stored entry breaks
    every later link (``delivery.events.verify``).
    """

    __tablename__ = "sitting_events"
    __table_args__ = (
        UniqueConstraint("attempt_id", "seq"),
        UniqueConstraint("attempt_id", "client_session", "client_seq", name="uq_sitting_events_client"),
    )

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))  # candidate, proctor, examiner, admin or system
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    client_session: Mapped[str | None] = mapped_column(String(64))
    client_seq: Mapped[int | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Response(Base):
    """The latest acknowledged answer to one form position; created empty when the form is."""

    __tablename__ = "responses"

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)
    value: Mapped[Any | None] = mapped_column(JSON)
    flagged: Mapped[bool] = mapped_column(default=False)
    time_spent_seconds: Mapped[int] = mapped_column(default=0)
    saved_at: Mapped[datetime | None]
