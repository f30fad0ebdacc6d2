"""What both channels do first: the app's parts, the handshake (Origin, ticket, hello), error frames."""

from __future__ import annotations

from typing import Any

from fastapi import WebSocket
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import Clock
from exam_service.core.database import transaction
from exam_service.core.errors import ExamServiceError
from exam_service.core.settings import Settings
from exam_service.proctoring import tickets
from exam_service.proctoring.connection import (
    Close,
    Closing,
    Connection,
    origin_allowed,
)
from exam_service.proctoring.hub import Hub
from exam_service.proctoring.ingest import Ingest
from exam_service.proctoring.schemas import Hello

HELLO_SECONDS = 10


class Context:
    """What a channel needs from the app, taken once from ``app.state``."""

    def __init__(self, websocket: WebSocket) -> None:
        state = websocket.app.state
        self.settings: Settings = state.settings
        self.clock: Clock = state.clock
        self.sessionmaker: async_sessionmaker[AsyncSession] = state.sessionmaker
        self.hub: Hub = state.hub
        self.ingest: Ingest = state.ingest


async def open_channel(connection: Connection, ctx: Context) -> tickets.Pass:
    await connection.ws.accept()
    if not origin_allowed(connection.ws, ctx.settings):
        raise Closing(Close.forbidden, "this Origin may not open a channel")
    async with transaction(ctx.sessionmaker) as session:
        holder = await tickets.redeem(session, connection.ws.query_params.get("ticket", ""), ctx.clock)
    if holder is None:
        raise Closing(Close.ticket, "no valid ticket; get a new one")
    return holder


async def read_hello(connection: Connection) -> Hello:
    try:
        frame = await connection.receive(within=HELLO_SECONDS)
    except TimeoutError as exc:
        raise Closing(Close.no_hello, "the first frame must be hello") from exc
    if frame.get("type") != "hello":
        raise Closing(Close.no_hello, "the first frame must be hello")
    try:
        return Hello.model_validate(frame)
    except ValidationError as exc:
        raise Closing(Close.malformed, "a malformed hello") from exc


def error_frame(exc: ExamServiceError | ValidationError, **extra: Any) -> dict[str, Any]:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        return {"type": "error", "error": "validation_error", "detail": first["msg"], "field": field, **extra}
    return {"type": "error", "error": exc.error, "detail": exc.detail, **exc.extra, **extra}
