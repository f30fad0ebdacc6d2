"""Classical item analysis: how hard each item was, how well it separated strong candidates from weak
ones, and how consistently the test measured.

Forms differ per candidate, so a cell is ``None`` when the item was not on that candidate's form, and
every figure is taken over the candidates who were presented the item. Variances are population
variances (divide by N) throughout: KR-20's ``p q`` is the population variance of a 0/1 item, and with
one definition KR-20 and Cronbach's alpha agree on dichotomous data. Candidates' scores are reported
in percent of what their own form offered, the one scale on which different forms compare.
Formulas, thresholds and the CSV format: docs/SCORING.md.
"""

# ruff: noqa: PT028  (``test_statistics`` is the statistics of a test, not a pytest test)
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

Rows = Sequence[Sequence[float | None]]

MIN_RESPONSES = 20
"""No flag below this many responses: with fewer, one candidate moves p by five points or more."""
TOO_EASY_ABOVE = 0.95
TOO_HARD_BELOW = 0.20
LOW_DISCRIMINATION_BELOW = 0.15
UNUSED_DISTRACTOR_BELOW = 0.05
UNUSED_DISTRACTOR = "unused_distractor"
"""Not raised by ``item_statistics`` (it knows no options): add it when ``unused_distractors`` names any."""


@dataclass(frozen=True)
class ItemStats:
    name: str
    responses: int
    mean: float
    p_value: float | None
    discrimination: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class TestStats:
    __test__ = False  # pytest would otherwise try to collect it by its name

    candidates: int
    items: int
    mean: float
    sd: float
    reliability: float | None
    method: str
    sem: float | None
    pass_rate: float | None
    histogram: list[tuple[float, float, int]]


def item_statistics(matrix: Rows, maxima: Sequence[float], names: Sequence[str]) -> list[ItemStats]:
    """Discrimination correlates the item with the rest of each candidate's score, not the whole: a whole
    that contains the item correlates with it by construction, most on short tests. With no responses an
    item's mean is 0.0 and its p-value None."""
    check_matrix(matrix, maxima, names)
    totals = [math.fsum(s for s in row if s is not None) for row in matrix]
    result = []
    for j, (name, top) in enumerate(zip(names, maxima, strict=True)):
        scores: list[float] = []
        rest: list[float] = []
        for row, total in zip(matrix, totals, strict=True):
            score = row[j]
            if score is not None:
                scores.append(float(score))
                rest.append(total - score)
        mean = _mean(scores) if scores else 0.0
        p_value = mean / top if scores else None
        discrimination = _pearson(scores, rest)
        flags = item_flags(len(scores), p_value, discrimination)
        result.append(ItemStats(name, len(scores), mean, p_value, discrimination, flags))
    return result


def item_flags(responses: int, p_value: float | None, discrimination: float | None) -> tuple[str, ...]:
    if responses < MIN_RESPONSES:
        return ()
    flags = []
    if p_value is not None and p_value > TOO_EASY_ABOVE:
        flags.append("too_easy")
    if p_value is not None and p_value < TOO_HARD_BELOW:
        flags.append("too_hard")
    if discrimination is not None and discrimination < 0:
        flags.append("negative_discrimination")
    elif discrimination is not None and discrimination < LOW_DISCRIMINATION_BELOW:
        flags.append("low_discrimination")
    return tuple(flags)


