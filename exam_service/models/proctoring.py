"""Proctoring's tables: channel tickets, incidents, each sitting's integrity, webcam snapshots."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exam_service.models.base import Base, UUIDKey


class ChannelTicket(Base):
    """A short-lived, single-use pass for one WebSocket handshake; only its hash is stored."""

    __tablename__ = "channel_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attempts.id"))
    window_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("exam_windows.id"))
    client_session: Mapped[str | None] = mapped_column(String(64))  # the browser tab that asked
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class IncidentStatus(enum.StrEnum):
    open = "open"
    confirmed = "confirmed"
    dismissed = "dismissed"


class Incident(UUIDKey, Base):
    """What a rule (or a proctor) found in a sitting's events; a proctor confirms or dismisses it."""

    __tablename__ = "incidents"

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(80))  # rule + occurrence, so re-evaluation finds it again
    severity: Mapped[str] = mapped_column(String(10))
    points: Mapped[int]
    event_seq: Mapped[int]
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[IncidentStatus] = mapped_column(Enum(IncidentStatus, native_enum=False, length=20))
    opened_at: Mapped[datetime]
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)


class SittingIntegrity(Base):
    """The risk score of a sitting (0-100) with its reasons, as of the log entry ``evaluated_seq``."""

    __tablename__ = "sitting_integrity"

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), primary_key=True)
    evaluated_seq: Mapped[int]
    risk_score: Mapped[int]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    review_required: Mapped[bool]
    updated_at: Mapped[datetime]


class WebcamSnapshot(UUIDKey, Base):
    __tablename__ = "webcam_snapshots"

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attempts.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(index=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
