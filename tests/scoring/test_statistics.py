"""Item analysis against an independent numpy computation, a case worked on paper, and built matrices."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exam_service.scoring import matrix as matrix_csv
from exam_service.scoring import statistics as stats

Cells = list[list[float | None]]


def _close(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=0, abs_tol=1e-9)


@st.composite
def generated(draw: st.DrawFn, *, dichotomous: bool, missing: bool) -> tuple[np.ndarray, np.ndarray]:
    """Scores driven by an ability per candidate, so items correlate as on a real test."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, k = draw(st.integers(2, 40)), draw(st.integers(2, 8))
    maxima = np.ones(k) if dichotomous else rng.integers(2, 5, k).astype(float)
    chance = 1 / (1 + np.exp(-(rng.normal(size=(n, 1)) - rng.normal(size=(1, k)))))
    scores = rng.binomial(maxima.astype(int), chance).astype(float)
    if missing:
        scores[rng.random((n, k)) < draw(st.sampled_from([0.1, 0.4]))] = np.nan
    return scores, maxima


def _cells(scores: np.ndarray) -> Cells:
    return [[None if math.isnan(s) else float(s) for s in row] for row in scores]


def _np_pairwise_alpha(scores: np.ndarray) -> float | None:
    """Alpha from the mean variance and mean pairwise covariance, each over the candidates who had the items."""
    present = ~np.isnan(scores)
    k = present.sum(axis=1).mean()
    variances = [np.var(scores[present[:, j], j]) for j in range(scores.shape[1]) if present[:, j].sum() >= 2]
    covariances = []
    for i in range(scores.shape[1]):
        for j in range(i + 1, scores.shape[1]):
            both = present[:, i] & present[:, j]
            if both.sum() >= 2:
                covariances.append(np.cov(scores[both, i], scores[both, j], bias=True)[0, 1])
    if k < 2 or not variances or not covariances:
        return None
    v, c = np.mean(variances), np.mean(covariances)
    if v + (k - 1) * c <= 0 or k * c / (v + (k - 1) * c) > 1:
        return None
    return float(k * c / (v + (k - 1) * c))


def _np_reliability(scores: np.ndarray, dichotomous: bool) -> float | None:
    if np.isnan(scores).any():
        return _np_pairwise_alpha(scores)
    complete = scores
    n, k = complete.shape
    total_var = complete.sum(axis=1).var() if n else 0.0
    if k < 2 or n < 2 or total_var == 0:
        return None
    if dichotomous:
        p = complete.mean(axis=0)
        return float(k / (k - 1) * (1 - (p * (1 - p)).sum() / total_var))
    return float(k / (k - 1) * (1 - complete.var(axis=0).sum() / total_var))


@settings(max_examples=150, deadline=None)
@given(data=st.sampled_from([True, False]).flatmap(lambda d: generated(dichotomous=d, missing=False)))
def test_item_figures_equal_numpy_on_complete_matrices(data: tuple[np.ndarray, np.ndarray]) -> None:
    _assert_items_match(*data)


@settings(max_examples=150, deadline=None)
@given(data=st.sampled_from([True, False]).flatmap(lambda d: generated(dichotomous=d, missing=True)))
def test_item_figures_equal_numpy_with_items_not_presented(data: tuple[np.ndarray, np.ndarray]) -> None:
    _assert_items_match(*data)


def _assert_items_match(scores: np.ndarray, maxima: np.ndarray) -> None:
    names = [f"Q{j + 1}" for j in range(len(maxima))]
    result = stats.item_statistics(_cells(scores), list(maxima), names)
    for j, item in enumerate(result):
        presented = ~np.isnan(scores[:, j])
        x = scores[presented, j]
        rest = np.nansum(scores[presented], axis=1) - x
        assert item.responses == presented.sum()
        assert _close(item.p_value, float(x.mean() / maxima[j]) if x.size else None)
        defined = x.size >= 2 and np.ptp(x) > 0 and np.ptp(rest) > 0
        assert _close(item.discrimination, float(np.corrcoef(x, rest)[0, 1]) if defined else None)


