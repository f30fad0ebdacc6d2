"""The trusted half of a check: judges what the sandbox gathered against values it never saw.

Everything in a report is data the candidate's process produced; it is compared, never run.
A check's ``judge`` is bank code (trusted, authored by examiners) and runs here, outside the
sandbox, on that data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from exam_service.bank.authoring import CallCase, GraderCheck
from exam_service.grading.sandbox import Report

DEFAULT_TOLERANCE = 1e-9
MAX_SHOWN = 200

LIMIT_REASONS = {
    "cpu": "the code used up its CPU time limit",
    "wall": "the code ran past its wall-clock limit",
    "memory": "the code ran out of its memory limit",
    "output": "the code printed more than its output limit",
    "file": "the code wrote a file larger than its file size limit",
}


@dataclass
class Verdict:
    fraction: float  # share of the check's points earned, 0..1
    feedback: list[str] = field(default_factory=list)  # why points were lost, for the examiner
    error: str | None = None  # the check itself is broken (a bank defect), not the candidate's answer


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def same(expected: Any, actual: Any, tolerance: float | None = None, rel_tolerance: float | None = None) -> bool:
    """Structural equality with numeric tolerance; a bool is never a number, a tuple is a list."""
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int | float):
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        if not (math.isfinite(expected) and math.isfinite(actual)):
            return False
        allowed = max(tolerance if tolerance is not None else DEFAULT_TOLERANCE, (rel_tolerance or 0) * abs(expected))
        return abs(actual - expected) <= allowed
    if isinstance(expected, list | tuple):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(e, a, tolerance, rel_tolerance) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(actual) == set(expected)
            and all(same(v, actual[k], tolerance, rel_tolerance) for k, v in expected.items())
        )
    return False


def run_limits(report: Report) -> list[str]:
    notes = []
    if report.error:
        notes.append(report.error)
    if report.limit:
        notes.append(LIMIT_REASONS.get(report.limit, f"the code hit the {report.limit} limit"))
    return notes


def judge_call(check: GraderCheck, report: Report) -> Verdict:
    results: dict[int, dict[str, Any]] = {}
    for record in report.records:
        index = record.get("case")
        if isinstance(index, int) and index not in results:
            results[index] = record
    passed, feedback = 0, []
    for index, case in enumerate(check.cases):
        problem = _case_problem(case, results.get(index))
        if problem is None:
            passed += 1
        else:
            feedback.append(f"{_call_text(case)}: {problem}")
    return _fraction(check, passed, len(check.cases), feedback + run_limits(report) if feedback else feedback)


def _call_text(case: CallCase) -> str:
    args = [shown(a) for a in case.args] + [f"{k}={shown(v)}" for k, v in case.kwargs.items()]
    return f"{case.call}({', '.join(args)})"


def _case_problem(case: CallCase, record: dict[str, Any] | None) -> str | None:
    if record is None:
        return "no result (the code exited, crashed or ran out of time before returning)"
    if case.raises is not None:
        wanted = [case.raises] if isinstance(case.raises, str) else case.raises
        raw_mro = record.get("mro")
        mro: list[Any] = raw_mro if isinstance(raw_mro, list) else []
        if "raised" in record and any(name in mro for name in wanted):
            return None
        got = f"raised {record.get('raised')}" if "raised" in record else f"returned {shown(record.get('value'))}"
        return f"expected {' or '.join(wanted)} to be raised; {got}"
    if "raised" in record:
        return f"raised {record.get('raised')}: {str(record.get('message', ''))[:MAX_SHOWN]}"
    if same(case.expect, record.get("value"), case.tolerance, case.rel_tolerance):
        return None
    return f"returned {shown(record.get('value'))}, expected {shown(case.expect)}"


def _fraction(check: GraderCheck, met: int, total: int, feedback: list[str]) -> Verdict:
    if total == 0:
        return Verdict(0.0, feedback or ["nothing to check"])
    if check.partial:
        return Verdict(met / total, feedback)
    return Verdict(1.0 if met == total else 0.0, feedback)


def data_of(check: GraderCheck, report: Report) -> dict[str, Any]:
    """The data a judge or an ``expect`` sees."""
    data: dict[str, Any] = {
        "exit_code": report.exit_code,
        "signal": report.signal,
        "stdout": report.stdout,
        "stderr": report.stderr,
        "files": report.files,
        "limit": report.limit,
        "error": report.error,
    }
    if check.kind == "probe":
        observations: dict[str, Any] = {}
        for record in report.records:
            key = record.get("observe")
            if isinstance(key, str) and key not in observations:
                observations[key] = record.get("value")
        data["observations"] = observations
        data["completed"] = any(r.get("done") is True for r in report.records)
    if check.kind == "document":
        document = next((r["document"] for r in report.records if isinstance(r.get("document"), dict)), None)
        if document is None:
            data["parse_error"] = report.error or "the document could not be read"
            data["documents"] = []
        else:
            data.update(document)
            data.setdefault("parse_error", None)
    return data


def judge_expect(check: GraderCheck, data: dict[str, Any]) -> Verdict:
    assert check.expect is not None
    source = data.get("observations", {}) if check.kind == "probe" else data
    met, feedback = 0, []
    for key, expected in check.expect.items():
        actual = source.get(key)
        if key == "stdout" and isinstance(actual, str) and isinstance(expected, str):
            actual, expected = _trimmed(actual), _trimmed(expected)
        if key in source and same(expected, actual):
            met += 1
        elif key not in source:
            feedback.append(f"{key}: nothing was observed")
        else:
            feedback.append(f"{key}: got {shown(actual)}, expected {shown(expected)}")
    return _fraction(check, met, len(check.expect), feedback)


def _trimmed(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def judge_code(check: GraderCheck, data: dict[str, Any], helpers: str | None = None) -> Verdict:
    assert check.judge is not None
    scope: dict[str, Any] = {"__name__": f"judge_{check.id}"}
    try:
        if helpers:
            exec(compile(helpers, "<judge helpers>", "exec"), scope)
        exec(compile(check.judge, f"<judge {check.id}>", "exec"), scope)
        requirements = list(scope["judge"](data))
        pairs = [(bool(ok), str(message)) for ok, message in requirements]
    except Exception as exc:
        return Verdict(0.0, [f"the check could not judge this answer: {type(exc).__name__}: {exc}"], error=str(exc))
    met = sum(1 for ok, _ in pairs if ok)
    return _fraction(check, met, len(pairs), [message for ok, message in pairs if not ok])


def judge(check: GraderCheck, report: Report, helpers: str | None = None) -> Verdict:
    """``helpers``: the task's shared judge code (``grader.judge_helpers``), run before the judge."""
    if check.kind == "call":
        return judge_call(check, report)
    data = data_of(check, report)
    verdict = judge_expect(check, data) if check.expect is not None else judge_code(check, data, helpers)
    if verdict.fraction < 1:
        verdict.feedback += run_limits(report)
    return verdict
