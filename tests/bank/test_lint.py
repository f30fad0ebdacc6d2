"""The item-writing lint catches the cues a test-wise candidate uses, and passes a clean bank."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import Item
from exam_service.bank.lint import LintReport, lint, near_duplicates, stem_gives_key
from exam_service.bank.loader import load_path
from exam_service.bank.service import Authorship
from exam_service.core.clock import FrozenClock
from tests.factories import item_payload

ITEM: TypeAdapter[Item] = TypeAdapter(Item)
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo"]


def _item(n: int, kind: str, **fields: Any) -> Item:
    payload = item_payload(f"F-CONT-{n:03d}", "containers", kind, **fields)
    # distinct vocabulary per item, so that only the rule under test can fire
    payload["stem"] = f"Scenario {n}: " + " ".join(f"{w}{n}" for w in WORDS)
    return ITEM.validate_python(payload)


def _choice(n: int, key_text: str, other: str, key: str = "b") -> Item:
    options = [{"id": i, "text": key_text if i == key else f"{other} {i}{n}"} for i in "abcd"]
    return _item(n, "single_choice", options=options, key=key)


def _rule(report: LintReport, name: str) -> Any:
    return next(r for r in report.rules if r.name.startswith(name))


def test_a_key_that_is_always_the_longest_option_fails() -> None:
    cued = [_choice(n, "a long and carefully qualified correct answer here", "short") for n in range(1, 13)]
    report = lint(cued)
    assert not _rule(report, "single choice: key is the longest").ok
    heavy = _rule(report, "single choice: key at least twice")
    assert not heavy.ok
    assert len(heavy.offenders) == 12
    assert not report.ok


def test_keys_as_long_as_their_distractors_pass() -> None:
    fair = [
        _choice(n, f"answer of similar size {n}", "a distractor of about the same length", key="abcd"[n % 4])
        for n in range(1, 13)
    ]
    report = lint(fair)
    assert _rule(report, "single choice: key is the longest").ok
    assert _rule(report, "single choice: key at least twice").ok
    assert _rule(report, "single choice: keys at one authored position").ok


def test_multiple_response_with_one_key_count_fails_its_spread() -> None:
    options = [{"id": i, "text": f"option {i}"} for i in "abcdef"]
    same = [_item(n, "multiple_response", options=options, key=["a", "b", "c"]) for n in range(1, 13)]
    assert not _rule(lint(same), "multiple response: number of keys").ok
    spread = [_item(n, "multiple_response", options=options, key=list("abcde")[: 1 + n % 5]) for n in range(1, 21)]
    assert _rule(lint(spread), "multiple response: number of keys").ok


def test_true_false_must_be_balanced() -> None:
    mostly_false = [_item(n, "true_false", key=n > 8) for n in range(1, 12)]
    assert not _rule(lint(mostly_false), "true/false").ok
    balanced = [_item(n, "true_false", key=n % 2 == 0) for n in range(1, 12)]
    assert _rule(lint(balanced), "true/false").ok


def test_absolute_words_that_mark_distractors_fail() -> None:
    items = [
        _item(
            n,
            "single_choice",
            options=[
                {"id": "a", "text": f"It always restarts {n}"},
                {"id": "b", "text": f"It restarts on failure {n}"},
                {"id": "c", "text": f"It never restarts {n}"},
                {"id": "d", "text": f"It must restart {n}"},
            ],
            key="b",
        )
        for n in range(1, 12)
    ]
    assert not _rule(lint(items), "absolute words").ok


def test_a_stem_that_spells_its_key_is_caught() -> None:
    giveaway = ITEM.validate_python(
        item_payload("F-CONT-001", kind="short_text", stem="The USER instruction sets what?", accepted=["USER"])
    )
    fine = ITEM.validate_python(
        item_payload("F-CONT-002", kind="short_text", stem="Which instruction drops root?", accepted=["USER"])
    )
    assert stem_gives_key(giveaway)
    assert not stem_gives_key(fine)


def test_the_same_question_in_two_tiers_is_a_near_duplicate() -> None:
    stem = "A model's accuracy drops while the input distribution is unchanged; the labels' relation moved."
    first = ITEM.validate_python(
        item_payload("F-LIFE-001", "lifecycle", "short_text", stem=stem, accepted=["concept drift"])
    )
    second = ITEM.validate_python(
        item_payload("F-DATA-001", "data_validation", "short_text", stem=stem + " Name it.", accepted=["concept drift"])
    )
    other = _choice(3, "unrelated", "words")
    pairs = near_duplicates([first, second, other])
    assert [(a, b) for a, b, _ in pairs] == [("F-DATA-001", "F-LIFE-001")]


def test_the_shipped_bank_passes_the_lint() -> None:
    loaded = load_path(Path("question_bank"))
    assert not loaded.errors
    report = lint([s.item for s in loaded.items], loaded.blueprints)
    failing = [f"{r.name}: {r.figure} {r.offenders[:5]}" for r in report.rules if not r.ok]
    assert not failing, failing


@pytest.mark.slow
def test_the_command_prints_figures_and_fails_past_a_threshold(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "exam_service.cli", "bank", "lint"]
    env = {**os.environ, "COLUMNS": "200"}
    ok = subprocess.run([*run, "question_bank"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stdout
    assert "single choice: key is the longest option" in ok.stdout
    assert "lint ok" in ok.stdout
    cued = [
        ITEM.dump_python(_choice(n, "a long and carefully qualified correct answer", "short"), mode="json")
        for n in range(1, 13)
    ]
    (tmp_path / "cued.yaml").write_text(yaml.safe_dump({"items": cued}))
    bad = subprocess.run([*run, str(tmp_path)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 1
    assert "FAIL" in bad.stdout
    assert "past their threshold" in bad.stdout


async def test_the_published_bank_reads_back_and_passes_the_lint(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    loaded = load_path(Path("question_bank"))
    async with sessionmaker() as session, session.begin():
        await bank_service.import_content(
            session, [s.item for s in loaded.items], loaded.blueprints, Authorship("t", "t"), clock
        )
    async with sessionmaker() as session:
        items, blueprints = await bank_service.published_bank(session)
    assert sorted(i.id for i in items) == sorted(s.item.id for s in loaded.items)  # every stored payload reads back
    assert {b.id for b in blueprints} == {"mlocp-foundation", "mlocp-professional", "mlocp-advanced"}
    assert lint(items, blueprints).ok