@settings(max_examples=150, deadline=None)
@given(kind=st.booleans(), data=st.data())
def test_reliability_and_sem_equal_numpy(kind: bool, data: st.DataObject) -> None:
    scores, maxima = data.draw(generated(dichotomous=kind, missing=data.draw(st.booleans())))
    result = stats.test_statistics(_cells(scores), list(maxima))
    expected = _np_reliability(scores, kind)
    assert result.method.startswith("KR-20" if kind else "Cronbach's alpha")
    assert result.method.endswith("pairwise (forms differ)") == bool(np.isnan(scores).any())
    assert _close(result.reliability, expected)
    offered = (~np.isnan(scores) * maxima).sum(axis=1)
    percents = np.nansum(scores, axis=1)[offered > 0] / offered[offered > 0] * 100
    assert _close(result.mean, float(percents.mean()) if percents.size else 0.0)
    assert _close(result.sd, float(percents.std()) if percents.size else 0.0)
    assert _close(result.sem, None if expected is None else float(percents.std() * math.sqrt(1 - expected)))
    assert sum(count for _, _, count in result.histogram) == percents.size


@settings(max_examples=100, deadline=None)
@given(data=generated(dichotomous=True, missing=False))
def test_kr20_equals_alpha_on_dichotomous_scores(data: tuple[np.ndarray, np.ndarray]) -> None:
    rows = [[float(s) for s in row] for row in data[0]]
    assert _close(stats.kr20(rows), stats.cronbach_alpha(rows))


