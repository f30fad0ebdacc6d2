"""Domain errors carry their HTTP status; one handler renders ``{"error", "detail"}``."""

from __future__ import annotations

from typing import Any, ClassVar


class ExamServiceError(Exception):
    status_code: ClassVar[int] = 400
    error: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class BadRequest(ExamServiceError):
    pass


class NotAuthenticated(ExamServiceError):
    status_code = 401
    error = "not_authenticated"

    def __init__(self, detail: str = "Not authenticated", **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extra)


class Forbidden(ExamServiceError):
    status_code = 403
    error = "forbidden"


class NotFound(ExamServiceError):
    status_code = 404
    error = "not_found"


class Conflict(ExamServiceError):
    status_code = 409
    error = "conflict"


class Unprocessable(ExamServiceError):
    status_code = 422
    error = "validation_error"


class TooManyRequests(ExamServiceError):
    status_code = 429
    error = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, retry_after=retry_after)
