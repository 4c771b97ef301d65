"""The held-out evaluation set (tests/data/eval/heldout.jsonl): floors against regressions.

The set was written blind to the analyser, so its figures measure how the rules
generalise. The floors sit just under what the analyser achieves on the whole set;
a change that costs more than that on unseen-style news fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsradar.evaluation import EvalReport, evaluate, evaluate_items, format_report, read_items

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "eval" / "heldout.jsonl"

# Achieved on the whole set (both halves) when the floors were set: topic F1 0.968 /
# 0.984, languages >= 0.933, organisations 0.975, deals with amount 57/64, layoffs 61/64.
# Raised (recall session 3): topic F1 0.984 / 1.000, languages >= 0.984, organisations
# 0.977, deals with amount 60/64, layoffs 63/64; the deal and layoff floors allow one item.
MIN_TOPIC_F1 = {"ai_investment": 0.97, "layoffs": 0.98}
MIN_LANGUAGE_F1 = 0.92
MIN_ORG_F1 = 0.97
MIN_DEALS = 0.92
MIN_LAYOFFS = 0.96


@pytest.fixture(scope="module")
def report() -> EvalReport:
    """One evaluation of the whole held-out set, shared by the tests."""
    return evaluate(HELDOUT)


def test_heldout_has_forty_items_per_language(report: EvalReport) -> None:
    """The file is the 160-item set, 40 per language."""
    assert report.items == 160
    assert {lang: prf.support > 0 for lang, prf in report.languages.items()} == {
        "de": True,
        "en": True,
        "es": True,
        "fr": True,
    }


def test_topic_floors(report: EvalReport) -> None:
    """Each topic's F1 stays at or above its floor."""
    for name, floor in MIN_TOPIC_F1.items():
        assert report.topics[name].f1 >= floor, (name, report.topics[name])


def test_language_floors(report: EvalReport) -> None:
    """No language's topic F1 falls below the floor."""
    assert report.failures(min_language_f1=MIN_LANGUAGE_F1) == []


def test_organisation_deal_and_layoff_floors(report: EvalReport) -> None:
    """Organisation F1, deals found (with amount) and layoffs found stay at their floors."""
    assert (
        report.failures(min_org_f1=MIN_ORG_F1, min_deals=MIN_DEALS, min_layoffs=MIN_LAYOFFS) == []
    )


def test_report_counts_items_with_errors_not_errors() -> None:
    """The text report counts distinct items with errors, each listed once per field."""
    items = [
        {
            "id": "t-1",
            "lang": "en",
            "title": "Quillmark lays off 300 workers",
            "topics": ["ai_investment"],
            "orgs": ["Someone Else"],
            "deal": None,
            "layoff": None,
        },
        {
            "id": "t-2",
            "lang": "en",
            "title": "Weather stays mild this week",
            "topics": [],
            "orgs": [],
            "deal": None,
            "layoff": None,
        },
    ]
    rep = evaluate_items(items)
    assert len(rep.errors) >= 2 and {e.id for e in rep.errors} == {"t-1"}
    assert "items with errors (1;" in format_report(rep)


def test_gazetteer_aliases_compare_equal() -> None:
    """A label spelling an organisation by a gazetteer alias matches its canonical name."""
    item = {
        "id": "t-3",
        "lang": "en",
        "title": "Dell to cut 500 jobs",
        "topics": ["layoffs"],
        "orgs": ["Dell"],
        "deal": None,
        "layoff": {"company": "Dell", "headcount": 500},
    }
    rep = evaluate_items([item])
    assert rep.organizations.fn == 0 and rep.layoffs.found == 1


def test_heldout_ids_are_unique() -> None:
    """Every item of the held-out file has its own id."""
    ids = [item["id"] for item in read_items(HELDOUT)]
    assert len(ids) == len(set(ids))
