"""Sign-in sessions a worker has already checked, so a hot route needs no database read per request.

The first request of a sign-in on a worker reads the session and its user, as every route does;
what it finds (user, role, end of the session) is kept here. Later requests of that sign-in on
that worker are answered from memory: the token's signature and lifetime are checked as always,
and the entry is trusted for at most ``ttl_seconds``.

Ending a session travels through the broker: sign-out, an administrator ending a user's
sessions and a reused refresh token publish on ``REVOCATIONS`` after their commit, and every
worker drops what it knew. A worker whose broker subscription breaks forgets everything when it
subscribes again, since it may have missed a revocation meanwhile; ``ttl_seconds`` bounds the
time a missed one could go unnoticed while the broker is down. A read that began before a
revocation arrived is not remembered, so a revoked session cannot come back from a slow read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.broker import Broker
from exam_service.core.database import publish_after_commit
from exam_service.models import Role

logger = logging.getLogger("exam_service.sessions")
REVOCATIONS = "revocations"


@dataclass(frozen=True)
class KnownSignIn:
    user_id: uuid.UUID
    role: Role
    expires_at: datetime  # the sign-in session's own end
    checked_at: float  # monotonic


def announce_session_ended(session: AsyncSession, session_id: uuid.UUID) -> None:
    publish_after_commit(session, REVOCATIONS, {"session_id": session_id.hex})


def announce_user_signed_out(session: AsyncSession, user_id: uuid.UUID) -> None:
    publish_after_commit(session, REVOCATIONS, {"user_id": str(user_id)})


class SignIns:
    """Per-worker memory of checked sign-in sessions, bounded and least recently used first out."""

    def __init__(
        self, ttl_seconds: float = 30.0, max_entries: int = 200_000, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_seconds, self.max_entries, self._monotonic = ttl_seconds, max_entries, monotonic
        self._known: OrderedDict[str, KnownSignIn] = OrderedDict()
        self._by_user: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
        self.generation = 0  # grows with every revocation this worker hears of
        self._task: asyncio.Task[None] | None = None
        self.hits = self.misses = 0

    def lookup(self, session_id: str) -> KnownSignIn | None:
        known = self._known.get(session_id)
        if known is None or self._monotonic() - known.checked_at > self.ttl_seconds:
            self.misses += 1
            return None
        self.hits += 1
        return known

    def remember(self, session_id: str, user_id: uuid.UUID, role: Role, expires_at: datetime, generation: int) -> None:
        """Keeps a sign-in read from the database, unless a revocation arrived since the read began."""
        if generation != self.generation:
            return
        self._known[session_id] = KnownSignIn(user_id, role, expires_at, self._monotonic())
        self._known.move_to_end(session_id)
        self._by_user[user_id].add(session_id)
        while len(self._known) > self.max_entries:
            oldest, known = self._known.popitem(last=False)
            self._discard_index(known.user_id, oldest)

    def forget(self, message: dict[str, Any]) -> None:
        self.generation += 1
        if "session_id" in message:
            known = self._known.pop(str(message["session_id"]), None)
            if known is not None:
                self._discard_index(known.user_id, str(message["session_id"]))
        if "user_id" in message:
            for session_id in self._by_user.pop(uuid.UUID(str(message["user_id"])), set()):
                self._known.pop(session_id, None)

    def forget_all(self) -> None:
        self.generation += 1
        self._known.clear()
        self._by_user.clear()

    def _discard_index(self, user_id: uuid.UUID, session_id: str) -> None:
        sessions = self._by_user.get(user_id)
        if sessions is not None:
            sessions.discard(session_id)
            if not sessions:
                del self._by_user[user_id]

    # ---- running ---------------------------------------------------------------------------

    async def start(self, broker: Broker) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(broker, ready))
        with contextlib.suppress(TimeoutError):  # a broker still coming up: nothing is remembered until it is
            await asyncio.wait_for(ready.wait(), 5)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self, broker: Broker, ready: asyncio.Event) -> None:
        delay = 0.5
        while True:
            try:
                async with broker.subscribe(REVOCATIONS) as messages:
                    self.forget_all()  # what was missed while not subscribed is unknown
                    ready.set()
                    delay = 0.5
                    async for message in messages:
                        self.forget(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.forget_all()
                logger.exception("revocation subscription lost; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
