"""Handing grading jobs to workers: arq on Redis, or a local pool when there is no Redis.

The outbox is the ``grading_jobs`` table. A **dispatcher** (every web process and every worker
runs one) wakes when a submit announces jobs, and every few seconds regardless, and hands over
what is due: pending jobs, queued jobs nobody finished in time, running jobs whose lease passed.

- With Redis, it enqueues ``grade(job_id)`` on arq under the job's own id, so any number of
  dispatchers enqueue a job once; arq workers (``exam-service worker``, on any host) run it. A
  worker killed mid-job leaves the job in arq's queue, which runs it again once the dead
  worker's in-progress mark expires; the lease in the database makes sure only one run stores
  a result.
- Without Redis, the **local pool** runs the same ``run_job`` in the process itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, func

from exam_service.core.broker import Broker, create_broker
from exam_service.core.clock import Clock, SystemClock
from exam_service.core.database import create_engine, create_sessionmaker, transaction
from exam_service.core.settings import Settings
from exam_service.grading import engine as grading_engine
from exam_service.grading import service as grading_service
from exam_service.grading.jobs import GradingContext, run_job, worker_name
from exam_service.grading.sandbox import Sandbox

POLL_SECONDS = 5.0

log = logging.getLogger(__name__)

HandOver = Callable[[list[uuid.UUID]], Awaitable[list[uuid.UUID]]]


class Dispatcher:
    """Hands due jobs over; ``hand_over`` returns the ids it took."""

    def __init__(
        self, context: GradingContext, broker: Broker, hand_over: HandOver, requeue_after: timedelta, *, mark: bool
    ) -> None:
        self.context, self.broker, self.hand_over = context, broker, hand_over
        self.requeue_after, self.mark = requeue_after, mark
        self.wake = asyncio.Event()

    async def tick(self) -> int:
        async with transaction(self.context.sessionmaker) as session:
            due = await grading_service.due(session, self.context.clock.now(), self.requeue_after)
        if not due:
            return 0
        taken = await self.hand_over([job.id for job in due])
        if taken and self.mark:
            async with transaction(self.context.sessionmaker) as session:
                await grading_service.mark_queued(session, taken, self.context.clock.now())
        return len(taken)

    async def run(self, poll_seconds: float = POLL_SECONDS) -> None:
        async with self.broker.subscribe(grading_service.GRADING_CHANNEL) as messages:
            listener = asyncio.create_task(self._listen(messages))
            try:
                while True:
                    try:
                        await self.tick()
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("grading dispatch failed; trying again shortly")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), poll_seconds)
                    self.wake.clear()
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _listen(self, messages: AsyncIterator[dict[str, Any]]) -> None:
        async for message in messages:
            if message.get("pending"):
                self.wake.set()


class LocalPool:
    """Runs jobs in this process; sandboxes run as subprocesses, at most ``concurrency`` at once."""

    def __init__(self, context: GradingContext) -> None:
        self.context = context
        self.running: dict[uuid.UUID, asyncio.Task[str]] = {}

    async def hand_over(self, job_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        room = max(0, self.context.concurrency - len(self.running))
        taken = [job_id for job_id in job_ids if job_id not in self.running][:room]
        for job_id in taken:
            self.running[job_id] = asyncio.create_task(self._run(job_id))
        return taken

    async def _run(self, job_id: uuid.UUID) -> str:
        try:
            return await run_job(self.context, job_id)
        except Exception:
            log.exception("grading job %s failed to run", job_id)
            return "error"
        finally:
            self.running.pop(job_id, None)

    async def drain(self) -> None:
        """Waits for the jobs in hand (tests, burst mode)."""
        while self.running:
            await asyncio.gather(*list(self.running.values()), return_exceptions=True)

    async def close(self) -> None:
        for task in self.running.values():
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)


class ArqHandOver:
    def __init__(self, redis: ArqRedis, queue: str) -> None:
        self.redis, self.queue = redis, queue

    async def __call__(self, job_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        for job_id in job_ids:
            # the job's own id: a second enqueue while arq holds the job is a no-op
            await self.redis.enqueue_job("grade", str(job_id), _job_id=f"grade:{job_id}", _queue_name=self.queue)
        return job_ids


def context_for(settings: Settings, sessionmaker: Any, clock: Clock, sandbox: Sandbox | None = None) -> GradingContext:
    return GradingContext(
        sessionmaker=sessionmaker,
        clock=clock,
        sandbox=sandbox or grading_engine.sandbox_for(settings),
        concurrency=grading_engine.concurrency_for(settings),
        max_tries=settings.grading_max_tries,
        worker=worker_name(),
        lease=timedelta(seconds=settings.grading_lease_seconds),
    )


def dispatch_mode(settings: Settings) -> str:
    if settings.grading_dispatch == "auto":
        return "arq" if settings.redis_url else "local"
    return settings.grading_dispatch


@contextlib.asynccontextmanager
async def dispatching(settings: Settings, context: GradingContext, broker: Broker) -> AsyncIterator[LocalPool | None]:
    """What a web process runs: the local pool (embedded default) or a dispatcher feeding arq."""
    requeue = timedelta(seconds=settings.grading_requeue_seconds)
    pool: LocalPool | None = None
    redis: ArqRedis | None = None
    mode = dispatch_mode(settings)
    if mode == "off":
        yield None
        return
    if mode == "local":
        try:
            _ = context.sandbox.isolation
        except Exception as exc:
            log.error("performance tasks will NOT be graded in this process: %s", exc)
            yield None
            return
        pool = LocalPool(context)
        dispatcher = Dispatcher(context, broker, pool.hand_over, requeue, mark=False)
    else:
        assert settings.redis_url, "grading through arq needs EXAM_REDIS_URL"
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.grading_queue)
        dispatcher = Dispatcher(context, broker, ArqHandOver(redis, settings.grading_queue), requeue, mark=True)
    runner = asyncio.create_task(dispatcher.run())
    try:
        yield pool
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        if pool is not None:
            await pool.close()
        if redis is not None:
            await redis.aclose()


# --- the arq worker ------------------------------------------------------------------------


async def grade(ctx: dict[str, Any], job_id: str) -> str:
    """arq's entry point: the same job code as the local pool."""
    context: GradingContext = ctx["grading"]
    return await run_job(context, uuid.UUID(job_id))


