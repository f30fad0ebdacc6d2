"""Reading how an imported item is scored: its ``qti-mapping`` and its response processing."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from exam_service.bank.qti.common import Reject, kid, kids, local


@dataclass
class ScoreMap:
    entries: list[tuple[str, float, bool]]  # key, value, case sensitive
    default: float
    lower: float | None
    upper: float | None


def read_mapping(decl: ET.Element) -> ScoreMap | None:
    mapping = kid(decl, "qti-mapping")
    if mapping is None:
        return None

    def number(value: str | None) -> float | None:
        try:
            return None if value is None else float(value)
        except ValueError:
            raise Reject(f"qti-mapping holds a non-number {value!r}") from None

    entries = [
        (e.get("map-key", ""), number(e.get("mapped-value")) or 0.0, e.get("case-sensitive", "true") == "true")
        for e in kids(mapping, "qti-map-entry")
    ]
    default = number(mapping.get("default-value")) or 0.0
    return ScoreMap(entries, default, number(mapping.get("lower-bound")), number(mapping.get("upper-bound")))


def equal_shares(mapping: ScoreMap, values: dict[str, float], keys: list[str], what: str) -> None:
    """The key entries share 1 equally and nothing can push the total above 1."""
    if mapping.default != 0 or (mapping.upper is not None and mapping.upper < 1):
        raise Reject(f"the {what} mapping's default value or upper bound changes the score")
    if any(abs(values.get(k, 0.0) - 1 / len(keys)) > 1e-9 for k in keys):
        raise Reject(f"the {what} mapping does not give each correct answer an equal share")


def to_float(text: str | None) -> float | None:
    try:
        return float(text or "")
    except ValueError:
        return None


def _numeric_rule(processing: ET.Element) -> float | None:
    """The tolerance of our numeric response rule, or None if the rule has another shape."""

    def sets_score(element: ET.Element, value: float) -> bool:
        base = list(element)
        return (
            local(element) == "qti-set-outcome-value"
            and element.get("identifier") == "SCORE"
            and len(base) == 1
            and local(base[0]) == "qti-base-value"
            and to_float(base[0].text) == value
        )

    rules = list(processing)
    if len(rules) != 1 or local(rules[0]) != "qti-response-condition":
        return None
    branches = list(rules[0])
    shape = [local(b) for b in branches]
    if shape not in (["qti-response-if"], ["qti-response-if", "qti-response-else"]):
        return None
    when = list(branches[0])
    if len(when) != 2 or local(when[0]) != "qti-equal" or not sets_score(when[1], 1.0):
        return None
    if len(branches) == 2 and not (len(branches[1]) == 1 and sets_score(branches[1][0], 0.0)):
        return None
    equal = when[0]
    operands = sorted((local(o), o.get("identifier")) for o in equal)
    if operands != [("qti-correct", "RESPONSE"), ("qti-variable", "RESPONSE")]:
        return None
    if "false" in (equal.get("include-lower-bound"), equal.get("include-upper-bound")):
        return None
    mode = equal.get("tolerance-mode", "exact")
    if mode == "exact":
        return 0.0
    try:
        bounds = {float(t) for t in (equal.get("tolerance") or "").split()}
    except ValueError:
        return None
    tolerance = bounds.pop() if len(bounds) == 1 else -1.0
    return tolerance if mode == "absolute" and math.isfinite(tolerance) and tolerance >= 0 else None


def read_processing(root: ET.Element) -> str | float:
    """``match_correct``, ``map_response``, or the tolerance of the numeric rule."""
    processing = kid(root, "qti-response-processing")
    if processing is None:
        raise Reject("no qti-response-processing, so the item has no scoring")
    template = processing.get("template") or processing.get("template-location")
    if template:
        name = template.rstrip("/").rsplit("/", 1)[-1].removesuffix(".xml")
        if name in ("match_correct", "map_response"):
            return name
        raise Reject(f"response-processing template {template!r} is not supported")
    tolerance = _numeric_rule(processing)
    if tolerance is None:
        raise Reject("custom response processing is not recognised (use match_correct or map_response)")
    return tolerance
