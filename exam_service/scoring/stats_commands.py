"""``exam-service stats ...``: item analysis of a response matrix kept as CSV (format in docs/SCORING.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exam_service.scoring import matrix as matrix_csv
from exam_service.scoring import statistics as stats

app = typer.Typer(help="Item and test statistics.", no_args_is_help=True)
console = Console()
BAR_WIDTH = 40


@app.callback()
def main() -> None:
    """Item and test statistics: difficulty, discrimination, reliability."""


@app.command()
def items(
    path: Annotated[
        Path,
        typer.Argument(metavar="FILE.csv", help="Response matrix.", exists=True, dir_okay=False, readable=True),
    ],
    bins: Annotated[int, typer.Option(min=1, max=100, help="Histogram bins over 0..100 %.")] = 10,
    pass_mark: Annotated[
        float | None, typer.Option(min=0, max=100, help="Percent score that passes; gives the pass rate.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document with the unrounded figures.")] = False,
) -> None:
    """Difficulty, discrimination and flags per item; reliability, SEM and the score histogram of the test."""
    try:
        matrix = matrix_csv.read_matrix(path.read_text(encoding="utf-8-sig"))
    except ValueError as exc:  # a bad cell, or a file that is not UTF-8 text
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(2) from exc
    passed = None
    if pass_mark is not None:
        passed = [p is not None and p >= pass_mark for p in stats.percent_scores(matrix.rows, matrix.maxima)]
    item_stats = stats.item_statistics(matrix.rows, matrix.maxima, matrix.names)
    test = stats.test_statistics(matrix.rows, matrix.maxima, passed=passed, bins=bins)
    if as_json:
        typer.echo(json.dumps(stats.as_document(item_stats, test), indent=2, allow_nan=False))
        return
    console.print(_items_table(item_stats))
    _print_test(test)


def _items_table(item_stats: list[stats.ItemStats]) -> Table:
    table = Table(title="Items")
    table.add_column("item")
    table.add_column("n", justify="right")
    table.add_column("p", justify="right")
    table.add_column("discrimination", justify="right")
    table.add_column("flags", style="yellow")
    for item in item_stats:
        table.add_row(
            escape(item.name),
            str(item.responses),
            _fixed(item.p_value, 2),
            _fixed(item.discrimination, 2),
            ", ".join(item.flags),
        )
    return table


def _print_test(test: stats.TestStats) -> None:
    reliability = "-" if test.reliability is None else f"{test.reliability:.3f} ({test.method})"
    pass_rate = "-" if test.pass_rate is None else f"{test.pass_rate:.1%}"
    lines = [
        f"candidates {test.candidates}, items {test.items}",
        f"mean {test.mean:.1f} %, sd {test.sd:.1f}",
        f"reliability {reliability}, SEM {_fixed(test.sem, 1)}",
        f"pass rate {pass_rate}",
    ]
    for line in lines:
        console.print(line, highlight=False)
    largest = max((count for _, _, count in test.histogram), default=0) or 1
    for lower, upper, count in test.histogram:
        bar = "#" * round(BAR_WIDTH * count / largest)
        console.print(f"{lower:5.1f} - {upper:5.1f} % {bar} {count}", highlight=False, markup=False)


def _fixed(value: float | None, places: int) -> str:
    return "-" if value is None else f"{value:.{places}f}"
