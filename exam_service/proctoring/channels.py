"""The two WebSocket channels: ``/ws/candidate`` and ``/ws/proctor`` (protocol: docs/PROCTORING.md).

A connection is: ticket and Origin checked, ``hello`` received, subscribed to the hub, the
missed entries sent from the log, then two loops (frames in, queued frames out). Entries that
arrive live are numbered; one that skips a number makes the sender fetch the gap from the log
first, and one already sent is dropped, so every client sees each entry once, in order.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import Clock
from exam_service.core.database import transaction
from exam_service.core.errors import ExamServiceError
from exam_service.core.settings import Settings
from exam_service.delivery import events, timing
from exam_service.delivery import service as delivery_service
from exam_service.delivery.auth import settled
from exam_service.delivery.repository import AttemptRepository
from exam_service.identity.repository import UserRepository
from exam_service.models import Attempt, Role, User
from exam_service.proctoring import presence, sittings, tickets
from exam_service.proctoring import service as proctoring_service
from exam_service.proctoring.connection import (
    ChannelState,
    Close,
    Closing,
    Connection,
    origin_allowed,
    run_until_closed,
)
from exam_service.proctoring.hub import Hub
from exam_service.proctoring.schemas import ActionEnvelope, CandidateFrame, Hello
from exam_service.scheduling import service as scheduling_service

router = APIRouter()
HELLO_SECONDS = 10


class Context:
    """What a channel needs from the app, taken once from ``app.state``."""

    def __init__(self, websocket: WebSocket) -> None:
        state = websocket.app.state
        self.settings: Settings = state.settings
        self.clock: Clock = state.clock
        self.sessionmaker: async_sessionmaker[AsyncSession] = state.sessionmaker
        self.hub: Hub = state.hub


async def _open(connection: Connection, ctx: Context) -> tickets.Pass:
    await connection.ws.accept()
    if not origin_allowed(connection.ws, ctx.settings):
        raise Closing(Close.forbidden, "this Origin may not open a channel")
    async with transaction(ctx.sessionmaker) as session:
        holder = await tickets.redeem(session, connection.ws.query_params.get("ticket", ""), ctx.clock)
    if holder is None:
        raise Closing(Close.ticket, "no valid ticket; get a new one")
    return holder


async def _hello(connection: Connection) -> Hello:
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


def _error(exc: ExamServiceError | ValidationError, **extra: Any) -> dict[str, Any]:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        return {"type": "error", "error": "validation_error", "detail": first["msg"], "field": field, **extra}
    return {"type": "error", "error": exc.error, "detail": exc.detail, **exc.extra, **extra}


# ---- the candidate channel ----------------------------------------------------------------------


class CandidateChannel(Connection):
    def __init__(self, websocket: WebSocket, ctx: Context) -> None:
        super().__init__(websocket, ctx.settings)
        self.ctx = ctx
        self.attempt_id = ""
        self.window_id = ""
        self.candidate_id: uuid.UUID | None = None
        self.client = ""
        self.last_seq = 0
        self.lost = False

    async def serve(self) -> None:
        code, reason = Close.normal, "closed"
        try:
            holder = await _open(self, self.ctx)
            if holder.attempt_id is None or holder.user.role is not Role.candidate:
                raise Closing(Close.forbidden, "this ticket is not for a candidate's sitting")
            self.attempt_id, self.candidate_id = str(holder.attempt_id), holder.user.id
            # resends are recognised per browser tab (its X-Client-Session id, kept with the ticket)
            self.client = holder.client_session or f"ws-{uuid.uuid4().hex[:16]}"
            hello = await _hello(self)
            self.ctx.hub.watch_attempt(self.attempt_id, self)
            await self._welcome(hello)
            self.move(ChannelState.open)
            self.ctx.hub.heartbeat(self.attempt_id, self.window_id)
            code, reason = await run_until_closed(self, self._receive_loop(), self._send_loop())
        except Closing as closing:
            code, reason = closing.code, closing.reason
        finally:
            self.ctx.hub.forget(self)
            await self.close(code, reason)
            if self.window_id:
                self.ctx.hub.drop_local(self.attempt_id)
                _watch_absence(self.ctx, self.attempt_id)

    async def _welcome(self, hello: Hello) -> None:
        async with transaction(self.ctx.sessionmaker) as session:
            attempt = await self._locked(session)
            await delivery_service.enforce_clock(session, attempt, self.ctx.clock)
            window = await delivery_service.window_of(session, attempt)
            self.window_id = str(window.id)
            await presence.record_restored(session, attempt.id, self.ctx.clock)
            backlog = await events.since(session, attempt.id, hello.last_seq)
            now = self.ctx.clock.now()
            welcome = {
                "type": "welcome",
                "attempt_id": self.attempt_id,
                "state": attempt.state.value,
                "remaining_seconds": timing.remaining_seconds(attempt, now),
                "last_seq": attempt.event_seq,
                "heartbeat_seconds": self.settings.heartbeat_seconds,
                "webcam_interval_seconds": window.webcam_interval_seconds,
            }
        await self.send_now(welcome)
        self.last_seq = hello.last_seq
        for entry in backlog:
            await self._deliver(events.message_of(entry, attempt.window_id))

    async def _locked(self, session: AsyncSession) -> Attempt:
        assert self.candidate_id is not None
        attempt = await AttemptRepository(session).get(uuid.UUID(self.attempt_id), candidate_id=self.candidate_id)
        if attempt is None:
            raise Closing(Close.forbidden, "this sitting is not yours")
        return attempt

    async def _deliver(self, message: dict[str, Any]) -> None:
        """Sends an entry if it is new and meant for the candidate; advances the cursor either way."""
        seq = int(message["seq"])
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            async with transaction(self.ctx.sessionmaker) as session:
                missing = await events.since(session, uuid.UUID(self.attempt_id), self.last_seq, up_to=seq - 1)
            for entry in missing:
                await self._deliver(events.message_of(entry, uuid.UUID(self.window_id)))
        self.last_seq = seq
        if message["kind"] in events.TO_CANDIDATE and message["source"] != "candidate":
            await self.send_now(_for_candidate(message))

    async def _send_loop(self) -> None:
        while True:
            kind, payload = await self.queue.get()
            if kind == "live":
                await self._deliver(payload)
            else:
                await self.send_now(payload)

    async def _receive_loop(self) -> None:
        timeout = self.settings.heartbeat_timeout_seconds
        last_frame = time.monotonic()
        while True:
            try:
                frame = await self.receive(within=timeout)
            except TimeoutError:
                if not self.lost:
                    self.lost = True
                    async with transaction(self.ctx.sessionmaker) as session:
                        await presence.record_lost(
                            session, uuid.UUID(self.attempt_id), time.monotonic() - last_frame, self.ctx.clock
                        )
                continue
            last_frame = time.monotonic()
            if frame["type"] == "heartbeat":
                self.ctx.hub.heartbeat(self.attempt_id, self.window_id)
                if self.lost:
                    self.lost = False
                    async with transaction(self.ctx.sessionmaker) as session:
                        await presence.record_restored(session, uuid.UUID(self.attempt_id), self.ctx.clock)
            elif frame["type"] == "event":
                self.reply(await self._event(frame))
            else:
                raise Closing(Close.malformed, f"unknown frame type {str(frame['type'])[:40]!r}")

    async def _event(self, frame: dict[str, Any]) -> dict[str, Any]:
        client_seq = frame.get("client_seq")
        try:
            parsed = CandidateFrame.model_validate(frame)
            detail = proctoring_service.check_detail(parsed)
        except ValidationError as exc:
            return _error(exc, client_seq=client_seq)
        try:
            async with transaction(self.ctx.sessionmaker) as session:
                attempt = await settled(session, await self._locked(session), self.ctx.clock)
                stored = None
                if attempt.state in presence.LIVE:
                    stored = await proctoring_service.record_candidate_event(
                        session, attempt, parsed, detail, self.client, self.ctx.clock
                    )
        except ExamServiceError as exc:
            return _error(exc, client_seq=client_seq)
        if stored is None:
            return {"type": "error", "error": "conflict", "detail": "the sitting has ended", "client_seq": client_seq}
        return {"type": "ack", "client_seq": parsed.client_seq, "seq": stored.seq}


def _for_candidate(message: dict[str, Any]) -> dict[str, Any]:
    keep = ("seq", "kind", "source", "detail", "at")
    return {"type": "event", **{k: message[k] for k in keep}}


def _watch_absence(ctx: Context, attempt_id: str) -> None:
    """After a socket closes: if nobody is back within the timeout, the connection is recorded as lost."""

    async def check() -> None:
        timeout = ctx.settings.heartbeat_timeout_seconds
        await asyncio.sleep(timeout)
        last = ctx.hub.last_heartbeat(attempt_id)
        if ctx.hub.watching(attempt_id) or (last is not None and time.time() - last < timeout):
            return
        silent = time.time() - last if last else timeout
        async with transaction(ctx.sessionmaker) as session:
            await presence.record_lost(session, uuid.UUID(attempt_id), silent, ctx.clock)

    ctx.hub.spawn(check())


# ---- the proctor channel ------------------------------------------------------------------------


class ProctorChannel(Connection):
    def __init__(self, websocket: WebSocket, ctx: Context) -> None:
        super().__init__(websocket, ctx.settings)
        self.ctx = ctx
        self.user_id: uuid.UUID | None = None
        self.window_ids: list[uuid.UUID] = []
        self.cursors: dict[str, int] = {}
        self.window_of: dict[str, uuid.UUID] = {}

    async def serve(self) -> None:
        code, reason = Close.normal, "closed"
        try:
            holder = await _open(self, self.ctx)
            if holder.attempt_id is not None or holder.user.role not in (Role.proctor, Role.admin, Role.examiner):
                raise Closing(Close.forbidden, "this ticket is not for the proctor channel")
            self.user_id = holder.user.id
            hello = await _hello(self)
            async with transaction(self.ctx.sessionmaker) as session:
                windows = await proctoring_service.windows_in_scope(
                    session, holder.user, holder.window_id, self.ctx.clock
                )
            self.window_ids = [w.id for w in windows]
            self.ctx.hub.watch_windows([str(w) for w in self.window_ids], self)
            await self._snapshot(windows, hello)
            self.move(ChannelState.open)
            self.ctx.hub.on_presence_tick.append(self._presence)
            code, reason = await run_until_closed(self, self._receive_loop(), self._send_loop())
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

    async def _send_loop(self) -> None:
        while True:
            kind, payload = await self.queue.get()
            if kind == "live":
                await self._deliver(payload)
            else:
                await self.send_now(payload)

    async def _presence(self) -> None:
        timeout = self.settings.heartbeat_timeout_seconds
        seen = {a: sittings.presence_of(self.ctx.hub.last_heartbeat(a), timeout) for a in self.cursors}
        self.reply({"type": "presence", "sittings": seen})

    async def _receive_loop(self) -> None:
        while True:
            frame = await self.receive()
            if frame["type"] != "action":
                raise Closing(Close.malformed, f"unknown frame type {str(frame['type'])[:40]!r}")
            self.reply(await self._act(frame))

    async def _act(self, frame: dict[str, Any]) -> dict[str, Any]:
        request_id = frame.get("request_id")
        try:
            envelope = ActionEnvelope.model_validate(frame)
        except ValidationError as exc:
            return {**_error(exc, request_id=request_id), "type": "result", "ok": False}
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
            return {**_error(exc, request_id=request_id), "type": "result", "ok": False}
        return {"type": "result", "request_id": request_id, "ok": True}


async def _staff(session: AsyncSession, user_id: uuid.UUID | None) -> User:
    user = await UserRepository(session).get(user_id) if user_id else None
    if user is None or not user.is_active:
        raise Closing(Close.forbidden, "the account is no longer active")
    return user


@router.websocket("/ws/candidate")
async def candidate_channel(websocket: WebSocket) -> None:
    await CandidateChannel(websocket, Context(websocket)).serve()


@router.websocket("/ws/proctor")
async def proctor_channel(websocket: WebSocket) -> None:
    await ProctorChannel(websocket, Context(websocket)).serve()
