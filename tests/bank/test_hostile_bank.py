"""The question bank's typed answers, partial credit, QTI import, lint and retirement, as attackers use them.

A cheating candidate types numbers and words meant to confuse the parser or to earn marks they
should not; a hostile or careless author or importer feeds the loader, the linter and the QTI
importer files built to crash them, to leak files or to slip a bad item in beside good ones.
Every hostile answer must be stored and scored right, or refused with a 422 naming ``value`` while
the answer saved before stays; every hostile file must be refused by name, never with a traceback,
and a package imports all or nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank import qti
from exam_service.bank import service as bank_service
from exam_service.bank.authoring import MultipleResponse, Retirement, ShortText
from exam_service.bank.lint import lint
from exam_service.bank.loader import LoadResult, load_path
from exam_service.bank.scoring import fraction_correct, score
from exam_service.bank.service import Authorship, item_from_payload
from exam_service.core.clock import FrozenClock
from exam_service.core.errors import ExamServiceError
from tests.delivery.helpers import Sitting, sitting
from tests.factories import blueprint_payload, item_payload

Session = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).parent / "qti_samples"
HOSTILE = Path(__file__).parent / "hostile_samples"
BANK = load_path(ROOT / "question_bank")
SERVING: dict[str, Any] = {"default_tier": "foundation", "default_domain": "serving"}
BY = Authorship("hostile test", "hostile test")


# ---- a sitting whose form holds numeric items with a unit, a prefix and a plain number ----------

GB_STEM = "GB item: how much memory do the weights of this model take? Answer in GB to 1 decimal place."
DOLLAR_STEM = "Dollar item: what does the month of GPU time cost? Answer in US dollars, whole dollars."
PLAIN_STEM = "Plain item: how many requests per day does the service take? Answer as a plain number."
TEXT_STEM = "Text item: which Dockerfile instruction declares how to check the container's health?"

# the synthetic bank's numeric and short text items, published again as the items above
NEW_VERSIONS = [
    item_payload(
        "F-VERS-004",
        "versioning",
        "numeric",
        stem=GB_STEM,
        key=11.6,
        tolerance=0.0,
        unit="GB",
        unit_aliases=["gigabytes"],
        decimals=1,
    ),
    item_payload("F-DATA-003", "data_validation", "numeric", stem=DOLLAR_STEM, key=371, tolerance=0.0, prefix="$"),
    item_payload("F-SERV-002", "serving", "numeric", stem=PLAIN_STEM, key=1_000_000, tolerance=0.0),
    item_payload("F-DATA-004", "data_validation", "short_text", stem=TEXT_STEM, accepted=["HEALTHCHECK"]),
]
PAYLOADS = {p["stem"]: p for p in NEW_VERSIONS}


@dataclass
class Typed:
    """A sitting with the items above, and where each sits on the candidate's form."""

    sitting: Sitting
    positions: dict[str, int]  # stem -> position
    api: httpx.AsyncClient  # the same app, answering an unexpected error with a 500 as a browser sees it

    def url(self, stem: str) -> str:
        return f"{self.sitting.url}/responses/{self.positions[stem]}"

    async def save(self, stem: str, revision: int, value: Any) -> httpx.Response:
        return await self.api.put(
            self.url(stem), headers=self.sitting.headers, json={"revision": revision, "value": value}
        )

    async def save_raw(self, stem: str, body: str) -> httpx.Response:
        """The body sent as written: JSON that ``json.dumps`` would never produce."""
        headers = {**self.sitting.headers, "Content-Type": "application/json"}
        return await self.api.put(self.url(stem), headers=headers, content=body.encode("utf-8", "surrogatepass"))

    async def stored(self, stem: str) -> tuple[Any, int]:
        form = await self.api.get(f"{self.sitting.url}/form", headers=self.sitting.headers)
        assert form.status_code == 200, form.text
        entry = next(e for e in form.json()["items"] if e["position"] == self.positions[stem])
        return entry["answer"], entry["revision"]


@pytest.fixture
async def typed(client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock) -> AsyncIterator[Typed]:
    every_item = {"sections": blueprint_payload(per_domain=4)["sections"]}
    s = await sitting(client, sessionmaker, clock, rules=every_item, started=False)
    async with sessionmaker() as session, session.begin():
        await bank_service.import_content(session, [item_from_payload(p) for p in NEW_VERSIONS], [], BY, clock)
    assert (await s.post("/check-in")).status_code == 200
    started = await s.post("/start", json={"accept_rules": True})
    assert started.status_code == 200, started.text
    form = await s.form()
    positions = {e["item"]["stem"]: e["position"] for e in form["items"] if e["item"]["stem"] in PAYLOADS}
    assert set(positions) == set(PAYLOADS)
    app = client.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        yield Typed(s, positions, api)


def _earns(stem: str, answer: Any) -> float:
    """The share of the item's marks a stored answer earns, as scoring computes it."""
    return score(item_from_payload(PAYLOADS[stem]), answer).fraction


GOOD = {GB_STEM: "11.6 GB", DOLLAR_STEM: "$371", PLAIN_STEM: "1,000,000", TEXT_STEM: "HEALTHCHECK"}


