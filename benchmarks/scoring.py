"""How long scoring takes on the shipped Foundation blueprint: per sitting, a key correction, item analysis.

    .venv/bin/python -m benchmarks.scoring [--sittings 300] [--database-url URL]

Seeds N submitted Foundation sittings on a fresh SQLite file (or the database given) through the
service layer: each candidate answers every theory item, right with a probability drawn per
candidate, and the grader's result for the task is stored through the grading service's own store
path (no sandbox: this measures scoring). Then it times, in this process:

- scoring each sitting (lock, gather answers, versions, grades, integrity; compute; store);
- verifying each (rescore from stored inputs and compare);
- a key correction on the most common item version (rescoring every sitting that holds it);
- item analysis over all sittings.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from exam_service.bank import service as bank_service
from exam_service.bank.loader import load_path
from exam_service.bank.presentation import to_shown
from exam_service.bank.service import Authorship
from exam_service.core.clock import SystemClock
from exam_service.core.database import create_engine, create_sessionmaker, transaction
from exam_service.core.migrate import upgrade_database
from exam_service.delivery import answers
from exam_service.delivery import service as delivery_service
from exam_service.demo import authored_answer
from exam_service.grading import service as grading_service
from exam_service.grading.engine import TaskGrade
from exam_service.identity.passwords import hash_password
from exam_service.models import Attempt, GradingJob, Role, User
from exam_service.scheduling import service as scheduling_service
from exam_service.scheduling.schemas import WindowCreate
from exam_service.scoring import analysis, key_corrections
from exam_service.scoring import service as scoring_service
from exam_service.scoring.scorer import Scorer


async def seed(url: str, sittings: int, rng: random.Random) -> list[uuid.UUID]:
    clock = SystemClock()
    sessions = create_sessionmaker(create_engine(url))
    loaded = load_path(Path("question_bank"))
    password = hash_password("benchmark password 123")
    async with transaction(sessions) as session:
        await bank_service.import_content(
            session, [s.item for s in loaded.items], loaded.blueprints, Authorship("bench", "bench"), clock
        )
        admin = User(
            email="admin@bench.org", full_name="Admin", role=Role.admin, password_hash=password, created_at=clock.now()
        )
        session.add(admin)
        await session.flush()
        now = clock.now()
        window = await scheduling_service.create_window(
            session,
            admin,
            WindowCreate(
                title="Scoring benchmark",
                blueprint="mlocp-foundation",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=1),
                proctored=False,
            ),
            clock,
        )
        window_id, admin_id = window.id, admin.id
    attempts = []
    for n in range(sittings):
        async with transaction(sessions) as session:
            person = User(
                email=f"c{n}@bench.org",
                full_name=f"Candidate {n}",
                role=Role.candidate,
                password_hash=password,
                created_at=clock.now(),
            )
            session.add(person)
            await session.flush()
            window = await scheduling_service.get_window(session, window_id)
            admin = await session.get(User, admin_id)
            assert admin is not None
            attempt = await delivery_service.register(session, window, person, admin, clock)
            await delivery_service.check_in(session, attempt, person, clock)
            await delivery_service.start(session, attempt, person, clock)
            ability = rng.uniform(0.4, 0.95)
            assert attempt.form_id is not None
            for row, version in await bank_service.form_items(session, attempt.form_id):
                if version.payload["type"] == "performance_task":
                    value: Any = dict.fromkeys(version.payload["answer_files"], "submitted\n")
                else:
                    value = to_shown(
                        version.payload,
                        row.presentation,
                        authored_answer(version.payload, right=rng.random() < ability),
                    )
                await answers.save(
                    session,
                    attempt,
                    row.position,
                    revision=1,
                    value=value,
                    time_spent_seconds=30,
                    client_session=None,
                    clock=clock,
                )
            await delivery_service.submit(session, attempt, person, clock)
            attempts.append(attempt.id)
        async with transaction(sessions) as session:
            jobs = await grading_service.jobs_of(session, attempts[-1])
        for job in jobs:
            await _grade(sessions, job, rng, clock)
    return attempts


async def _grade(sessions: Any, job: GradingJob, rng: random.Random, clock: SystemClock) -> None:
    """Claimed and stored in two transactions, as a grading worker does around the sandbox run."""
    async with transaction(sessions) as session:
        claim = await grading_service.claim(session, job.id, "bench", clock.now(), 3, timedelta(seconds=60))
    assert claim is not None
    async with transaction(sessions) as session:
        await grading_service.finish(session, claim, TaskGrade(float(rng.randint(0, 4)), 4.0), "bench", clock.now())


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (
        f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {ordered[int(len(ordered) * 0.95)] * 1000:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms"
    )


async def measure(url: str, attempts: list[uuid.UUID]) -> None:
    clock = SystemClock()
    sessions = create_sessionmaker(create_engine(url))
    scored, verified = [], []
    for attempt_id in attempts:
        started = time.perf_counter()
        async with transaction(sessions) as session:
            await scoring_service.score_by_id(session, attempt_id, clock)
        scored.append(time.perf_counter() - started)
    for attempt_id in attempts:
        started = time.perf_counter()
        async with transaction(sessions) as session:
            attempt = await session.get(Attempt, attempt_id)
            assert attempt is not None
            assert await scoring_service.verify(session, attempt, clock) == []
        verified.append(time.perf_counter() - started)
    print(f"score one sitting ({len(attempts)}): {_ms(scored)}")
    print(f"rescore and compare one sitting: {_ms(verified)}")
    async with transaction(sessions) as session:
        result = await scoring_service.get_result(session, attempts[0])
        blueprint_version = result.blueprint_version_id
        counts: dict[str, int] = {}
        for attempt_id in attempts:
            for item in (await scoring_service.get_result(session, attempt_id)).items:
                counts[item["version_id"]] = counts.get(item["version_id"], 0) + 1
        target = max(counts, key=lambda v: counts[v])
        examiner = User(
            email="examiner@bench.org",
            full_name="Examiner",
            role=Role.examiner,
            password_hash="!",  # no password opens this account
            created_at=clock.now(),
        )
        session.add(examiner)
        await session.flush()
        version = await bank_service.version_by_id(session, uuid.UUID(target))
        started = time.perf_counter()
        row = await key_corrections.correct_key(
            session,
            version.id,
            "accept_answer",
            authored_answer(version.payload, right=False),
            "benchmark",
            examiner,
            clock,
        )
        correction_id = row.id
    recorded = time.perf_counter() - started
    scorer = Scorer(sessions, clock, interval=0)
    while await scorer.sweep():  # what each server's background scorer does
        pass
    settled = time.perf_counter() - started
    async with transaction(sessions) as session:
        done = await key_corrections.get(session, correction_id)
    print(
        f"key correction on {version.item_id} v{version.version} ({done.affected} sittings hold it, "
        f"{len(done.report)} changed): recorded in {recorded * 1000:.0f} ms, all rescored and reported in "
        f"{settled * 1000:.0f} ms"
    )
    async with transaction(sessions) as session:
        started = time.perf_counter()
        document = await analysis.analyse(session, blueprint_version)
        took = time.perf_counter() - started
    figures = document["test"]
    print(
        f"{figures['candidates']} of {len(attempts)} results complete; the others wait for an examiner's mark "
        "on a manually marked answer"
    )
    print(
        f"item analysis over {figures['candidates']} sittings and {len(document['items'])} item versions: "
        f"{took * 1000:.0f} ms (reliability {_figure(figures['reliability'])} by {figures['method']}, "
        f"SEM {_figure(figures['sem'])} percentage points)"
    )


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sittings", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/scoring.db"
    asyncio.run(upgrade_database(url))
    started = time.perf_counter()
    attempts = asyncio.run(seed(url, args.sittings, random.Random(args.seed)))
    print(f"seeded {len(attempts)} submitted sittings in {time.perf_counter() - started:.0f} s")
    asyncio.run(measure(url, attempts))


if __name__ == "__main__":
    main()
