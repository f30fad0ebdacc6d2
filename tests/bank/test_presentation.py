"""What the candidate sees maps back to authored ids, and authored answers map to what they saw."""

from __future__ import annotations

from typing import Any

import pytest

from exam_service.bank.presentation import candidate_view, to_authored, to_shown
from tests.factories import item_payload

CASES: list[tuple[str, dict[str, list[str]], Any]] = [
    ("single_choice", {"options": ["c", "a", "d", "b"]}, "b"),
    ("multiple_response", {"options": ["d", "c", "b", "a"]}, ["a", "c"]),
    ("ordering", {"options": ["b", "d", "a", "c"]}, ["a", "b", "c", "d"]),
    ("matching", {"premises": ["p2", "p1"], "responses": ["r3", "r1", "r2"]}, {"p1": "r1", "p2": "r2"}),
    ("true_false", {}, True),
    ("numeric", {}, 0.25),
]


@pytest.mark.parametrize(("kind", "presentation", "authored"), CASES, ids=[c[0] for c in CASES])
def test_an_answer_survives_the_trip_through_the_candidates_labels(
    kind: str, presentation: dict[str, list[str]], authored: Any
) -> None:
    payload = item_payload("F-CONT-001", kind=kind)
    shown = to_shown(payload, presentation, authored)
    assert to_authored(payload, presentation, shown) == authored
    view = candidate_view(payload, presentation)
    if kind == "single_choice":  # the label shown for the key is the one whose text is the key's text
        text = next(o["text"] for o in payload["options"] if o["id"] == authored)
        assert next(o["text"] for o in view["options"] if o["id"] == shown) == text
