"""The response matrix as CSV: the file ``exam-service stats items`` reads and the examiners' API exports.

Format (docs/SCORING.md): a header of item names (a first column headed ``candidate`` holds ids),
an optional ``#max`` line of maxima (default 1), then one line per candidate; an empty cell is
an item not on that candidate's form. Every error names the line, the column and the value.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from exam_service.scoring.statistics import check_matrix, plain_number


@dataclass(frozen=True)
class Matrix:
    names: list[str]
    maxima: list[float]
    candidates: list[str] | None  # None when the file has no candidate column
    rows: list[list[float | None]]


def read_matrix(text: str) -> Matrix:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        records = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num}: {exc}") from exc
    if not records:
        raise ValueError("the file is empty: expected a header row of item names")
    header = [cell.strip() for cell in records[0][1]]
    first = 1 if header[0].lower() == "candidate" else 0
    names = header[first:]
    if not names:
        raise ValueError("line 1: no item columns")
    for i, name in enumerate(names):
        if not name or name in names[:i]:
            raise ValueError(f"line 1, column {first + i + 1}: item name {name!r} is empty or repeated")
    body = records[1:]
    maxima = [1.0] * len(names)
    if body and body[0][1][0].strip().lower() == "#max":
        line, cells = body.pop(0)
        _width(line, cells, len(names) + 1)
        maxima = [_maximum(line, name, cell) for name, cell in zip(names, cells[1:], strict=True)]
    candidates: list[str] | None = [] if first else None
    rows = []
    for line, cells in body:
        _width(line, cells, len(header))
        if candidates is not None:
            if cells[0].strip() in candidates:
                raise ValueError(f"line {line}, column {header[0]}: candidate {cells[0].strip()!r} appears twice")
            candidates.append(cells[0].strip())
        scores = zip(names, cells[first:], maxima, strict=True)
        rows.append([_score(line, name, text, top) for name, text, top in scores])
    return Matrix(names, maxima, candidates, rows)


def write_matrix(matrix: Matrix) -> str:
    """The CSV ``read_matrix`` reads, with the ``#max`` row always written so maxima survive the trip."""
    check_matrix(matrix.rows, matrix.maxima, matrix.names)
    ids = matrix.candidates
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(([] if ids is None else ["candidate"]) + matrix.names)
    writer.writerow(["#max", *map(plain_number, matrix.maxima)])
    for i, row in enumerate(matrix.rows):
        writer.writerow(([] if ids is None else [ids[i]]) + ["" if s is None else plain_number(s) for s in row])
    return out.getvalue()


def _width(line: int, cells: list[str], expected: int) -> None:
    if len(cells) != expected:
        raise ValueError(f"line {line}: {len(cells)} cells, expected {expected}")


def _maximum(line: int, name: str, cell: str) -> float:
    text = cell.strip()
    value = _float(text) if text else 1.0
    if not value > 0:
        raise ValueError(f"line {line}, column {name}: maximum {text!r} is not a positive number")
    return value


def _score(line: int, name: str, cell: str, top: float) -> float | None:
    text = cell.strip()
    if not text:
        return None
    value = _float(text)
    if math.isnan(value):
        raise ValueError(f"line {line}, column {name}: {text!r} is not a number")
    if not 0 <= value <= top:
        raise ValueError(f"line {line}, column {name}: {text!r} is outside 0..{plain_number(top)}")
    return value


def _float(text: str) -> float:
    """NaN for anything that is not a finite number, so callers have one case to refuse."""
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan
