"""The input boundary: text a client sends is refused before any route sees it when no database could store it.

Every string in the path, the query, a form or a JSON body (keys included) is refused with 422 if it
holds a NUL character (PostgreSQL's text cannot store one) or a lone UTF-16 surrogate (no UTF-8
encoder can write one, so a stored answer would break every later read of the form). JSON integers
beyond 64 bits are refused on value, so no column and no ``int()`` ever meets them. Bounds tighter
than these (32-bit columns, dates, e-mail syntax) live on the fields themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi import routing
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
_MAX_DIGITS = 19


class _OutOfRange:
    """A JSON integer too long to hold, kept as a marker so the walk can name its field."""

    __slots__ = ()


_OUT_OF_RANGE = _OutOfRange()


def _parse_int(digits: str) -> int | _OutOfRange:
    if len(digits.lstrip("-")) > _MAX_DIGITS:
        return _OUT_OF_RANGE
    value = int(digits)
    return value if -MAX_INT64 <= value <= MAX_INT64 else _OUT_OF_RANGE


def text_fault(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain unpaired surrogate characters"
    return None


def _walk(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """(field path, message, error type) for every value in a parsed JSON body that cannot be stored."""
    if isinstance(value, str):
        fault = text_fault(value)
        if fault:
            yield path, fault, "string_unstorable"
    elif isinstance(value, _OutOfRange):
        yield path, f"must be an integer between {-MAX_INT64} and {MAX_INT64}", "int_out_of_range"
    elif isinstance(value, dict):
        for key, item in value.items():
            fault = text_fault(key)
            if fault:
                yield (*path, key.encode("utf-8", "backslashreplace").decode()), f"key {fault}", "string_unstorable"
            else:
                yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, str(index)))


def _fields_of_pairs(pairs: bytes, where: str) -> list[tuple[tuple[str, ...], str, str]]:
    """Faults in URL-encoded pairs (a query string or a form body)."""
    try:
        decoded = parse_qsl(pairs.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return [((where,), "must be UTF-8 text", "string_unicode")]
    except ValueError:
        return []  # malformed pairs are the route's to refuse
    faults: list[tuple[tuple[str, ...], str, str]] = []
    for name, value in decoded:
        fault = text_fault(name) or text_fault(value)
        if fault:
            field = name if text_fault(name) is None else where
            faults.append(((field,), fault, "string_unstorable"))
    return faults


def _refusal(faults: list[tuple[tuple[str, ...], str, str]]) -> bytes:
    fields = [{"field": ".".join(path) or "body", "message": message, "type": kind} for path, message, kind in faults]
    first = fields[0]
    return json.dumps(
        {
            "error": "validation_error",
            "detail": f"{first['field']}: {first['message']}",
            "field": first["field"],
            "fields": fields,
        }
    ).encode()


class InputBoundaryMiddleware:
    """Refuses with 422 a request whose path, query, form or JSON body holds text no database can store."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        faults: list[tuple[tuple[str, ...], str, str]] = []
        path_fault = text_fault(scope["path"])
        if path_fault or "\ufffd" in scope["path"]:
            faults.append(((_path_field(scope),), path_fault or "must be UTF-8 text", "string_unstorable"))
        faults += _fields_of_pairs(scope.get("query_string", b""), "query")
        if not faults and scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            body, receive = await _read_body(receive)
            faults += _body_faults(body, _content_type(scope))
        if not faults:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "unstorable text in the request"})
        else:
            await _send_refusal(send, _refusal(faults))


def _path_field(scope: Scope) -> str:
    """The path parameter that holds the fault, named as the route names it; else ``path``."""
    app = scope.get("app")
    routes: Any = getattr(app, "routes", ())
    contexts = getattr(routing, "iter_route_contexts", None)  # FastAPI 0.16x nests included routers
    for route in contexts(routes) if contexts is not None else routes:
        regex = getattr(route, "path_regex", None)
        found = regex.match(scope["path"]) if regex is not None else None
        if found is None:
            continue
        for name, value in found.groupdict().items():
            if text_fault(value) or "\ufffd" in value:
                return str(name)
    return "path"


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1").split(";")[0].strip().lower())
    return ""


def _body_faults(body: bytes, content_type: str) -> list[tuple[tuple[str, ...], str, str]]:
    if not body:
        return []
    if content_type == "application/x-www-form-urlencoded":
        return _fields_of_pairs(body, "body")
    if content_type and not content_type.endswith("json"):
        return []
    try:
        parsed = json.loads(body, parse_int=_parse_int)
    except (ValueError, RecursionError):
        return []  # not JSON: the route refuses it in its own words
    return list(_walk(parsed, ()))


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (already capped in size further out), and a ``receive`` that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            pending: Message | None = message
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            pending = None
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            if pending is not None and not chunks:
                return pending
            return {"type": "http.request", "body": body, "more_body": False}
        if pending is not None:
            return pending
        return await receive()

    return body, replay


async def _send_refusal(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
