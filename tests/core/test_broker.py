from __future__ import annotations

import asyncio
import uuid

import pytest

from exam_service.core.broker import Broker, InProcessBroker, RedisBroker


async def _round_trip(publisher: Broker, subscriber: Broker) -> None:
    channel = f"test:{uuid.uuid4().hex}"
    async with subscriber.subscribe(channel) as messages:
        await asyncio.sleep(0.05)  # let the subscription settle before publishing
        await publisher.publish(channel, {"kind": "warning", "n": 1})
        await publisher.publish(channel, {"kind": "warning", "n": 2})
        received = [await asyncio.wait_for(anext(messages), 5) for _ in range(2)]
    assert received == [{"kind": "warning", "n": 1}, {"kind": "warning", "n": 2}]


async def test_in_process_broker_fans_out_in_order() -> None:
    broker = InProcessBroker()
    await _round_trip(broker, broker)
    # nobody subscribed: publishing is harmless
    await broker.publish("test:nobody", {"x": 1})


@pytest.mark.integration
async def test_redis_broker_delivers_between_two_connections(redis_url: str) -> None:
    """Two broker objects stand for two uvicorn workers sharing one Redis."""
    worker_a, worker_b = RedisBroker(redis_url), RedisBroker(redis_url)
    try:
        assert await worker_a.ping()
        await _round_trip(worker_a, worker_b)
    finally:
        await worker_a.close()
        await worker_b.close()
