"""scripts/mutants.toml stays current: it parses, and every planted bug still applies.

``scripts/mutants`` runs late in ``scripts/check``; a merge that breaks the file (a key
written twice, an entry cut in half) or moves the code an entry points at should fail
here, in the unit tests, with the entry named.
"""

from __future__ import annotations

import pytest

from hifipose_dev.data import ROOT

# A check of a repository file, not of the library: the main suite runs it on 3.11+
# (scripts/check_pythons' 3.10 has no tomllib; scripts/mutants itself needs 3.11).
tomllib = pytest.importorskip("tomllib")

FIELDS = {"name", "file", "find", "replace", "tests", "quick"}


def test_every_mutant_is_well_formed_and_applies_once() -> None:
    entries = tomllib.loads((ROOT / "scripts" / "mutants.toml").read_text())["mutant"]
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), "a name is used twice"
    for entry in entries:
        assert set(entry) <= FIELDS and {"name", "file", "find", "replace", "tests"} <= set(entry)
        text = (ROOT / entry["file"]).read_text(encoding="utf-8")
        assert text.count(entry["find"]) == 1, f"{entry['name']}: find must occur once"
        assert entry["find"] != entry["replace"], entry["name"]
        assert entry["tests"], entry["name"]
