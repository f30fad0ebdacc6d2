"""The application factory. Engines, broker and clock are built in the lifespan, not at import."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from exam_service.bank.endpoints import router as bank_router
from exam_service.core.boundary import InputBoundaryMiddleware
from exam_service.core.broker import Announcer, Broker, create_broker
from exam_service.core.clock import Clock, SystemClock
from exam_service.core.database import create_engine, create_read_sessionmaker, create_sessionmaker
from exam_service.core.handlers import install_error_handlers
from exam_service.core.logging import configure_logging
from exam_service.core.middleware import (
    BodyLimitMiddleware,
    Metrics,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from exam_service.core.openapi import install_openapi
from exam_service.core.paths import project_root
from exam_service.core.settings import Settings, get_settings
from exam_service.core.tokens import TokenCodec
from exam_service.credentials.endpoints import issuer_router as credentials_issuer_router
from exam_service.credentials.endpoints import router as credentials_router
from exam_service.credentials.keys import CredentialSigner
from exam_service.credentials.pages import router as credentials_pages_router
from exam_service.delivery.autosave import SaveWriter
from exam_service.delivery.endpoints import router as delivery_router
from exam_service.delivery.forms import PinnedForms
from exam_service.delivery.sweeper import run_sweeper
from exam_service.grading import queue as grading_queue
from exam_service.grading.endpoints import router as grading_router
from exam_service.identity.endpoints import router as identity_router
from exam_service.identity.sessions import REVOCATIONS, SignIns
from exam_service.ops.endpoints import router as ops_router
from exam_service.proctoring.channels import router as channels_router
from exam_service.proctoring.endpoints import router as proctoring_router
from exam_service.proctoring.hub import Hub
from exam_service.proctoring.ingest import Ingest
from exam_service.proctoring.snapshots import LocalStorage
from exam_service.scheduling.endpoints import router as scheduling_router
from exam_service.scoring import scorer as scoring_scorer
from exam_service.scoring.endpoints import router as scoring_router
from exam_service.web.api_docs import router as api_docs_router
from exam_service.web.endpoints import router as web_router

ROUTERS = (
    ops_router,
    identity_router,
    bank_router,
    scheduling_router,
    delivery_router,
    grading_router,
    scoring_router,
    proctoring_router,
    channels_router,
    credentials_router,
    credentials_issuer_router,
    credentials_pages_router,
    web_router,
    api_docs_router,
)


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, broker: Broker | None = None
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, echo=settings.database_echo)
        app.state.engine = engine
        app.state.broker = broker or create_broker(settings.redis_url)
        app.state.announcer = Announcer(app.state.broker)
        app.state.sessionmaker = create_sessionmaker(engine, app.state.announcer)
        # reads of the hot pages: on SQLite a second engine whose sessions never wait for the write lock
        read_engine = create_engine(settings.database_url, readonly=True) if engine.dialect.name == "sqlite" else engine
        app.state.read_sessionmaker = create_read_sessionmaker(read_engine)
        app.state.hub = Hub(app.state.broker, settings.presence_interval_seconds)
        await app.state.hub.start()
        app.state.ingest = Ingest(app.state.sessionmaker, app.state.clock)
        app.state.ingest.start()
        app.state.sign_ins = SignIns()
        app.state.announcer.on(REVOCATIONS, app.state.sign_ins.forget)  # this worker forgets at once
        await app.state.sign_ins.start(app.state.broker)
        app.state.saves = SaveWriter(app.state.sessionmaker, app.state.clock, PinnedForms())
        app.state.saves.start()
        # what exists now lives as long as the process: keep it out of every full collection,
        # whose pauses grow with the number of open sockets
        gc.collect()
        gc.freeze()
        sweeper = None
        if settings.sweep_interval_seconds > 0:
            sweeper = asyncio.create_task(
                run_sweeper(app.state.sessionmaker, app.state.clock, settings.sweep_interval_seconds)
            )
        grading_context = grading_queue.context_for(settings, app.state.sessionmaker, app.state.clock)
        try:
            async with (
                grading_queue.dispatching(settings, grading_context, app.state.broker) as pool,
                scoring_scorer.scoring(
                    app.state.sessionmaker, app.state.clock, app.state.broker, settings.scoring_interval_seconds
                ),
            ):
                app.state.grading_pool = pool
                yield
        finally:
            await app.state.saves.stop()
            await app.state.sign_ins.stop()
            await app.state.ingest.stop()
            await app.state.hub.stop()
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            if broker is None:
                await app.state.broker.close()
            if read_engine is not engine:
                await read_engine.dispose()
            await engine.dispose()

    app = FastAPI(
        title="MLOCP exam service",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.token_codec = TokenCodec.from_settings(settings)
    app.state.credential_signer = CredentialSigner.from_settings(settings)
    app.state.metrics = Metrics(CollectorRegistry())
    app.state.snapshot_storage = LocalStorage(Path(settings.snapshot_dir))
    install_error_handlers(app)
    install_openapi(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=project_root() / "frontend" / "static"), name="static")
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-Client-Session"],
        )
    # outermost last: request id and log, then security headers, the body cap, the input boundary
    app.add_middleware(InputBoundaryMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=settings.hsts_seconds)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app


def app_factory() -> FastAPI:
    """Entry point for ``uvicorn --factory exam_service.main:app_factory``."""
    settings = get_settings()
    configure_logging(settings.log_level, as_json=settings.log_json)
    gc.set_threshold(50_000, 20, 20)  # thousands of open sockets make each collection long: collect less often
    return create_app(settings)
