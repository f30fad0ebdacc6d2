"""What a typed answer may hold: numbers as people write them, and text compared fairly.

A numeric answer is a number in digits, with thousands separators ("5,000", "5 000"), an
optional sign, and, where the item declares them, a leading sign such as "$" (``prefix``) and a
trailing unit ("11.6 GB", "75%"). Anything else is refused when it is saved, with a message that
says what to type, so an answer is never stored that scoring would silently count as 0.

Short text is compared after Unicode normalisation, ignoring case (unless the item says
otherwise), surrounding spaces and quotes, repeated inner spaces and trailing punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

import regex

MAX_NUMERIC_CHARS = 60
MAX_DIGITS = 15  # numbers below 10**15, down to 10**-15

_NUMBER = re.compile(
    r"""
    (?P<sign>[+\-])?\s*
    (?P<body>
        \d{1,3}(?:,\d{3})+(?:\.\d*)?       # 5,000 or 1,234.5
      | \d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:\.\d*)?  # 5 000
      | \d+(?:\.\d*)?(?:[eE][+\-]?\d+)?     # 5000, 5000.25, 5., 1e6
      | \.\d+(?:[eE][+\-]?\d+)?             # .5
    )
    (?!\d)
    """,
    re.VERBOSE,
)
_CURRENCY = "$€£¥₹"
_TRAILING_PUNCTUATION = ".,;:!?…"
_QUOTES = "\"'`\u201c\u201d\u2018\u2019"


class AnswerFormatError(ValueError):
    """A typed answer that is not in a form the item accepts; the message says what to type."""


def _spaces(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _accepted_units(unit: str | None, aliases: Sequence[str]) -> set[str]:
    units = {_spaces(u).casefold() for u in (unit, *aliases) if u}
    if "%" in units or "percent" in units:
        units |= {"%", "percent", "per cent"}
    return units


def numeric_hint(payload: Mapping[str, Any]) -> str:
    """What the candidate's input accepts, in words shown next to it."""
    unit, prefix, decimals = payload.get("unit"), payload.get("prefix"), payload.get("decimals")
    parts = ["A number in digits, e.g. 1,250 or 3.75"]
    if prefix:
        parts.append(f"you may start it with {prefix}")
    if unit:
        parts.append(f"you may end it with {unit}")
    if decimals is not None:
        places = f"to {decimals} decimal place" + ("s" if decimals > 1 else "")
        parts.append("as a whole number" if decimals == 0 else places)
    return "; ".join(parts) + "."


def parse_number(payload: Mapping[str, Any], answer: Any) -> Decimal:
    """The number a typed answer holds, or ``AnswerFormatError`` saying what to type instead."""
    if isinstance(answer, bool) or not isinstance(answer, int | float | str):
        raise AnswerFormatError("Type a number.")
    if not isinstance(answer, str):
        return _bounded(Decimal(str(answer)) if isinstance(answer, float) else Decimal(answer))
    if len(answer) > MAX_NUMERIC_CHARS:
        raise AnswerFormatError(f"Type at most {MAX_NUMERIC_CHARS} characters: a number and its unit.")
    if any(unicodedata.category(c) == "No" for c in answer):  # superscripts, fractions, circled digits
        raise AnswerFormatError(f"Type plain digits (no superscripts or fractions). {numeric_hint(payload)}")
    text = _spaces(answer).replace("\u2212", "-")
    prefix = payload.get("prefix")
    sign = ""
    if text[:1] in "+-":
        sign, text = text[:1], text[1:].lstrip()
    if prefix and text[: len(prefix)].casefold() == str(prefix).casefold():
        text = text[len(prefix) :].lstrip()
    elif text[:1] and text[:1] in _CURRENCY:
        raise AnswerFormatError(f"This answer takes no {text[:1]} sign. {numeric_hint(payload)}")
    match = _NUMBER.match(text)
    if match is None:
        raise AnswerFormatError(f"Type the answer in digits. {numeric_hint(payload)}")
    rest = text[match.end() :].strip().rstrip(_TRAILING_PUNCTUATION).strip()
    if rest:
        units = _accepted_units(payload.get("unit"), payload.get("unit_aliases") or [])
        if rest.casefold() not in units:
            if re.fullmatch(r",\d{1,2}|,\d{4,}", rest) or re.fullmatch(r",\d+", rest):
                raise AnswerFormatError("Use a point for decimals (3.5); a comma only separates thousands (5,000).")
            unit = payload.get("unit")
            wanted = f"this question takes {unit}" if unit else "this question takes a plain number"
            raise AnswerFormatError(f"{rest!r} is not accepted after the number ({wanted}). {numeric_hint(payload)}")
    if sign and match["sign"]:
        raise AnswerFormatError(f"Type one sign at most. {numeric_hint(payload)}")
    digits = re.sub(r"[,\s\u00a0\u202f\u2009]", "", match["body"])
    try:
        return _bounded(Decimal((match["sign"] or sign or "") + digits))
    except InvalidOperation:
        raise AnswerFormatError(f"Type the answer in digits. {numeric_hint(payload)}") from None


