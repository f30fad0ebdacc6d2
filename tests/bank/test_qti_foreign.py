"""QTI 3 items written by other authoring tools: imported without hand editing, scored as QTI says.

The sample files in ``qti_samples/`` are written by hand in the styles of TAO (generated
identifiers, template-location URLs, templates written out as rules), Learnosity (per-option
weights, a negative default, bounds) and Inspera (weighted pairs, partial-credit gaps). Every
expected score is worked out by hand from the QTI rules: map_response adds the mapped value of
each distinct response value (the default for unmapped ones), then applies the bounds; the item's
points are MAXSCORE, else the highest total a response can reach.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank import qti
from exam_service.bank import service as bank_service
from exam_service.bank.authoring import Item, Tier
from exam_service.bank.lint import lint
from exam_service.bank.loader import load_path
from exam_service.bank.mapping import ValueMap
from exam_service.bank.qti.ids import DOMAIN_CODES, TIER_LETTERS
from exam_service.bank.scoring import score
from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.factories import auth_headers, item_payload, synthetic_bank

SAMPLES = Path(__file__).parent / "qti_samples"
ROOT = Path(__file__).resolve().parents[2]
SERVING = {"default_tier": "foundation", "default_domain": "serving"}


def _package(tmp_path: Path, *names: str, extra: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "package"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(SAMPLES / name, folder / name)
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _one(tmp_path: Path, name: str) -> Item:
    result = qti.import_package(_package(tmp_path, name), **SERVING)
    assert result.errors == []
    [item] = result.items
    return item


def _awarded(item: Item, responses: list[Any]) -> list[float]:
    return [score(item, response).awarded for response in responses]


# ---- identifiers ---------------------------------------------------------------------------


def test_a_tao_item_gets_the_next_bank_id_and_keeps_its_own(tmp_path: Path) -> None:
    item = _one(tmp_path, "tao_choice.xml")
    assert item.id == "F-SERV-001"
    assert item.source is not None
    assert (item.source.format, item.source.identifier, item.source.tool) == ("qti3", "i1634567", "TAO")
    assert item.type == "single_choice"
    assert [o.id for o in item.options] == ["choice_1", "choice_2", "choice_3"]
    assert item.stem == ("Which probe keeps a model server out of the load balancer until its weights are loaded?")
    # match_correct: the correct choice earns the item's points (no MAXSCORE: 1), any other nothing
    assert _awarded(item, ["choice_2", "choice_1", "choice_3", ["choice_2"]]) == [1.0, 0.0, 0.0, 0.0]


def test_ids_follow_the_highest_of_the_database_and_the_package(tmp_path: Path) -> None:
    ours = (SAMPLES / "tao_choice.xml").read_text().replace('identifier="i1634567"', 'identifier="F-SERV-007"')
    folder = _package(tmp_path, "tao_multiple.xml", "inspera_text.xml", extra={"ours.xml": ours})
    known = qti.KnownIds(highest={"F-SERV": 3, "F-CONT": 40})
    result = qti.import_package(folder, **SERVING, known=known)
    assert result.errors == []
    by_source = {i.source.identifier if i.source else None: i.id for i in result.items}
    # the package holds F-SERV-007, above the database's F-SERV-003: the new ids follow it
    assert by_source == {"inspera-552202": "F-SERV-008", "i1634568": "F-SERV-009", None: "F-SERV-007"}
    assert result.assigned == {"F-SERV-008": "inspera-552202", "F-SERV-009": "i1634568"}


def test_an_identifier_imported_before_keeps_its_bank_id(tmp_path: Path) -> None:
    known = qti.KnownIds(highest={"F-SERV": 30}, by_source={"i1634567": "F-SERV-012"})
    result = qti.import_package(_package(tmp_path, "tao_choice.xml", "tao_multiple.xml"), **SERVING, known=known)
    assert [(i.id, i.source.identifier if i.source else "") for i in result.items] == [
        ("F-SERV-012", "i1634567"),
        ("F-SERV-031", "i1634568"),
    ]
    assert result.assigned == {"F-SERV-031": "i1634568"}


def test_the_domain_codes_are_the_ones_the_bank_uses() -> None:
    loaded = load_path(ROOT / "question_bank" / "mlocp")
    used = {(s.item.tier.value, s.item.domain, s.item.id.rsplit("-", 1)[0]) for s in loaded.items}
    theory = {(tier, domain, prefix) for tier, domain, prefix in used if "-TASK" not in prefix}
    expected = {(tier, domain, f"{TIER_LETTERS[Tier(tier)]}-{DOMAIN_CODES[domain]}") for tier, domain, _ in theory}
    assert theory == expected
    assert len(theory) == 15


def test_the_same_identifier_twice_in_a_package_is_refused(tmp_path: Path) -> None:
    copy = (SAMPLES / "tao_choice.xml").read_text()
    result = qti.import_package(_package(tmp_path, "tao_choice.xml", extra={"z_copy.xml": copy}), **SERVING)
    assert result.items == []
    assert result.errors == ["z_copy.xml: item identifier 'i1634567' is also used by tao_choice.xml"]


# ---- scoring -------------------------------------------------------------------------------


def test_tao_map_response_written_out_as_rules_is_recognised(tmp_path: Path) -> None:
    item = _one(tmp_path, "tao_multiple.xml")
    assert item.type == "multiple_response"
    # choice_1 and choice_3 are worth 1 each and nothing else is mapped (default 0): no MAXSCORE,
    # so the item is worth the best total, 1 + 1 = 2. Wrong choices cost nothing, which the bank's
    # own partial scoring never allows, so the mapping is kept and scores as QTI says
    assert (item.points, item.scoring, item.penalty) == (2.0, None, 0.0)
    assert item.mapping is not None
    responses = [["choice_1", "choice_3"], ["choice_1"], ["choice_1", "choice_2"], ["choice_2", "choice_4"], []]
    assert _awarded(item, responses) == [2.0, 1.0, 1.0, 0.0, 0.0]
    every = ["choice_1", "choice_2", "choice_3", "choice_4"]
    assert _awarded(item, [every]) == [2.0]  # as its author meant; the bank lint flags such an item
    assert not lint([item]).ok


def test_learnosity_weights_default_and_bounds_score_as_qti_says(tmp_path: Path) -> None:
    item = _one(tmp_path, "learnosity_weighted.xml")
    assert item.type == "multiple_response"
    assert item.id == "F-SERV-001"
    assert item.source is not None
    assert item.source.identifier == "8f14e45f-ceea-467a-9575-0a1b2c3d4e5f"
    assert item.points == 3.0  # MAXSCORE
    assert item.mapping is not None
    assert (item.mapping.default, item.mapping.lower_bound, item.mapping.upper_bound) == (-0.5, 0.0, 3.0)
    responses = [
        ["i0", "i1"],  # 2 + 1 = 3
        ["i0"],  # 2
        ["i1", "i0", "i1"],  # each distinct value once: 1 + 2 = 3
        ["i0", "i1", "i3"],  # i3 is unmapped, default -0.5: 2 + 1 - 0.5 = 2.5
        ["i0", "i2"],  # 2 - 1 = 1
        ["i1", "i2", "i3"],  # 1 - 1 - 0.5 = -0.5, held at the lower bound 0
        ["i2"],  # -1, held at 0
        ["i0", "i1", "i2", "i3"],  # 2 + 1 - 1 - 0.5 = 1.5
        [],  # no response: 0
        ["zz"],  # not an option of the item: a response of the wrong shape scores 0
        "i0",  # the wrong shape
    ]
    assert _awarded(item, responses) == [3.0, 2.0, 3.0, 2.5, 1.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0]
    assert score(item, ["i0"]).fraction == pytest.approx(2 / 3)


def test_an_upper_bound_below_maxscore_caps_the_share(tmp_path: Path) -> None:
    text = (
        (SAMPLES / "learnosity_weighted.xml")
        .read_text()
        .replace("<qti-value>3</qti-value>", "<qti-value>4</qti-value>")
    )
    result = qti.import_package(_package(tmp_path, extra={"capped.xml": text}), **SERVING)
    [item] = result.items
    # MAXSCORE 4, upper bound 3: the best response totals 3 and earns 3 of the item's 4 points
    assert item.points == 4.0
    assert _awarded(item, [["i0", "i1"], ["i0", "i1", "i3"]]) == [3.0, 2.5]
    assert score(item, ["i0", "i1"]).fraction == 0.75


def test_inspera_weighted_pairs_score_per_pair(tmp_path: Path) -> None:
    item = _one(tmp_path, "inspera_match.xml")
    assert item.type == "matching"
    assert item.key == {"m1": "t1", "m2": "t2", "m3": "t3"}
    # no MAXSCORE: the best total takes each premise's best pair, 2 (M1 T1) + 1 + 1 = 4
    assert item.points == 4.0
    responses = [
        {"m1": "t1", "m2": "t2", "m3": "t3"},  # 2 + 1 + 1 = 4
        {"m1": "t2", "m2": "t2"},  # the near miss M1 T2 is worth 0.5: 0.5 + 1 = 1.5
        {"m1": "t1", "m2": "t3", "m3": "t4"},  # 2 + 0 + 0 = 2
        {"m1": "t4"},  # 0
        {"m9": "t1"},  # not a premise of the item: the wrong shape scores 0
        ["m1 t1"],  # the wrong shape
    ]
    assert _awarded(item, responses) == [4.0, 1.5, 2.0, 0.0, 0.0, 0.0]


def test_partial_credit_text_entry_with_case_insensitive_answers(tmp_path: Path) -> None:
    item = _one(tmp_path, "inspera_text.xml")
    assert item.type == "short_text"
    assert item.points == 2.0  # MAXSCORE
    assert item.accepted == ["Kubernetes"]
    assert item.stem == "KServe runs model servers on top of ____ ."
    responses = [
        "Kubernetes",  # 2 of 2
        "  kubernetes ",  # case-insensitive, trimmed: 2
        "K8S",  # case-insensitive: 1
        "OpenShift",  # case-sensitive entry, exact: 1
        "openshift",  # case-sensitive entry, other case: unmapped, default 0
        "Docker Swarm",  # unmapped: 0
        "",  # no answer: 0
        42,  # the wrong shape: 0
    ]
    assert _awarded(item, responses) == [2.0, 2.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert score(item, "k8s").fraction == 0.5


@pytest.mark.parametrize(
    "processing",
    [
        '<qti-response-processing template="match_correct"/>',
        '<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"/>',
        '<qti-response-processing template-location="http://www.imsglobal.org/question/qti_v2p1/rptemplates/'
        'match_correct.xml"/>',
        '<qti-response-processing template="rptemplates/match_correct.xml?v=3"/>',
        """<qti-response-processing><qti-response-condition><qti-response-if>
             <qti-match><qti-variable identifier="RESPONSE"/><qti-correct identifier="RESPONSE"/></qti-match>
             <qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">1</qti-base-value>
             </qti-set-outcome-value></qti-response-if><qti-response-else>
             <qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">0</qti-base-value>
             </qti-set-outcome-value></qti-response-else></qti-response-condition></qti-response-processing>""",
    ],
)
def test_match_correct_in_every_form_tools_write(tmp_path: Path, processing: str) -> None:
    text = (SAMPLES / "tao_choice.xml").read_text()
    start = text.index("<qti-response-processing")
    text = text[:start] + processing + "\n</qti-assessment-item>\n"
    result = qti.import_package(_package(tmp_path, extra={"item.xml": text}), **SERVING)
    assert result.errors == []
    [item] = result.items
    assert _awarded(item, ["choice_2", "choice_3"]) == [1.0, 0.0]


# ---- refusals ------------------------------------------------------------------------------

CUSTOM = (SAMPLES / "custom_processing.xml").read_text(encoding="utf-8")
SELECT_POINT = (SAMPLES / "select_point.xml").read_text(encoding="utf-8")


def test_one_custom_processing_file_refuses_the_whole_package(tmp_path: Path) -> None:
    folder = _package(tmp_path, "tao_choice.xml", extra={"custom.xml": CUSTOM})
    result = qti.import_package(folder, **SERVING)
    assert result.items == []
    assert result.assigned == {}
    assert result.errors == [
        "custom.xml: custom response processing (qti-response-condition, qti-set-outcome-value) is not supported; "
        "use a standard template (match_correct or map_response)"
    ]


def test_map_response_point_refuses_the_point_interaction_by_name(tmp_path: Path) -> None:
    result = qti.import_package(_package(tmp_path, extra={"point.xml": SELECT_POINT}), **SERVING)
    assert result.items == []
    assert result.errors == [
        "point.xml: qti-select-point-interaction is not supported: the bank cannot deliver point interactions "
        "(scored by map_response_point)"
    ]


def _swap_interaction(kind: str, identifier: str) -> str:
    return CUSTOM.replace("qti-choice-interaction", kind).replace('identifier="i99"', f'identifier="{identifier}"')


def test_every_bad_file_is_listed_with_its_reason(tmp_path: Path) -> None:
    two = (
        (SAMPLES / "tao_choice.xml")
        .read_text()
        .replace(
            "</qti-item-body>",
            '<p><qti-text-entry-interaction response-identifier="RESPONSE"/></p></qti-item-body>',
        )
    )
    negative = (SAMPLES / "learnosity_weighted.xml").read_text().replace('lower-bound="0" ', "")
    extra = {
        "a_hotspot.xml": _swap_interaction("qti-hotspot-interaction", "i97"),
        "b_essay.xml": _swap_interaction("qti-extended-text-interaction", "i98"),
        "c_two.xml": two,
        "d_negative.xml": negative,
        "e_custom.xml": CUSTOM,
    }
    result = qti.import_package(_package(tmp_path, "inspera_text.xml", extra=extra), **SERVING)
    assert result.items == []
    assert result.errors == [
        "a_hotspot.xml: qti-hotspot-interaction is not supported: the bank cannot deliver point interactions",
        "b_essay.xml: qti-extended-text-interaction is not supported (supported: qti-choice-interaction, "
        "qti-order-interaction, qti-match-interaction, qti-text-entry-interaction)",
        "c_two.xml: an item needs exactly one interaction, found qti-choice-interaction, qti-text-entry-interaction",
        "d_negative.xml: invalid item: mapping.lower_bound: negative points or default could total below 0, "
        "and an item never scores below 0: set lower_bound to 0 or more",
        "e_custom.xml: custom response processing (qti-response-condition, qti-set-outcome-value) is not "
        "supported; use a standard template (match_correct or map_response)",
    ]


def test_a_mapping_that_can_total_below_zero_is_refused_by_the_authoring_format(tmp_path: Path) -> None:
    payload = item_payload("F-CONT-050", "containers", "multiple_response", scoring=None, penalty=0.0)
    payload["mapping"] = {"entries": [{"value": "a", "points": 1}, {"value": "b", "points": -1}]}
    (tmp_path / "mr.yaml").write_text(yaml.safe_dump(payload, sort_keys=False))
    [error] = load_path(tmp_path / "mr.yaml").errors
    assert error.field == "mapping.lower_bound"
    assert "total below 0" in error.message
    payload["mapping"] |= {"lower_bound": 0, "upper_bound": 2}
    payload["mapping"]["entries"].append({"value": "zz", "points": 1})
    (tmp_path / "mr.yaml").write_text(yaml.safe_dump(payload, sort_keys=False))
    [error] = load_path(tmp_path / "mr.yaml").errors
    assert (error.field, error.message) == ("mapping", "mapping value 'zz' is not an option id")


def test_a_lower_bound_above_zero_applies_to_answers_not_to_no_answer() -> None:
    payload = item_payload("F-CONT-052", "containers", "multiple_response", scoring=None, penalty=0.0, points=2)
    payload["mapping"] = {"entries": [{"value": "a", "points": 1}, {"value": "c", "points": 1}], "lower_bound": 0.5}
    item = bank_service.item_from_payload(payload)
    # "d" is unmapped (default 0): the total 0 is raised to the lower bound 0.5; an empty response
    # is QTI's NULL, which map_response scores 0 before any bound
    assert _awarded(item, [["d"], [], ["a"], ["a", "c", "d"]]) == [0.5, 0.0, 1.0, 2.0]


def test_mapping_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match=r"\[upper_bound\] upper_bound 1 is below lower_bound 2"):
        ValueMap.model_validate({"entries": [{"value": "a", "points": 3}], "lower_bound": 2, "upper_bound": 1})


# ---- export ----------------------------------------------------------------------------------


def test_mapped_items_and_their_source_round_trip_through_export(tmp_path: Path) -> None:
    names = ["learnosity_weighted.xml", "inspera_match.xml", "inspera_text.xml", "tao_choice.xml", "tao_multiple.xml"]
    first = qti.import_package(_package(tmp_path, *names), **SERVING)
    assert first.errors == []
    report = qti.export_package(first.items, tmp_path / "export")
    assert report.skipped == []
    again = qti.import_package(tmp_path / "export")
    assert again.errors == []
    assert again.items == first.items
    for item in first.items:
        assert item.source is not None
    responses: list[Any] = [["i0", "i3"], {"m1": "t2", "m3": "t3"}, "k8s", "choice_2", ["choice_3"]]
    for item, copy in zip(first.items, again.items, strict=True):
        for response in responses:
            assert score(item, response) == score(copy, response)


def test_an_equal_share_mapping_stays_a_mapping_through_our_own_export(tmp_path: Path) -> None:
    payload = item_payload("F-CONT-051", "containers", "multiple_response", scoring=None, penalty=0.0, points=2)
    payload["mapping"] = {"entries": [{"value": "a", "points": 1}, {"value": "c", "points": 1}]}
    item = bank_service.item_from_payload(payload)
    qti.export_package([item], tmp_path / "export")
    assert qti.import_package(tmp_path / "export").items == [item]


# ---- the database, the API and the command line ----------------------------------------------


async def _publish(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, path: Path
) -> bank_service.ImportReport:
    async with sessionmaker() as session, session.begin():
        items = await qti.import_for_bank(session, path, default_tier="foundation", default_domain="serving")
        by = bank_service.Authorship("importer", "from another tool")
        return await bank_service.import_content(session, items, [], by, clock)


@pytest.fixture
async def seeded(sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    async with sessionmaker() as session, session.begin():
        items = [bank_service.item_from_payload(p) for p in synthetic_bank(4, 1)]  # F-SERV-001..004
        await bank_service.import_content(session, items, [], bank_service.Authorship("seed", "seed"), clock)


@pytest.mark.usefixtures("seeded")
async def test_reimporting_a_foreign_item_keeps_its_bank_id(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, tmp_path: Path
) -> None:
    folder = _package(tmp_path, "tao_choice.xml", "inspera_text.xml")
    first = await _publish(sessionmaker, clock, folder)
    # sorted by file name: inspera_text.xml first; F-SERV-001..004 are taken
    assert first.created == ["F-SERV-005", "F-SERV-006"]
    again = await _publish(sessionmaker, clock, folder)
    assert (again.created, again.new_versions, again.unchanged) == ([], [], ["F-SERV-005", "F-SERV-006"])
    changed = (SAMPLES / "tao_choice.xml").read_text().replace("Liveness probe", "A liveness probe")
    (folder / "tao_choice.xml").write_text(changed)
    (folder / "new.xml").write_text((SAMPLES / "tao_multiple.xml").read_text())
    edited = await _publish(sessionmaker, clock, folder)
    assert (edited.created, edited.new_versions, edited.unchanged) == (["F-SERV-007"], ["F-SERV-006"], ["F-SERV-005"])


@pytest.mark.usefixtures("seeded")
async def test_a_refused_package_publishes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, tmp_path: Path
) -> None:
    folder = _package(tmp_path, "tao_choice.xml", extra={"custom.xml": CUSTOM})
    with pytest.raises(qti.PackageRefused) as refused:
        await _publish(sessionmaker, clock, folder)
    assert [e.split(":")[0] for e in refused.value.errors] == ["custom.xml"]
    async with sessionmaker() as session:
        assert await qti.known_ids(session) == qti.KnownIds(
            highest={"F-CONT": 4, "F-DATA": 4, "F-LIFE": 4, "F-SERV": 4, "F-VERS": 4, "F-TASK": 1}
        )


@pytest.mark.usefixtures("seeded")
async def test_the_item_api_shows_the_source_identifier(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    await _publish(sessionmaker, clock, _package(tmp_path, "learnosity_weighted.xml"))
    _examiner, headers = await auth_headers(client, sessionmaker, clock, Role.examiner)
    read = await client.get("/api/v1/bank/items/F-SERV-005", headers=headers)
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["source"] == {
        "format": "qti3",
        "identifier": "8f14e45f-ceea-467a-9575-0a1b2c3d4e5f",
        "tool": "Learnosity",
    }
    assert body["content"]["mapping"]["default"] == -0.5
    ours = await client.get("/api/v1/bank/items/F-SERV-001", headers=headers)
    assert ours.json()["source"] is None


async def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXAM_DATABASE_URL": database_url, "COLUMNS": "200"}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "exam_service.cli", "bank", "import", "--format", "qti3", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
async def test_the_command_line_imports_reimports_and_refuses(database_url: str, tmp_path: Path) -> None:
    folder = _package(tmp_path, "tao_choice.xml", "learnosity_weighted.xml")
    missing = await _cli(database_url, str(folder))
    assert missing.returncode == 1
    assert "no bank metadata for tier or domain; pass --tier and --domain" in missing.stdout
    first = await _cli(database_url, str(folder), "--tier", "professional", "--domain", "monitoring")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "published 2 new items" in first.stdout
    again = await _cli(database_url, str(folder), "--tier", "professional", "--domain", "monitoring")
    assert "published 0 new items, 0 new versions" in again.stdout
    (folder / "custom.xml").write_text(CUSTOM)
    (folder / "point.xml").write_text(SELECT_POINT)
    refused = await _cli(database_url, str(folder), "--tier", "professional", "--domain", "monitoring")
    assert refused.returncode == 1
    assert "custom.xml: custom response processing (qti-response-condition" in refused.stdout
    assert "point.xml: qti-select-point-interaction is not supported" in refused.stdout
    assert "2 error(s); nothing was imported" in refused.stdout


def test_a_key_correction_on_a_mapped_item_is_refused_not_silently_ignored(tmp_path: Path) -> None:
    from exam_service.core.errors import Unprocessable
    from exam_service.scoring.corrections import Correction, check

    item = _one(tmp_path, "learnosity_weighted.xml")
    with pytest.raises(Unprocessable) as raised:
        check(item.model_dump(mode="json"), Correction("replace_key", ["i0"]))
    assert raised.value.extra == {"field": "item"}
    assert "per-value points" in raised.value.detail
