"""Validates the curated gazetteer data files (organisations and people).

The entity matcher relies on these files being well formed: one canonical name per
entry, no surface form claimed by two entries, references that resolve. The labelled
dev file is read at run time only (it is copyrighted and never copied into the repo).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "src" / "newsradar" / "nlp" / "data"
ORGS_PATH = DATA_DIR / "orgs.yaml"
PEOPLE_PATH = DATA_DIR / "people.yaml"

ORG_REQUIRED = {"name", "aliases", "kind"}
ORG_KEYS = ORG_REQUIRED | {"ticker", "wikidata", "country", "parent", "ambiguous"}
ORG_KINDS = {"company", "investor", "ai_lab", "media", "union", "public_body"}
DEAL_KINDS = {"company", "investor", "ai_lab"}
PERSON_REQUIRED = {"name", "aliases"}
PERSON_KEYS = PERSON_REQUIRED | {"org", "role"}
WIKIDATA_RE = re.compile(r"^Q\d+$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
MIN_ORGS = 400
MIN_PEOPLE = 100
MIN_DEV_COVERAGE = 0.97
MIN_SURFACE_CHARS = 2


def _norm(surface: str) -> str:
    """A surface form as the matcher compares it (typographic apostrophe folded)."""
    return surface.replace("\u2019", "'")


def _load(path: Path) -> list[dict[str, Any]]:
    """Loads one gazetteer file the way the matcher does (safe_load, list of mappings)."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, list), f"{path.name} must hold a YAML list"
    return data


@pytest.fixture(scope="module")
def orgs() -> list[dict[str, Any]]:
    """The organisation entries."""
    return _load(ORGS_PATH)


@pytest.fixture(scope="module")
def people() -> list[dict[str, Any]]:
    """The people entries."""
    return _load(PEOPLE_PATH)


def _shared_dir() -> Path:
    """Where the shared (non-repository) data lives: env override or ../shared beside the repo."""
    env = os.environ.get("NEWSRADAR_SHARED_DIR")
    return Path(env) if env else REPO_ROOT / ".." / "shared"


def _is_str(value: Any) -> bool:
    """True for a non-empty string without surrounding whitespace."""
    return isinstance(value, str) and value != "" and value == value.strip()


def test_org_entries_follow_schema(orgs: list[dict[str, Any]]) -> None:
    """Every organisation has only known keys with the right types and an allowed kind."""
    errors: list[str] = []
    for entry in orgs:
        if not isinstance(entry, dict):
            errors.append(f"not a mapping: {entry!r}")
            continue
        name = entry.get("name")
        if missing := ORG_REQUIRED - entry.keys():
            errors.append(f"{name}: missing {sorted(missing)}")
        if extra := entry.keys() - ORG_KEYS:
            errors.append(f"{name}: unknown keys {sorted(extra)}")
        if not _is_str(name):
            errors.append(f"bad name {name!r}")
        aliases = entry.get("aliases")
        if not isinstance(aliases, list) or not all(_is_str(a) for a in aliases):
            errors.append(f"{name}: aliases must be a list of strings")
        elif len(set(aliases)) != len(aliases) or name in aliases:
            errors.append(f"{name}: duplicate alias or alias equal to its own name")
        if entry.get("kind") not in ORG_KINDS:
            errors.append(f"{name}: bad kind {entry.get('kind')!r}")
        if "ticker" in entry and not _is_str(entry["ticker"]):
            errors.append(f"{name}: ticker must be a string")
        if "wikidata" in entry and not (
            isinstance(entry["wikidata"], str) and WIKIDATA_RE.match(entry["wikidata"])
        ):
            errors.append(f"{name}: bad wikidata id {entry['wikidata']!r}")
        if entry.get("country") is not None and not (
            isinstance(entry["country"], str) and COUNTRY_RE.match(entry["country"])
        ):
            errors.append(f"{name}: bad country {entry['country']!r}")
        if entry.get("parent") is not None and not _is_str(entry["parent"]):
            errors.append(f"{name}: parent must be a string or null")
        if not isinstance(entry.get("ambiguous", False), bool):
            errors.append(f"{name}: ambiguous must be a boolean")
    assert errors == []


def test_org_names_unique_and_aliases_unambiguous(orgs: list[dict[str, Any]]) -> None:
    """No canonical name repeats and no surface form points to two organisations."""
    names = Counter(entry["name"] for entry in orgs)
    assert [n for n, c in names.items() if c > 1] == []
    owner: dict[str, str] = {_norm(entry["name"]): entry["name"] for entry in orgs}
    clashes: list[str] = []
    for entry in orgs:
        for alias in entry["aliases"]:
            previous = owner.setdefault(_norm(alias), entry["name"])
            if previous != entry["name"]:
                clashes.append(f"{alias!r}: {previous} / {entry['name']}")
    assert clashes == []


def test_org_parents_exist(orgs: list[dict[str, Any]]) -> None:
    """Each parent names an existing entry other than the entry itself, without cycles."""
    parent_of = {entry["name"]: entry.get("parent") for entry in orgs}
    dangling = [(n, p) for n, p in parent_of.items() if p is not None and p not in parent_of]
    assert dangling == []
    for start in parent_of:
        seen = {start}
        current = parent_of[start]
        while current is not None:
            assert current not in seen, f"parent cycle through {start}"
            seen.add(current)
            current = parent_of[current]


