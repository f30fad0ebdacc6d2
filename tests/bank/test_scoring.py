from __future__ import annotations

from typing import Any

import pytest

from exam_service.bank.scoring import score
from exam_service.bank.service import item_from_payload
from tests.factories import item_payload


def _score(kind: str, response: Any, **override: Any) -> float:
    return score(item_from_payload(item_payload("F-CONT-001", kind=kind, **override)), response).awarded


@pytest.mark.parametrize(
    ("kind", "response", "expected"),
    [
        ("single_choice", "b", 1.0),
        ("single_choice", "a", 0.0),
        ("single_choice", ["b"], 0.0),
        ("true_false", True, 1.0),
        ("true_false", "true", 0.0),
        ("numeric", 0.259, 1.0),
        ("numeric", "0.25", 1.0),
        ("numeric", 0.3, 0.0),
        ("numeric", float("nan"), 0.0),
        ("numeric", True, 0.0),
        ("ordering", ["a", "b", "c", "d"], 1.0),
        ("ordering", ["b", "a", "c", "d"], 0.0),
        ("matching", {"p1": "r1", "p2": "r2"}, 1.0),
        ("matching", {"p1": "r1", "p2": "r3"}, 0.5),
        ("matching", "r1", 0.0),
        ("short_text", "  healthcheck ", 1.0),
        ("short_text", "HEALTH CHECK", 0.0),
        ("single_choice", None, 0.0),
    ],
)
def test_each_type_scores_as_authored(kind: str, response: Any, expected: float) -> None:
    assert _score(kind, response) == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [(["a", "c"], 1.0), (["a"], 0.5), (["a", "b"], 0.0), (["a", "c", "d"], 0.5), (["b", "d"], 0.0), ([], 0.0)],
)
def test_partial_multiple_response_subtracts_the_penalty_and_floors_at_zero(
    response: list[str], expected: float
) -> None:
    assert _score("multiple_response", response) == expected


def test_all_or_nothing_multiple_response() -> None:
    assert _score("multiple_response", ["a", "c"], scoring="all_or_nothing") == 1.0
    assert _score("multiple_response", ["a"], scoring="all_or_nothing") == 0.0


def test_points_scale_the_award_and_patterns_match_whole_answers() -> None:
    assert _score("single_choice", "b", points=3) == 3.0
    assert _score("short_text", "user 1000", accepted=[], patterns=[r"user\s+\d+"]) == 1.0
    assert _score("short_text", "run as user 1000", accepted=[], patterns=[r"user\s+\d+"]) == 0.0


def test_manual_items_and_tasks_wait_for_a_person_or_the_grader() -> None:
    manual = score(item_from_payload(item_payload("F-CONT-001", kind="short_text", manual=True, accepted=[])), "x")
    task = score(item_from_payload(item_payload("F-TASK-001", kind="performance_task")), {"Dockerfile": "FROM x"})
    assert manual.needs_review
    assert task.needs_review
    assert (manual.awarded, task.awarded) == (0.0, 0.0)
