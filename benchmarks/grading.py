"""Grading throughput: submissions of every MLOCP task, graded in the real sandbox.

Each submission is a task's reference, alternative or weak solution from
``question_bank/solutions``; all of the task's checks run, each in its own bubblewrap sandbox,
at most ``--concurrency`` sandboxes at once (default: one per CPU, as a worker runs them). Two
runs: a burst (every submission arrives at once: the sustained rate) and a paced one at
``--rate`` submissions per minute (latency when the worker keeps up). Latency is arrival to
stored verdict of the whole submission. The job's own database work (a claim and a store, two
small transactions) is not included.

    .venv/bin/python -m benchmarks.grading                 # 120 submissions, then 60/min for 60 s
    .venv/bin/python -m benchmarks.grading --count 240 --rate 90
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from exam_service.bank.authoring import PerformanceTask
from exam_service.grading import engine
from exam_service.grading.sandbox import Report, Sandbox

BANK = Path(__file__).resolve().parents[1] / "question_bank"
VARIANTS = ("reference", "alternative", "weak")


class GatedSandbox(Sandbox):
    """The worker's limit: at most ``gate`` sandboxes at once across all submissions."""

    async def run(self, *args: Any, **kwargs: Any) -> Report:
        async with GATE[0]:
            return await super().run(*args, **kwargs)


GATE: list[asyncio.Semaphore] = []


def submissions() -> list[tuple[PerformanceTask, dict[str, str]]]:
    found = []
    for task_dir in sorted((BANK / "solutions").glob("*")):
        task = engine.load_task(BANK / "mlocp", task_dir.name)
        for variant in VARIANTS:
            folder = task_dir / variant
            if folder.is_dir():
                answer = {n: (folder / n).read_text() for n in task.answer_files if (folder / n).is_file()}
                found.append((task, answer))
    if not found:
        raise SystemExit("no worked solutions under question_bank/solutions")
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(pool: list[tuple[PerformanceTask, dict[str, str]]], count: int, rate: float, sandbox: Sandbox) -> None:
    rng = random.Random(7)
    chosen = [rng.choice(pool) for _ in range(count)]
    latencies: list[float] = []
    checks = 0
    started = time.perf_counter()

    async def one(index: int, task: PerformanceTask, answer: dict[str, str]) -> None:
        nonlocal checks
        if rate:
            await asyncio.sleep(max(0.0, started + index * 60.0 / rate - time.perf_counter()))
        arrived = time.perf_counter()
        grade = await engine.grade_task(task, answer, sandbox, concurrency=len(task.grader.checks))
        latencies.append(time.perf_counter() - arrived)
        checks += len(grade.checks)

    await asyncio.gather(*(one(i, task, answer) for i, (task, answer) in enumerate(chosen)))
    elapsed = time.perf_counter() - started
    mode = f"paced at {rate:g}/min" if rate else "burst (all at once)"
    print(
        f"{mode:>22}: {count} submissions ({checks} checks) in {elapsed:.1f} s = "
        f"{count / elapsed * 60:.0f} submissions/min; latency p50 {percentile(latencies, 0.5):.2f} s, "
        f"p95 {percentile(latencies, 0.95):.2f} s, p99 {percentile(latencies, 0.99):.2f} s, "
        f"mean {statistics.mean(latencies):.2f} s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=120, help="submissions in the burst run")
    parser.add_argument("--rate", type=float, default=60, help="submissions per minute in the paced run (0: skip)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the paced run")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1, help="sandboxes at once")
    args = parser.parse_args()
    sandbox = GatedSandbox()
    GATE.append(asyncio.Semaphore(args.concurrency))
    pool = submissions()
    tasks = len({task.id for task, _ in pool})
    print(f"{len(pool)} solutions of {tasks} tasks; {args.concurrency} sandboxes at once; {os.cpu_count()} CPUs")
    await run(pool, args.count, 0, sandbox)
    if args.rate:
        await run(pool, max(1, round(args.rate * args.seconds / 60)), args.rate, sandbox)


if __name__ == "__main__":
    asyncio.run(main())
