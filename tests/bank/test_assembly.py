"""Form assembly as pure functions: quotas met exactly, reproducible, fresh items first."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exam_service.bank.assembly import PoolItem, PoolTooSmall, assemble, check_pool, presentation_for
from exam_service.bank.authoring import Blueprint
from exam_service.bank.presentation import candidate_view, to_authored
from exam_service.bank.scoring import score
from exam_service.bank.service import item_from_payload
from tests.factories import blueprint_payload, item_payload, synthetic_bank


def _pool(per_domain: int = 6, tasks: int = 3) -> list[PoolItem]:
    return [
        PoolItem(uuid.uuid5(uuid.NAMESPACE_URL, p["id"]), p["id"], p["domain"], p["type"], p)
        for p in synthetic_bank(per_domain, tasks)
    ]


@settings(max_examples=60, deadline=None)
@given(
    per_domain=st.integers(1, 6),
    quota=st.integers(1, 6),
    tasks=st.integers(0, 3),
    task_quota=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_every_assembled_form_meets_its_blueprint(
    per_domain: int, quota: int, tasks: int, task_quota: int, seed: int
) -> None:
    blueprint = Blueprint.model_validate(blueprint_payload(per_domain=quota, tasks=task_quota))
    pool = _pool(per_domain, tasks)
    if quota > per_domain or task_quota > tasks:
        with pytest.raises(PoolTooSmall):
            assemble(blueprint, pool, seen=set(), seed=seed)
        return
    form = assemble(blueprint, pool, seen=set(), seed=seed)
    theory = Counter(a.item.domain for a in form if a.section == "theory")
    assert theory == dict.fromkeys(("lifecycle", "containers", "versioning", "data_validation", "serving"), quota)
    assert sum(a.section == "performance" for a in form) == task_quota
    assert len({a.item.item_id for a in form}) == len(form)  # no item twice
    assert [a.position for a in form] == list(range(1, len(form) + 1))
    sections = [a.section for a in form]
    assert sections == sorted(sections, key=lambda s: s != "theory")  # theory, then tasks
    assert form == assemble(blueprint, pool, seen=set(), seed=seed)  # same seed, same form


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), seen_count=st.integers(0, 30))
def test_items_seen_before_are_used_only_when_the_pool_runs_short(seed: int, seen_count: int) -> None:
    blueprint = Blueprint.model_validate(blueprint_payload(per_domain=3, tasks=1))
    pool = _pool(6, 3)
    seen = {p.item_id for p in random.Random(seed).sample(pool, min(seen_count, len(pool)))}
    form = assemble(blueprint, pool, seen=seen, seed=seed)
    for domain in ("lifecycle", "containers", "versioning", "data_validation", "serving"):
        fresh_available = sum(1 for p in pool if p.domain == domain and p.section == "theory" and p.item_id not in seen)
        repeats = sum(1 for a in form if a.item.domain == domain and a.section == "theory" and a.item.item_id in seen)
        assert repeats == max(0, 3 - fresh_available)


def test_two_candidates_forms_differ_substantially() -> None:
    blueprint = Blueprint.model_validate(blueprint_payload(per_domain=3, tasks=1))
    pool = _pool(12, 3)
    first = {a.item.item_id for a in assemble(blueprint, pool, seen=set(), seed=1)}
    second = {a.item.item_id for a in assemble(blueprint, pool, seen=set(), seed=2)}
    assert len(first & second) < len(first) / 2


def test_a_quota_the_pool_cannot_meet_is_named() -> None:
    blueprint = Blueprint.model_validate(blueprint_payload(per_domain=7, tasks=1))
    with pytest.raises(PoolTooSmall) as raised:
        check_pool(blueprint, _pool(6, 3))
    assert raised.value.extra == {"section": "theory", "domain": "lifecycle", "needed": 7, "available": 6}
    assert "section theory, domain lifecycle: needs 7 items, the pool has 6" in raised.value.detail


@pytest.mark.parametrize("kind", ["single_choice", "multiple_response", "ordering", "matching", "true_false"])
def test_shown_labels_map_back_so_scoring_is_unchanged(kind: str) -> None:
    payload = item_payload("F-CONT-001", kind=kind)
    item = item_from_payload(payload)
    for seed in range(20):
        presentation = presentation_for(payload, random.Random(seed))
        view = candidate_view(payload, presentation)
        assert "key" not in view
        assert "rationale" not in view
        assert all(o["id"] not in ("a", "b", "c", "d", "p1", "r1") for o in view.get("options", []))
        correct = _correct_in_labels(payload, presentation)
        assert score(item, to_authored(payload, presentation, correct)).fraction == 1.0


def test_an_ordering_item_is_never_shown_in_its_answer_order() -> None:
    payload = item_payload("F-CONT-001", kind="ordering")
    for seed in range(200):
        assert presentation_for(payload, random.Random(seed))["options"] != ["a", "b", "c", "d"]


def _correct_in_labels(payload: dict[str, object], presentation: dict[str, list[str]]) -> object:
    letters = "ABCDEFGH"
    kind = payload["type"]
    if kind == "true_false":
        return "true"
    order = presentation.get("options", [])
    label = {authored: letters[i] for i, authored in enumerate(order)}
    if kind == "single_choice":
        return label["b"]
    if kind == "multiple_response":
        return [label["a"], label["c"]]
    if kind == "ordering":
        return [label[i] for i in ("a", "b", "c", "d")]
    premises = {authored: str(i + 1) for i, authored in enumerate(presentation["premises"])}
    responses = {authored: letters[i] for i, authored in enumerate(presentation["responses"])}
    return {premises["p1"]: responses["r1"], premises["p2"]: responses["r2"]}
