"""A real uvicorn serving the app in the test's event loop, and a small WebSocket client for the channels."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.servers import free_port


@dataclass
class Live:
    app: FastAPI | None
    base: str
    http: httpx.AsyncClient

    @property
    def ws_base(self) -> str:
        return self.base.replace("http://", "ws://")


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[Live]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on", ws_max_size=65536)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            yield Live(app, base, http)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@dataclass
class Channel:
    """A client socket that keeps every frame it received, in order."""

    socket: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(frame))

    async def next(self, timeout: float = 5) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def until(self, predicate: Any, timeout: float = 5) -> dict[str, Any]:
        """Reads frames until one matches; the others stay in ``frames``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no matching frame; got {self.frames[-5:]}")
            frame = await self.next(left)
            if predicate(frame):
                return frame

    async def closed_with(self, timeout: float = 5) -> int:
        """Reads until the server closes; returns the close code."""
        try:
            while True:
                await asyncio.wait_for(self.socket.recv(), timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else 1006

    async def close(self) -> None:
        await self.socket.close()


async def ticket(live: Live, path: str, headers: dict[str, str], body: Any = None) -> str:
    response = await live.http.post(path, headers=headers, json=body)
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


async def open_channel(live: Live, url: str, **kwargs: Any) -> Channel:
    socket = await connect(live.ws_base + url, open_timeout=5, **kwargs)
    return Channel(socket)


async def candidate_channel(live: Live, attempt_id: str, headers: dict[str, str], last_seq: int = 0) -> Channel:
    url = await ticket(live, f"/api/v1/attempts/{attempt_id}/channel-ticket", headers)
    channel = await open_channel(live, url)
    await channel.send({"type": "hello", "last_seq": last_seq})
    welcome = await channel.next()
    assert welcome["type"] == "welcome", welcome
    return channel


async def proctor_channel(
    live: Live, headers: dict[str, str], cursors: dict[str, int] | None = None, window_id: str | None = None
) -> tuple[Channel, dict[str, Any]]:
    url = await ticket(live, "/api/v1/proctoring/channel-ticket", headers, {"window_id": window_id})
    channel = await open_channel(live, url)
    await channel.send({"type": "hello", "cursors": cursors or {}})
    snapshot = await channel.next()
    assert snapshot["type"] == "snapshot", snapshot
    return channel, snapshot
