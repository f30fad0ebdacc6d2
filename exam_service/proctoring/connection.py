"""One WebSocket connection's life, shared by the candidate and the proctor channels.

``ChannelState`` is a table of legal moves, like the attempt's. A connection never holds a
database session while it waits on the socket: each frame that needs the database opens one
short transaction (``core.database.transaction``), commits, and only then answers.

Every frame to the client goes through one bounded queue and one sender task, so frames never
interleave and a client that cannot keep up is cut off (4408) instead of slowing anyone down.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from exam_service.core.settings import Settings

logger = logging.getLogger("exam_service.channels")


class Close(enum.IntEnum):
    """The close codes of docs/PROCTORING.md."""

    normal = 1000
    binary = 1003
    malformed = 1007
    too_big = 1009
    server_error = 1011
    ticket = 4401
    forbidden = 4403
    behind = 4408
    no_hello = 4409
    rate = 4429


class ChannelState(enum.StrEnum):
    handshake = "handshake"
    open = "open"
    closed = "closed"


MOVES: dict[ChannelState, frozenset[ChannelState]] = {
    ChannelState.handshake: frozenset({ChannelState.open, ChannelState.closed}),
    ChannelState.open: frozenset({ChannelState.closed}),
    ChannelState.closed: frozenset(),
}


class Closing(Exception):
    """Raised anywhere in a connection's handling to close it with ``code``."""

    def __init__(self, code: Close, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class Disconnected(Exception):
    pass


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.capacity = rate, float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """The public origin and the allow-listed ones; a client that sends no Origin is not a browser.

    The Host header is not trusted (a DNS-rebound page controls it). In development any
    loopback origin is accepted too, so ``make run`` works from localhost or 127.0.0.1.
    """
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    public = urlsplit(settings.public_base_url)
    if origin in {f"{public.scheme}://{public.netloc}", *settings.allowed_origins}:
        return True
    return settings.environment == "development" and urlsplit(origin).hostname in LOOPBACK


class Connection:
    """The socket, its state, its outbound queue and its limits."""

    def __init__(self, websocket: WebSocket, settings: Settings) -> None:
        self.ws = websocket
        self.settings = settings
        self.state = ChannelState.handshake
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(settings.ws_queue_size)
        self.cut_off = asyncio.Event()
        self.ending: Closing | None = None
        self.bucket = TokenBucket(settings.ws_rate_per_second, settings.ws_rate_burst)

    def move(self, target: ChannelState) -> None:
        if target not in MOVES[self.state]:
            raise RuntimeError(f"a {self.state.value} connection cannot become {target.value}")
        self.state = target

    # ---- outbound ----------------------------------------------------------------------------

    def offer(self, message: dict[str, Any]) -> None:
        """A live entry from the hub; queued, or the connection is cut off if it is too far behind."""
        self._enqueue("live", message)

    def reply(self, frame: dict[str, Any]) -> None:
        self._enqueue("frame", frame)

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        if self.state is ChannelState.closed:
            return
        try:
            self.queue.put_nowait((kind, payload))
        except asyncio.QueueFull:
            self.end(Close.behind, "too far behind; reconnect and resume by seq")

    def end(self, code: Close, reason: str) -> None:
        """Closes the connection from outside its loops (the hub, a revoked assignment)."""
        if self.ending is None:
            self.ending = Closing(code, reason)
        self.cut_off.set()

    def revoke(self, window_id: str, user_id: str) -> None:
        """A window was taken from a user; only a proctor channel has windows to lose."""

    async def send_loop(self) -> None:
        """The one writer: live entries through ``deliver`` (which orders them), other frames as they are."""
        while True:
            kind, payload = await self.queue.get()
            if kind == "live":
                await self._deliver(payload)
            else:
                await self.send_now(payload)

    async def _deliver(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def send_now(self, frame: dict[str, Any]) -> None:
        """Sends at once: the sender task, or the handshake before that task runs."""
        if self.state is ChannelState.closed or self.ws.application_state is not WebSocketState.CONNECTED:
            raise Disconnected
        try:
            await self.ws.send_text(json.dumps(frame, separators=(",", ":")))
        except (RuntimeError, WebSocketDisconnect, OSError) as exc:  # closed while this frame was on its way
            raise Disconnected from exc

    # ---- inbound -----------------------------------------------------------------------------

    async def receive(self, within: float | None = None) -> dict[str, Any]:
        """The next frame as a JSON object (``TimeoutError`` after ``within`` s); ``Closing`` for refused frames."""
        message = await asyncio.wait_for(self.ws.receive(), within) if within else await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise Disconnected
        if message.get("bytes") is not None:
            raise Closing(Close.binary, "binary frames are not accepted")
        text: str = message.get("text") or ""
        if len(text) > self.settings.ws_max_message_bytes or len(text.encode()) > self.settings.ws_max_message_bytes:
            raise Closing(Close.too_big, f"frames are limited to {self.settings.ws_max_message_bytes} bytes")
        if not self.bucket.take():
            raise Closing(Close.rate, "too many frames")
        try:
            frame = json.loads(text)
        except ValueError as exc:
            raise Closing(Close.malformed, "frames must be JSON") from exc
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise Closing(Close.malformed, "a frame is a JSON object with a type")
        return frame

    async def close(self, code: Close, reason: str) -> None:
        if self.state is not ChannelState.closed:
            self.move(ChannelState.closed)
        if self.ws.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
                await self.ws.close(int(code), reason[:120])


async def run_until_closed(connection: Connection, *loops: Any) -> tuple[Close, str]:
    """Runs the connection's loops until one ends; returns the close code and reason to use."""
    tasks = [asyncio.ensure_future(loop) for loop in loops]
    tasks.append(asyncio.ensure_future(connection.cut_off.wait()))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
    if connection.ending is not None:
        return connection.ending.code, connection.ending.reason
    for task in done:
        error = task.exception() if not task.cancelled() else None
        if isinstance(error, Closing):
            return error.code, error.reason
        if isinstance(error, Disconnected | WebSocketDisconnect):
            return Close.normal, "client left"
        if error is not None:
            logger.error("channel failed", exc_info=error)
            return Close.normal, "server error"
    return Close.normal, "closed"
