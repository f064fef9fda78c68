"""axe-core in the browser tests: inject the script shipped by axe-playwright-python into
the page and fail on serious or critical violations. One helper for every page test."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

BLOCKING = ("serious", "critical")


@cache
def axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def axe_violations(tab: Any, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """The page's axe-core violations of ``impacts`` (WCAG 2 A/AA and best practices)."""
    tab.evaluate(axe_script())
    result = tab.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in impacts]


def assert_accessible(tab: Any, name: str = "") -> None:
    """No serious or critical axe-core violation on the current page."""
    found = axe_violations(tab)
    summary = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found]
    assert not found, f"{name or tab.url}: {summary}"
