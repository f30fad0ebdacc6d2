from __future__ import annotations

import itertools
import zipfile
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from pydantic import TypeAdapter

from exam_service.bank import qti
from exam_service.bank.authoring import Item
from exam_service.bank.loader import load_path
from exam_service.bank.scoring import fraction_correct, score
from tests.factories import NON_ROOT_CHECK

ITEM = TypeAdapter(Item)
NS = {"q": qti.QTI_NS}
BASE: dict[str, Any] = {
    "tier": "foundation",
    "domain": "containers",
    "tracks": ["DevOps", "AIOps/MLOps"],
    "difficulty": "hard",
    "rationale": "Because the documentation says so, & <b>not</b> otherwise.",
    "references": ["https://docs.docker.com/?a=1&b=2", "Kubernetes in Action, ch. 3"],
}
OPTIONS = [{"id": i, "text": f"Option {i} <x> & y"} for i in ("a", "b", "c", "d")]
WRONG_SHAPE: list[Any] = [None, 42, "zz", True, [], {}, ["zz"], {"zz": "yy"}, 1.5]


def _item(item_id: str, **fields: Any) -> Item:
    stem = fields.pop("stem", f"Question {item_id}: which <one> & why?\n\nSecond  paragraph.")
    return ITEM.validate_python({**BASE, "id": item_id, "stem": stem, **fields})


ITEMS: dict[str, tuple[Item, list[Any]]] = {
    "single": (
        _item("F-CONT-101", type="single_choice", options=OPTIONS, key="b", points=2),
        ["b", "a"],
    ),
    "true_false": (_item("F-CONT-102", type="true_false", key=False), [True, False, "false"]),
    "true_false_true": (_item("F-CONT-103", type="true_false", key=True, tier="advanced", domain="finops"), [True]),
    "mr_all": (
        _item("F-CONT-104", type="multiple_response", options=OPTIONS, key=["a", "c"], scoring="all_or_nothing"),
        [["a", "c"], ["c", "a"], ["a"], ["a", "b", "c"], ["a", "a", "c"]],
    ),
    "mr_partial": (
        _item(
            "F-CONT-105", type="multiple_response", options=OPTIONS, key=["d", "a", "c"], scoring="partial", penalty=0.5
        ),
        [["a", "c", "d"], ["a"], ["a", "c"], ["a", "b"], ["a", "b", "c", "d"], ["b"]],
    ),
    "mr_partial_no_penalty": (
        _item("F-CONT-106", type="multiple_response", options=OPTIONS, key=["b", "c"], scoring="partial"),
        [["b"], ["b", "a", "d"]],
    ),
    "ordering": (
        _item("F-CONT-107", type="ordering", options=OPTIONS[::-1], difficulty="easy"),
        [["d", "c", "b", "a"], ["a", "b", "c", "d"], ["d", "c", "a", "b"]],
    ),
    "matching": (
        _item(
            "F-CONT-108",
            type="matching",
            premises=[{"id": "p1", "text": "Premise 1"}, {"id": "p2", "text": "Premise 2"}, {"id": "p3", "text": "P3"}],
            responses=[{"id": f"r{i}", "text": f"Response {i}"} for i in range(1, 5)],
            key={"p1": "r2", "p2": "r1", "p3": "r4"},
        ),
        [{"p1": "r2", "p2": "r1", "p3": "r4"}, {"p1": "r2", "p2": "r3"}, {"p1": "r1"}, {"p1": "r2", "p2": "r1"}],
    ),
    "short_text": (
        _item("F-CONT-109", type="short_text", accepted=["HEALTHCHECK", "health check"]),
        ["healthcheck", " Health  Check ", "HEALTHCHECK", "health-check", ""],
    ),
    "short_text_cs": (
        _item("F-CONT-110", type="short_text", accepted=["USER"], case_sensitive=True, points=0.5),
        ["USER", "user", " USER "],
    ),
    "numeric": (
        _item("F-CONT-111", type="numeric", key=2048.0, tolerance=0.5, unit="MiB"),
        [2048, "2048.5", 2047.4, 2049, float("nan"), "abc"],
    ),
    "numeric_plain": (
        _item("F-CONT-112", type="numeric", key=0.1, tolerance=0.0),
        [0.1, "0.1", 0.10000001, 1e-1],
    ),
}


