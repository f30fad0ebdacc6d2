"""Accessibility and screenshots for the browser tests: axe-core on a page, PNGs for a person to look at."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
BLOCKING = ("serious", "critical")

_axe = Axe()


def screenshot_dir() -> Path:
    """``EXAM_SCREENSHOT_DIR``, else ``build/screenshots`` in the repository (git-ignored)."""
    folder = Path(os.environ.get("EXAM_SCREENSHOT_DIR") or ROOT / "build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """The page as a person sees it, written to ``<screenshot dir>/<name>.png``."""
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def _describe(violation: dict[str, Any]) -> str:
    lines = [f"- {violation['id']} ({violation['impact']}): {violation['help']} [{violation.get('helpUrl', '')}]"]
    for node in violation["nodes"][:8]:
        targets = ", ".join(" ".join(part) if isinstance(part, list) else str(part) for part in node["target"])
        summary = " ".join((node.get("failureSummary") or "").split())[:240]
        lines.append(f"    at {targets}: {summary}")
    if len(violation["nodes"]) > 8:
        lines.append(f"    ... and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page: Page, name: str) -> list[dict[str, Any]]:
    """axe-core on the page as it is now: fails on any serious or critical violation, listing each.

    Returns the lesser (minor, moderate) violations, for a test that wants to look at them.
    """
    violations: list[dict[str, Any]] = _axe.run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    if blocking:
        listed = "\n".join(_describe(v) for v in blocking)
        raise AssertionError(f"{name}: {len(blocking)} serious or critical accessibility violation(s)\n{listed}")
    return [v for v in violations if v.get("impact") not in BLOCKING]
