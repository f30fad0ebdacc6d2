"""`exam-service stats items` as an examiner runs it on an exported response matrix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exam_service.cli import app
from exam_service.scoring import matrix as matrix_csv
from exam_service.scoring import statistics as stats

runner = CliRunner()


def _matrix_csv(candidates: int = 24) -> str:
    """Q1..Q3 ordinary, Q4 polytomous and not on every form, Q5 right only for the weakest."""
    lines = ["candidate,Q1,Q2,Q3,Q4,Q5", "#max,1,1,1,2,1"]
    for i in range(candidates):
        q4 = "" if i % 3 == 0 else str(min(2, i // 8))
        lines.append(f"c{i},{int(i > 4)},{int(i > 10)},{int(i > 16)},{q4},{int(i < 6)}")
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "matrix.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_json_figures_equal_the_module(tmp_path: Path) -> None:
    path = _write(tmp_path, _matrix_csv())
    result = runner.invoke(app, ["stats", "items", str(path), "--json", "--bins", "4", "--pass-mark", "50"])
    assert result.exit_code == 0, result.output
    matrix = matrix_csv.read_matrix(_matrix_csv())
    passed = [p is not None and p >= 50 for p in stats.percent_scores(matrix.rows, matrix.maxima)]
    expected = stats.as_document(
        stats.item_statistics(matrix.rows, matrix.maxima, matrix.names),
        stats.test_statistics(matrix.rows, matrix.maxima, passed=passed, bins=4),
    )
    document = json.loads(result.stdout)
    assert document == json.loads(json.dumps(expected))
    assert document["test"]["method"] == "Cronbach's alpha, pairwise (forms differ)"  # the file has empty cells
    assert len(document["test"]["histogram"]) == 4
    assert document["items"][4]["flags"] == ["negative_discrimination"]


def test_table_shows_items_flags_and_test_figures(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", "items", str(_write(tmp_path, _matrix_csv()))])
    assert result.exit_code == 0, result.output
    for text in ("Q1", "Q5", "negative_discrimination", "candidates 24, items 5", "Cronbach's alpha", "SEM"):
        assert text in result.stdout
    assert "90.0 - 100.0 %" in result.stdout


def test_a_cell_that_is_not_a_number_is_refused_with_its_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "candidate,Q1,Q2\nc1,1,0\nc2,1,abc\n")
    result = runner.invoke(app, ["stats", "items", str(path), "--json"])
    assert result.exit_code == 2
    assert "line 3, column Q2: 'abc' is not a number" in result.stderr
    assert result.stdout == ""


def test_a_score_above_the_maximum_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "candidate,Q1,Q2\n#max,1,2\nc1,1,2\nc2,1,2.5\n")
    result = runner.invoke(app, ["stats", "items", str(path)])
    assert result.exit_code == 2
    assert "line 4, column Q2: '2.5' is outside 0..2" in result.stderr


@pytest.mark.parametrize("content", [b"Q1\n\xff\n", b"Q1,Q2\n1\n"])
def test_the_installed_command_reports_bad_files_without_a_traceback(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    command = [sys.executable, "-m", "exam_service.cli", "stats", "items", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}: ")
    assert "Traceback" not in result.stderr
