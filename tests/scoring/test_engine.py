"""The scoring rules as properties over generated sittings, and the rules a certification body states."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exam_service.bank.authoring import Blueprint
from exam_service.core.errors import Unprocessable
from exam_service.scoring.corrections import Correction, check
from exam_service.scoring.engine import Entry, GraderResult, score
from tests.factories import blueprint_payload, item_payload

THEORY = ("single_choice", "multiple_response", "true_false", "numeric", "ordering", "matching", "short_text")
ANSWERS: dict[str, list[Any]] = {
    "single_choice": ["a", "b", "c", None],
    "multiple_response": [["a", "c"], ["a"], ["a", "b", "c"], [], None],
    "true_false": [True, False, None],
    "numeric": [0.25, 0.255, 3, "x", None],
    "ordering": [["a", "b", "c", "d"], ["b", "a", "c", "d"], None],
    "matching": [{"p1": "r1", "p2": "r2"}, {"p1": "r1", "p2": "r3"}, {}, None],
    "short_text": ["HEALTHCHECK", " healthcheck ", "CMD", None],
}


def blueprint(draw: st.DrawFn) -> Blueprint:
    weighted = draw(st.booleans())
    theory_weight = draw(st.integers(1, 99))
    sections = [
        {
            "id": "theory",
            "minimum_percent": draw(st.sampled_from([0, 50, 60])),
            "quotas": [{"domain": "containers", "count": 1}],
        },
        {
            "id": "performance",
            "minimum_percent": draw(st.sampled_from([0, 50])),
            "quotas": [{"domain": "any", "count": 1}],
            "item_points": draw(st.sampled_from([None, 5, 10])),
        },
    ]
    if weighted:
        sections[0]["weight"], sections[1]["weight"] = theory_weight, 100 - theory_weight
    return Blueprint.model_validate(
        blueprint_payload(
            cut_score_percent=draw(st.sampled_from([50, 65, 70, 72.5])),
            sections=sections,
            multiple_response_scoring=draw(st.sampled_from(["all_or_nothing", "partial"])),
        )
    )


def entries(draw: st.DrawFn) -> list[Entry]:
    found = []
    for position in range(1, draw(st.integers(1, 12)) + 1):
        kind = draw(st.sampled_from(THEORY))
        payload = item_payload(f"F-CONT-{position:03d}", kind=kind, points=draw(st.sampled_from([1, 2, 0.5])))
        override = draw(st.one_of(st.none(), st.floats(0, 0.5)))
        found.append(
            Entry(
                position,
                "theory",
                payload["id"],
                f"v{position}",
                payload,
                draw(st.sampled_from(ANSWERS[kind])),
                override=override,
            )
        )
    for position in range(len(found) + 1, len(found) + 1 + draw(st.integers(0, 3))):
        payload = item_payload(f"F-TASK-{position:03d}", "serving", "performance_task")
        grade = draw(
            st.sampled_from(
                [
                    GraderResult("graded", 1.0, 1.0),
                    GraderResult("graded", 0.0, 1.0),
                    GraderResult("graded", 0.5, 2.0),
                    GraderResult("pending", None, None),
                    GraderResult("failed", None, None),
                ]
            )
        )
        found.append(Entry(position, "performance", payload["id"], f"v{position}", payload, None, grading=grade))
    return found


@st.composite
def sittings(draw: st.DrawFn) -> tuple[Blueprint, list[Entry]]:
    return blueprint(draw), entries(draw)


@settings(max_examples=300, deadline=None)
@given(sitting=sittings())
def test_scores_stay_in_bounds_and_a_pass_needs_the_cut_and_every_section_minimum(
    sitting: tuple[Blueprint, list[Entry]],
) -> None:
    rules, rows = sitting
    outcome = score(rules, rows)
    for item in outcome.items:
        assert 0 <= item["awarded"] <= item["maximum"]
    assert 0 <= outcome.points <= outcome.max_points
    assert 0 <= outcome.percent <= 100
    for section in outcome.sections:
        assert 0 <= section["percent"] <= 100
    assert outcome.complete == (not outcome.pending) == all(not i["pending"] for i in outcome.items)
    if not outcome.complete:
        assert (outcome.passed, outcome.scaled_score) == (None, None)
    if outcome.passed:
        assert outcome.percent >= rules.cut_score_percent - 1e-4
        assert all(section["met"] for section in outcome.sections)
    if outcome.complete and any(not section["met"] for section in outcome.sections):
        assert outcome.passed is False
    if outcome.complete:
        assert (outcome.scaled_score >= 700) == outcome.passed or not all(s["met"] for s in outcome.sections)


@settings(max_examples=200, deadline=None)
@given(sitting=sittings(), seed=st.integers(0, 1000))
def test_rescoring_the_same_inputs_in_any_order_reproduces_the_result(
    sitting: tuple[Blueprint, list[Entry]], seed: int
) -> None:
    rules, rows = sitting
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    assert score(rules, rows) == score(rules, shuffled)


@settings(max_examples=200, deadline=None)
@given(sitting=sittings(), position=st.integers(0, 20), points=st.floats(0, 2))
def test_more_points_on_one_item_never_lower_the_total(
    sitting: tuple[Blueprint, list[Entry]], position: int, points: float
) -> None:
    rules, rows = sitting
    target = rows[position % len(rows)]
    low = [r if r is not target else Entry(**{**r.__dict__, "override": 0.0}) for r in rows]
    high = [r if r is not target else Entry(**{**r.__dict__, "override": points}) for r in rows]
    assert score(rules, high).percent >= score(rules, low).percent


def _rules(**override: Any) -> Blueprint:
    return Blueprint.model_validate(blueprint_payload(**override))


def test_multiple_response_items_follow_the_blueprint_policy_unless_they_state_their_own() -> None:
    silent = item_payload("F-CONT-001", kind="multiple_response", scoring=None, penalty=0)
    stated = item_payload("F-CONT-002", kind="multiple_response", scoring="all_or_nothing")
    rows = [
        Entry(1, "theory", "F-CONT-001", "v1", silent, ["a"]),
        Entry(2, "theory", "F-CONT-002", "v2", stated, ["a"]),
    ]
    strict = score(_rules(multiple_response_scoring="all_or_nothing"), rows)
    partial = score(_rules(multiple_response_scoring="partial"), rows)
    assert [i["awarded"] for i in strict.items] == [0.0, 0.0]
    assert [i["awarded"] for i in partial.items] == [0.5, 0.0]


def test_key_corrections_replace_the_key_or_accept_one_more_answer() -> None:
    payload = item_payload("F-CONT-001")  # keyed "b"
    wrong_key = [Correction("replace_key", "c")]
    accepted = [Correction("accept_answer", "c")]
    rules = _rules()
    for corrections, answer, expected, source in [
        ([], "c", 0.0, "key"),
        (wrong_key, "c", 1.0, "correction"),
        (wrong_key, "b", 0.0, "correction"),
        (accepted, "c", 1.0, "correction"),
        (accepted, "b", 1.0, "key"),
    ]:
        [item] = score(rules, [Entry(1, "theory", "F-CONT-001", "v1", payload, answer, corrections=corrections)]).items
        assert (item["awarded"], item["source"]) == (expected, source), (corrections, answer)


def test_a_manually_marked_answer_waits_for_an_examiner_then_counts() -> None:
    payload = item_payload("F-CONT-001", kind="short_text", accepted=[], manual=True)
    rules = _rules()
    waiting = score(rules, [Entry(1, "theory", "F-CONT-001", "v1", payload, "my essay")])
    assert (waiting.complete, waiting.pending) == (False, ["item 1 (F-CONT-001): marked by an examiner"])
    marked = score(rules, [Entry(1, "theory", "F-CONT-001", "v1", payload, "my essay", override=0.75)])
    assert (marked.complete, marked.points, marked.items[0]["source"]) == (True, 0.75, "examiner")


def test_a_correction_must_fit_the_item_type() -> None:
    single = item_payload("F-CONT-001")
    check(single, Correction("accept_answer", "c"))
    for bad in ("zz", ["a"], None, 3):
        with pytest.raises(Unprocessable) as refused:
            check(single, Correction("accept_answer", bad))
        assert refused.value.extra["field"] == "value"
    numeric = item_payload("F-CONT-002", kind="numeric")
    check(numeric, Correction("replace_key", 0.5))
    with pytest.raises(Unprocessable):
        check(numeric, Correction("accept_answer", "about four"))
    short = item_payload("F-CONT-003", kind="short_text")
    check(short, Correction("accept_answer", "HEALTHCHECK instruction"))
    with pytest.raises(Unprocessable):
        check(short, Correction("accept_answer", "  "))
    with pytest.raises(Unprocessable) as task:
        check(item_payload("F-TASK-001", "serving", "performance_task"), Correction("replace_key", "x"))
    assert task.value.extra["field"] == "item"
