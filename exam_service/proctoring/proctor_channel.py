"""The proctor's channel, ``/ws/proctor``: a snapshot of the windows' sittings, their live entries, actions.

Entries are numbered per sitting; the sender keeps the last number per sitting, drops repeats
and fills gaps from the log, so a console sees every entry once, in order, across reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

from fastapi import WebSocket
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.database import transaction
from exam_service.core.errors import ExamServiceError
from exam_service.delivery import events
from exam_service.delivery.auth import settled
from exam_service.delivery.repository import AttemptRepository
from exam_service.identity.repository import UserRepository
from exam_service.models import Role, User
from exam_service.proctoring import service as proctoring_service
from exam_service.proctoring import sittings
from exam_service.proctoring.connection import (
    ChannelState,
    Close,
    Closing,
    Connection,
    run_until_closed,
)
from exam_service.proctoring.handshake import Context, error_frame, open_channel, read_hello
from exam_service.proctoring.schemas import ActionEnvelope, Hello
from exam_service.scheduling import service as scheduling_service

ACTIONS_IN_FLIGHT = 32  # actions of one console waiting for their turn; beyond that the socket is not read
FULL_PRESENCE = 12  # a full presence picture every 12 rounds (a minute by default)


class ProctorChannel(Connection):
    def __init__(self, websocket: WebSocket, ctx: Context) -> None:
        super().__init__(websocket, ctx.settings)
        self.ctx = ctx
        self.user_id: uuid.UUID | None = None
        self.window_ids: list[uuid.UUID] = []
        self.cursors: dict[str, int] = {}
        self.window_of: dict[str, uuid.UUID] = {}
        self.connected: dict[str, bool] = {}  # what the console was last told
        self.presence_rounds = 0

    async def serve(self) -> None:
        code, reason = Close.normal, "closed"
        try:
            holder = await open_channel(self, self.ctx)
            if holder.attempt_id is not None or holder.user.role not in (Role.proctor, Role.admin, Role.examiner):
                raise Closing(Close.forbidden, "this ticket is not for the proctor channel")
            self.user_id = holder.user.id
            hello = await read_hello(self)
            async with transaction(self.ctx.sessionmaker) as session:
                windows = await proctoring_service.windows_in_scope(
                    session, holder.user, holder.window_id, self.ctx.clock
                )
            self.window_ids = [w.id for w in windows]
            self.ctx.hub.watch_windows([str(w) for w in self.window_ids], self)
            await self._snapshot(windows, hello)
            self.move(ChannelState.open)
            self.ctx.hub.on_presence_tick.append(self._presence)
            code, reason = await run_until_closed(self, self._receive_loop(), self.send_loop())
        except Closing as closing:
            code, reason = closing.code, closing.reason
        except ExamServiceError as exc:
            code, reason = Close.forbidden, exc.detail
        finally:
            self.ctx.hub.forget(self)
            if self._presence in self.ctx.hub.on_presence_tick:
                self.ctx.hub.on_presence_tick.remove(self._presence)
            await self.close(code, reason)

    async def _rows(self, attempt_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
        timeout = self.settings.heartbeat_timeout_seconds
        async with transaction(self.ctx.sessionmaker) as session:
            return await sittings.rows(
                session, self.window_ids, self.ctx.clock, self.ctx.hub.last_heartbeat, timeout, attempt_id=attempt_id
            )

    async def _snapshot(self, windows: list[Any], hello: Hello) -> None:
        rows = await self._rows()
        summary = [
            {"id": str(w.id), "title": w.title, "tier": w.tier, "risk_threshold": w.risk_threshold} for w in windows
        ]
        await self.send_now({"type": "snapshot", "windows": summary, "sittings": rows})
        wanted = {str(k): v for k, v in hello.cursors.items()}
        for row in rows:
            attempt_id = row["attempt_id"]
            self.window_of[attempt_id] = uuid.UUID(row["window_id"])
            self.cursors[attempt_id] = wanted.get(attempt_id, row["last_seq"])
            if self.cursors[attempt_id] < row["last_seq"]:
                await self._catch_up(attempt_id, row["last_seq"])

    async def _catch_up(self, attempt_id: str, up_to: int) -> None:
        async with transaction(self.ctx.sessionmaker) as session:
            missing = await events.since(session, uuid.UUID(attempt_id), self.cursors[attempt_id], up_to=up_to)
        for entry in missing:
            self.cursors[attempt_id] = entry.seq
            await self.send_now(events.message_of(entry, self.window_of[attempt_id]))

    def revoke(self, window_id: str, user_id: str) -> None:
        if user_id != str(self.user_id):
            return
        self.window_ids = [w for w in self.window_ids if str(w) != window_id]
        self.ctx.hub.unwatch_window(window_id, self)
        if not self.window_ids:
            self.end(Close.forbidden, "you are no longer assigned to this window")

    async def _deliver(self, message: dict[str, Any]) -> None:
        if uuid.UUID(message["window_id"]) not in self.window_ids:  # queued before a revocation
            return
        attempt_id, seq = str(message["attempt_id"]), int(message["seq"])
        if attempt_id not in self.cursors:  # a sitting that appeared after the snapshot
            self.cursors[attempt_id] = 0
            self.window_of[attempt_id] = uuid.UUID(message["window_id"])
            await self.send_now({"type": "sitting", "sittings": await self._rows(uuid.UUID(attempt_id))})
        if seq <= self.cursors[attempt_id]:
            return
        if seq > self.cursors[attempt_id] + 1:
            await self._catch_up(attempt_id, seq - 1)
        self.cursors[attempt_id] = seq
        await self.send_now(message)

    async def _presence(self) -> None:
        """Sittings whose connection changed since the last round; all of them every ``FULL_PRESENCE`` rounds."""
        timeout = self.settings.heartbeat_timeout_seconds
        self.presence_rounds += 1
        full = self.presence_rounds % FULL_PRESENCE == 1
        changed = {}
        now = time.time()
        for attempt_id in self.cursors:
            last = self.ctx.hub.last_heartbeat(attempt_id)
            connected = last is not None and now - last <= timeout
            if full or self.connected.get(attempt_id) != connected:
                changed[attempt_id] = sittings.presence_of(last, timeout)
                self.connected[attempt_id] = connected
        if changed:
            self.reply({"type": "presence", "sittings": changed})

    async def _receive_loop(self) -> None:
        """Reads on while actions wait for their transactions, so pings are answered in a burst.

        Actions of one console are applied one at a time, in the order sent; at most
        ``ACTIONS_IN_FLIGHT`` wait, beyond that the socket is not read.
        """
        actions: asyncio.Queue[dict[str, Any]] = asyncio.Queue(ACTIONS_IN_FLIGHT)
        worker = asyncio.create_task(self._act_in_order(actions))
        try:
            while True:
                frame = await self.receive()
                if frame["type"] != "action":
                    raise Closing(Close.malformed, f"unknown frame type {str(frame['type'])[:40]!r}")
                await actions.put(frame)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _act_in_order(self, actions: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            self.reply(await self._act(await actions.get()))

    async def _act(self, frame: dict[str, Any]) -> dict[str, Any]:
        request_id = frame.get("request_id")
        try:
            envelope = ActionEnvelope.model_validate(frame)
        except ValidationError as exc:
            return {**error_frame(exc, request_id=request_id), "type": "result", "ok": False}
        try:
            body = {k: v for k, v in frame.items() if k not in ("type", "request_id", "attempt_id")}
            action = proctoring_service.parse_action(body)
            async with transaction(self.ctx.sessionmaker) as session:
                attempt = await AttemptRepository(session).get(envelope.attempt_id)
                user = await _staff(session, self.user_id)
                if (
                    attempt is None
                    or attempt.window_id not in self.window_ids
                    or not await scheduling_service.may_proctor(session, user, attempt.window_id)
                ):
                    return {
                        "type": "result",
                        "request_id": request_id,
                        "ok": False,
                        "error": "not_found",
                        "detail": "no such sitting in your windows",
                    }
                attempt = await settled(session, attempt, self.ctx.clock)
                await proctoring_service.act(session, attempt, user, action, self.ctx.clock)
        except ExamServiceError as exc:
            return {**error_frame(exc, request_id=request_id), "type": "result", "ok": False}
        return {"type": "result", "request_id": request_id, "ok": True}


async def _staff(session: AsyncSession, user_id: uuid.UUID | None) -> User:
    user = await UserRepository(session).get(user_id) if user_id else None
    if user is None or not user.is_active:
        raise Closing(Close.forbidden, "the account is no longer active")
    return user
