"""One place that turns errors into ``{"error", "detail", ...}`` JSON responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from exam_service.core.errors import ExamServiceError

logger = logging.getLogger("exam_service.errors")

_HTTP_ERRORS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ExamServiceError)
    body = {"error": exc.error, "detail": exc.detail, **exc.extra}
    if exc.status_code == 422 and "fields" not in body:  # every 422 lists its fields, as request validation does
        field = str(exc.extra.get("field", "body"))
        message = exc.detail.removeprefix(f"{field}: ")
        body["fields"] = [{"field": field, "message": message, "type": "value_error"}]
        body.setdefault("field", field)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        message = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            message = f"malformed JSON: {err.get('ctx', {}).get('error', 'cannot be parsed')}"
            loc = ("body",)
        fields.append({"field": _field(loc) or "body", "message": message, "type": err.get("type")})
    first = fields[0] if fields else {"field": "body", "message": "invalid request"}
    return JSONResponse(
        {
            "error": "validation_error",
            "detail": f"{first['field']}: {first['message']}",
            "field": first["field"],
            "fields": fields,
        },
        status_code=422,
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    body: dict[str, object] = {"error": _HTTP_ERRORS.get(exc.status_code, "http_error"), "detail": exc.detail}
    if exc.status_code == 400:  # FastAPI's own refusal of a body it cannot parse (e.g. JSON nested too deep)
        body["field"] = "body"
    return JSONResponse(
        body,
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"path": request.url.path})
    return JSONResponse({"error": "internal_error", "detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ExamServiceError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
