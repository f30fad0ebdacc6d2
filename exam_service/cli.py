"""The ``exam-service`` command line."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service import demo as demo_content
from exam_service.bank import commands as bank_commands
from exam_service.core.clock import SystemClock
from exam_service.core.database import run_in_transaction
from exam_service.core.errors import Conflict
from exam_service.core.migrate import upgrade_database
from exam_service.core.settings import Settings, get_settings
from exam_service.delivery import service as delivery_service
from exam_service.identity import service as identity_service
from exam_service.identity.repository import UserRepository
from exam_service.identity.schemas import UserCreate
from exam_service.models import Role
from exam_service.proctoring import snapshots
from exam_service.proctoring.snapshots import LocalStorage
from exam_service.scoring import stats_commands

app = typer.Typer(help="MLOCP remote proctored exam service.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
snapshots_app = typer.Typer(help="Webcam snapshots.", no_args_is_help=True)
app.add_typer(snapshots_app, name="snapshots")
app.add_typer(bank_commands.app, name="bank")
app.add_typer(stats_commands.app, name="stats")
console = Console()

T = TypeVar("T")


def run_with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return asyncio.run(run_in_transaction(settings.database_url, work))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes (use Redis when > 1).")] = 1,
) -> None:
    """Serve the HTTP and WebSocket API."""
    settings = get_settings()
    if workers > 1 and not settings.redis_url:
        console.print("[yellow]Several workers without EXAM_REDIS_URL: live events stay within one worker.")
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # each worker writes its metrics here and /metrics adds them up
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="exam-metrics-")
    uvicorn.run(
        "exam_service.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        # the client's address comes from X-Forwarded-For only behind EXAM_TRUSTED_PROXIES (core/deps.py)
        proxy_headers=False,
        # frames above this are refused by uvicorn itself; the channels refuse smaller ones (1009)
        ws_max_size=max(64 * 1024, settings.ws_max_message_bytes * 2),
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = get_settings()
    asyncio.run(upgrade_database(settings.database_url, revision))
    console.print(f"database at {revision}")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option()],
    full_name: Annotated[str, typer.Option("--name")],
    role: Annotated[Role, typer.Option()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create an account."""
    data = UserCreate(email=email, full_name=full_name, role=role, password=password)
    try:
        user = run_with_session(
            get_settings(), lambda session: identity_service.create_user(session, data, SystemClock())
        )
    except Conflict as exc:
        console.print(f"[red]{exc.detail}")
        raise typer.Exit(1) from exc
    console.print(f"created {user.role.value} {user.email} ({user.id})")


@app.command()
def sweep() -> None:
    """Submit overdue attempts and expire unstarted ones now (the server also does this itself)."""
    counts = run_with_session(get_settings(), lambda session: delivery_service.sweep(session, SystemClock()))
    console.print(f"submitted {counts.get('submitted', 0)}, expired {counts.get('expired', 0)}")


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Grade what is due now, then exit.")] = False,
) -> None:
    """Start a grading worker: arq on EXAM_REDIS_URL, else a local pool on the shared database."""
    import asyncio

    from exam_service.core.logging import configure_logging
    from exam_service.grading import queue as grading_queue
    from exam_service.grading.sandbox import SandboxUnavailable

    settings = get_settings()
    configure_logging(settings.log_level, as_json=settings.log_json)
    try:
        _ = grading_queue.context_for(settings, None, SystemClock()).sandbox.isolation
    except SandboxUnavailable as exc:
        console.print(f"[red]{exc}", highlight=False)
        raise typer.Exit(1) from exc
    if settings.redis_url:
        console.print(f"grading worker on arq ({settings.grading_queue}), {settings.redis_url}", highlight=False)
        grading_queue.worker_for(settings, burst=burst).run()
    else:
        console.print("grading worker with a local pool (no EXAM_REDIS_URL)", highlight=False)
        asyncio.run(grading_queue.run_local_worker(settings, burst=burst))


@snapshots_app.command("purge")
def snapshots_purge() -> None:
    """Delete webcam snapshots older than EXAM_SNAPSHOT_RETENTION_DAYS."""
    settings = get_settings()
    storage = LocalStorage(Path(settings.snapshot_dir))
    removed = run_with_session(
        settings,
        lambda session: snapshots.purge(session, storage, settings.snapshot_retention_days, SystemClock()),
    )
    console.print(f"removed {removed} snapshot(s) older than {settings.snapshot_retention_days} days")


@app.command()
def demo() -> None:
    """Migrate, load the question bank, create demo accounts for every role and print them."""
    settings = get_settings()
    if settings.environment == "production":
        console.print("[red]demo accounts are refused in production")
        raise typer.Exit(1)
    asyncio.run(upgrade_database(settings.database_url))
    _load_demo_content(settings)

    async def ensure_accounts(session: AsyncSession) -> None:
        users = UserRepository(session)
        for email, name, role, password in demo_content.ACCOUNTS:
            if await users.get_by_email(email) is None:
                data = UserCreate(email=email, full_name=name, role=role, password=password)
                await identity_service.create_user(session, data, SystemClock())

    run_with_session(settings, ensure_accounts)
    windows = run_with_session(settings, demo_content.ensure_windows)
    windows += run_with_session(
        settings, lambda session: demo_content.ensure_sitting(session, Path(settings.bank_path))
    )
    table = Table(title="Demo accounts (development only)")
    for column in ("role", "email", "password"):
        table.add_column(column)
    for email, _name, role, password in demo_content.ACCOUNTS:
        table.add_row(role.value, email, password)
    console.print(table)
    for line in windows:
        console.print(line, soft_wrap=True)
    console.print(f"Sign in at {settings.public_base_url} - API docs at {settings.public_base_url}/docs")


def _load_demo_content(settings: Settings) -> None:
    """Loads the bank content the repository ships (see ``bank import``); unchanged items are skipped."""
    path = Path(settings.bank_path)
    if path.exists():
        bank_commands.import_yaml(path, author="demo", note="demo content", settings=settings)


if __name__ == "__main__":
    app()
