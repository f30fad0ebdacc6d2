"""The API reference at ``/docs``: Swagger UI served by the service itself, under the pages' own strict CSP.

The page loads only same-origin files: the pinned Swagger UI bundle and stylesheet from the ``swagger-ui-py``
package, and ``/static/js/api-docs.js``, which starts it on ``/openapi.json``. Nothing comes from a CDN, so the
page runs where staff tokens live without trusting a third party, and works offline.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import metadata, resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from exam_service.core.errors import NotFound
from exam_service.web.endpoints import _page

router = APIRouter(include_in_schema=False)

# the package's version names the asset path, so a new version is a new URL and a year of caching is safe
VERSION = metadata.version("swagger-ui-py")
ASSET_ROOT = f"/static/swagger-ui/{VERSION}"
# the only files of the package the service serves
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
ASSET_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Vary": "Accept-Encoding",
}


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> tuple[bytes, bytes]:
    """The file as shipped and gzipped (the bundle is 1.5 MB, about a quarter of that compressed)."""
    data = (resources.files("swagger_ui") / "static" / name).read_bytes()
    return data, gzip.compress(data, compresslevel=9, mtime=0)


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, *params = (piece.strip().lower() for piece in part.split(";"))
        if coding == "gzip":
            return not any(param.replace(" ", "") in {"q=0", "q=0.0", "q=0.00", "q=0.000"} for param in params)
    return False


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    return _page(request, "api_docs.html", assets=ASSET_ROOT)


@router.get("/static/swagger-ui/{version}/{name}")
async def swagger_ui_asset(request: Request, version: str, name: str) -> Response:
    if version != VERSION or name not in ASSETS:
        raise NotFound("no such file")
    plain, compressed = _asset(name)
    if _accepts_gzip(request):
        return Response(compressed, media_type=ASSETS[name], headers={**ASSET_HEADERS, "Content-Encoding": "gzip"})
    return Response(plain, media_type=ASSETS[name], headers=ASSET_HEADERS)
