"""The worked example of docs/SCORING.md, computed by the engine with the published Foundation blueprint."""

from __future__ import annotations

import yaml

from exam_service.bank.authoring import Blueprint
from exam_service.core.paths import project_root
from exam_service.scoring.engine import Entry, GraderResult, score
from tests.factories import item_payload


def test_the_documented_sitting_scores_as_the_docs_say() -> None:
    source = project_root() / "question_bank" / "blueprints" / "foundation.yaml"
    foundation = Blueprint.model_validate(yaml.safe_load(source.read_text())["blueprint"])
    rows = []
    for n in range(1, 45):  # 35 single choice answered right, 9 wrong
        payload = item_payload(f"F-CONT-{n:03d}")  # keyed "b"
        rows.append(Entry(n, "theory", payload["id"], f"v{n}", payload, "b" if n <= 35 else "a"))
    partial = item_payload("F-CONT-045", kind="multiple_response")  # keys a and c, partial credit
    rows.append(Entry(45, "theory", partial["id"], "v45", partial, ["a"]))
    task = item_payload("F-TASK-001", "serving", "performance_task")
    rows.append(Entry(46, "performance", task["id"], "v46", task, None, grading=GraderResult("graded", 3.0, 4.0)))

    outcome = score(foundation, rows)

    theory, performance = outcome.sections
    assert (theory["points"], theory["max_points"], theory["percent"]) == (35.5, 45.0, 78.8889)
    assert (performance["points"], performance["max_points"], performance["percent"]) == (7.5, 10.0, 75.0)
    assert (outcome.percent, outcome.scaled_score, outcome.passed) == (77.7222, 777, True)
