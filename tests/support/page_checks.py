"""Page checks for the browser tests besides axe (``tests.support.axe``): axe's findings
as readable lines, page width at a phone's viewport, and the console errors a page logged.

``serious_violations(page)`` -> axe violations of impact serious or critical, each as
"rule-id: help (n nodes: selectors)"; ``horizontal_overflow(page)`` -> how many CSS pixels
the document is wider than the viewport (0 = no horizontal scroll).
"""

from __future__ import annotations

from typing import Any

__all__ = ["collect_console_errors", "horizontal_overflow", "serious_violations"]


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations (``tests.support.axe``) as one line each:
    "rule-id: help (n nodes: selectors)"."""
    from tests.support.axe import axe_violations

    out = []
    for v in axe_violations(page):
        targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:4])
        out.append(f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: {targets})")
    return out


def horizontal_overflow(page: Any) -> int:
    """CSS pixels by which the page is wider than its viewport (a horizontal scroll)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def collect_console_errors(page: Any) -> list[str]:
    """A list that fills with the page's console errors and uncaught exceptions from now on."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
