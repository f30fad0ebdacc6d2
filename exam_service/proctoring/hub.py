"""Each worker's fan-out: one broker subscription, delivered to the sockets this worker holds.

Every committed log entry is published once on the broker (``core.broker.LIVE_CHANNEL``); each
worker's hub receives it and hands it to the candidate socket of that sitting and to the
proctor sockets watching its window. A socket's queue is bounded: a slow socket is cut off
(it resumes by sequence number) and never delays anyone else.

Presence stays in memory: a candidate's heartbeat only stamps the time on this worker; every
few seconds each worker publishes who it has seen, so every worker's proctors see every
candidate. Missed heartbeats become ``connection_lost`` entries (see ``proctoring.presence``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from exam_service.core.broker import LIVE_CHANNEL, Broker

logger = logging.getLogger("exam_service.hub")
PRESENCE_CHANNEL = "sitting-presence"


class Subscriber(Protocol):
    def offer(self, message: dict[str, Any]) -> None: ...

    def revoke(self, window_id: str, user_id: str) -> None: ...


class Hub:
    def __init__(self, broker: Broker, presence_interval: float) -> None:
        self.broker = broker
        self.presence_interval = presence_interval
        self.worker = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._by_attempt: dict[str, set[Subscriber]] = defaultdict(set)
        self._by_window: dict[str, set[Subscriber]] = defaultdict(set)
        self._watched: dict[Subscriber, list[tuple[dict[str, set[Subscriber]], str]]] = {}
        # attempt id -> (window id, wall-clock time of the last heartbeat), from every worker
        self.presence: dict[str, tuple[str, float]] = {}
        # heartbeats seen here since the last round: only they are shared with the other workers
        self.fresh_heartbeats: dict[str, tuple[str, float]] = {}
        self._rounds = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()
        self.on_presence_tick: list[Callable[[], Awaitable[None]]] = []

    # ---- subscriptions ---------------------------------------------------------------------

    def watch_attempt(self, attempt_id: str, subscriber: Subscriber) -> None:
        self._by_attempt[attempt_id].add(subscriber)
        self._watched.setdefault(subscriber, []).append((self._by_attempt, attempt_id))

    def watch_windows(self, window_ids: list[str], subscriber: Subscriber) -> None:
        for window_id in window_ids:
            self._by_window[window_id].add(subscriber)
            self._watched.setdefault(subscriber, []).append((self._by_window, window_id))

    def unwatch_window(self, window_id: str, subscriber: Subscriber) -> None:
        self._drop(self._by_window, window_id, subscriber)

    def forget(self, subscriber: Subscriber) -> None:
        for table, key in self._watched.pop(subscriber, []):
            self._drop(table, key, subscriber)

    @staticmethod
    def _drop(table: dict[str, set[Subscriber]], key: str, subscriber: Subscriber) -> None:
        subscribers = table.get(key)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del table[key]

    def watching(self, attempt_id: str) -> bool:
        return bool(self._by_attempt.get(attempt_id))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Runs ``work`` in the background, held until done (and cancelled when the hub stops)."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") == "unassigned":
            for subscriber in list(self._by_window.get(message["window_id"], ())):
                subscriber.revoke(message["window_id"], message["user_id"])
            return
        for subscriber in list(self._by_attempt.get(message.get("attempt_id", ""), ())):
            subscriber.offer(message)
        for subscriber in list(self._by_window.get(message.get("window_id", ""), ())):
            subscriber.offer(message)

    # ---- presence --------------------------------------------------------------------------

    def heartbeat(self, attempt_id: str, window_id: str) -> None:
        now = time.time()
        self.fresh_heartbeats[attempt_id] = (window_id, now)
        self.presence[attempt_id] = (window_id, now)

    def last_heartbeat(self, attempt_id: str) -> float | None:
        seen = self.presence.get(attempt_id)
        return seen[1] if seen else None

    def _merge(self, message: dict[str, Any]) -> None:
        if message.get("worker") == self.worker:
            return  # this worker's own heartbeats are already in ``presence``
        for attempt_id, (window_id, at) in message.get("sittings", {}).items():
            known = self.presence.get(attempt_id)
            if known is None or known[1] < at:
                self.presence[attempt_id] = (window_id, at)

    # ---- running ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(LIVE_CHANNEL, self.dispatch)),
            asyncio.create_task(self._listen(PRESENCE_CHANNEL, self._merge)),
            asyncio.create_task(self._share_presence()),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 5)

    async def stop(self) -> None:
        for task in [*self._tasks, *self._background]:
            task.cancel()
        for task in [*self._tasks, *self._background]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _listen(self, channel: str, handle: Callable[[dict[str, Any]], None]) -> None:
        """Stays subscribed: a broken broker connection is retried; missed entries are filled from the log."""
        delay = 0.5
        while True:
            try:
                async with self.broker.subscribe(channel) as messages:
                    if channel == LIVE_CHANNEL:
                        self._ready.set()
                    delay = 0.5
                    async for message in messages:
                        try:
                            handle(message)
                        except Exception:
                            logger.exception("dispatch failed", extra={"channel": channel})
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("broker subscription lost; retrying", extra={"channel": channel})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _share_presence(self) -> None:
        while True:
            await asyncio.sleep(self.presence_interval)
            try:
                self._rounds += 1
                if self._rounds % 120 == 0:  # about every 10 minutes: forget sittings silent for an hour
                    stale = time.time() - 3600
                    self.presence = {k: v for k, v in self.presence.items() if v[1] >= stale}
                fresh, self.fresh_heartbeats = self.fresh_heartbeats, {}
                if fresh and self.broker.spans_processes:  # alone in its process, a worker knows it all
                    await self.broker.publish(PRESENCE_CHANNEL, {"worker": self.worker, "sittings": fresh})
                for tick in self.on_presence_tick:
                    await tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("presence round failed")