def _bounded(value: Decimal) -> Decimal:
    # adjusted() is the exponent of the leading digit: judged before any arithmetic, which could overflow
    if not value.is_finite() or (value and value.adjusted() >= MAX_DIGITS):
        raise AnswerFormatError("Type a finite number below a million billion.")
    if value and value.adjusted() < -MAX_DIGITS:
        return Decimal(0)  # smaller than any precision an item asks for
    return value


def numeric_matches(payload: Mapping[str, Any], answer: Any) -> bool:
    """Whether a typed answer equals the key, within the tolerance, at the precision wanted."""
    try:
        value = parse_number(payload, answer)
    except AnswerFormatError:
        return False
    key = Decimal(str(payload["key"]))
    tolerance = Decimal(str(payload.get("tolerance") or 0))
    decimals = payload.get("decimals")
    with localcontext() as exact:
        exact.prec = 2 * MAX_DIGITS + 10  # every answer and key the bank accepts, without rounding
        if decimals is not None:
            step = Decimal(1).scaleb(-int(decimals))
            value, key = value.quantize(step, ROUND_HALF_UP), key.quantize(step, ROUND_HALF_UP)
        return abs(value - key) <= tolerance + Decimal("1e-9")


def normalise_text(text: str, case_sensitive: bool = False) -> str:
    """Short text as compared: NFKC, inner spaces collapsed, outer quotes and trailing punctuation gone."""
    text = _spaces(text)
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    text = text.rstrip(_TRAILING_PUNCTUATION + " ")
    return text if case_sensitive else text.casefold()


# Short-text patterns are authored regular expressions matched against candidates' text: matched
# with a time limit, and refused when written if they match nothing typed or backtrack badly.
PATTERN_SECONDS = 0.05
_PROBES = [unit * 40 + end for unit in ("a", "a ", "1", " ", "-", "_", ".", "ab", "a-") for end in ("!", "\x00")]


def pattern_problem(pattern: str) -> str | None:
    """Why an authored pattern cannot be used, or ``None``."""
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    except regex.error as exc:
        return f"invalid pattern {pattern!r}: {exc}"
    if compiled.fullmatch("") is not None:
        return f"pattern {pattern!r} matches an empty answer"
    for probe in _PROBES:
        try:
            compiled.fullmatch(probe, timeout=PATTERN_SECONDS)
        except TimeoutError:
            return f"pattern {pattern!r} backtracks for too long on some answers (nested repetition?)"
    return None


def pattern_matches(pattern: str, answer: str, case_sensitive: bool) -> bool | None:
    """Whether the normalised answer matches; ``None`` when the pattern ran out of time."""
    flags = regex.VERSION0 | (0 if case_sensitive else regex.IGNORECASE)
    try:
        return regex.fullmatch(pattern, answer, flags, timeout=PATTERN_SECONDS) is not None
    except TimeoutError:
        return None