class Revisions:
    """Each save in a test takes the next revision, so that every save is newer than the last."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


@dataclass(frozen=True)
class Raw:
    """A ``value`` written into the JSON body as is: NaN, Infinity, lone surrogates, 5,000-digit numbers."""

    json: str


async def _send(t: Typed, stem: str, revision: int, value: Any) -> httpx.Response:
    if isinstance(value, Raw):
        return await t.save_raw(stem, f'{{"revision": {revision}, "value": {value.json}}}')
    return await t.save(stem, revision, value)


async def _refused_or_right(t: Typed, stem: str, value: Any, meant: Decimal | None, revisions: Revisions) -> str | None:
    """Saves a good answer, then ``value`` over it; what is wrong with the outcome, or None.

    ``meant`` is the number the candidate means: if the answer is stored, scoring must count it
    right exactly when that number is the key. None: the answer must be refused.
    """
    first = revisions.next()
    saved = await t.save(stem, first, GOOD[stem])
    assert saved.status_code == 200, saved.text
    revision = revisions.next()
    response = await _send(t, stem, revision, value)
    if response.status_code == 422:
        body = response.json()
        if body.get("field") != "value" or not str(body.get("detail", "")).startswith("value:"):
            return f"{value!r}: refused without naming value: {body}"
        if await t.stored(stem) != (GOOD[stem], first):
            return f"{value!r}: refused, but the answer saved before did not stay: {await t.stored(stem)}"
        return None
    if response.status_code != 200:
        return f"{value!r}: answered {response.status_code}: {response.text[:200]}"
    if meant is None:
        return f"{value!r}: stored, but it should have been refused"
    answer, stored_revision = await t.stored(stem)
    if stored_revision != revision:
        return f"{value!r}: stored at revision {stored_revision}, not {revision}"
    key = Decimal(str(PAYLOADS[stem]["key"]))
    expected = 1.0 if meant == key else 0.0
    if _earns(stem, answer) != expected:
        return f"{value!r}: stored and scored {_earns(stem, answer)}, but it means {meant} (key {key})"
    return None


async def _all_refused_or_right(t: Typed, cases: list[tuple[str, Any, Decimal | None]]) -> None:
    revisions = Revisions()
    problems = [await _refused_or_right(t, stem, value, meant, revisions) for stem, value, meant in cases]
    assert [p for p in problems if p] == []


# ---- typed numbers through the save API ----------------------------------------------------------

D = Decimal
UNICODE_AND_SPACING = [
    (GB_STEM, "\uff11\uff11\uff0e\uff16 \uff27\uff22", D("11.6")),  # full-width digits, point and unit
    (GB_STEM, "\u0661\u0661.\u0666 GB", D("11.6")),  # Arabic-Indic digits
    (GB_STEM, "\U0001d7cf\U0001d7cf.\U0001d7d4", D("11.6")),  # mathematical bold digits
    (GB_STEM, "\u0661\u0661\u066b\u0666", None),  # an Arabic decimal separator is not a point
    (GB_STEM, "11.6\u00a0GB", D("11.6")),  # no-break space
    (GB_STEM, "\u200b11.6", D("11.6")),  # zero-width space in front
    (GB_STEM, "11.6\u200bGB", D("11.6")),  # and inside
    (GB_STEM, "11.6 \u3387", D("11.6")),  # the one-character GB sign
    (GB_STEM, "\t11.6\n GB \r\n", D("11.6")),
    (GB_STEM, "11.6" + " " * 60 + "GB", D("11.6")),  # 60+ characters of which most are spaces
    (GB_STEM, "0" * 70 + "11.6", D("11.6")),
    (GB_STEM, "11.6\x00", D("11.6")),
    (GB_STEM, "\x00", None),
    (GB_STEM, "11.6\x00GB", D("11.6")),
    (GB_STEM, Raw('"\\ud800"'), None),  # a lone surrogate
    (GB_STEM, Raw('"11.6\\udfff"'), D("11.6")),
    (GB_STEM, Raw('"11.6 G\\ud800B"'), D("11.6")),
    (GB_STEM, "", None),
    (GB_STEM, "   ", None),
]
SIGNS_AND_EXPONENTS = [
    (GB_STEM, "+-11.6", None),
    (GB_STEM, "-+11.6", None),
    (GB_STEM, "- -11.6", None),
    (GB_STEM, "--11.6", None),
    (GB_STEM, "\u2212\u221211.6", None),
    (GB_STEM, "\u2212-11.6", None),
    (GB_STEM, "+11.6", D("11.6")),
    (GB_STEM, "\u221211.6", D("-11.6")),
    (GB_STEM, "\uff0d11.6", D("-11.6")),  # full-width minus
    (GB_STEM, "1.16e1", D("11.6")),
    (GB_STEM, "116E-1 GB", D("11.6")),
    (GB_STEM, "1e-999999999", D("1e-999999999")),
    (GB_STEM, "1e-99999999999999999999", D(0)),  # as good as 0: wrong
    (GB_STEM, "0e999999999", D(0)),
    (GB_STEM, "1e999999", None),
    (GB_STEM, "Infinity", None),
    (GB_STEM, "-inf", None),
    (GB_STEM, "NaN", None),
    (GB_STEM, "sNaN", None),
    (GB_STEM, "0x1", None),
    (GB_STEM, "1_1.6", None),
    (GB_STEM, "11,6", None),
    (GB_STEM, "1,1.6", None),
    (GB_STEM, "11.6.0", None),
    (PLAIN_STEM, "1e6", D(1_000_000)),
    (PLAIN_STEM, "1 000 000", D(1_000_000)),
    (PLAIN_STEM, "1,000,000.00", D(1_000_000)),
    (PLAIN_STEM, "1\u202f000\u202f000", D(1_000_000)),  # narrow no-break spaces
    (PLAIN_STEM, "10^6", None),
    (PLAIN_STEM, "1M", None),
    (PLAIN_STEM, "1 million", None),
    (PLAIN_STEM, "1" * 61, None),
    (PLAIN_STEM, "9" * 16, None),
]
JSON_VALUES = [
    (GB_STEM, 11.6, D("11.6")),
    (GB_STEM, 116e-1, D("11.6")),
    (GB_STEM, -0.0, D(0)),
    (GB_STEM, 5e-324, D("5e-324")),
    (GB_STEM, True, None),
    (GB_STEM, False, None),
    (GB_STEM, [11.6], None),
    (GB_STEM, {"value": 11.6}, None),
    (GB_STEM, ["11.6", "GB"], None),
    (GB_STEM, Raw("NaN"), None),
    (GB_STEM, Raw("Infinity"), None),
    (GB_STEM, Raw("-Infinity"), None),
    (GB_STEM, Raw("1e400"), None),
    (GB_STEM, Raw("1e-400"), D(0)),
    (PLAIN_STEM, 1_000_000, D(1_000_000)),
    (PLAIN_STEM, 1e6, D(1_000_000)),
    (PLAIN_STEM, 10**30, None),
    (PLAIN_STEM, Raw("1" + "0" * 4000), None),
]
UNITS_AND_PREFIXES = [
    (GB_STEM, "11.6 gigabytes", D("11.6")),
    (GB_STEM, "11.6 gb.", D("11.6")),
    (GB_STEM, "11.6 MB", None),
    (GB_STEM, "11.6 TB", None),
    (GB_STEM, "11.6 GiB", None),
    (GB_STEM, "11.6 %", None),
    (GB_STEM, "11.6 percent", None),
    (GB_STEM, "$11.6", None),
    (GB_STEM, "11.6 GB GB", None),
    (GB_STEM, "11.6 GB!!", D("11.6")),
    (GB_STEM, "GB 11.6", None),
    (DOLLAR_STEM, "$371", D(371)),
    (DOLLAR_STEM, "$ 371", D(371)),
    (DOLLAR_STEM, "\uff04\uff13\uff17\uff11", D(371)),  # full-width dollar and digits
    (DOLLAR_STEM, "-$371", D(-371)),
    (DOLLAR_STEM, "$-371", D(-371)),
    (DOLLAR_STEM, "-$-371", None),
    (DOLLAR_STEM, "$$371", None),
    (DOLLAR_STEM, "US$371", None),
    (DOLLAR_STEM, "371$", None),
    (DOLLAR_STEM, "\u20ac371", None),
    (DOLLAR_STEM, "371 dollars", None),
    (DOLLAR_STEM, "371 USD", None),
]


async def test_odd_digits_and_spacing_are_read_as_the_number_meant_or_refused(typed: Typed) -> None:
    await _all_refused_or_right(typed, UNICODE_AND_SPACING)


async def test_double_signs_and_extreme_exponents_are_refused_or_read_exactly(typed: Typed) -> None:
    await _all_refused_or_right(typed, SIGNS_AND_EXPONENTS)


async def test_json_numbers_booleans_and_containers_are_refused_or_read_exactly(typed: Typed) -> None:
    await _all_refused_or_right(typed, JSON_VALUES)


async def test_units_and_prefixes_the_item_did_not_declare_are_refused(typed: Typed) -> None:
    await _all_refused_or_right(typed, UNITS_AND_PREFIXES)


async def test_a_json_number_of_thousands_of_digits_is_refused_on_value(typed: Typed) -> None:
    await _all_refused_or_right(typed, [(PLAIN_STEM, Raw("1" + "0" * 5000), None)])


async def test_a_huge_exponent_is_refused_not_a_server_error(typed: Typed) -> None:
    await _all_refused_or_right(typed, [(GB_STEM, "1e999999999", None), (PLAIN_STEM, "1e1000000", None)])


async def test_superscript_digits_are_refused_or_read_as_powers(typed: Typed) -> None:
    await _all_refused_or_right(typed, [(PLAIN_STEM, "10\u2076", D(1_000_000)), (GB_STEM, "11.6\u00b2", D("134.56"))])


# ---- earning marks by a trick ---------------------------------------------------------------------

KEY_BY_A_TRICK = [
    (GB_STEM, "11.6 GB 12", None),
    (GB_STEM, "12 11.6 GB", None),
    (GB_STEM, "11.6GB12", None),
    (GB_STEM, "11.6 or 12", None),
    (GB_STEM, "11.6 / 12", None),
    (GB_STEM, "11.6, 12", None),
    (GB_STEM, "11.6;12", None),
    (GB_STEM, "11.6-12", None),
    (GB_STEM, "11.6 \u00b1 1", None),
    (GB_STEM, "~11.6", None),
    (GB_STEM, "\u224811.6", None),
    (GB_STEM, "11.6 GB (or 12)", None),
    (GB_STEM, "11.6 GB\n12", None),
    (GB_STEM, "11.6\u200b12", None),
    (GB_STEM, "11.6?", D("11.6")),
    (DOLLAR_STEM, "$371 or $400", None),
    (DOLLAR_STEM, "$300-$400", None),
    (PLAIN_STEM, "1,000,000 1", None),
    (PLAIN_STEM, "1 000 0001", None),
]


async def test_a_number_that_reaches_the_key_only_by_a_trick_is_refused(typed: Typed) -> None:
    await _all_refused_or_right(typed, KEY_BY_A_TRICK)


async def test_short_text_with_the_key_plus_other_words_earns_nothing(typed: Typed) -> None:
    revisions = Revisions()
    earned = {}
    for answer in (
        "HEALTHCHECK CMD",
        "HEALTHCHECK or CMD",
        "HEALTHCHECK, CMD",
        "CMD HEALTHCHECK",
        "not HEALTHCHECK",
        "HEALTHCHECK HEALTHCHECK",
        "HEALTHCHECK\nCMD",
        "HEALTHCHECK/CMD",
        "'HEALTHCHECK' 'CMD'",
        "HEALTH CHECK",
    ):
        response = await typed.save(TEXT_STEM, revisions.next(), answer)
        assert response.status_code == 200, response.text
        stored, _ = await typed.stored(TEXT_STEM)
        earned[answer] = _earns(TEXT_STEM, stored)
    assert earned == dict.fromkeys(earned, 0.0)
    for right in (
        "healthcheck.",
        '"HEALTHCHECK"',
        "\uff28\uff25\uff21\uff2c\uff34\uff28\uff23\uff28\uff25\uff23\uff2b",
        " HEALTHCHECK !",
    ):
        assert (await typed.save(TEXT_STEM, revisions.next(), right)).status_code == 200
        assert _earns(TEXT_STEM, (await typed.stored(TEXT_STEM))[0]) == 1.0, right


async def test_short_text_longer_than_the_limit_is_refused_and_the_saved_answer_stays(typed: Typed) -> None:
    assert (await typed.save(TEXT_STEM, 1, "HEALTHCHECK")).status_code == 200
    for value in ("HEALTHCHECK " * 200, ["HEALTHCHECK"], 42, True, {"text": "HEALTHCHECK"}):
        refused = await typed.save(TEXT_STEM, 2, value)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "value"
    assert await typed.stored(TEXT_STEM) == ("HEALTHCHECK", 1)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('"HEALTHCHECK\\u0000"', id="nul"),
        pytest.param('"HEALTH\\ud800CHECK"', id="lone-surrogate"),
    ],
)
async def test_short_text_with_control_characters_is_refused_or_shown_back(typed: Typed, body: str) -> None:
    saved = await typed.save_raw(TEXT_STEM, f'{{"revision": 1, "value": {body}}}')
    assert saved.status_code in (200, 422), saved.text
    form = await typed.api.get(f"{typed.sitting.url}/form", headers=typed.sitting.headers)
    assert form.status_code == 200, form.text


# ---- partial credit gamed by selecting every option ------------------------------------------------


def _every_option(item: MultipleResponse) -> list[str]:
    return [o.id for o in item.options]


def _mr(**override: Any) -> MultipleResponse:
    item = item_from_payload(item_payload("F-CONT-001", kind="multiple_response", **override))
    assert isinstance(item, MultipleResponse)
    return item


def test_selecting_every_option_of_a_partial_item_with_a_penalty_earns_nothing() -> None:
    item = _mr()  # two keys of four, penalty 0.5
    assert score(item, _every_option(item)).awarded == 0.0
    assert score(item, ["a", "c", "a", "c"]).fraction == 1.0  # a repeated choice counts once
    assert score(item, ["a", "a", "a"]).fraction == 0.5
    assert score(item, ["a", "zz"]).fraction == 0.0  # an id the item does not have costs a penalty


def test_a_mapping_counts_each_choice_once_and_holds_its_bounds() -> None:
    mapping = {
        "entries": [{"value": "a", "points": 1}, {"value": "c", "points": 1}, {"value": "b", "points": -1}],
        "default": -1,
        "lower_bound": 0,
    }
    item = _mr(scoring=None, penalty=0.0, mapping=mapping, points=2)
    assert score(item, _every_option(item)).awarded == 0.0
    assert score(item, ["a", "a", "a", "a"]).fraction == 0.5
    assert score(item, ["a", "c"]).fraction == 1.0
    assert score(item, [""]).fraction == 0.0
    assert score(item, "a").fraction == 0.0


def test_no_partial_item_of_the_bank_pays_a_candidate_who_selects_every_option() -> None:
    paid = {
        s.item.id: fraction_correct(s.item, _every_option(s.item), "partial")
        for s in BANK.items
        if isinstance(s.item, MultipleResponse) and len(s.item.key) < len(s.item.options)
    }
    assert {item_id: share for item_id, share in paid.items() if share} == {}


def _refused_or_flagged(payload: dict[str, Any], tmp_path: Path) -> bool:
    """Whether the loader refuses the item, or the lint run on it fails."""
    path = tmp_path / "item.yaml"
    path.write_text(yaml.safe_dump(payload, sort_keys=False), encoding="utf-8")
    loaded = load_path(path)
    return bool(loaded.errors) or not lint([s.item for s in loaded.items]).ok


GAMEABLE_MR = [
    pytest.param({"penalty": 0.0}, id="partial-without-penalty"),
    pytest.param(
        {
            "scoring": None,
            "penalty": 0.0,
            "mapping": {"entries": [{"value": "a", "points": 1}, {"value": "c", "points": 1}]},
            "points": 2,
        },
        id="mapping-without-negative-points",
    ),
    pytest.param(
        {
            "scoring": None,
            "penalty": 0.0,
            "mapping": {
                "entries": [{"value": "a", "points": 2}, {"value": "c", "points": 1}, {"value": "b", "points": -1}],
                "default": -0.5,
                "lower_bound": 0,
            },
            "points": 3,
        },
        id="mapping-paying-half-for-everything",
    ),
]


@pytest.mark.parametrize("override", GAMEABLE_MR)
def test_an_item_that_pays_for_selecting_every_option_is_refused_or_flagged(
    override: dict[str, Any], tmp_path: Path
) -> None:
    payload = item_payload("F-CONT-001", kind="multiple_response", **override)
    item = item_from_payload(payload)
    assert isinstance(item, MultipleResponse)
    if score(item, _every_option(item), "partial").fraction > 0:  # the gaming is real: stopped before delivery
        assert _refused_or_flagged(payload, tmp_path)


def test_text_mapping_entries_equal_after_normalisation_are_refused(tmp_path: Path) -> None:
    mapping = {"entries": [{"value": "Kubernetes", "points": 1}, {"value": "kubernetes.", "points": 0.5}]}
    payload = item_payload("F-CONT-001", kind="short_text", accepted=["Kubernetes"], mapping=mapping)
    path = tmp_path / "item.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    errors = [str(e) for e in load_path(path).errors]
    assert any("mapping.entries" in e for e in errors), errors


def test_an_infinite_tolerance_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "item.yaml"
    payload = item_payload("F-CONT-001", kind="numeric", tolerance=float("inf"))
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    assert [e.field for e in load_path(path).errors] == ["tolerance"]


def test_a_key_beyond_what_can_be_rounded_is_refused_or_scored_without_raising(tmp_path: Path) -> None:
    path = tmp_path / "item.yaml"
    payload = item_payload("F-CONT-001", kind="numeric", key=1e30, decimals=2)
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    loaded = load_path(path)
    if not loaded.errors:
        assert [score(s.item, "5").fraction for s in loaded.items] == [0.0]


BLANK_KEYS = [
    pytest.param({"accepted": ["HEALTHCHECK", "  "]}, id="blank-accepted"),
    pytest.param({"accepted": ["HEALTHCHECK", "..."]}, id="punctuation-accepted"),
    pytest.param({"accepted": ["HEALTHCHECK", '""']}, id="quotes-accepted"),
    pytest.param({"accepted": [], "patterns": [""]}, id="empty-pattern"),
    pytest.param({"accepted": [], "patterns": ["(HEALTHCHECK)?"]}, id="optional-pattern"),
]


@pytest.mark.parametrize("rules", BLANK_KEYS)
def test_a_blank_answer_never_earns_marks(rules: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "item.yaml"
    path.write_text(yaml.safe_dump(item_payload("F-CONT-001", kind="short_text", **rules)), encoding="utf-8")
    loaded = load_path(path)
    if not loaded.errors:
        assert [score(s.item, blank).fraction for s in loaded.items for blank in ("", "   ", ".")] == [0.0] * 3


# ---- patterns abused by long answers ---------------------------------------------------------------

LONG_ANSWERS = ["a" * 2000, "a " * 1000, "-" * 2000, "`" * 2000, " =" * 1000, "ab" * 999 + "!", "\u00df" * 2000]


def test_every_pattern_of_the_bank_scores_a_2000_character_answer_at_once() -> None:
    items = [s.item for s in BANK.items if isinstance(s.item, ShortText) and s.item.patterns]
    assert items
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from exam_service.bank.loader import load_path
        from exam_service.bank.scoring import score
        for sourced in load_path(Path("question_bank")).items:
            if getattr(sourced.item, "patterns", None):
                for answer in {LONG_ANSWERS!r}:
                    score(sourced.item, answer)
        print("done")
        """
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "done", run.stderr


