"""From a sitting's answers to its outcome: item points, section scores, weighted total, scale, pass.

A pure function of its inputs (the blueprint, the pinned item versions, the answers in authored
ids, the grader's results, examiners' marks and key corrections), computed with exact fractions,
so rescoring the same inputs gives the same result to the last digit (docs/SCORING.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from exam_service.bank.authoring import Blueprint, Section
from exam_service.bank.scoring import MultipleResponsePolicy, fraction_correct
from exam_service.scoring.corrections import ITEM, Correction, accepts, corrected_payload
from exam_service.scoring.scaling import exact, scaled_score

GRADED, FAILED = "graded", "failed"


@dataclass(frozen=True)
class GraderResult:
    state: str
    points: float | None
    max_points: float | None
    needs_examiner: bool = False


@dataclass(frozen=True)
class Entry:
    """One position of the form, with everything that decides its points."""

    position: int
    section: str
    item_id: str
    version_id: str
    payload: dict[str, Any]
    response: Any  # in the item's authored ids
    grading: GraderResult | None = None  # performance tasks
    override: float | None = None  # an examiner's points, on the item's maximum
    corrections: list[Correction] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    items: list[dict[str, Any]]
    sections: list[dict[str, Any]]
    points: float
    max_points: float
    percent: float
    scaled_score: int | None
    passed: bool | None
    complete: bool
    pending: list[str]


def item_maximum(section: Section | None, payload: dict[str, Any]) -> Fraction:
    if section is not None and section.item_points is not None:
        return exact(section.item_points)
    return exact(float(payload.get("points", 1.0)))


def _item_fraction(entry: Entry, policy: MultipleResponsePolicy) -> tuple[Fraction | None, str, str | None]:
    """The share of the item's maximum earned, its source, and why it is pending (if it is)."""
    if entry.override is not None:
        return None, "examiner", None
    if entry.payload["type"] == "performance_task":
        grade = entry.grading
        if grade is None or grade.state not in (GRADED, FAILED):
            return None, "pending", "awaiting the grader"
        if grade.state == FAILED or grade.needs_examiner:
            return None, "pending", "the grader could not decide; an examiner must mark it"
        if not grade.max_points:
            return Fraction(0), "grader", None
        return exact(grade.points or 0.0) / exact(grade.max_points), "grader", None
    payload = corrected_payload(entry.payload, entry.corrections)
    item = ITEM.validate_python(payload)
    base = fraction_correct(item, entry.response, policy) if entry.response is not None else 0.0
    if base is None:
        return None, "pending", "marked by an examiner"
    if accepts(entry.payload, entry.corrections, entry.response):
        return Fraction(1), "correction", None
    source = "correction" if payload is not entry.payload else "key"
    return exact(base), source, None


def score(blueprint: Blueprint, entries: list[Entry]) -> Outcome:
    sections: dict[str, Section] = {s.id: s for s in blueprint.sections}
    items: list[dict[str, Any]] = []
    pending: list[str] = []
    totals: dict[str, tuple[Fraction, Fraction]] = {}
    for entry in sorted(entries, key=lambda e: e.position):
        section = sections.get(entry.section)
        maximum = item_maximum(section, entry.payload)
        fraction, source, why = _item_fraction(entry, blueprint.multiple_response_scoring)
        if entry.override is not None:
            awarded = min(max(exact(entry.override), Fraction(0)), maximum)
        else:
            awarded = fraction * maximum if fraction is not None else Fraction(0)
        if why is not None:
            pending.append(f"item {entry.position} ({entry.item_id}): {why}")
        got, out_of = totals.get(entry.section, (Fraction(0), Fraction(0)))
        totals[entry.section] = (got + awarded, out_of + maximum)
        items.append(
            {
                "position": entry.position,
                "item_id": entry.item_id,
                "version_id": entry.version_id,
                "section": entry.section,
                "domain": entry.payload.get("domain"),
                "type": entry.payload["type"],
                "awarded": _points(awarded),
                "maximum": _points(maximum),
                "source": source,
                "pending": why is not None,
            }
        )
    complete = not pending
    section_rows, weighted, weights = [], Fraction(0), Fraction(0)
    for section in blueprint.sections:
        if section.id not in totals or totals[section.id][1] == 0:
            continue
        got, out_of = totals[section.id]
        percent = 100 * got / out_of
        weight = exact(section.weight) if section.weight is not None else out_of
        weighted, weights = weighted + weight * percent, weights + weight
        section_rows.append(
            {
                "id": section.id,
                "points": _points(got),
                "max_points": _points(out_of),
                "percent": _percent(percent),
                "weight": _points(weight),
                "minimum_percent": section.minimum_percent,
                "met": percent >= exact(section.minimum_percent),
            }
        )
    total = weighted / weights if weights else Fraction(0)
    cut = exact(blueprint.cut_score_percent)
    passed = (total >= cut and all(row["met"] for row in section_rows)) if complete else None
    return Outcome(
        items=items,
        sections=section_rows,
        points=_points(sum((t[0] for t in totals.values()), Fraction(0))),
        max_points=_points(sum((t[1] for t in totals.values()), Fraction(0))),
        percent=_percent(total),
        scaled_score=scaled_score(total, cut) if complete else None,
        passed=passed,
        complete=complete,
        pending=pending,
    )


def _points(value: Fraction) -> float:
    return round(float(value), 6)


def _percent(value: Fraction) -> float:
    return round(float(value), 4)
