"""Regression floors on the labelled dev file (read at run time from ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsradar.evaluation import EvalReport, evaluate

SHARED = Path(
    os.environ.get("NEWSRADAR_SHARED_DIR", Path(__file__).resolve().parents[2] / ".." / "shared")
)
DEV = SHARED / "data" / "news_dev.jsonl"


@pytest.fixture(scope="module")
def report() -> EvalReport:
    """evaluate() over the dev file."""
    return evaluate(DEV)


def test_topic_floors(report: EvalReport) -> None:
    """Per-topic F1 stays above the floors (just under what was reached)."""
    assert report.topics["ai_investment"].f1 >= 0.96
    assert report.topics["layoffs"].f1 >= 0.98


def test_language_floors(report: EvalReport) -> None:
    """No language with labelled topics drops under 0.95 topic F1."""
    for lang in ("en", "fr", "de", "es"):
        assert report.languages[lang].f1 >= 0.95, lang


def test_organisation_floor(report: EvalReport) -> None:
    """Organisation F1 stays above 0.97."""
    assert report.organizations.f1 >= 0.97


def test_deal_and_layoff_floors(report: EvalReport) -> None:
    """Deals (with amounts) and layoffs found stay above 0.96."""
    assert report.deals.share >= 0.98
    assert report.deals_with_amount.share >= 0.96
    assert report.layoffs.share >= 0.96


def test_gate_passes_the_issue_targets(report: EvalReport) -> None:
    """The CI gate with the issue's targets reports nothing."""
    assert report.failures(0.92, 0.90, 0.85, 0.85, min_language_f1=0.85) == []
