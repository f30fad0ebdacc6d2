"""``exam-service bank ...``: validate, import, export and count the bank's content."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import DOMAINS, TIER_ORDER, Blueprint, Item, Retirement, Tier
from exam_service.bank.loader import load_path
from exam_service.core.clock import SystemClock
from exam_service.core.database import run_in_transaction
from exam_service.core.errors import ExamServiceError
from exam_service.core.settings import Settings, get_settings

app = typer.Typer(help="The question bank.", no_args_is_help=True)
console = Console()


class Format(StrEnum):
    yaml = "yaml"
    qti3 = "qti3"


def _fail(lines: list[str]) -> None:
    for line in lines:
        console.print(f"[red]{line}", highlight=False)
    console.print(f"[red]{len(lines)} error(s); nothing was imported")
    raise typer.Exit(1)


@app.command()
def validate(path: Annotated[Path, typer.Argument(help="A file or folder of authoring YAML.")]) -> None:
    """Check every file; report each error as file:line: field: message."""
    result = load_path(path)
    if result.errors:
        for error in result.errors:
            console.print(str(error), highlight=False, markup=False)
        console.print(f"[red]{len(result.errors)} error(s)")
        raise typer.Exit(1)
    console.print(f"[green]ok[/]: {len(result.items)} items, {len(result.blueprints)} blueprints")


def _publish(
    settings: Settings,
    items: list[Item] | Callable[[AsyncSession], Awaitable[list[Item]]],
    blueprints: list[Blueprint],
    author: str,
    note: str,
    retired: Sequence[Retirement] = (),
) -> None:
    """Publishes ``items`` (or the items ``items(session)`` reads in the same transaction)."""
    by = bank_service.Authorship(author, note)

    async def work(session: AsyncSession) -> bank_service.ImportReport:
        chosen = items if isinstance(items, list) else await items(session)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("publishing", total=len(chosen) + len(blueprints))
            return await bank_service.import_content(
                session, chosen, blueprints, by, SystemClock(), lambda _id: progress.advance(task), retired
            )

    try:
        report = asyncio.run(run_in_transaction(settings.database_url, work))
    except ExamServiceError as exc:
        _fail(exc.extra.get("errors") or [exc.detail])
        return
    console.print(
        f"published {len(report.created)} new items, {len(report.new_versions)} new versions, "
        f"{len(report.blueprints_published)} blueprints; {len(report.unchanged)} items and "
        f"{len(report.blueprints_unchanged)} blueprints unchanged; {len(report.retired)} items retired"
    )


def import_yaml(path: Path, *, author: str, note: str, settings: Settings) -> None:
    result = load_path(path)
    if result.errors:
        _fail([str(e) for e in result.errors])
    _publish(settings, [s.item for s in result.items], result.blueprints, author, note, result.retired)


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="Authoring YAML (file or folder), or a QTI 3 folder or zip.")],
    format: Annotated[Format, typer.Option("--format", help="yaml or qti3.")] = Format.yaml,
    author: Annotated[str, typer.Option(help="Recorded on every new version.")] = "bank import",
    note: Annotated[str | None, typer.Option(help="Change note for new versions.")] = None,
    tier: Annotated[Tier | None, typer.Option(help="qti3: tier for items without our metadata.")] = None,
    domain: Annotated[str | None, typer.Option(help="qti3: domain for items without our metadata.")] = None,
    track: Annotated[list[str] | None, typer.Option(help="qti3: track tag(s) for such items.")] = None,
) -> None:
    """Publish new and changed items, all or nothing; unchanged items publish nothing."""
    settings = get_settings()
    note = note or f"import from {path}"
    if format is Format.yaml:
        import_yaml(path, author=author, note=note, settings=settings)
        return
    from exam_service.bank import qti

    async def imported(session: AsyncSession) -> list[Item]:
        # ids for other tools' items come from the database, in the transaction that publishes them
        return await qti.import_for_bank(session, path, default_tier=tier, default_domain=domain, default_tracks=track)

    _publish(settings, imported, [], author, note)


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="Folder to write the QTI 3 package into.")],
    format: Annotated[Format, typer.Option("--format")] = Format.qti3,
    source: Annotated[Path, typer.Option(help="Authoring YAML to export.")] = Path("question_bank"),
) -> None:
    """Export the theory items as a QTI 3.0 package (items QTI cannot express are listed)."""
    if format is not Format.qti3:
        console.print("[red]only --format qti3 is supported for export")
        raise typer.Exit(2)
    from exam_service.bank import qti

    result = load_path(source)
    if result.errors:
        _fail([str(e) for e in result.errors])
    report = qti.export_package([s.item for s in result.items], out)
    for item_id, reason in report.skipped:
        console.print(f"[yellow]skipped {item_id}: {reason}", highlight=False)
    console.print(f"wrote {len(report.written)} items to {out}")


@app.command()
def stats(path: Annotated[Path, typer.Argument()] = Path("question_bank")) -> None:
    """Item counts per tier, domain and type."""
    result = load_path(path)
    if result.errors:
        _fail([str(e) for e in result.errors])
    by_domain = Counter((s.item.tier, s.item.domain, s.item.type == "performance_task") for s in result.items)
    table = Table(title=f"Question bank: {len(result.items)} items")
    for column in ("tier", "domain", "theory", "tasks"):
        table.add_column(column, justify="left" if column in ("tier", "domain") else "right")
    for tier in TIER_ORDER:
        for domain in DOMAINS[tier]:
            table.add_row(
                tier.value, domain, str(by_domain[(tier, domain, False)]), str(by_domain[(tier, domain, True)])
            )
        theory = sum(by_domain[(tier, d, False)] for d in DOMAINS[tier])
        tasks = sum(by_domain[(tier, d, True)] for d in DOMAINS[tier])
        table.add_row(f"[bold]{tier.value}", "[bold]all", f"[bold]{theory}", f"[bold]{tasks}", end_section=True)
    console.print(table)
    types = Counter(s.item.type for s in result.items)
    console.print("by type: " + ", ".join(f"{t} {n}" for t, n in sorted(types.items())))


@app.command()
def lint(
    path: Annotated[Path, typer.Argument(help="Authoring YAML (file or folder).")] = Path("question_bank"),
    published: Annotated[bool, typer.Option("--published", help="Lint the published bank instead of files.")] = False,
    details: Annotated[bool, typer.Option("--details", help="List every offending item.")] = False,
) -> None:
    """Measure the item-writing cues a test-wise candidate could use; fail past the thresholds."""
    from exam_service.bank.lint import lint as run_lint

    if published:
        settings = get_settings()
        items, blueprints = asyncio.run(run_in_transaction(settings.database_url, bank_service.published_bank))
        where = "the published bank"
    else:
        result = load_path(path)
        if result.errors:
            _fail([str(e) for e in result.errors])
        items, blueprints, where = [s.item for s in result.items], result.blueprints, str(path)
    report = run_lint(items, blueprints)
    counts = ", ".join(f"{t} {n}" for t, n in sorted(report.counts.items()))
    table = Table(title=f"Item-writing lint of {where}: {sum(report.counts.values())} items ({counts})")
    for column in ("rule", "figure", "threshold", ""):
        table.add_column(column, overflow="fold")
    for rule in report.rules:
        shown = rule.offenders if details else rule.offenders[:8]
        more = f" (+{len(rule.offenders) - len(shown)} more)" if len(shown) < len(rule.offenders) else ""
        figure = rule.figure + (f"\n{', '.join(shown)}{more}" if shown and not rule.ok else "")
        table.add_row(rule.name, figure, rule.threshold, "[green]ok" if rule.ok else "[red]FAIL")
    console.print(table, highlight=False)
    if not report.ok:
        console.print(f"[red]{sum(not r.ok for r in report.rules)} rule(s) past their threshold", highlight=False)
        raise typer.Exit(1)
    console.print("[green]lint ok", highlight=False)


@app.command()
def grade(
    task_id: Annotated[str, typer.Argument(help="The performance task, e.g. F-TASK-001.")],
    path: Annotated[Path, typer.Argument(help="A folder holding the answer files.")],
    bank: Annotated[Path, typer.Option(help="The authoring files the task is read from.")] = Path("question_bank"),
    check: Annotated[list[str] | None, typer.Option(help="Grade only these check ids.")] = None,
) -> None:
    """Grade a folder of files against a task's checks, in the same sandbox as candidates' answers."""
    from exam_service.grading import engine

    try:
        task = engine.load_task(bank, task_id)
    except engine.TaskNotFound as exc:
        console.print(f"[red]{exc}", highlight=False)
        raise typer.Exit(1) from exc
    answer = {
        name: (path / name).read_text(encoding="utf-8", errors="surrogateescape")
        for name in task.answer_files
        if (path / name).is_file()
    }
    settings = get_settings()
    result = asyncio.run(
        engine.grade_task(
            task, answer, engine.sandbox_for(settings), only=check, concurrency=engine.concurrency_for(settings)
        )
    )
    table = Table(title=f"{task_id}: {result.points:g} / {result.max_points:g} points ({result.isolation})")
    for column in ("check", "points", "time", "feedback"):
        table.add_column(column, overflow="fold")
    for outcome in result.checks:
        mark = "[green]pass" if outcome.passed else ("[yellow]part" if outcome.points else "[red]fail")
        feedback = "; ".join(outcome.feedback) or outcome.message
        table.add_row(
            f"{mark}[/] {outcome.id}",
            f"{outcome.points:g}/{outcome.max_points:g}",
            f"{outcome.duration_ms} ms",
            feedback,
        )
    console.print(table)
    missing = [name for name in task.answer_files if name not in answer]
    if missing:
        console.print(f"[yellow]not found in {path}: {', '.join(missing)}", highlight=False)
