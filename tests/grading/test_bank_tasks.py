"""Every MLOCP task's worked solutions, graded in the sandbox as a candidate's answer would be.

``question_bank/solutions/<task>/<variant>/`` holds the answer files and ``expected.yaml``:
reference and alternative solutions score full marks, weak ones partial marks, and each cheat
scores zero on the checks it targets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from exam_service.grading import engine
from exam_service.grading.sandbox import Sandbox

BANK = Path(__file__).resolve().parents[2] / "question_bank"
SOLUTIONS = BANK / "solutions"
TASK_FILES = sorted(BANK.glob("mlocp/*/tasks/*.yaml"))


def _variants() -> list[Any]:
    found = []
    for folder in sorted(p for p in SOLUTIONS.glob("*/*") if p.is_dir()):
        found.append(pytest.param(folder, id=f"{folder.parent.name}/{folder.name}"))
    return found


def test_every_task_has_its_worked_solutions() -> None:
    for task_file in TASK_FILES:
        task_id = task_file.stem
        variants = {p.name for p in (SOLUTIONS / task_id).glob("*") if p.is_dir()}
        assert {"reference", "alternative", "weak"} <= variants, f"{task_id} lacks solutions: {variants}"
        assert len([v for v in variants if v.startswith("cheat-")]) >= 2, f"{task_id} needs at least two cheats"


@pytest.mark.parametrize("folder", _variants())
async def test_solution_scores_as_expected(folder: Path, sandbox: Sandbox) -> None:
    task = engine.load_task(BANK / "mlocp", folder.parent.name)
    expected = yaml.safe_load((folder / "expected.yaml").read_text()) or {}
    answer = {name: (folder / name).read_text() for name in task.answer_files if (folder / name).is_file()}
    grade = await engine.grade_task(task, answer, sandbox, concurrency=2)
    by_id = {c.id: c for c in grade.checks}
    report = "\n".join(f"{c.id}: {c.points}/{c.max_points} {c.feedback} {c.log[-300:]}" for c in grade.checks)
    variant = folder.name
    if variant in ("reference", "alternative"):
        assert grade.points == grade.max_points, report
    elif variant == "weak":
        assert 0 < grade.points < grade.max_points, report
    else:
        assert variant.startswith("cheat-"), f"unknown variant {variant}"
        assert any(v == "fail" for v in expected.get("checks", {}).values()), "a cheat pins the checks it targets"
    low, high = expected.get("total", [0, grade.max_points])
    assert low <= grade.points <= high, report
    for check_id, outcome in expected.get("checks", {}).items():
        assert check_id in by_id, f"expected.yaml names unknown check {check_id}"
        if outcome == "pass":
            assert by_id[check_id].passed, report
        else:
            assert by_id[check_id].points == 0, report
