"""Scoring of analyze on labelled JSONL files (evaluate, format_report, failures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsradar.evaluation import EvalReport, evaluate, format_report

ITEMS = [
    {
        "id": "deal-ok",
        "lang": "en",
        "title": "Nvidia invests $500 million in Cohere",
        "summary": "The chipmaker said the AI startup will use the money for research.",
        "published": "2024-05-01",
        "topics": ["ai_investment"],
        "orgs": ["Nvidia", "Cohere"],
        "orgs_context": ["Reuters"],
        "deal": {"investor": "Nvidia", "target": "Cohere", "amount_usd": 500000000},
        "layoff": None,
    },
    {
        "id": "deal-wrong-amount",
        "lang": "en",
        "title": "Google invests $300 million in Anthropic",
        "summary": "",
        "published": None,
        "topics": ["ai_investment"],
        "orgs": ["Google", "Anthropic"],
        "deal": {"investor": "Google", "target": "Anthropic", "amount_usd": 400000000},
        "layoff": None,
    },
    {
        "id": "layoff-ok",
        "lang": "de",
        "title": "Continental streicht 7150 Arbeitsplätze",
        "summary": "",
        "published": None,
        "topics": ["layoffs"],
        "orgs": ["Continental"],
        "deal": None,
        "layoff": {"company": "Continental", "headcount": 7150},
    },
    {
        "id": "negative-missed-org",
        "lang": "fr",
        "title": "Le marché reste calme",
        "summary": "",
        "published": None,
        "topics": [],
        "orgs": ["Banque de France"],
        "deal": None,
        "layoff": None,
    },
]


@pytest.fixture
def report(tmp_path: Path) -> EvalReport:
    """The report over the small labelled file above."""
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n", encoding="utf-8")
    return evaluate(path)


def test_topic_scores(report: EvalReport) -> None:
    """Both AI items and the layoff item are found: perfect topic scores, right supports."""
    ai = report.topics["ai_investment"]
    assert (ai.tp, ai.fp, ai.fn, ai.support) == (2, 0, 0, 2)
    assert report.topics["layoffs"].f1 == 1.0
    assert report.languages["de"].support == 1


def test_organisations_ignore_context_and_count_misses(report: EvalReport) -> None:
    """orgs_context never counts; a missed label is a false negative."""
    orgs = report.organizations
    assert orgs.fn == 1
    assert orgs.tp == 5
    assert orgs.recall == pytest.approx(5 / 6, abs=1e-3)


def test_deals_with_and_without_amount(report: EvalReport) -> None:
    """A deal with the wrong amount counts as found, but not 'with amount'."""
    assert (report.deals.found, report.deals.total) == (2, 2)
    assert (report.deals_with_amount.found, report.deals_with_amount.total) == (1, 2)
    assert report.layoffs.share == 1.0


def test_errors_list_expected_and_found(report: EvalReport) -> None:
    """Items with mistakes are listed with what was expected and found."""
    fields = {(e.id, e.field) for e in report.errors}
    assert ("deal-wrong-amount", "deal") in fields
    assert ("negative-missed-org", "organizations") in fields
    deal_error = next(e for e in report.errors if e.id == "deal-wrong-amount")
    assert deal_error.expected["amount_usd"] == 400000000
    assert deal_error.found[0]["amount_usd"] == pytest.approx(3e8)


def test_failures_gate(report: EvalReport) -> None:
    """failures() names every figure under its floor, and nothing when floors are met."""
    assert report.failures(0.9, 0.5, 0.5, 0.9) == []
    msgs = report.failures(min_topic_f1=0.9, min_org_f1=0.95, min_deals=0.9, min_layoffs=0.9)
    assert any(m.startswith("organisations") for m in msgs)
    assert any(m.startswith("deals found") for m in msgs)


def test_format_report_and_json(report: EvalReport) -> None:
    """The text report shows every section; the model round-trips through JSON."""
    text = format_report(report)
    for needle in ("ai_investment", "layoffs", "organisations", "deals found", "deal-wrong-amount"):
        assert needle in text
    assert EvalReport.model_validate_json(report.model_dump_json()) == report
