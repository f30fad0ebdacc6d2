"""Reading how an imported item is scored: its ``qti-mapping`` and its response processing.

The standard templates are recognised by name, whichever URL form a tool writes (the QTI 3 or
2.x address, a relative path, with or without ``.xml``), and so are the rules they expand to when
a tool writes them out in full. Any other rule is custom response processing, which is refused.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from exam_service.bank.qti.common import POINT_INTERACTIONS, Reject, kid, kids, local

MATCH_CORRECT_NAME = "match_correct"
MAP_RESPONSE_NAME = "map_response"
MAP_RESPONSE_POINT_NAME = "map_response_point"

Rule = str | float  # a template's name, or the tolerance of the numeric rule


@dataclass
class ScoreMap:
    """A ``qti-mapping`` as written, keyed by the file's own identifiers or answer texts."""

    entries: list[tuple[str, float, bool]]  # key, value, case sensitive
    default: float
    lower: float | None
    upper: float | None

    def renamed(self, rename: Callable[[str], str]) -> ScoreMap:
        """The same mapping keyed by the bank's ids."""
        return ScoreMap([(rename(k), v, cs) for k, v, cs in self.entries], self.default, self.lower, self.upper)

    def value(self, key: str) -> float:
        """The points of one identifier or pair (compared exactly), else the default."""
        return next((v for k, v, _ in self.entries if k == key), self.default)

    def bounded(self, total: float) -> float:
        total = total if self.lower is None else max(self.lower, total)
        return total if self.upper is None else min(self.upper, total)

    def best(self, groups: Iterable[Sequence[str]]) -> float:
        """The highest total of a response taking at most one key of each group."""
        return self.bounded(sum(max([0.0, *(self.value(k) for k in group)]) for group in groups))

    def best_text(self) -> float:
        """The highest total of one answer text: a mapped answer's, or the default of any other."""
        return self.bounded(max([0.0, self.default, *(v for _, v, _ in self.entries)]))


def _number(value: str | None, where: str) -> float | None:
    if value is None:
        return None
    number = to_float(value)
    if number is None or not math.isfinite(number):
        raise Reject(f"qti-mapping {where} holds {value!r}, not a number")
    return number


def read_mapping(decl: ET.Element) -> ScoreMap | None:
    mapping = kid(decl, "qti-mapping")
    if mapping is None:
        return None
    entries = []
    for entry in kids(mapping, "qti-map-entry"):
        key = entry.get("map-key")
        value = _number(entry.get("mapped-value"), "mapped-value")
        if key is None or value is None:
            raise Reject("a qti-map-entry needs map-key and mapped-value")
        # QTI compares strings case-sensitively unless the entry says otherwise
        entries.append((key, value, entry.get("case-sensitive", "true").strip().lower() != "false"))
    if not entries:
        raise Reject("the qti-mapping has no qti-map-entry")
    default = _number(mapping.get("default-value"), "default-value") or 0.0
    lower = _number(mapping.get("lower-bound"), "lower-bound")
    return ScoreMap(entries, default, lower, _number(mapping.get("upper-bound"), "upper-bound"))


def to_float(text: str | None) -> float | None:
    try:
        return float(text or "")
    except ValueError:
        return None


def template_name(processing: ET.Element) -> str | None:
    """The template a processing element names, as a bare name (``match_correct``), if any."""
    template = (processing.get("template") or processing.get("template-location") or "").strip()
    if not template:
        return None
    path = template.split("?", 1)[0].split("#", 1)[0].replace("\\", "/").rstrip("/")
    name = path.rsplit("/", 1)[-1]
    return name[:-4] if name.lower().endswith(".xml") else name


def _sets_score(element: ET.Element) -> ET.Element | None:
    """What a ``qti-set-outcome-value`` of SCORE sets SCORE to, else None."""
    inner = list(element)
    if local(element) != "qti-set-outcome-value" or element.get("identifier") != "SCORE" or len(inner) != 1:
        return None
    return inner[0]


def _base(expression: ET.Element | None, value: float) -> bool:
    return expression is not None and local(expression) == "qti-base-value" and to_float(expression.text) == value


def _is_response(expression: ET.Element, *names: str) -> bool:
    return local(expression) in names and expression.get("identifier") == "RESPONSE" and len(expression) == 0


def _condition(processing: ET.Element) -> tuple[ET.Element, ET.Element, ET.Element | None] | None:
    """A lone if(/else) rule: its test, what the if sets SCORE to, what the else sets it to."""
    rules = list(processing)
    if len(rules) != 1 or local(rules[0]) != "qti-response-condition":
        return None
    branches = list(rules[0])
    if [local(b) for b in branches] not in (["qti-response-if"], ["qti-response-if", "qti-response-else"]):
        return None
    when = list(branches[0])
    then = _sets_score(when[1]) if len(when) == 2 else None
    if then is None:
        return None
    if len(branches) == 1:
        return when[0], then, None
    rest = list(branches[1])
    otherwise = _sets_score(rest[0]) if len(rest) == 1 else None
    return (when[0], then, otherwise) if otherwise is not None else None


def _compares_with_correct(test: ET.Element) -> bool:
    operands = list(test)
    return (
        len(operands) == 2
        and sorted(local(o) for o in operands) == ["qti-correct", "qti-variable"]
        and all(_is_response(o, "qti-correct", "qti-variable") for o in operands)
    )


def _tolerance(equal: ET.Element) -> float | None:
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


def _written_out(processing: ET.Element) -> Rule | None:
    """match_correct or map_response written out in full, or our numeric rule (its tolerance)."""
    shape = _condition(processing)
    if shape is None:
        return None
    test, then, otherwise = shape
    name = local(test)
    if name == "qti-is-null" and len(test) == 1 and _is_response(test[0], "qti-variable"):
        maps = otherwise is not None and _is_response(otherwise, "qti-map-response")
        return MAP_RESPONSE_NAME if _base(then, 0.0) and maps else None
    if not (_base(then, 1.0) and (otherwise is None or _base(otherwise, 0.0)) and _compares_with_correct(test)):
        return None
    if name == "qti-match":
        return MATCH_CORRECT_NAME
    return _tolerance(test) if name == "qti-equal" else None


def read_processing(root: ET.Element, interaction: str) -> Rule:
    """``match_correct``, ``map_response``, or the tolerance of the numeric rule."""
    processing = kid(root, "qti-response-processing")
    if processing is None:
        raise Reject("no qti-response-processing, so the item has no scoring")
    name = template_name(processing)
    if name in (MATCH_CORRECT_NAME, MAP_RESPONSE_NAME):
        return name
    if name == MAP_RESPONSE_POINT_NAME:
        points = ", ".join(POINT_INTERACTIONS)
        raise Reject(
            f"response-processing template map_response_point scores point interactions ({points}), "
            f"which the bank cannot deliver; this item has a {interaction}"
        )
    if name is not None:
        raise Reject(f"response-processing template {name!r} is not supported; use match_correct or map_response")
    rule = _written_out(processing)
    if rule is not None:
        return rule
    rules = list(dict.fromkeys(local(r) for r in processing))
    if not rules:
        raise Reject("qti-response-processing names no template and holds no rules")
    raise Reject(
        f"custom response processing ({', '.join(rules)}) is not supported; "
        "use a standard template (match_correct or map_response)"
    )
