"""Correct answers typed the way people write them earn full marks; unreadable numbers are refused."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exam_service.bank.answers import AnswerFormatError, normalise_text, numeric_hint, parse_number
from exam_service.bank.authoring import Numeric, ShortText
from exam_service.bank.loader import load_path
from exam_service.bank.scoring import score

BANK = load_path(Path("question_bank"))
NUMERIC = [s.item for s in BANK.items if isinstance(s.item, Numeric)]
SHORT_TEXT = [s.item for s in BANK.items if isinstance(s.item, ShortText) and not s.item.manual]


def _plain(item: Numeric) -> str:
    """The key as a person writes it: the precision the item asks for, no float noise."""
    if item.decimals is not None:
        return f"{Decimal(str(item.key)):.{item.decimals}f}"
    return format(Decimal(str(item.key)).normalize(), "f")


def _grouped(item: Numeric) -> str:
    whole, _, fraction = _plain(item).partition(".")
    grouped = f"{int(whole):,}" if whole.lstrip("-") else whole
    return grouped + (f".{fraction}" if fraction else "")


def numeric_forms(item: Numeric) -> list[str]:
    plain, grouped = _plain(item), _grouped(item)
    forms = [plain, grouped, f"  {grouped}  "]
    if item.unit:
        forms += [f"{grouped} {item.unit}", f"{plain}{item.unit}", f"{grouped} {item.unit.upper()}."]
        forms += [f"{plain} {alias}" for alias in item.unit_aliases]
        if item.unit in ("%", "percent"):
            forms += [f"{plain}%", f"{plain} percent"]
    if item.prefix:
        forms += [f"{item.prefix}{grouped}", f"{item.prefix} {plain}"]
        if item.unit:
            forms.append(f"{item.prefix}{grouped} {item.unit}")
    return forms


@pytest.mark.parametrize("item", NUMERIC, ids=lambda i: i.id)
def test_every_numeric_item_gives_full_marks_for_the_key_however_written(item: Numeric) -> None:
    for typed in numeric_forms(item):
        assert score(item, typed).fraction == 1.0, (item.id, typed)


@pytest.mark.parametrize("item", NUMERIC, ids=lambda i: i.id)
def test_every_numeric_item_refuses_words_and_foreign_units(item: Numeric) -> None:
    payload = item.model_dump()
    for typed in ("four", f"about {_plain(item)}", f"{_plain(item)} apples", "3,5"):
        with pytest.raises(AnswerFormatError):
            parse_number(payload, typed)


@pytest.mark.parametrize("item", NUMERIC, ids=lambda i: i.id)
def test_every_numeric_item_scores_a_wrong_number_zero(item: Numeric) -> None:
    wrong = Decimal(str(item.key)) + Decimal(str(item.tolerance)) + 1
    assert score(item, format(wrong, "f")).fraction == 0.0


@pytest.mark.parametrize("item", SHORT_TEXT, ids=lambda i: i.id)
def test_every_short_text_item_ignores_case_spaces_and_a_final_full_stop(item: ShortText) -> None:
    for accepted in item.accepted:
        forms = [accepted, f"  {accepted}.", f"{accepted}!", f'"{accepted}"']
        if not item.case_sensitive:
            forms += [accepted.upper(), accepted.lower() + "."]
        for typed in forms:
            assert score(item, typed).fraction == 1.0, (item.id, typed)


def test_the_bank_has_numeric_and_short_text_items_to_check() -> None:
    assert len(NUMERIC) >= 20
    assert len(SHORT_TEXT) >= 10


def numeric(**fields: Any) -> dict[str, Any]:
    return {"key": 0, "tolerance": 0, "unit": None, "unit_aliases": [], "prefix": None, "decimals": None} | fields


@pytest.mark.parametrize(
    ("item", "typed", "value"),
    [
        (numeric(), "5,000", Decimal(5000)),
        (numeric(), "1,234,567.5", Decimal("1234567.5")),
        (numeric(), "5 000", Decimal(5000)),
        (numeric(), "-2.5", Decimal("-2.5")),
        (numeric(), "\u22122.5", Decimal("-2.5")),
        (numeric(), ".5", Decimal("0.5")),
        (numeric(unit="%"), "75%", Decimal(75)),
        (numeric(unit="%"), "75 per cent", Decimal(75)),
        (numeric(unit="GB", unit_aliases=["gigabytes"]), "11.6 GB", Decimal("11.6")),
        (numeric(unit="GB", unit_aliases=["gigabytes"]), "11.6 gigabytes", Decimal("11.6")),
        (numeric(prefix="$", unit="USD"), "$371", Decimal(371)),
        (numeric(prefix="$", unit="USD"), "371 USD", Decimal(371)),
        (numeric(prefix="$"), "-$1,200", Decimal(-1200)),
    ],
)
def test_numbers_are_read_as_written(item: dict[str, Any], typed: str, value: Decimal) -> None:
    assert parse_number(item, typed) == value


@pytest.mark.parametrize(
    ("item", "typed", "says"),
    [
        (numeric(), "four", "digits"),
        (numeric(unit="GB"), "about four GB", "digits"),
        (numeric(), "3,5", "point for decimals"),
        (numeric(), "$371", "no $ sign"),
        (numeric(), "75%", "plain number"),
        (numeric(unit="GB"), "11.6 MB", "takes GB"),
        (numeric(), "1e400", "million billion"),
        (numeric(), "--5", "one sign"),
        (numeric(prefix="$"), "-$-5", "one sign"),
        (numeric(), 1e300, "million billion"),
        (numeric(), "9" * 61, "at most 60"),
    ],
)
def test_unreadable_numbers_say_what_to_type(item: dict[str, Any], typed: object, says: str) -> None:
    with pytest.raises(AnswerFormatError) as raised:
        parse_number(item, typed)
    assert says in str(raised.value)


def test_the_precision_wanted_rounds_before_comparing() -> None:
    item = Numeric.model_validate(
        {
            "id": "F-VERS-900",
            "type": "numeric",
            "tier": "foundation",
            "domain": "versioning",
            "tracks": ["DevOps"],
            "difficulty": "easy",
            "stem": "How many gigabytes, to one decimal place?",
            "rationale": "A worked computation for the test of rounding.",
            "references": ["test"],
            "key": 11.6,
            "unit": "GB",
            "decimals": 1,
        }
    )
    assert score(item, "11.63 GB").fraction == 1.0
    assert score(item, "11.56").fraction == 1.0
    assert score(item, "11.66").fraction == 0.0
    assert "to 1 decimal place" in numeric_hint(item.model_dump())


def test_short_text_normalisation() -> None:
    assert normalise_text("  Idempotent. ") == "idempotent"
    assert normalise_text("\u201cShadow   deployment\u201d") == "shadow deployment"
    assert normalise_text("OAS 3.1") == "oas 3.1"
    assert normalise_text("Node.js", case_sensitive=True) == "Node.js"