def _round_trip(tmp_path: Path) -> dict[str, Item]:
    items = [item for item, _ in ITEMS.values()]
    report = qti.export_package(items, tmp_path / "pkg")
    assert report.written == [item.id for item in items]
    assert report.skipped == []
    result = qti.import_package(tmp_path / "pkg")
    assert result.errors == []
    return {item.id: item for item in result.items}


def test_every_supported_type_round_trips_and_scores_identically(tmp_path: Path) -> None:
    imported = _round_trip(tmp_path)
    assert len(imported) == len(ITEMS)
    for original, responses in ITEMS.values():
        assert imported[original.id] == original
        for response in responses + WRONG_SHAPE:
            assert score(original, response) == score(imported[original.id], response), (original.id, response)


def test_zip_package_round_trips(tmp_path: Path) -> None:
    items = [item for item, _ in ITEMS.values()]
    qti.export_package(items, tmp_path / "pkg")
    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "pkg").iterdir()):
            zf.write(path, f"export/{path.name}")  # tools often wrap the package in a folder
    result = qti.import_package(archive)
    assert result.errors == []
    assert result.items == items


def test_document_shape() -> None:
    item = ITEMS["mr_partial"][0]
    root = SafeET.fromstring(qti.export_item(item))
    assert root.tag == f"{{{qti.QTI_NS}}}qti-assessment-item"
    assert (root.get("identifier"), root.get("adaptive"), root.get("time-dependent")) == (item.id, "false", "false")
    decl = root.find("q:qti-response-declaration", NS)
    assert decl is not None
    assert (decl.get("identifier"), decl.get("cardinality"), decl.get("base-type")) == (
        "RESPONSE",
        "multiple",
        "identifier",
    )
    assert [v.text for v in decl.iterfind("q:qti-correct-response/q:qti-value", NS)] == ["d", "a", "c"]
    processing = root.find("q:qti-response-processing", NS)
    assert processing is not None
    assert processing.get("template") == qti.MAP_RESPONSE
    maxscore = root.find("q:qti-outcome-declaration[@identifier='MAXSCORE']/q:qti-default-value/q:qti-value", NS)
    assert maxscore is not None
    assert maxscore.text == "1.0"
    assert root.findtext("q:qti-item-body/q:div[@class='stem']", namespaces=NS) == item.stem
    rubric = root.find("q:qti-item-body/q:qti-rubric-block", NS)
    assert rubric is not None
    assert (rubric.get("view"), rubric.get("use")) == ("scorer", "rationale")
    assert len(rubric.findall(".//q:p[@class='reference']", NS)) == 2
    assert SafeET.fromstring(qti.export_item(ITEMS["numeric"][0])).find(".//q:qti-equal", NS) is not None


def test_xml_is_escaped() -> None:
    item = _item("F-CONT-120", type="true_false", key=True, stem="</div><script>alert(1)</script> ]]> &amp;")
    document = qti.export_item(item)
    assert "<script>" not in document
    assert "&lt;/div&gt;&lt;script&gt;" in document
    root = SafeET.fromstring(document)
    assert root.findtext("q:qti-item-body/q:div", namespaces=NS) == item.stem


def _qti_map_response(decl: Any, chosen: list[str]) -> float:
    """What a QTI engine's map_response computes: each distinct value once, then the bounds."""
    mapping = decl.find("q:qti-mapping", NS)
    values = {e.get("map-key"): float(e.get("mapped-value")) for e in mapping.iterfind("q:qti-map-entry", NS)}
    total = sum(values.get(c, float(mapping.get("default-value"))) for c in set(chosen))
    return max(float(mapping.get("lower-bound")), min(float(mapping.get("upper-bound")), total))


