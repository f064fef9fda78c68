"""Every public rule cites a source; the sources exist in the clinical reference; the
generated rules page is current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ketamine_clinic.domain import rules_doc
from ketamine_clinic.domain.sources import SOURCES, cited_keys

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "clinical.md"
SUPPLEMENTS = sorted((ROOT / "docs" / "reference").glob("*.md"))  # keys not yet in the shared reference


def test_every_public_rule_cites_a_known_source() -> None:
    missing = [f"{m}.{n}" for m, n, doc in rules_doc.public_rules() if not cited_keys(doc) & set(SOURCES)]
    assert missing == []
    unknown = {k for _, _, doc in rules_doc.public_rules() for k in cited_keys(doc)} - set(SOURCES)
    assert unknown == set()


def test_every_source_key_is_in_the_clinical_reference() -> None:
    if not REFERENCE.exists():
        pytest.skip("the shared clinical reference is not beside this checkout")
    text = REFERENCE.read_text(encoding="utf-8") + "".join(p.read_text(encoding="utf-8") for p in SUPPLEMENTS)
    listed = set(re.findall(r"\*\*\[(S\d+[a-z]?)\]\*\*", text))
    assert set(SOURCES) - listed == set()


def test_cited_keys_reads_bracketed_keys() -> None:
    assert cited_keys("see [S11][S70b] and [X1]") == {"S11", "S70b"}
    assert cited_keys("") == set()


def test_the_rules_page_is_generated_from_the_code() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_doc.render()