def test_statistics(
    matrix: Rows, maxima: Sequence[float], *, passed: Sequence[bool] | None = None, bins: int = 10
) -> TestStats:
    """Reliability is KR-20 (every item 0/1) or Cronbach's alpha. When every candidate had every item
    it is the textbook formula. When forms differ (the bank draws each form from a larger pool), it is
    alpha from the mean item variance and the mean covariance of item pairs, each over the candidates
    who had both: k c / (v + (k - 1) c) with k the mean form length, which equals the textbook
    formula on a complete matrix (docs/SCORING.md)."""
    check_matrix(matrix, maxima)
    if bins < 1:
        raise ValueError(f"bins must be at least 1, not {bins}")
    if passed is not None and len(passed) != len(matrix):
        raise ValueError(f"{len(passed)} pass/fail outcomes for {len(matrix)} candidates")
    columns = [[row[j] for row in matrix] for j in range(len(maxima))]
    dichotomous = all(top == 1 for top in maxima) and all(s in (0, 1) for row in matrix for s in row if s is not None)
    method = "KR-20" if dichotomous else "Cronbach's alpha"
    if all(None not in column for column in columns):
        rows = [[s for s in row if s is not None] for row in matrix]
        reliability = kr20(rows) if dichotomous else cronbach_alpha(rows)
    else:
        reliability, method = pairwise_alpha(matrix), f"{method}, pairwise (forms differ)"
    percents = [p for p in percent_scores(matrix, maxima) if p is not None]
    mean = _mean(percents) if percents else 0.0
    sd = math.sqrt(_pvariance(percents)) if percents else 0.0
    return TestStats(
        candidates=len(matrix),
        items=len(maxima),
        mean=mean,
        sd=sd,
        reliability=reliability,
        method=method,
        sem=None if reliability is None else sd * math.sqrt(1 - reliability),
        pass_rate=sum(passed) / len(passed) if passed else None,
        histogram=_histogram(matrix, maxima, bins),
    )


test_statistics.__test__ = False  # type: ignore[attr-defined]  # a statistic of the test, not a pytest test


def cronbach_alpha(rows: Sequence[Sequence[float]]) -> float | None:
    """alpha = k/(k-1) * (1 - sum(var_i) / var_total); None below 2 items or 2 candidates, or without spread."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    return _coefficient(columns, [_pvariance(column) for column in columns])


def kr20(rows: Sequence[Sequence[float]]) -> float | None:
    """KR-20 = k/(k-1) * (1 - sum(p q) / var_total), for 0/1 scores only."""
    if any(s not in (0, 1) for row in rows for s in row):
        raise ValueError("KR-20 needs dichotomous (0/1) scores; use cronbach_alpha")
    columns = [list(column) for column in zip(*rows, strict=True)]
    return _coefficient(columns, [(p := _mean(column)) * (1 - p) for column in columns])


def pairwise_alpha(matrix: Rows) -> float | None:
    """Alpha from mean item variance ``v`` and mean pairwise covariance ``c``: k c / (v + (k - 1) c).

    Each variance is over the candidates who had the item, each covariance over those who had both
    (pairs shared by fewer than two are skipped); ``k`` is the mean number of items per form. None
    when there is too little overlap to say, or no positive covariance structure.
    """
    width = len(matrix[0]) if matrix else 0
    lengths = [sum(1 for s in row if s is not None) for row in matrix]
    k = _mean(lengths) if lengths else 0.0
    present = [[(r, s) for r, row in enumerate(matrix) if (s := row[j]) is not None] for j in range(width)]
    variances = [_pvariance([s for _, s in column]) for column in present if len(column) >= 2]
    covariances = []
    for i in range(width):
        first = dict(present[i])
        for j in range(i + 1, width):
            shared = [(first[r], s) for r, s in present[j] if r in first]
            if len(shared) >= 2:
                covariances.append(_pcovariance(shared))
    if k < 2 or not variances or not covariances:
        return None
    v, c = _mean(variances), _mean(covariances)
    denominator = v + (k - 1) * c
    if denominator <= 0:
        return None
    alpha = k * c / denominator
    return None if alpha > 1 else alpha  # above 1 only when pairs overlap too little to estimate


def _pcovariance(pairs: Sequence[tuple[float, float]]) -> float:
    mx, my = _mean([x for x, _ in pairs]), _mean([y for _, y in pairs])
    return math.fsum((x - mx) * (y - my) for x, y in pairs) / len(pairs)


def percent_scores(matrix: Rows, maxima: Sequence[float]) -> list[float | None]:
    """Each candidate's total in percent of the maxima of the items on their form (None: no item presented)."""
    return [None if top == 0 else total * 100 / top for total, top in _totals(matrix, maxima)]


