"""Grades one performance-task answer: every check in its own sandbox, judged outside it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exam_service.bank.authoring import CheckLimits, GraderCheck, PerformanceTask
from exam_service.bank.loader import load_path
from exam_service.core.settings import Settings
from exam_service.grading.sandbox import CEILING, Limits, Report, Sandbox, find_cgroups
from exam_service.grading.verdict import Verdict, judge

LOG_CHARS = 4000


def sandbox_for(settings: Settings) -> Sandbox:
    allow = settings.grading_allow_unsandboxed and settings.environment != "production"
    return Sandbox(allow_unsandboxed=allow, cgroups=find_cgroups(settings.grading_cgroup))


def concurrency_for(settings: Settings) -> int:
    return settings.grading_concurrency or os.cpu_count() or 1


class TaskNotFound(LookupError):
    pass


def load_task(bank: Path, task_id: str) -> PerformanceTask:
    """A performance task from authoring files (its own file when named after it, else the whole bank)."""
    candidates = sorted(bank.rglob(f"{task_id}.yaml")) if bank.is_dir() else [bank]
    for source in [*candidates, bank]:
        result = load_path(source)
        if result.errors:
            raise TaskNotFound("; ".join(str(e) for e in result.errors[:5]))
        for sourced in result.items:
            if sourced.item.id == task_id and isinstance(sourced.item, PerformanceTask):
                return sourced.item
    raise TaskNotFound(f"no performance task {task_id} under {bank}")


@dataclass
class CheckOutcome:
    id: str
    message: str
    points: float
    max_points: float
    passed: bool
    feedback: list[str]
    log: str
    duration_ms: int
    sample: bool
    limit: str | None = None
    error: str | None = None  # the check is broken (bank defect): an examiner must look

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class TaskGrade:
    points: float
    max_points: float
    checks: list[CheckOutcome] = field(default_factory=list)
    isolation: str = "bubblewrap"

    @property
    def needs_examiner(self) -> bool:
        return any(c.error for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "max_points": self.max_points,
            "isolation": self.isolation,
            "checks": [c.as_dict() for c in self.checks],
        }


def limits_for(task: PerformanceTask, check: GraderCheck) -> Limits:
    """Defaults, then the task's limits, then the check's, each clamped to the ceiling."""
    chosen = Limits()
    for layer in (task.grader.limits, check.limits):
        if layer is not None:
            chosen = dataclasses.replace(chosen, **_set(layer))
    return Limits(
        **{f.name: min(getattr(chosen, f.name), getattr(CEILING, f.name)) for f in dataclasses.fields(Limits)}
    )


def _set(layer: CheckLimits) -> dict[str, Any]:
    return {k: v for k, v in layer.model_dump().items() if v is not None}


def work_files(task: PerformanceTask, answer: dict[str, str]) -> dict[str, str]:
    """The starter files (the bank's copies), then the candidate's answer files over them."""
    files = {f.path: f.content for f in task.starter_files}
    for name in task.answer_files:
        if isinstance(answer.get(name), str):
            files[name] = answer[name]
        else:
            files.pop(name, None)  # an answer file not submitted is absent, not the starter
    return files


def job_for(check: GraderCheck, probe_helpers: str | None = None) -> dict[str, Any]:
    """What the sandbox is told: the inputs, never the expected values or the judge."""
    job: dict[str, Any] = {"mode": check.kind, "file": check.file, "collect": check.collect}
    if check.kind == "call":
        job["cases"] = [case.model_dump(include={"call", "args", "kwargs", "setup"}) for case in check.cases]
    elif check.kind == "probe":
        job["code"] = f"{probe_helpers}\n{check.code}" if probe_helpers else check.code
    elif check.kind == "document":
        job["format"] = check.format
    elif check.kind == "command":
        job["argv"], job["stdin"] = check.argv, check.stdin
    return job


def _log(report: Report) -> str:
    parts = []
    if report.stderr.strip():
        parts.append(report.stderr.strip()[-LOG_CHARS:])
    if report.stdout.strip():
        parts.append("output: " + report.stdout.strip()[-1000:])
    return "\n".join(parts)[-LOG_CHARS:]


async def grade_check(
    task: PerformanceTask, check: GraderCheck, answer: dict[str, str], sandbox: Sandbox
) -> CheckOutcome:
    support = {f.path: f.content for f in check.support_files}
    if check.file not in answer:  # nothing of the candidate's to run
        report, verdict = Report(isolation="none"), Verdict(0.0, [f"{check.file} was not submitted"])
    else:
        job = job_for(check, task.grader.probe_helpers)
        report = await sandbox.run(job, work_files(task, answer), limits_for(task, check), support)
        verdict = judge(check, report, task.grader.judge_helpers)
    verdict_fraction, feedback, error = verdict.fraction, verdict.feedback, verdict.error
    points = round(check.points * verdict_fraction, 6)
    return CheckOutcome(
        id=check.id,
        message=check.message,
        points=points,
        max_points=check.points,
        passed=verdict_fraction >= 1.0,
        feedback=feedback,
        log=_log(report),
        duration_ms=report.duration_ms,
        sample=check.sample,
        limit=report.limit,
        error=error,
    )


async def grade_task(
    task: PerformanceTask,
    answer: dict[str, str],
    sandbox: Sandbox,
    *,
    only: list[str] | None = None,
    concurrency: int = 2,
) -> TaskGrade:
    """Runs the task's checks (``only``: those ids) at most ``concurrency`` at a time."""
    checks = [c for c in task.grader.checks if only is None or c.id in only]
    gate = asyncio.Semaphore(concurrency)

    async def one(check: GraderCheck) -> CheckOutcome:
        async with gate:
            return await grade_check(task, check, answer, sandbox)

    outcomes = await asyncio.gather(*(one(c) for c in checks))
    return TaskGrade(
        points=round(sum(o.points for o in outcomes), 6),
        max_points=round(sum(c.points for c in checks), 6),
        checks=list(outcomes),
        isolation=sandbox.isolation,
    )


def unanswered(task: PerformanceTask) -> TaskGrade:
    """No files were submitted: every check scores zero, without running anything."""
    outcomes = [
        CheckOutcome(c.id, c.message, 0.0, c.points, False, ["no answer was submitted"], "", 0, c.sample)
        for c in task.grader.checks
    ]
    return TaskGrade(0.0, round(sum(c.points for c in task.grader.checks), 6), outcomes, "none")