@pytest.mark.parametrize("name", ["mr_partial", "mr_partial_no_penalty", "matching"])
def test_qti_mapping_scores_like_scoring_py(name: str) -> None:
    item, _ = ITEMS[name]
    decl = SafeET.fromstring(qti.export_item(item)).find("q:qti-response-declaration", NS)
    if item.type == "matching":
        pairs = list(itertools.product([p.id for p in item.premises], [r.id for r in item.responses]))
        candidates = [dict(c) for c in itertools.combinations(pairs, len(item.premises))]
        responses = [r for r in candidates if len(r) == len(item.premises)]
        for response in responses:
            qti_score = _qti_map_response(decl, [f"{p} {r}" for p, r in response.items()])
            assert qti_score == pytest.approx(fraction_correct(item, response))
        return
    assert item.type == "multiple_response"
    ids = [o.id for o in item.options]
    for size in range(len(ids) + 1):
        for chosen in itertools.combinations(ids, size):
            assert _qti_map_response(decl, list(chosen)) == pytest.approx(fraction_correct(item, list(chosen)))


FOREIGN_CHOICE = """<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
    identifier="F-SERV-900" title="Ports" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>ChoiceB</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
  <qti-item-body>
    <p>A model server listens on
       a port.</p>
    <qti-choice-interaction response-identifier="RESPONSE" shuffle="true" max-choices="1">
      <qti-prompt>Which port does <em>TorchServe</em> use for inference by default?</qti-prompt>
      <qti-simple-choice identifier="ChoiceA">8081</qti-simple-choice>
      <qti-simple-choice identifier="ChoiceB">
        <p>8080</p>
      </qti-simple-choice>
      <qti-simple-choice identifier="ChoiceC">7070</qti-simple-choice>
    </qti-choice-interaction>
  </qti-item-body>
  <qti-response-processing
      template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"/>
</qti-assessment-item>
"""


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_foreign_item_imports_with_defaults_and_scores(tmp_path: Path) -> None:
    folder = _write(tmp_path / "other", {"ports.xml": FOREIGN_CHOICE, "notes.xml": "<notes/>"})
    result = qti.import_package(folder, default_tier="foundation", default_domain="serving")
    assert result.errors == []
    [item] = result.items
    assert item.type == "single_choice"
    assert [(o.id, o.text) for o in item.options] == [("choicea", "8081"), ("choiceb", "8080"), ("choicec", "7070")]
    assert item.key == "choiceb"
    assert item.stem == "A model server listens on a port.\n\nWhich port does TorchServe use for inference by default?"
    assert (item.tier, item.domain, item.tracks, item.difficulty) == (
        "foundation",
        "serving",
        ["AIOps/MLOps"],
        "medium",
    )
    assert item.rationale == qti.PLACEHOLDER_RATIONALE
    assert item.references == ["QTI import: ports.xml"]
    assert score(item, "choiceb").awarded == 1.0
    assert score(item, "choicea").awarded == 0.0


FOREIGN_ENTRY = """<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="F-SERV-901">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="BASE">
    <qti-correct-response><qti-value>VALUE</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-item-body><p>The answer to this question is <qti-text-entry-interaction response-identifier="RESPONSE"/>.</p>
  </qti-item-body>
  <qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"/>
</qti-assessment-item>"""


@pytest.mark.parametrize(
    ("base", "value", "right", "wrong"),
    [
        ("integer", " 8080 ", "8080", "8081"),
        ("float", "0.25", 0.25, 0.2500001),
        ("string", "Docker", "Docker", "docker"),
    ],
)
def test_foreign_text_entry_items_score_exactly(tmp_path: Path, base: str, value: str, right: Any, wrong: Any) -> None:
    folder = _write(tmp_path / "other", {"entry.xml": FOREIGN_ENTRY.replace("BASE", base).replace("VALUE", value)})
    result = qti.import_package(folder, default_tier="foundation", default_domain="serving", default_tracks=["SRE"])
    assert result.errors == []
    [item] = result.items
    assert item.type == ("short_text" if base == "string" else "numeric")
    assert (item.stem, item.tracks) == ("The answer to this question is ____ .", ["SRE"])
    assert score(item, right).awarded == 1.0
    assert score(item, wrong).awarded == 0.0


