"""`bank validate` reports every broken file precisely: file, line and field."""

from __future__ import annotations

from pathlib import Path

import yaml

from exam_service.bank.loader import load_path
from tests.factories import item_payload


def _write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_shipped_bank_is_valid() -> None:
    result = load_path(Path("question_bank"))
    assert result.errors == []
    assert len(result.blueprints) == 3


def test_single_and_multi_item_files_load(tmp_path: Path) -> None:
    _write(tmp_path / "one.yaml", item_payload("F-CONT-001"))
    _write(tmp_path / "many.yaml", {"items": [item_payload("F-CONT-002"), item_payload("F-CONT-003", kind="numeric")]})
    result = load_path(tmp_path)
    assert result.errors == []
    assert sorted(s.item.id for s in result.items) == ["F-CONT-001", "F-CONT-002", "F-CONT-003"]


def test_bad_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: F-CONT-001\ntype: single_choice\nstem: [unclosed\n")
    [error] = load_path(tmp_path).errors
    assert error.file.endswith("bad.yaml")
    assert error.line >= 3
    assert "not valid YAML" in error.message


def test_unknown_type_names_the_type_field(tmp_path: Path) -> None:
    _write(tmp_path / "t.yaml", item_payload("F-CONT-001", type="essay"))
    [error] = load_path(tmp_path).errors
    assert error.field == "type"
    assert error.line == 2


def test_key_not_among_options_points_at_the_key_line(tmp_path: Path) -> None:
    payload = item_payload("F-CONT-001", key="z")
    path = _write(tmp_path / "k.yaml", payload)
    [error] = load_path(tmp_path).errors
    key_line = next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith("key:"))
    assert (error.field, error.line) == ("key", key_line)
    assert "'z' is not among the options" in error.message


def test_duplicate_id_names_both_places(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", item_payload("F-CONT-001"))
    _write(tmp_path / "b.yaml", {"items": [item_payload("F-CONT-002"), item_payload("F-CONT-001")]})
    [error] = load_path(tmp_path).errors
    assert error.file.endswith("b.yaml")
    assert "duplicate id 'F-CONT-001'" in error.message
    assert "a.yaml:1" in error.message


def test_every_error_in_a_file_is_reported(tmp_path: Path) -> None:
    bad_one = item_payload("F-CONT-001", domain="cooking")
    bad_two = item_payload("F-CONT-002", kind="numeric", tolerance=-1)
    del bad_two["rationale"]
    _write(tmp_path / "m.yaml", {"items": [bad_one, bad_two]})
    errors = load_path(tmp_path).errors
    assert [e.field for e in errors] == ["domain", "rationale", "tolerance"]
    # the first item's error sits above the second item's
    assert errors[0].line < errors[1].line < errors[2].line


def test_blueprint_errors_name_the_field(tmp_path: Path) -> None:
    _write(tmp_path / "bp.yaml", {"blueprint": {"id": "x", "tier": "foundation"}})
    errors = load_path(tmp_path).errors
    assert {e.field for e in errors} >= {"blueprint.id", "blueprint.title", "blueprint.sections"}
