from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from exam_service.models.base import Base, UUIDKey


class Role(enum.StrEnum):
    candidate = "candidate"
    proctor = "proctor"
    examiner = "examiner"
    admin = "admin"


class User(UUIDKey, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # accommodations: the time limit is multiplied, then minutes are added
    extra_time_multiplier: Mapped[float] = mapped_column(default=1.0)
    extra_time_minutes: Mapped[int] = mapped_column(default=0)


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginThrottle(Base):
    """Failed logins per key (``account:<email>`` or ``address:<ip>``) within a window."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
