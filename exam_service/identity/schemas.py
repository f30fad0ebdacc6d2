from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from exam_service.models import Role

Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Password = Annotated[str, Field(min_length=12, max_length=256)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    role: Role
    refresh_token: str = Field(description="trade it once at POST /api/v1/auth/refresh for a new pair")
    refresh_expires_in: int = Field(description="seconds until the sign-in session ends; sign in again after")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, StringConstraints(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class SessionsEnded(BaseModel):
    ended: int = Field(description="how many open sessions were ended")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    role: Role
    password: Password
    extra_time_multiplier: Annotated[float, Field(ge=1.0, le=3.0)] = 1.0
    extra_time_minutes: Annotated[int, Field(ge=0, le=240)] = 0


class Accommodations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extra_time_multiplier: Annotated[float, Field(ge=1.0, le=3.0)] = 1.0
    extra_time_minutes: Annotated[int, Field(ge=0, le=240)] = 0


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    extra_time_multiplier: float
    extra_time_minutes: int