@settings(max_examples=150, deadline=None)
@given(data=st.sampled_from([True, False]).flatmap(lambda d: generated(dichotomous=d, missing=False)))
def test_pairwise_alpha_is_the_textbook_alpha_when_every_candidate_had_every_item(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    rows = [[float(s) for s in row] for row in data[0]]
    assert _close(stats.pairwise_alpha(rows), stats.cronbach_alpha(rows))


def test_textbook_case_worked_by_hand() -> None:
    # A Guttman pattern: candidate i answers the i easiest items right.
    # p = .8 .6 .4 .2, so sum(pq) = .16 + .24 + .24 + .16 = .80
    # totals 4 3 2 1 0: mean 2, population variance (4 + 1 + 0 + 1 + 4) / 5 = 2
    # KR-20 = 4/3 * (1 - .80 / 2) = 0.8
    # percents 100 75 50 25 0: mean 50, sd 25 * sqrt(2); SEM = 25 * sqrt(2) * sqrt(1 - .8) = 25 * sqrt(.4)
    rows: Cells = [[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    items = stats.item_statistics(rows, [1] * 4, ["I1", "I2", "I3", "I4"])
    assert [item.p_value for item in items] == pytest.approx([0.8, 0.6, 0.4, 0.2])
    # I1 against the rest (3 2 1 0 0): sxy = 1.2, sxx = .8, syy = 6.8
    assert items[0].discrimination == pytest.approx(1.2 / math.sqrt(0.8 * 6.8))
    test = stats.test_statistics(rows, [1] * 4, passed=[True, True, True, False, False], bins=4)
    assert test.method == "KR-20"
    assert test.reliability == pytest.approx(0.8)
    assert (test.mean, test.sd) == pytest.approx((50, 25 * math.sqrt(2)))
    assert test.sem == pytest.approx(25 * math.sqrt(0.4))
    assert test.pass_rate == pytest.approx(0.6)
    # 0 | 25 | 50 | 75 and 100 (inclusive) in the last bin
    assert test.histogram == [(0, 25, 1), (25, 50, 1), (50, 75, 1), (75, 100, 2)]


def _ability_matrix(extra: list[float]) -> Cells:
    """25 candidates; candidate i scores on the first i // 5 of four ordinary items, then the extra item."""
    return [[float(j < i // 5) for j in range(4)] + [extra[i]] for i in range(25)]


def test_item_everyone_gets_right_is_too_easy() -> None:
    last = stats.item_statistics(_ability_matrix([1.0] * 25), [1] * 5, list("ABCDE"))[-1]
    assert last.p_value == 1
    assert last.discrimination is None
    assert last.flags == ("too_easy",)


def test_item_only_low_scorers_get_right_discriminates_negatively() -> None:
    last = stats.item_statistics(_ability_matrix([float(i < 8) for i in range(25)]), [1] * 5, list("ABCDE"))[-1]
    assert last.discrimination is not None
    assert last.discrimination < 0
    assert "negative_discrimination" in last.flags


def test_item_almost_nobody_gets_right_is_too_hard() -> None:
    last = stats.item_statistics(_ability_matrix([float(i == 24) for i in range(25)]), [1] * 5, list("ABCDE"))[-1]
    assert last.flags == ("too_hard",)


def test_no_flag_below_the_minimum_responses() -> None:
    rows = _ability_matrix([1.0] * 25)[: stats.MIN_RESPONSES - 1]
    assert all(item.flags == () for item in stats.item_statistics(rows, [1] * 5, list("ABCDE")))


@pytest.mark.parametrize(
    ("p", "d", "flags"),
    [
        (0.95, 0.3, ()),
        (0.951, 0.3, ("too_easy",)),
        (0.20, 0.3, ()),
        (0.19, 0.3, ("too_hard",)),
        (0.5, 0.0, ("low_discrimination",)),
        (0.5, 0.149, ("low_discrimination",)),
        (0.5, 0.15, ()),
        (0.5, -0.01, ("negative_discrimination",)),
        (0.5, None, ()),
    ],
)
def test_flag_thresholds(p: float, d: float | None, flags: tuple[str, ...]) -> None:
    assert stats.item_flags(stats.MIN_RESPONSES, p, d) == flags


def test_items_not_presented_are_left_out_of_every_figure() -> None:
    rows: Cells = [[1, None, 1], [0, 1, 0], [1, 0, None], [0, None, 0]]
    items = stats.item_statistics(rows, [1, 1, 1], ["A", "B", "C"])
    assert [item.responses for item in items] == [4, 2, 3]
    assert items[1].p_value == 0.5
    assert stats.percent_scores(rows, [1, 1, 1]) == [100, pytest.approx(100 / 3), 50, 0]
    # forms differ: reliability comes from the pairs of items candidates shared
    assert stats.test_statistics(rows, [1, 1, 1]).method == "KR-20, pairwise (forms differ)"


def test_an_item_presented_to_nobody_has_no_p_value() -> None:
    item = stats.item_statistics([[1, None], [0, None]], [1, 1], ["A", "B"])[1]
    assert (item.responses, item.p_value, item.discrimination) == (0, None, None)


def test_score_on_a_bin_edge_lands_in_the_upper_bin() -> None:
    def counts(rows: Cells, maxima: list[float], bins: int) -> list[int]:
        return [count for _, _, count in stats.test_statistics(rows, maxima, bins=bins).histogram]

    assert counts([[1], [2], [3]], [3], bins=3) == [0, 1, 2]  # thirds; 100 % in the last bin
    assert counts([[0.7]], [1], bins=10)[7] == 1  # 0.7 is a little under 0.7 in binary
    assert counts([[0.1, 0.6]], [1, 1], bins=20)[7] == 1  # 35 %


def test_polytomous_scores_use_alpha() -> None:
    assert stats.test_statistics([[0.5, 1], [2, 1]], [2, 1]).method == "Cronbach's alpha"


def test_shapes_and_ranges_are_checked() -> None:
    with pytest.raises(ValueError, match="2 item names for 3 maxima"):
        stats.item_statistics([[1, 1, 1]], [1, 1, 1], ["A", "B"])
    with pytest.raises(ValueError, match=re.escape("candidate 2: score 2 is outside 0..1")):
        stats.test_statistics([[1], [2]], [1])
    with pytest.raises(ValueError, match="2 pass/fail outcomes for 1 candidates"):
        stats.test_statistics([[1]], [1], passed=[True, False])


def test_option_rates_single_and_multiple_response() -> None:
    assert stats.option_rates(["a", "b", "a", None, "a"], ["a", "b", "c"]) == {"a": 0.75, "b": 0.25, "c": 0.0}
    assert stats.option_rates([["a", "b"], ["a"], [], None], ["a", "b", "c"]) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert stats.option_rates([None], ["a"]) == {"a": 0.0}
    with pytest.raises(ValueError, match="'z' is not one of the options"):
        stats.option_rates(["z"], ["a", "b"])


def test_unused_distractors_need_enough_responses() -> None:
    choices = ["a"] * 15 + ["b"] * 4 + ["c"]
    rates = stats.option_rates(choices, ["a", "b", "c", "d"])
    assert stats.unused_distractors(rates, {"a"}, responses=20) == ["d"]  # c has exactly 5 %
    assert stats.unused_distractors(rates, {"a", "d"}, responses=20) == []
    assert stats.unused_distractors(rates, {"a"}, responses=19) == []


def test_document_uses_the_field_names() -> None:
    rows: Cells = [[1, 0], [0, 1]]
    document = stats.as_document(stats.item_statistics(rows, [1, 1], ["A", "B"]), stats.test_statistics(rows, [1, 1]))
    assert set(document["items"][0]) == {"name", "responses", "mean", "p_value", "discrimination", "flags"}
    assert set(document["test"]) == {
        "candidates", "items", "mean", "sd", "reliability", "method", "sem", "pass_rate", "histogram",
    }  # fmt: skip


CSV = "Candidate,Q1,Q2,Q3\n#max,1,2,0.5\nc1,1,1.5,\nc2,0,,0.5\n"


def test_read_matrix() -> None:
    matrix = matrix_csv.read_matrix("\ufeff" + CSV + ",,,\n")
    assert matrix == matrix_csv.Matrix(
        names=["Q1", "Q2", "Q3"],
        maxima=[1, 2, 0.5],
        candidates=["c1", "c2"],
        rows=[[1, 1.5, None], [0, None, 0.5]],
    )


def test_read_matrix_without_candidate_column_or_maxima() -> None:
    matrix = matrix_csv.read_matrix("A,B\n1,0\n\n0,\n")
    assert (matrix.candidates, matrix.maxima, matrix.rows) == (None, [1, 1], [[1, 0], [0, None]])


@pytest.mark.parametrize(
    "text",
    [CSV, "A,B\n1,0\n0,\n", 'candidate,x\n#max,3\n"a,b",2.25\n'],
)
def test_write_matrix_is_the_inverse(text: str) -> None:
    matrix = matrix_csv.read_matrix(text)
    assert matrix_csv.read_matrix(matrix_csv.write_matrix(matrix)) == matrix


def test_write_matrix_writes_what_read_matrix_reads() -> None:
    assert matrix_csv.write_matrix(matrix_csv.read_matrix(CSV)) == CSV.replace("Candidate", "candidate")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("candidate,Q1,Q2\nc1,1,0\nc2,1,abc\n", "line 3, column Q2: 'abc' is not a number"),
        ("candidate,Q1,Q2\n#max,1,2\nc1,1,3\n", "line 3, column Q2: '3' is outside 0..2"),
        ("Q1,Q2\n-1,0\n", "line 2, column Q1: '-1' is outside 0..1"),
        ("Q1,Q2\nnan,0\n", "line 2, column Q1: 'nan' is not a number"),
        ("candidate,Q1\n#max,0\n", "line 2, column Q1: maximum '0' is not a positive number"),
        ("candidate,Q1\nc1,1\nc1,0\n", "line 3, column candidate: candidate 'c1' appears twice"),
        ("Q1,Q2\n1\n", "line 2: 1 cells, expected 2"),
        ("Q1,Q1\n1,1\n", "line 1, column 2: item name 'Q1' is empty or repeated"),
        ("candidate\nc1\n", "line 1: no item columns"),
        ("\n\n", "the file is empty"),
    ],
)
def test_read_matrix_names_the_bad_cell(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        matrix_csv.read_matrix(text)
    assert str(raised.value).startswith(message)
