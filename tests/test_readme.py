"""The README points only at files a clone has, and says what the demo really holds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_file_the_readme_names_exists_in_a_clone() -> None:
    named = {
        m.group(1).rstrip("/")
        for m in re.finditer(r"`([\w./-]+)`", README)
        if ("/" in m.group(1) or m.group(1).endswith((".md", ".py", ".toml")))
        and not m.group(1).startswith(("/", "http", "var/", "./var", "postgres", "KC_", "America/", "Europe/"))
    }
    assert named, "the README names no files at all?"
    missing = sorted(p for p in named if not (ROOT / p).exists() and not list(ROOT.glob(p + "-*")))
    assert missing == []
    assert "../shared" not in README


def test_the_readme_does_not_deny_the_demo_esketamine_patients() -> None:
    from ketamine_clinic.demo import STAGES

    assert "esketamine" in " ".join(stage for stage, _ in STAGES)
    assert "demo esketamine patients" not in README.split("The demo clinic has")[0].split("Not yet:")[-1]
    assert "two esketamine patients" in README