def test_foreign_item_without_metadata_is_reported_and_a_foreign_id_gets_a_bank_id(tmp_path: Path) -> None:
    folder = _write(tmp_path / "other", {"ports.xml": FOREIGN_CHOICE})
    result = qti.import_package(folder)
    assert result.items == []
    assert result.errors == ["ports.xml: no bank metadata for tier or domain; pass --tier and --domain (qti3 import)"]
    _write(folder, {"ports.xml": FOREIGN_CHOICE.replace("F-SERV-900", "item-17")})
    result = qti.import_package(folder, default_tier="foundation", default_domain="serving")
    assert result.errors == []
    [item] = result.items
    assert item.id == "F-SERV-001"
    assert item.source is not None
    assert item.source.identifier == "item-17"


def test_foreign_identifiers_are_normalised_consistently(tmp_path: Path) -> None:
    original = ITEMS["mr_partial"][0]
    document = qti.export_item(original)
    for old, new in (('"a"', '"Opt.A"'), (">a<", ">Opt.A<")):
        document = document.replace(old, new)
    folder = _write(tmp_path / "other", {"mr.xml": document})
    result = qti.import_package(folder, default_tier="foundation", default_domain="containers")
    assert result.errors == []
    [item] = result.items
    assert item.type == "multiple_response"
    assert [o.id for o in item.options] == ["opt_a", "b", "c", "d"]
    assert item.key == ["d", "opt_a", "c"]
    # without our manifest the penalty read back is the deduction the mapping carries: at least one
    # distractor's share (here the only distractor's, 1), which is how the original scores too
    assert (item.scoring, item.penalty) == ("partial", 1.0)
    for response in (["opt_a", "c", "d"], ["opt_a", "b"], ["b"], ["opt_a", "b", "c", "d"]):
        renamed = [{"opt_a": "a"}.get(r, r) for r in response]
        assert score(item, response) == score(original, renamed)


def test_identifier_normalisation_collision_is_reported(tmp_path: Path) -> None:
    text = FOREIGN_CHOICE.replace('"ChoiceA"', '"CHOICEB"')
    folder = _write(tmp_path / "p", {"x.xml": text})
    result = qti.import_package(folder, default_tier="foundation", default_domain="serving")
    assert result.items == []
    assert result.errors == ["x.xml: choice identifiers 'CHOICEB' and 'ChoiceB' both normalise to 'choiceb'"]


