"""Sentence tables per language (tests/data/sentences/<lang>.yaml) through analyze."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from newsradar import analyze
from newsradar.nlp.schema import Analysis, Deal

TABLES = Path(__file__).resolve().parents[1] / "data" / "sentences"


def _cases() -> list[Any]:
    params = []
    for path in sorted(TABLES.glob("*.yaml")):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, case in enumerate(table["cases"]):
            params.append(pytest.param(table["language"], case, id=f"{path.stem}-{i}"))
    return params


CASES = _cases()


def _run(lang: str, case: dict[str, Any]) -> Analysis:
    return analyze(
        case["title"], case.get("summary", ""), language=lang, published=case.get("published")
    )


def _matches(deal: Deal, want: dict[str, Any]) -> bool:
    if "investor" in want and deal.investor != want["investor"]:
        return False
    if not set(want.get("co_investors", ())) <= set(deal.co_investors):
        return False
    if "target" in want and deal.target != want["target"]:
        return False
    if "amount_usd" in want:
        if want["amount_usd"] is None:
            if deal.amount_usd is not None:
                return False
        elif (
            deal.amount_usd is None
            or abs(deal.amount_usd - want["amount_usd"]) > 0.01 * want["amount_usd"]
        ):
            return False
    if "amount" in want and (
        deal.amount is None
        or abs(deal.amount - want["amount"]) > 0.01 * want["amount"]
        or deal.currency != want["currency"]
    ):
        return False
    return "stage" not in want or deal.stage == want["stage"]


def test_tables_cover_every_language() -> None:
    """Each of en, fr, de, es has a table with at least eight cases."""
    counts: dict[str, int] = {}
    for lang, _case in (p.values for p in CASES):
        counts[lang] = counts.get(lang, 0) + 1
    assert {"en", "fr", "de", "es"} <= set(counts)
    assert min(counts.values()) >= 8


@pytest.mark.parametrize(("lang", "case"), CASES)
def test_language_and_topics(lang: str, case: dict[str, Any]) -> None:
    """The language is detected and the topics are exactly the expected ones."""
    result = _run(lang, case)
    assert result.language == lang
    assert set(result.topic_names) == set(case.get("topics", [])), result.topics


@pytest.mark.parametrize(("lang", "case"), CASES)
def test_organisations(lang: str, case: dict[str, Any]) -> None:
    """The expected organisations are found under their canonical names."""
    result = _run(lang, case)
    found = {o.name for o in result.organizations}
    assert set(case.get("orgs", [])) <= found, found


@pytest.mark.parametrize(
    ("lang", "case"),
    [p for p in CASES if {"deal", "no_deal", "background_deal"} & set(p.values[1])],
)
def test_deals(lang: str, case: dict[str, Any]) -> None:
    """Deals: investor, target, amount and stage; recalled deals are background."""
    result = _run(lang, case)
    live = [d for d in result.deals if not d.background]
    if "deal" in case:
        assert any(_matches(d, case["deal"]) for d in live), result.deals
    if case.get("no_deal"):
        assert live == [], live
    if "deal_count" in case:
        assert len(live) == case["deal_count"], live
    if "no_deal_with" in case:
        assert all(case["no_deal_with"] not in (d.investor, d.target) for d in result.deals)
    if "background_deal" in case:
        past = [d for d in result.deals if d.background]
        assert any(_matches(d, case["background_deal"]) for d in past), result.deals


@pytest.mark.parametrize(("lang", "case"), [p for p in CASES if "layoff" in p.values[1]])
def test_layoffs(lang: str, case: dict[str, Any]) -> None:
    """Layoffs: the company and the headcount (or workforce share) are found."""
    result = _run(lang, case)
    want = case["layoff"]
    live = [lay for lay in result.layoffs if not lay.background]
    assert any(
        ("company" not in want or lay.company == want["company"])
        and ("headcount" not in want or lay.headcount == want["headcount"])
        and ("percent" not in want or lay.percent == want["percent"])
        for lay in live
    ), result.layoffs


@pytest.mark.parametrize(("lang", "case"), CASES)
def test_evidence_points_into_the_text(lang: str, case: dict[str, Any]) -> None:
    """Every evidence span and mention offset indexes Analysis.text exactly."""
    result = _run(lang, case)
    for topic in result.topics:
        assert topic.evidence
        for ev in topic.evidence:
            assert result.text[ev.start : ev.end] == ev.text
    for item in [*result.deals, *result.layoffs]:
        assert result.text[item.evidence.start : item.evidence.end] == item.evidence.text
    for org in result.organizations:
        assert result.text[org.start : org.end] == org.surface
