"""HTML shells for each role's pages; their data comes from the JSON API and the channels in the browser."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from exam_service.core.paths import project_root

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(project_root() / "frontend" / "templates"))

# pages run only their own scripts and styles, and cannot be framed
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(request: Request, template: str, **context: object) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context)
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return _page(request, "login.html")


@router.get("/exams", response_class=HTMLResponse)
async def exams_page(request: Request) -> HTMLResponse:
    return _page(request, "exams.html")


@router.get("/exams/{attempt_id}", response_class=HTMLResponse)
async def sitting_page(request: Request, attempt_id: uuid.UUID) -> HTMLResponse:
    return _page(request, "sitting.html", attempt_id=str(attempt_id))


@router.get("/exams/{attempt_id}/briefing", response_class=HTMLResponse)
async def briefing_page(request: Request, attempt_id: uuid.UUID) -> HTMLResponse:
    return _page(request, "briefing.html", attempt_id=str(attempt_id))


@router.get("/exams/{attempt_id}/receipt", response_class=HTMLResponse)
async def receipt_page(request: Request, attempt_id: uuid.UUID) -> HTMLResponse:
    return _page(request, "receipt.html", attempt_id=str(attempt_id))


@router.get("/proctor", response_class=HTMLResponse)
async def proctor_console(request: Request) -> HTMLResponse:
    return _page(request, "proctor.html")


@router.get("/examiner", response_class=HTMLResponse)
async def examiner_queue(request: Request) -> HTMLResponse:
    return _page(request, "examiner.html")


@router.get("/examiner/results/{attempt_id}", response_class=HTMLResponse)
async def examiner_report(request: Request, attempt_id: uuid.UUID) -> HTMLResponse:
    return _page(request, "examiner_report.html", attempt_id=str(attempt_id))


@router.get("/examiner/analysis", response_class=HTMLResponse)
async def examiner_analysis(request: Request) -> HTMLResponse:
    return _page(request, "examiner_analysis.html")
