"""The candidate's channel, ``/ws/candidate``: heartbeats, numbered events and their acks, proctor messages.

The sender compares each live entry's number with the last one it handled for the sitting: an
old one is dropped, a jump is first filled from the log, so the page sees every entry meant for
it once, in order, across reconnects.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from fastapi import WebSocket
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.database import transaction
from exam_service.core.errors import ExamServiceError
from exam_service.delivery import events, timing
from exam_service.delivery import service as delivery_service
from exam_service.delivery.repository import AttemptRepository
from exam_service.models import Attempt, Role
from exam_service.proctoring import presence
from exam_service.proctoring import service as proctoring_service
from exam_service.proctoring.connection import (
    ChannelState,
    Close,
    Closing,
    Connection,
    run_until_closed,
)
from exam_service.proctoring.handshake import Context, error_frame, open_channel, read_hello
from exam_service.proctoring.ingest import Pending
from exam_service.proctoring.schemas import CandidateFrame, Hello

IN_FLIGHT = 64  # events of one socket waiting for their commit; beyond that the socket is not read


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
        self.highest_stored = 0  # this tab's highest stored event number: anything above is new
        self.in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def serve(self) -> None:
        code, reason = Close.normal, "closed"
        try:
            holder = await open_channel(self, self.ctx)
            if holder.attempt_id is None or holder.user.role is not Role.candidate:
                raise Closing(Close.forbidden, "this ticket is not for a candidate's sitting")
            self.attempt_id, self.candidate_id = str(holder.attempt_id), holder.user.id
            # resends are recognised per browser tab (its X-Client-Session id, kept with the ticket)
            self.client = holder.client_session or f"ws-{uuid.uuid4().hex[:16]}"
            hello = await read_hello(self)
            self.ctx.hub.watch_attempt(self.attempt_id, self)
            await self._welcome(hello)
            self.move(ChannelState.open)
            self.ctx.hub.heartbeat(self.attempt_id, self.window_id)
            code, reason = await run_until_closed(self, self._receive_loop(), self.send_loop())
        except Closing as closing:
            code, reason = closing.code, closing.reason
        finally:
            self.ctx.hub.forget(self)
            await self.close(code, reason)
            if self.window_id:
                _watch_absence(self.ctx, self.attempt_id)

    async def _welcome(self, hello: Hello) -> None:
        async with transaction(self.ctx.sessionmaker) as session:
            attempt = await self._locked(session)
            await delivery_service.enforce_clock(session, attempt, self.ctx.clock)
            window = await delivery_service.window_of(session, attempt)
            self.window_id = str(window.id)
            await presence.record_restored(session, attempt.id, self.ctx.clock)
            self.highest_stored = await events.highest_client_seq(session, attempt.id, self.client)
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
                await self._event(frame)
            else:
                raise Closing(Close.malformed, f"unknown frame type {str(frame['type'])[:40]!r}")

    async def _event(self, frame: dict[str, Any]) -> None:
        """Hands the event to the worker's writer and reads on; the ack follows the commit.

        Reading never waits for the database (a socket that is not read cannot answer pings),
        but at most ``IN_FLIGHT`` events per socket wait for their commit.
        """
        client_seq = frame.get("client_seq")
        try:
            parsed = CandidateFrame.model_validate(frame)
            detail = proctoring_service.check_detail(parsed)
        except ValidationError as exc:
            self.reply(error_frame(exc, client_seq=client_seq))
            return
        assert self.candidate_id is not None
        pending = Pending(
            uuid.UUID(self.attempt_id),
            self.candidate_id,
            parsed,
            detail,
            self.client,
            check_duplicate=parsed.client_seq <= self.highest_stored,
        )
        await self.in_flight.acquire()
        self.ctx.ingest.put(pending).add_done_callback(lambda done: self._answer(done, parsed))

    def _answer(self, done: asyncio.Future[int | None], frame: CandidateFrame) -> None:
        self.in_flight.release()
        if done.cancelled():
            return
        error = done.exception()
        if isinstance(error, ExamServiceError):
            self.reply(error_frame(error, client_seq=frame.client_seq))
        elif error is not None:  # not stored: the page keeps the event and sends it again after reconnecting
            self.end(Close.server_error, "the event could not be stored; reconnect and send it again")
        elif (stored := done.result()) is None:
            detail = "the sitting has ended"
            self.reply({"type": "error", "error": "conflict", "detail": detail, "client_seq": frame.client_seq})
        else:
            self.highest_stored = max(self.highest_stored, frame.client_seq)
            self.reply({"type": "ack", "client_seq": frame.client_seq, "seq": stored})


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