def option_rates(choices: Sequence[Any], options: Sequence[str]) -> dict[str, float]:
    """Share of the answered responses choosing each option. A choice is an option id, a list of ids
    (multiple response, so shares may add up to more than 1), or None; an empty list is no answer either."""
    counts = dict.fromkeys(options, 0)
    answered = 0
    for choice in choices:
        chosen = {choice} if isinstance(choice, str) else set(choice or ())
        if not chosen:
            continue
        unknown = chosen - counts.keys()
        if unknown:
            raise ValueError(f"choice {sorted(unknown)[0]!r} is not one of the options {list(options)}")
        answered += 1
        for option in chosen:
            counts[option] += 1
    return {option: count / answered if answered else 0.0 for option, count in counts.items()}


def unused_distractors(rates: dict[str, float], key: set[str], *, responses: int) -> list[str]:
    """Distractors hardly anyone chose: they make the item easier than it looks. Needs MIN_RESPONSES."""
    if responses < MIN_RESPONSES:
        return []
    return [option for option, share in rates.items() if option not in key and share < UNUSED_DISTRACTOR_BELOW]


def as_document(items: Sequence[ItemStats], test: TestStats) -> dict[str, Any]:
    """The JSON shape of an item analysis, the same from the command line and from the examiners' API."""
    return {"items": [asdict(item) for item in items], "test": asdict(test)}


def check_matrix(matrix: Rows, maxima: Sequence[float], names: Sequence[str] | None = None) -> None:
    if names is not None and len(names) != len(maxima):
        raise ValueError(f"{len(names)} item names for {len(maxima)} maxima")
    if any(not top > 0 for top in maxima):
        raise ValueError("every item's maximum must be positive")
    for r, row in enumerate(matrix, start=1):
        if len(row) != len(maxima):
            raise ValueError(f"candidate {r}: {len(row)} scores for {len(maxima)} items")
        for score, top in zip(row, maxima, strict=True):
            if score is not None and not 0 <= score <= top:
                raise ValueError(f"candidate {r}: score {plain_number(score)} is outside 0..{plain_number(top)}")


def _totals(matrix: Rows, maxima: Sequence[float]) -> list[tuple[float, float]]:
    """(score, the maximum of the items presented) per candidate."""
    return [
        (
            math.fsum(s for s in row if s is not None),
            math.fsum(top for s, top in zip(row, maxima, strict=True) if s is not None),
        )
        for row in matrix
    ]


def _histogram(matrix: Rows, maxima: Sequence[float], bins: int) -> list[tuple[float, float, int]]:
    counts = [0] * bins
    for total, top in _totals(matrix, maxima):
        if top:  # rounded, so 70 % (0.7 of 1, below 0.7 in binary) or a third lands on its bin's lower edge
            counts[min(math.floor(round(total * bins / top, 9)), bins - 1)] += 1
    return [(100 * i / bins, 100 * (i + 1) / bins, count) for i, count in enumerate(counts)]


def _coefficient(columns: list[list[float]], item_variances: list[float]) -> float | None:
    k = len(columns)
    if k < 2 or len(columns[0]) < 2:
        return None
    totals = [math.fsum(row) for row in zip(*columns, strict=True)]
    if len(set(totals)) == 1:
        return None
    return k / (k - 1) * (1 - math.fsum(item_variances) / _pvariance(totals))


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _pvariance(values: Sequence[float]) -> float:
    mean = _mean(values)
    return math.fsum((v - mean) ** 2 for v in values) / len(values)


def _pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """None when undefined: fewer than two pairs, or either side constant (tested exactly, not by tolerance)."""
    if len(x) < 2 or len(set(x)) == 1 or len(set(y)) == 1:
        return None
    mx, my = _mean(x), _mean(y)
    sxy = math.fsum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = math.fsum((a - mx) ** 2 for a in x)
    syy = math.fsum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def plain_number(value: float) -> str:
    """5 for 5.0, 0.25 for 0.25: how figures are written in messages and in the CSV."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