def worker_for(settings: Settings, *, burst: bool = False) -> Worker:
    assert settings.redis_url
    state: dict[str, Any] = {}

    async def startup(ctx: dict[str, Any]) -> None:
        engine = create_engine(settings.database_url)
        broker = create_broker(settings.redis_url)
        context = context_for(settings, create_sessionmaker(engine, broker), SystemClock())
        _ = context.sandbox.isolation  # refuses to start a worker that cannot sandbox
        dispatcher = Dispatcher(
            context,
            broker,
            ArqHandOver(ctx["redis"], settings.grading_queue),
            timedelta(seconds=settings.grading_requeue_seconds),
            mark=True,
        )
        state.update(engine=engine, broker=broker, dispatcher=asyncio.create_task(dispatcher.run()))
        ctx["grading"] = context

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "dispatcher" in state:
            state["dispatcher"].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await state["dispatcher"]
            await state["broker"].close()
            await state["engine"].dispose()

    concurrency = grading_engine.concurrency_for(settings)
    return Worker(
        functions=[
            func(grade, name="grade", keep_result=0, timeout=settings.grading_job_timeout_seconds, max_tries=10)
        ],
        queue_name=settings.grading_queue,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        max_jobs=concurrency,
        burst=burst,
        handle_signals=True,
        poll_delay=0.2,
    )


async def run_local_worker(settings: Settings, *, burst: bool = False) -> None:
    """A worker without Redis: the local pool on the shared database (one host)."""
    engine = create_engine(settings.database_url)
    broker = create_broker(None)
    context = context_for(settings, create_sessionmaker(engine, broker), SystemClock())
    _ = context.sandbox.isolation
    pool = LocalPool(context)
    dispatcher = Dispatcher(
        context, broker, pool.hand_over, timedelta(seconds=settings.grading_requeue_seconds), mark=False
    )
    try:
        if burst:
            while await dispatcher.tick():
                await pool.drain()
        else:
            await dispatcher.run()
    finally:
        await pool.close()
        await engine.dispose()