def test_a_pattern_that_backtracks_exponentially_is_refused_or_cannot_hang_scoring(tmp_path: Path) -> None:
    path = tmp_path / "item.yaml"
    payload = item_payload("F-CONT-001", kind="short_text", accepted=[], patterns=[r"^(\w+\s?)+$"])
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    if load_path(path).errors:
        return
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from exam_service.bank.loader import load_path
        from exam_service.bank.scoring import score
        [sourced] = load_path(Path({str(path)!r})).items
        print(score(sourced.item, "a" * 40 + "#").fraction)
        """
    )
    try:
        run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("scoring one 41-character answer took more than 10 seconds")
    assert run.stdout.strip() == "0.0", run.stderr


# ---- QTI packages ----------------------------------------------------------------------------------

TAO = (SAMPLES / "tao_choice.xml").read_text(encoding="utf-8")
LEARNOSITY = (SAMPLES / "learnosity_weighted.xml").read_text(encoding="utf-8")
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="m1"><resources>'
    "{}</resources></manifest>"
)


def _resource(href: str, n: int = 1) -> str:
    return f'<resource identifier="r{n}" type="imsqti_item_xmlv3p0" href="{href}"><file href="{href}"/></resource>'


def _folder(tmp_path: Path, files: dict[str, str | bytes], name: str = "package") -> Path:
    folder = tmp_path / name
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return folder


def _zip(tmp_path: Path, entries: list[tuple[str, str | bytes]], compression: int = zipfile.ZIP_STORED) -> Path:
    path = tmp_path / "package.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name, which is what some tests build
        with zipfile.ZipFile(path, "w", compression) as archive:
            for name, content in entries:
                archive.writestr(name, content)
    return path


def _refused(path: Path, *names: str) -> list[str]:
    """Imports ``path``; asserts that nothing imports and that each of ``names`` is named in an error."""
    result = qti.import_package(path, **SERVING)
    assert result.items == [], [i.id for i in result.items]
    assert result.errors, "refused without a reason"
    for name in names:
        assert any(e.startswith(name) or f"{name}:" in e for e in result.errors), (name, result.errors)
    return result.errors


@pytest.mark.parametrize(
    "sample", ["billion_laughs.xml", "external_entity.xml", "parameter_entity.xml", "external_dtd.xml"]
)
def test_xml_bombs_dtds_and_external_entities_are_refused_by_name(sample: str, tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"good.xml": TAO, sample: (HOSTILE / sample).read_bytes()})
    errors = _refused(folder, sample)
    assert not any("root:" in e for e in errors)  # nothing of /etc/passwd leaked into a message
    assert len(errors) == 1


def test_an_entity_bomb_in_the_manifest_is_refused_by_name(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"imsmanifest.xml": (HOSTILE / "manifest_bomb.xml").read_bytes(), "item.xml": TAO})
    _refused(folder, "imsmanifest.xml")


@pytest.mark.parametrize(
    "entry", ["../evil.xml", "/etc/evil.xml", "a/../../evil.xml", "C:/evil.xml", "C:evil.xml", "a\\..\\..\\evil.xml"]
)
def test_a_zip_entry_that_could_leave_the_package_refuses_the_package(entry: str, tmp_path: Path) -> None:
    path = _zip(tmp_path, [("good.xml", TAO), (entry, TAO.replace("i1634567", "i2"))])
    [error] = _refused(path)
    assert repr(entry) in error or entry in error


@pytest.mark.parametrize(
    "href",
    [
        "../outside.xml",
        "/etc/passwd",
        "%2e%2e/outside.xml",
        "sub/../../outside.xml",
        "file:///etc/passwd",
        "http://attacker.invalid/item.xml",
        "C:\\outside.xml",
    ],
)
def test_a_manifest_pointing_outside_the_package_is_refused(href: str, tmp_path: Path) -> None:
    (tmp_path / "outside.xml").write_text(TAO.replace("i1634567", "outside1"), encoding="utf-8")
    manifest = MANIFEST.format(_resource("item.xml", 1) + _resource(href, 2))
    folder = _folder(tmp_path, {"imsmanifest.xml": manifest, "item.xml": TAO})
    [error] = _refused(folder, "imsmanifest.xml")
    assert "leaves the package" in error


def test_a_symlink_out_of_a_folder_package_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text(TAO.replace("i1634567", "secret1"), encoding="utf-8")
    folder = _folder(tmp_path, {"good.xml": TAO})
    (folder / "linked.xml").symlink_to(secret)
    [error] = _refused(folder)
    assert "linked.xml" in error
    assert "outside the package" in error


def test_a_package_past_the_size_limit_is_refused(tmp_path: Path) -> None:
    padding = "<!--" + "x" * (qti.MAX_PACKAGE_BYTES // 2) + "-->"
    big = TAO.replace("<qti-item-body>", "<qti-item-body>" + padding)
    folder = _folder(
        tmp_path, {"a.xml": big, "b.xml": big.replace("i1634567", "i2"), "c.xml": TAO.replace("i1634567", "i3")}
    )
    assert "exceeds" in _refused(folder)[0]
    zipped = _zip(tmp_path, [("a.xml", big), ("b.xml", big.replace("i1634567", "i2"))], zipfile.ZIP_DEFLATED)
    assert zipped.stat().st_size < qti.MAX_PACKAGE_BYTES // 100  # small on disk, too big inflated
    assert "exceeds" in _refused(zipped)[0]


def test_a_zip_whose_entry_inflates_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    padding = "<!--" + "x" * 100_000 + "-->"
    path = _zip(
        tmp_path, [("item.xml", TAO.replace("<qti-item-body>", "<qti-item-body>" + padding))], zipfile.ZIP_DEFLATED
    )
    data = bytearray(path.read_bytes())
    directory = data.rfind(b"PK\x01\x02")  # the central directory's record of item.xml
    data[directory + 24 : directory + 28] = (1000).to_bytes(4, "little")  # it claims 1,000 bytes inflated
    local_header = data.find(b"PK\x03\x04")
    data[local_header + 22 : local_header + 26] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    _refused(path)


def test_one_item_file_past_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_text(TAO.replace("<qti-item-body>", "<qti-item-body><!--" + "x" * qti.MAX_PACKAGE_BYTES + "-->"))
    assert "exceeds" in " ".join(_refused(big))


def _corrupted(tmp_path: Path, compression: int) -> Path:
    path = _zip(tmp_path, [("item.xml", TAO * 3)], compression)
    data = bytearray(path.read_bytes())
    start = 30 + len("item.xml") + 16  # inside the compressed data of the first entry
    for i in range(start, start + 48):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "compression", [pytest.param(zipfile.ZIP_DEFLATED, id="deflate"), pytest.param(zipfile.ZIP_LZMA, id="lzma")]
)
def test_a_zip_with_corrupt_compressed_data_is_refused_by_name(compression: int, tmp_path: Path) -> None:
    _refused(_corrupted(tmp_path, compression), str(tmp_path / "package.zip"))


def test_a_zip_with_a_corrupt_bzip2_entry_or_cut_short_is_refused(tmp_path: Path) -> None:
    _refused(_corrupted(tmp_path, zipfile.ZIP_BZIP2))
    whole = _zip(tmp_path, [("item.xml", TAO)]).read_bytes()
    (tmp_path / "package.zip").write_bytes(whole[: len(whole) // 2])
    _refused(tmp_path / "package.zip")


@pytest.mark.parametrize("twin", ["item.xml", "./item.xml"])
def test_a_zip_holding_two_entries_of_one_name_is_refused(twin: str, tmp_path: Path) -> None:
    _refused(_zip(tmp_path, [(twin, "<qti-assessment-item identifier='broken'"), ("item.xml", TAO)]))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(os.urandom(512), id="binary"),
        pytest.param(b"\xef\xbb\xbf" + b"<qti-assessment-item", id="truncated"),
        pytest.param(TAO.replace('encoding="UTF-8"', 'encoding="UTF-32"').encode("utf-32"), id="utf-32"),
        pytest.param(b"<?xml version='1.0'?><qti-assessment-item identifier='x'>\x00</qti-assessment-item>", id="nul"),
    ],
)
def test_files_that_are_not_xml_are_refused_by_name(content: bytes, tmp_path: Path) -> None:
    _refused(_folder(tmp_path, {"good.xml": TAO, "bad.xml": content}), "bad.xml")


@pytest.mark.parametrize("encoding", ["Shift_JIS", "Big5", "UTF-7", "x-no-such-encoding"])
def test_an_unsupported_encoding_is_refused_by_name(encoding: str, tmp_path: Path) -> None:
    declared = TAO.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode("utf-8")
    _refused(_folder(tmp_path, {"good.xml": TAO, "bad.xml": declared}), "bad.xml")


def test_a_deeply_nested_item_body_is_refused_by_name(tmp_path: Path) -> None:
    deep = TAO.replace('<div class="grid-row">', "<span>" * 5000 + '<div class="grid-row">').replace(
        "</qti-item-body>", "</span>" * 5000 + "</qti-item-body>"
    )
    _refused(_folder(tmp_path, {"good.xml": TAO.replace("i1634567", "i2"), "deep.xml": deep}), "deep.xml")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ChoiceA", "choicea"),
        ("choice-a", "choice_a"),
        ("choice.a", "choice a"),
        ("choice_aaaaaaaaaaaaa1", "choice_aaaaaaaaaaaaa2"),
        ("\u00e9", "\u00e8"),
        ("", "_"),
    ],
)
def test_choice_identifiers_that_collide_after_normalisation_are_refused(
    first: str, second: str, tmp_path: Path
) -> None:
    clash = TAO.replace('identifier="choice_1"', f'identifier="{first}"').replace(
        'identifier="choice_3"', f'identifier="{second}"'
    )
    [error] = _refused(_folder(tmp_path, {"clash.xml": clash, "good.xml": LEARNOSITY}), "clash.xml")
    assert "normalise" in error


def test_two_files_with_one_item_identifier_are_refused(tmp_path: Path) -> None:
    spaced = TAO.replace('identifier="i1634567"', 'identifier=" i1634567 "')
    _refused(_folder(tmp_path, {"a.xml": TAO, "b.xml": spaced}), "b.xml")


def test_a_manifest_listing_one_file_twice_says_so(tmp_path: Path) -> None:
    manifest = MANIFEST.format(_resource("item.xml", 1) + _resource("item.xml", 2))
    [error] = _refused(_folder(tmp_path, {"imsmanifest.xml": manifest, "item.xml": TAO}))
    assert "also used by item.xml" not in error
    assert "twice" in error


BAD_SCORING = [
    ('map-key="i0" mapped-value="2"', 'map-key="i0" mapped-value="NaN"'),
    ('map-key="i0" mapped-value="2"', 'map-key="i0" mapped-value="INF"'),
    ('map-key="i0" mapped-value="2"', 'map-key="i0" mapped-value="-Infinity"'),
    ('map-key="i0" mapped-value="2"', 'map-key="i0" mapped-value="1e400"'),
    ('map-key="i0" mapped-value="2"', 'map-key="i0" mapped-value="1e300"'),
    ('map-key="i0" mapped-value="2"', 'map-key="i0" mapped-value="0x10"'),
    ('map-key="i0" mapped-value="2"', 'map-key="i0"'),
    ('default-value="-0.5"', 'default-value="nan"'),
    ('default-value="-0.5"', 'default-value="-1e300"'),
    ('default-value="-0.5"', 'default-value="1e300"'),
    ('lower-bound="0" upper-bound="3"', 'lower-bound="2" upper-bound="1"'),
    ('lower-bound="0" upper-bound="3"', 'lower-bound="0" upper-bound="-1"'),
    ('lower-bound="0" upper-bound="3"', 'lower-bound="0" upper-bound="0"'),
    ('lower-bound="0" upper-bound="3"', 'lower-bound="NaN" upper-bound="3"'),
    ('lower-bound="0" upper-bound="3"', 'lower-bound="0" upper-bound="inf"'),
    ('lower-bound="0" upper-bound="3"', 'lower-bound="0" upper-bound="1e300"'),
    ('lower-bound="0" upper-bound="3"', 'upper-bound="3"'),  # negative points and no lower bound
    ("<qti-value>3</qti-value></qti-default-value>", "<qti-value>0</qti-value></qti-default-value>"),
    ("<qti-value>3</qti-value></qti-default-value>", "<qti-value>-3</qti-value></qti-default-value>"),
    ("<qti-value>3</qti-value></qti-default-value>", "<qti-value>NaN</qti-value></qti-default-value>"),
    ("<qti-value>3</qti-value></qti-default-value>", "<qti-value>1e300</qti-value></qti-default-value>"),
    ("<qti-value>3</qti-value></qti-default-value>", "<qti-value>three</qti-value></qti-default-value>"),
    ("<qti-value>3</qti-value></qti-default-value>", "<qti-value></qti-value></qti-default-value>"),
]


@pytest.mark.parametrize(("old", "new"), BAD_SCORING, ids=[new for _, new in BAD_SCORING])
def test_a_mapping_or_maxscore_out_of_range_is_refused_by_name(old: str, new: str, tmp_path: Path) -> None:
    assert old in LEARNOSITY
    _refused(_folder(tmp_path, {"weighted.xml": LEARNOSITY.replace(old, new), "good.xml": TAO}), "weighted.xml")


def test_a_tiny_maxscore_is_refused_or_a_right_answer_earns_it(tmp_path: Path) -> None:
    tiny = LEARNOSITY.replace(
        "<qti-value>3</qti-value></qti-default-value>", "<qti-value>1e-7</qti-value></qti-default-value>"
    )
    result = qti.import_package(_folder(tmp_path, {"tiny.xml": tiny}), **SERVING)
    for item in result.items:
        assert score(item, ["i0", "i1"]).fraction == 1.0


def test_a_package_of_good_and_bad_files_imports_nothing_and_names_every_bad_one(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "good_choice.xml": TAO,
        "good_weighted.xml": LEARNOSITY,
        "broken.xml": "<qti-assessment-item",
        "bomb.xml": (HOSTILE / "billion_laughs.xml").read_bytes(),
        "custom.xml": (SAMPLES / "custom_processing.xml").read_bytes(),
        "point.xml": (SAMPLES / "select_point.xml").read_bytes(),
        "nan.xml": LEARNOSITY.replace('mapped-value="2"', 'mapped-value="NaN"').replace("8f14e45f", "9f14e45f"),
    }
    errors = _refused(_folder(tmp_path, files), "broken.xml", "bomb.xml", "custom.xml", "point.xml", "nan.xml")
    assert len(errors) == 5
    assert not any(e.startswith("good_") for e in errors)


async def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXAM_DATABASE_URL": database_url, "COLUMNS": "200"}
    command = [sys.executable, "-m", "exam_service.cli", "bank", *args]
    return await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


async def _published_ids(sm: Session) -> set[str]:
    async with sm() as session:
        return {p.item_id for p in await bank_service.pool(session, "foundation")}


@pytest.mark.slow
async def test_the_import_command_refuses_a_hostile_package_by_name_without_a_traceback(
    database_url: str, sessionmaker: Session, tmp_path: Path
) -> None:
    files: dict[str, str | bytes] = {
        "good.xml": TAO,
        "bomb.xml": (HOSTILE / "billion_laughs.xml").read_bytes(),
        "leak.xml": (HOSTILE / "external_entity.xml").read_bytes(),
        "clash.xml": TAO.replace('identifier="choice_3"', 'identifier="CHOICE_1"').replace("i1634567", "i9"),
    }
    run = await _cli(
        database_url,
        "import",
        "--format",
        "qti3",
        str(_folder(tmp_path, files)),
        "--tier",
        "foundation",
        "--domain",
        "serving",
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    for name in ("bomb.xml", "leak.xml", "clash.xml"):
        assert name in run.stdout
    assert "nothing was imported" in run.stdout
    assert await _published_ids(sessionmaker) == set()


# ---- retirement --------------------------------------------------------------------------------------


def _load(tmp_path: Path, files: dict[str, str | bytes]) -> tuple[list[str], LoadResult]:
    folder = _folder(tmp_path, dict(files), "bank")
    loaded = load_path(folder)
    return [str(e).removeprefix(str(folder) + "/") for e in loaded.errors], loaded


RETIRE_ONE = "retired:\n  - id: F-CONT-001\n    reason: a repeat of F-CONT-002, which examines the same fact\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "r.yaml:1: expected a mapping", id="empty"),
        pytest.param("# nothing retired yet\n", "r.yaml:1: expected a mapping", id="comment-only"),
        pytest.param(
            "- id: F-CONT-001\n  reason: a repeat of F-CONT-002 here\n", "r.yaml:1: expected a mapping", id="list"
        ),
        pytest.param("retired: []\n", "r.yaml:1: retired:", id="empty-list"),
        pytest.param("retired:\n", "r.yaml:1: retired:", id="null"),
        pytest.param("retired: F-CONT-001\n", "r.yaml:1: retired:", id="scalar"),
        pytest.param("retired:\n  F-CONT-001: a repeat of F-CONT-002\n", "r.yaml:2: retired:", id="mapping"),
        pytest.param("retired:\n  - F-CONT-001\n", "r.yaml:2: retired.0:", id="bare-id"),
        pytest.param("retired:\n  - id: F-CONT-001\n", "r.yaml:2: retired.0.reason:", id="no-reason"),
        pytest.param(
            "retired:\n  - id: F-CONT-001\n    reason: dup\n", "r.yaml:3: retired.0.reason:", id="short-reason"
        ),
        pytest.param(
            "retired:\n  - id: ../../etc/passwd\n    reason: a repeat of F-CONT-002 here\n",
            "r.yaml:2: retired.0.id:",
            id="path-id",
        ),
        pytest.param(
            "retired:\n  - id: f-cont-001\n    reason: a repeat of F-CONT-002 here\n",
            "r.yaml:2: retired.0.id:",
            id="lower-case",
        ),
        pytest.param(RETIRE_ONE + "items: []\n", "r.yaml:4: items:", id="with-items"),
        pytest.param("retired: [\n", "r.yaml:2: not valid YAML", id="broken-yaml"),
        pytest.param(
            b"retired:\n  - id: F-CONT-001\n    reason: caf\xe9 au lait, a repeat\n",
            "r.yaml:",
            id="latin-1",
        ),
    ],
)
def test_a_hostile_retirement_file_is_reported_at_its_line(text: str | bytes, expected: str, tmp_path: Path) -> None:
    errors, loaded = _load(tmp_path, {"r.yaml": text, "a.yaml": yaml.safe_dump(item_payload("F-CONT-002"))})
    assert loaded.retired == []
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors


def test_a_retired_id_carried_by_an_item_is_refused_at_the_item(tmp_path: Path) -> None:
    errors, _ = _load(tmp_path, {"retired/r.yaml": RETIRE_ONE, "a.yaml": yaml.safe_dump(item_payload("F-CONT-001"))})
    assert errors == ["a.yaml:1: id: F-CONT-001 is retired; a retired id is never reused"]


def test_an_item_retired_in_two_files_is_refused(tmp_path: Path) -> None:
    errors, _ = _load(tmp_path, {"retired/a.yaml": RETIRE_ONE, "retired/b.yaml": RETIRE_ONE})
    assert errors == ["retired/b.yaml:2: retired: F-CONT-001 is retired twice"]


def test_a_duplicate_retirement_is_reported_at_the_repeated_entry(tmp_path: Path) -> None:
    text = RETIRE_ONE + "  - id: F-CONT-003\n    reason: a repeat of F-CONT-004 in other words\n"
    text += "  - id: F-CONT-001\n    reason: listed again by a second author\n"
    errors, _ = _load(tmp_path, {"r.yaml": text})
    assert errors == ["r.yaml:6: retired: F-CONT-001 is retired twice"], errors


@pytest.mark.parametrize("form", ["yaml-file", "qti"])
async def test_a_retired_id_is_never_published_again(
    form: str, sessionmaker: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    async with sessionmaker() as session, session.begin():
        await bank_service.import_content(
            session, [item_from_payload(item_payload("F-SERV-003", "serving"))], [], BY, clock
        )
    async with sessionmaker() as session, session.begin():
        retirement = Retirement(id="F-SERV-003", reason="a repeat of F-SERV-004, which examines the same fact")
        await bank_service.import_content(session, [], [], BY, clock, retired=[retirement])
    assert await _published_ids(sessionmaker) == set()
    if form == "yaml-file":
        mended = item_payload("F-SERV-003", "serving", stem="Question F-SERV-003, mended: which statement holds?")
        domain_file = _folder(tmp_path, {"serving.yaml": yaml.safe_dump({"items": [mended]})}) / "serving.yaml"
        loaded = load_path(domain_file)
        assert loaded.errors == []
        items = [s.item for s in loaded.items]
    else:
        qti_file = _folder(tmp_path, {"item.xml": TAO.replace('identifier="i1634567"', 'identifier="F-SERV-003"')})
        items = qti.import_package(qti_file / "item.xml", **SERVING).items
        assert [i.id for i in items] == ["F-SERV-003"]
    try:
        async with sessionmaker() as session, session.begin():
            await bank_service.import_content(session, items, [], BY, clock)
    except ExamServiceError:
        pass
    assert await _published_ids(sessionmaker) == set()


# ---- lint and the loader on hostile YAML ---------------------------------------------------------------


# nine aliases of nine aliases...: a few hundred bytes that stand for 9**7 strings
ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in itertools.pairwise("abcdefg"))
    + "items: *g\n"
)


HOSTILE_YAML = [
    pytest.param("", id="empty"),
    pytest.param("\n\n   \n", id="blank"),
    pytest.param("---\n...\n", id="null-document"),
    pytest.param("just words\n", id="scalar"),
    pytest.param("- 1\n- 2\n", id="list"),
    pytest.param("items: []\n", id="no-items"),
    pytest.param("items:\n", id="null-items"),
    pytest.param("items: [1, 2]\n", id="items-not-mappings"),
    pytest.param(ALIAS_BOMB, id="alias-bomb"),
    pytest.param("!!python/object/apply:os.system [echo pwned]\n", id="python-tag"),
    pytest.param(b"\xff\xfe\x00\x00", id="not-utf-8"),
]


@pytest.mark.parametrize("text", HOSTILE_YAML)
def test_the_loader_reports_a_hostile_file_by_name(text: str | bytes, tmp_path: Path) -> None:
    errors, loaded = _load(tmp_path, {"bad.yaml": text, "good.yaml": yaml.safe_dump(item_payload("F-CONT-002"))})
    assert errors
    assert all(e.startswith("bad.yaml:") for e in errors), errors
    assert [s.item.id for s in loaded.items] == ["F-CONT-002"]


def test_validate_and_lint_name_every_hostile_file_without_a_traceback(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"bad-{p.id}.yaml": p.values[0] for p in HOSTILE_YAML}  # type: ignore[misc]
    folder = _folder(tmp_path, {**files, "good.yaml": yaml.safe_dump(item_payload("F-CONT-002"))}, "bank")
    for command in ("validate", "lint"):
        run = subprocess.run(
            [sys.executable, "-m", "exam_service.cli", "bank", command, str(folder)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert run.returncode == 1, run.stdout
        assert "Traceback" not in run.stdout + run.stderr
        assert [name for name in files if f"{name}:" not in run.stdout] == []


def _one_item_errors(payload: dict[str, Any], tmp_path: Path) -> list[str]:
    errors, _ = _load(tmp_path, {"item.yaml": yaml.safe_dump(payload, sort_keys=False, allow_unicode=True)})
    return errors


@pytest.mark.parametrize("text", [" ", "   ", "\t\n", "\u200b", "\u00a0"])
def test_an_option_with_no_text_after_strip_is_refused(text: str, tmp_path: Path) -> None:
    payload = item_payload("F-CONT-001")
    payload["options"][2]["text"] = text
    errors = _one_item_errors(payload, tmp_path)
    assert len(errors) == 1, errors
    assert "options.2.text" in errors[0], errors


def test_lint_survives_items_with_one_letter_options_and_sets_of_zero_or_one() -> None:
    blank = item_payload("F-CONT-001")
    for option in blank["options"]:
        option["text"] = "x"  # blank options are refused by the model; the shortest it takes
    blank_item = item_from_payload(blank)
    for items in ([], [blank_item], [blank_item, item_from_payload(item_payload("F-CONT-002", kind="true_false"))]):
        report = lint(items)
        assert [r for r in report.rules if not r.figure] == []


def test_a_field_written_twice_in_one_item_is_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump(item_payload("F-CONT-001"), sort_keys=False) + "key: c\n"
    errors, _ = _load(tmp_path, {"item.yaml": text})
    assert errors
    assert "key" in errors[0], errors


def test_lint_flags_two_copies_of_one_question() -> None:
    first = item_payload("F-CONT-001", stem="Which Dockerfile instruction switches the user that runs the process?")
    second = {**first, "id": "F-CONT-002"}
    report = lint([item_from_payload(first), item_from_payload(second)])
    assert not report.ok