def test_people_entries_follow_schema(
    people: list[dict[str, Any]], orgs: list[dict[str, Any]]
) -> None:
    """Every person has known keys, string fields, and an org that exists in orgs.yaml."""
    org_names = {entry["name"] for entry in orgs}
    errors: list[str] = []
    for entry in people:
        if not isinstance(entry, dict):
            errors.append(f"not a mapping: {entry!r}")
            continue
        name = entry.get("name")
        if missing := PERSON_REQUIRED - entry.keys():
            errors.append(f"{name}: missing {sorted(missing)}")
        if extra := entry.keys() - PERSON_KEYS:
            errors.append(f"{name}: unknown keys {sorted(extra)}")
        if not _is_str(name):
            errors.append(f"bad name {name!r}")
        aliases = entry.get("aliases")
        if not isinstance(aliases, list) or not all(_is_str(a) for a in aliases):
            errors.append(f"{name}: aliases must be a list of strings")
        if entry.get("role") is not None and not _is_str(entry["role"]):
            errors.append(f"{name}: role must be a string")
        org = entry.get("org")
        if org is not None and org not in org_names:
            errors.append(f"{name}: unknown org {org!r}")
    assert errors == []


def test_people_names_and_aliases_unique(people: list[dict[str, Any]]) -> None:
    """No person name repeats and no person surface form is shared by two people."""
    names = Counter(entry["name"] for entry in people)
    assert [n for n, c in names.items() if c > 1] == []
    owner: dict[str, str] = {_norm(entry["name"]): entry["name"] for entry in people}
    clashes: list[str] = []
    for entry in people:
        if len(set(entry["aliases"])) != len(entry["aliases"]) or entry["name"] in entry["aliases"]:
            clashes.append(f"{entry['name']}: duplicate alias or alias equal to its own name")
        for alias in entry["aliases"]:
            previous = owner.setdefault(_norm(alias), entry["name"])
            if previous != entry["name"]:
                clashes.append(f"{alias!r}: {previous} / {entry['name']}")
    assert clashes == []


def test_no_surface_shared_by_an_org_and_a_person(
    orgs: list[dict[str, Any]], people: list[dict[str, Any]]
) -> None:
    """A surface form names either an organisation or a person, never both."""
    org_surfaces = {_norm(s) for entry in orgs for s in [entry["name"], *entry["aliases"]]}
    shared = [
        s
        for entry in people
        for s in [entry["name"], *entry["aliases"]]
        if _norm(s) in org_surfaces
    ]
    assert shared == []


def test_surfaces_are_long_enough(orgs: list[dict[str, Any]], people: list[dict[str, Any]]) -> None:
    """Every surface form has at least two characters (the matcher drops shorter ones)."""
    short = [
        s
        for entry in [*orgs, *people]
        for s in [entry["name"], *entry["aliases"]]
        if len(s.strip()) < MIN_SURFACE_CHARS
    ]
    assert short == []


def test_gazetteer_sizes(orgs: list[dict[str, Any]], people: list[dict[str, Any]]) -> None:
    """The curated lists are large enough to be useful on unseen news."""
    assert len(orgs) >= MIN_ORGS
    assert len(people) >= MIN_PEOPLE


def test_every_kind_is_represented(orgs: list[dict[str, Any]]) -> None:
    """Each kind has entries, so media, unions and public bodies are told apart from parties."""
    assert {entry["kind"] for entry in orgs} == ORG_KINDS


def test_dev_labels_are_covered(orgs: list[dict[str, Any]]) -> None:
    """Canonical names of companies, investors and AI labs in the dev labels exist as names."""
    dev_path = _shared_dir() / "data" / "news_dev.jsonl"
    assert dev_path.is_file(), f"labelled dev file not found at {dev_path}"
    kind_of = {entry["name"]: entry["kind"] for entry in orgs}
    kind_by_surface = {a: entry["kind"] for entry in orgs for a in entry["aliases"]}
    kind_by_surface.update(kind_of)
    labelled: set[str] = set()
    with dev_path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            item = json.loads(line)
            labelled.update(item.get("orgs") or [])
            labelled.update(item.get("orgs_context") or [])
            deal = item.get("deal") or {}
            labelled.update(v for k in ("investor", "target") if (v := deal.get(k)))
            labelled.update(deal.get("co_investors") or [])
            layoff = item.get("layoff") or {}
            if layoff.get("company"):
                labelled.add(layoff["company"])
            labelled.update(layoff.get("companies") or [])
    # Names the gazetteer files (as name or alias) under media/union/public_body are not
    # deal parties; unknown names count as parties, so a gap lowers the coverage.
    relevant = {n for n in labelled if kind_by_surface.get(n, "company") in DEAL_KINDS}
    missing = sorted(relevant - kind_of.keys())
    coverage = 1 - len(missing) / len(relevant)
    print(f"dev label coverage: {coverage:.1%} of {len(relevant)}; missing: {missing}")
    assert len(relevant) > 50
    assert coverage >= MIN_DEV_COVERAGE, missing