EXTENDED = """<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="F-LIFE-900">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>
  <qti-item-body>
    <qti-extended-text-interaction response-identifier="RESPONSE">
      <qti-prompt>Explain the ML lifecycle.</qti-prompt>
    </qti-extended-text-interaction>
  </qti-item-body>
</qti-assessment-item>"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (EXTENDED, "essay.xml: qti-extended-text-interaction is not supported"),
        (
            FOREIGN_CHOICE.replace("<qti-value>ChoiceB", "<qti-value>ChoiceZ"),
            "essay.xml: the correct response names choice 'ChoiceZ', which does not exist",
        ),
        (
            FOREIGN_CHOICE.replace("rptemplates/match_correct", "rptemplates/map_response_point"),
            "essay.xml: response-processing template",
        ),
        (
            FOREIGN_CHOICE.replace(
                '<qti-response-processing\n      template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"/>',
                "<qti-response-processing><qti-response-condition/></qti-response-processing>",
            ),
            "essay.xml: custom response processing (qti-response-condition) is not supported; use a standard template",
        ),
        (
            FOREIGN_CHOICE.replace("qti-choice-interaction", "qti-hotspot-interaction"),
            "essay.xml: qti-hotspot-interaction is not supported",
        ),
        (FOREIGN_CHOICE.replace("</qti-item-body>", ""), "essay.xml: not well-formed XML"),
        (
            '<!DOCTYPE x [<!ENTITY a "aaaa">]><qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0"/>',
            "essay.xml: not well-formed XML",
        ),
        (
            '<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="F-LIFE-900"/>',
            "essay.xml: a QTI 2.x item",
        ),
    ],
)
def test_unsupported_content_is_reported_with_the_file(tmp_path: Path, text: str, expected: str) -> None:
    folder = _write(tmp_path / "other", {"essay.xml": text})
    result = qti.import_package(folder, default_tier="foundation", default_domain="lifecycle")
    assert result.items == []
    assert len(result.errors) == 1
    assert result.errors[0].startswith(expected), result.errors


def test_export_refuses_what_qti_cannot_express(tmp_path: Path) -> None:
    task = _item(
        "F-TASK-001",
        type="performance_task",
        estimated_minutes=20,
        answer_files=["Dockerfile"],
        grader={"checks": [NON_ROOT_CHECK]},
    )
    pattern = _item("F-CONT-130", type="short_text", accepted=["USER"], patterns=["^USER$"])
    manual = _item("F-CONT-131", type="short_text", manual=True)
    control = _item(
        "F-CONT-132", type="single_choice", options=[*OPTIONS[:3], {"id": "z", "text": "nul \x00"}], key="z"
    )
    cases = [
        (task, "performance tasks"),
        (pattern, "patterns"),
        (manual, "manual marking"),
        (control, "options.3.text"),
    ]
    for item, reason in cases:
        with pytest.raises(qti.QtiUnsupported, match=reason) as info:
            qti.export_item(item)
        assert info.value.item_id == item.id
    report = qti.export_package([task, pattern, ITEMS["single"][0], manual], tmp_path / "pkg")
    assert report.written == [ITEMS["single"][0].id]
    assert [item_id for item_id, _ in report.skipped] == [task.id, pattern.id, manual.id]
    assert sorted(p.name for p in (tmp_path / "pkg").iterdir()) == ["F-CONT-101.xml", "imsmanifest.xml"]


def test_zip_with_path_traversal_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("item.xml", FOREIGN_CHOICE)
        zf.writestr("../escape.xml", FOREIGN_CHOICE)
    result = qti.import_package(archive, default_tier="foundation", default_domain="serving")
    assert result.items == []
    assert result.errors == [f"{archive}: unsafe entry name '../escape.xml' (absolute or '..'); package refused"]


def test_manifest_with_escaping_href_and_missing_file(tmp_path: Path) -> None:
    manifest = f"""<manifest xmlns="{qti.CP_NS}" identifier="m"><resources>
      <resource identifier="a" type="imsqti_item_xmlv3p0" href="../outside.xml"/>
      <resource identifier="b" type="imsqti_item_xmlv3p0" href="missing.xml"/>
      <resource identifier="c" type="imsqti_item_xmlv2p2" href="old.xml"/>
    </resources></manifest>"""
    result = qti.import_package(_write(tmp_path / "p", {"imsmanifest.xml": manifest}))
    assert result.items == []
    assert result.errors == [
        "imsmanifest.xml: resource href '../outside.xml' leaves the package; refused",
        "old.xml: resource type imsqti_item_xmlv2p2 is not QTI 3.0 (imsqti_item_xmlv3p0); skipped",
        "missing.xml: listed in the manifest but not in the package",
    ]


def test_every_supported_bank_item_round_trips(tmp_path: Path) -> None:
    loaded = load_path(Path(__file__).resolve().parents[2] / "question_bank")
    items = [s.item for s in loaded.items]
    if not items:
        pytest.skip("the question bank has no items yet")
    report = qti.export_package(items, tmp_path / "bank")
    assert len(report.written) + len(report.skipped) == len(items)
    result = qti.import_package(tmp_path / "bank")
    assert result.errors == []
    imported = {item.id: item for item in result.items}
    assert sorted(imported) == sorted(report.written)
    for item in items:
        if item.id in imported:
            assert imported[item.id] == item, item.id
