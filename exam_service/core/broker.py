"""Publish/subscribe between server processes: in-process by default, Redis to scale out."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis

Message = dict[str, Any]

# Committed sitting entries and changes of who may watch them travel on one channel, so every
# worker sees them in the order they were committed.
LIVE_CHANNEL = "live"


class Broker(Protocol):
    spans_processes: bool  # whether other processes hear what this one publishes

    async def publish(self, channel: str, message: Message) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Message]]: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class InProcessBroker:
    """Fan-out to subscribers of this process only; enough for one uvicorn worker."""

    spans_processes = False

    def __init__(self, queue_size: int = 100_000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, channel: str, message: Message) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(json.loads(json.dumps(message)))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self._queue_size)
        self._subscribers[channel].add(queue)

        async def messages() -> AsyncIterator[Message]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[channel].discard(queue)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBroker:
    """Redis pub/sub, so every uvicorn worker and host sees every message."""

    spans_processes = True

    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url, decode_responses=True)

    async def publish(self, channel: str, message: Message) -> None:
        await self._redis.publish(channel, json.dumps(message))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)

        async def messages() -> AsyncIterator[Message]:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    yield json.loads(raw["data"])

        try:
            yield messages()
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()


class Announcer:
    """What committed transactions publish through: this process's own handlers at once, then the broker.

    A handler here runs before the request that committed is answered, so the next request of
    the same client cannot overtake it; other processes hear it through the broker.
    """

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._local: dict[str, list[Callable[[Message], None]]] = defaultdict(list)

    def on(self, channel: str, handler: Callable[[Message], None]) -> None:
        self._local[channel].append(handler)

    async def publish(self, channel: str, message: Message) -> None:
        for handler in self._local.get(channel, ()):
            handler(message)
        await self.broker.publish(channel, message)


def create_broker(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else InProcessBroker()
