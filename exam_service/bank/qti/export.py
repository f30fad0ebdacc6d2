"""Writing bank items as QTI 3.0 ``qti-assessment-item`` documents and content packages."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exam_service.bank.authoring import (
    Item,
    ItemSource,
    Matching,
    MultipleResponse,
    Numeric,
    Ordering,
    PerformanceTask,
    ShortText,
    SingleChoice,
    TrueFalse,
)
from exam_service.bank.mapping import MapEntry, ValueMap
from exam_service.bank.qti.common import (
    BANK_NS,
    CP_NS,
    ITEM_RESOURCE,
    MANIFEST,
    MAP_RESPONSE,
    MATCH_CORRECT,
    QTI_NS,
    QtiUnsupported,
)
from exam_service.bank.scoring import partial_deduction

_XSI = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
_SCHEMA = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# XML 1.0 cannot carry these; a carriage return would come back as a line feed.
_NOT_XML = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)  # item ids, one <id>.xml each
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (item id, reason)


def _sub(parent: ET.Element, tag: str, attrs: dict[str, str] | None = None, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs or {})
    element.text = text
    return element


def _num(value: float) -> str:
    return repr(float(value))


def _document(root: ET.Element) -> str:
    """``root`` as an indented UTF-8 XML document."""
    ET.indent(root)
    return _DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(key, path)
            yield from _strings(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _strings(inner, f"{path}.{index}")


def _check_exportable(item: Item) -> None:
    if isinstance(item, PerformanceTask):
        raise QtiUnsupported(item.id, "performance tasks have no QTI theory equivalent")
    if isinstance(item, ShortText) and (item.manual or item.patterns):
        what = "manual marking" if item.manual else "answer patterns (regular expressions)"
        raise QtiUnsupported(item.id, f"short text with {what} has no QTI response-processing equivalent")
    if isinstance(item, Numeric) and not (math.isfinite(item.key) and math.isfinite(item.tolerance)):
        raise QtiUnsupported(item.id, "numeric key and tolerance must be finite")
    if isinstance(item, Matching):
        shared = {p.id for p in item.premises} & {r.id for r in item.responses}
        if shared:
            raise QtiUnsupported(item.id, f"premise and response ids overlap ({', '.join(sorted(shared))})")
    for path, text in _strings(item.model_dump(mode="json"), ""):
        if _NOT_XML.search(text):
            raise QtiUnsupported(item.id, f"field {path} holds a character XML 1.0 cannot carry")


def _shares(item: Item, entries: Sequence[tuple[str, float]], case_sensitive: bool = True) -> ValueMap:
    """The bank's own partial credit as a QTI mapping: shares of the item's points, at most all of them."""
    scaled = [
        MapEntry.model_construct(value=k, points=v * item.points, case_sensitive=case_sensitive) for k, v in entries
    ]
    return ValueMap.model_construct(entries=scaled, default=0.0, lower_bound=0.0, upper_bound=item.points)


def _mapping(decl: ET.Element, value_map: ValueMap) -> None:
    """``value_map`` as a ``qti-mapping`` (case sensitivity only matters to answer texts)."""
    bounds = {"lower-bound": value_map.lower_bound, "upper-bound": value_map.upper_bound}
    attrs = {k: _num(v) for k, v in bounds.items() if v is not None} | {"default-value": _num(value_map.default)}
    mapping = _sub(decl, "qti-mapping", attrs)
    for entry in value_map.entries:
        case = "true" if entry.case_sensitive else "false"
        _sub(
            mapping,
            "qti-map-entry",
            {"map-key": entry.value, "mapped-value": _num(entry.points), "case-sensitive": case},
        )


def _response(root: ET.Element, item: Item) -> str | None:
    """Declares RESPONSE; returns the processing template, or None for the numeric rule."""
    kind = {
        SingleChoice: ("single", "identifier"),
        TrueFalse: ("single", "identifier"),
        MultipleResponse: ("multiple", "identifier"),
        Ordering: ("ordered", "identifier"),
        Matching: ("multiple", "directedPair"),
        ShortText: ("single", "string"),
        Numeric: ("single", "float"),
    }[type(item)]
    decl = _sub(root, "qti-response-declaration", {"identifier": "RESPONSE", "cardinality": kind[0]})
    decl.set("base-type", kind[1])
    correct = _sub(decl, "qti-correct-response")
    template: str | None = MATCH_CORRECT
    values: list[str]
    match item:
        case SingleChoice():
            values = [item.key]
        case TrueFalse():
            values = ["true" if item.key else "false"]
        case MultipleResponse():
            values = list(item.key)
            # an item that leaves its policy to the blueprint is written all-or-nothing: QTI cannot defer it
            if item.mapping is not None or item.scoring == "partial":
                share = 1 / len(item.key)
                wrong = -partial_deduction(item)
                entries = [(o.id, share if o.id in item.key else wrong) for o in item.options]
                _mapping(decl, item.mapping or _shares(item, entries))
                template = MAP_RESPONSE
        case Ordering():
            values = [o.id for o in item.options]
        case Matching():
            values = [f"{p} {r}" for p, r in item.key.items()]
            _mapping(decl, item.mapping or _shares(item, [(v, 1 / len(values)) for v in values]))
            template = MAP_RESPONSE
        case ShortText():
            values = [item.accepted[0]]
            shares = _shares(item, [(a, 1.0) for a in item.accepted], item.case_sensitive)
            _mapping(decl, item.mapping or shares)
            template = MAP_RESPONSE
        case Numeric():
            values = [_num(item.key)]
            template = None
    for value in values:
        _sub(correct, "qti-value", text=value)
    return template


def _choices(parent: ET.Element, tag: str, options: Sequence[tuple[str, str]], match_max: int = 0) -> None:
    for ident, text in options:
        attrs = {"identifier": ident} | ({"match-max": str(match_max)} if match_max else {})
        _sub(parent, tag, attrs, text)


def _interaction(body: ET.Element, item: Item) -> None:
    resp = {"response-identifier": "RESPONSE"}
    match item:
        case SingleChoice() | MultipleResponse():
            single = isinstance(item, SingleChoice)
            attrs = resp | {"shuffle": "false", "max-choices": "1" if single else "0"}
            choice = _sub(body, "qti-choice-interaction", attrs)
            _choices(choice, "qti-simple-choice", [(o.id, o.text) for o in item.options])
        case TrueFalse():
            attrs = resp | {"class": "true-false", "shuffle": "false", "max-choices": "1"}
            choice = _sub(body, "qti-choice-interaction", attrs)
            _choices(choice, "qti-simple-choice", [("true", "True"), ("false", "False")])
        case Ordering():
            order = _sub(body, "qti-order-interaction", resp | {"shuffle": "true"})
            _choices(order, "qti-simple-choice", [(o.id, o.text) for o in item.options])
        case Matching():
            attrs = resp | {"shuffle": "true", "max-associations": str(len(item.premises))}
            match = _sub(body, "qti-match-interaction", attrs)
            tag = "qti-simple-associable-choice"
            _choices(_sub(match, "qti-simple-match-set"), tag, [(p.id, p.text) for p in item.premises], 1)
            responses = [(r.id, r.text) for r in item.responses]
            _choices(_sub(match, "qti-simple-match-set"), tag, responses, len(item.premises))
        case ShortText() | Numeric():
            line = _sub(body, "p")
            _sub(line, "qti-text-entry-interaction", resp)
            if isinstance(item, Numeric) and item.unit is not None:
                _sub(line, "span", {"class": "unit"}, item.unit)


def _set_score(parent: ET.Element, value: str) -> None:
    outcome = _sub(parent, "qti-set-outcome-value", {"identifier": "SCORE"})
    _sub(outcome, "qti-base-value", {"base-type": "float"}, value)


def _numeric_processing(root: ET.Element, tolerance: float) -> None:
    condition = _sub(_sub(root, "qti-response-processing"), "qti-response-condition")
    when = _sub(condition, "qti-response-if")
    bounds = f"{_num(tolerance)} {_num(tolerance)}"
    equal = _sub(when, "qti-equal", {"tolerance-mode": "absolute", "tolerance": bounds})
    _sub(equal, "qti-variable", {"identifier": "RESPONSE"})
    _sub(equal, "qti-correct", {"identifier": "RESPONSE"})
    _set_score(when, "1")
    _set_score(_sub(condition, "qti-response-else"), "0")


def _item_element(item: Item) -> ET.Element:
    _check_exportable(item)
    title = " ".join(item.stem.split())
    attrs = {_XSI: f"{QTI_NS} {_SCHEMA}", "identifier": item.id, "title": title[:80]}
    root = ET.Element("qti-assessment-item", {"xmlns": QTI_NS} | attrs | {"adaptive": "false"})
    root.set("time-dependent", "false")
    template = _response(root, item)
    for name, default in (("SCORE", "0"), ("MAXSCORE", _num(item.points))):
        outcome = {"identifier": name, "cardinality": "single", "base-type": "float"}
        declared = _sub(root, "qti-outcome-declaration", outcome)
        _sub(_sub(declared, "qti-default-value"), "qti-value", text=default)
    body = _sub(root, "qti-item-body")
    _sub(body, "div", {"class": "stem"}, item.stem)
    _interaction(body, item)
    rubric = _sub(body, "qti-rubric-block", {"view": "scorer", "use": "rationale"})
    content = _sub(rubric, "qti-content-body")
    _sub(content, "div", {"class": "rationale"}, item.rationale)
    for reference in item.references:
        _sub(content, "p", {"class": "reference"}, reference)
    if template is None:
        assert isinstance(item, Numeric)
        _numeric_processing(root, item.tolerance)
    else:
        _sub(root, "qti-response-processing", {"template": template})
    return root


def export_item(item: Item) -> str:
    """One QTI 3.0 ``qti-assessment-item`` document; raises ``QtiUnsupported``."""
    return _document(_item_element(item))


def _add_resource(resources: ET.Element, item: Item, href: str) -> None:
    """Lists ``href`` in the manifest with the bank metadata QTI has no place for."""
    resource = _sub(resources, "resource", {"identifier": item.id, "type": ITEM_RESOURCE, "href": href})
    bank = {"xmlns": BANK_NS, "tier": item.tier, "domain": item.domain, "difficulty": item.difficulty}
    if isinstance(item, MultipleResponse | Matching | ShortText) and item.mapping is not None:
        bank["scoring"] = "mapping"  # kept as the item's mapping even where a plain scoring rule would do
    if isinstance(item, MultipleResponse) and item.mapping is None and item.scoring == "partial":
        bank["penalty"] = _num(item.penalty)  # as authored; the mapping carries the deduction it amounts to
    if isinstance(item, Numeric):  # how the bank reads a typed number; a QTI engine takes a plain float
        bank |= {"prefix": item.prefix} if item.prefix is not None else {}
        bank |= {"decimals": str(item.decimals)} if item.decimals is not None else {}
    extension = _sub(_sub(resource, "metadata"), "item", bank)
    for track in item.tracks:
        _sub(extension, "track", text=track)
    for alias in item.unit_aliases if isinstance(item, Numeric) else []:
        _sub(extension, "unit-alias", text=alias)
    if item.source is not None:
        _sub(extension, "source", _source_attributes(item.source))
    _sub(resource, "file", {"href": href})


def _source_attributes(source: ItemSource) -> dict[str, str]:
    attrs = {"format": source.format, "identifier": source.identifier}
    return attrs | ({"tool": source.tool} if source.tool is not None else {})


def export_package(items: Sequence[Item], folder: Path) -> ExportReport:
    """Writes ``<id>.xml`` per supported item and ``imsmanifest.xml`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    manifest = ET.Element("manifest", {"xmlns": CP_NS, "identifier": "MLOCP-QTI-EXPORT"})
    meta = _sub(manifest, "metadata")
    _sub(meta, "schema", text="QTI Package")
    _sub(meta, "schemaversion", text="3.0.0")
    _sub(manifest, "organizations")
    resources = _sub(manifest, "resources")
    for item in items:
        if item.id in report.written:
            report.skipped.append((item.id, "duplicate id in the export"))
            continue
        try:
            document = export_item(item)
        except QtiUnsupported as exc:
            report.skipped.append((item.id, exc.reason))
            continue
        href = f"{item.id}.xml"
        (folder / href).write_text(document, encoding="utf-8")
        report.written.append(item.id)
        _add_resource(resources, item, href)
    (folder / MANIFEST).write_text(_document(manifest), encoding="utf-8")
    return report
