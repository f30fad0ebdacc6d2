"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import logging
import os
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from pydantic import BaseModel
from sqlalchemy import text

from exam_service.core.deps import SettingsDep
from exam_service.core.errors import NotFound

logger = logging.getLogger("exam_service.ops")
router = APIRouter(tags=["operations"])


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database or the broker does not answer."}},
)
async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        logger.exception("readiness: the database does not answer")
        checks["database"] = "unreachable"
    checks["broker"] = "ok" if await request.app.state.broker.ping() else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """This process's metrics; with several workers, all of theirs (Prometheus multiprocess mode).

    Served only when ``EXAM_METRICS_TOKEN`` is set, and only to a bearer of that token: anyone else
    is told there is nothing here.
    """
    expected = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None
    scheme, _, offered = request.headers.get("authorization", "").partition(" ")
    if expected is None or scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), expected):
        raise NotFound("not found")
    registry = request.app.state.metrics.registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
