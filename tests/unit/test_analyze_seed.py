"""The motivating article (../shared/data/seed_article.txt) analysed end to end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsradar import analyze
from newsradar.nlp.schema import Analysis

SHARED = Path(
    os.environ.get("NEWSRADAR_SHARED_DIR", Path(__file__).resolve().parents[2] / ".." / "shared")
)
SEED = SHARED / "data" / "seed_article.txt"
TITLE = "Microsoft va investir 10 milliards de dollars dans OpenAI"


@pytest.fixture(scope="module", params=["given_title", "first_sentence"])
def seed(request: pytest.FixtureRequest) -> Analysis:
    """The seed article analysed with a written title, and with its first sentence."""
    text = SEED.read_text(encoding="utf-8").strip()
    if request.param == "given_title":
        return analyze(TITLE, text)
    first, _, rest = text.partition(". ")
    return analyze(first + ".", rest)


def test_seed_language_and_topics(seed: Analysis) -> None:
    """The seed is French and about both an AI investment and layoffs."""
    assert seed.language == "fr"
    assert {"ai_investment", "layoffs"} <= set(seed.topic_names)
    for topic in seed.topics:
        assert topic.evidence, topic.name
        for ev in topic.evidence:
            assert seed.text[ev.start : ev.end] == ev.text


def test_seed_entities(seed: Analysis) -> None:
    """Organisations are canonical and include the competitors; Nadella is a person."""
    names = {o.name for o in seed.organizations}
    assert {"Microsoft", "OpenAI", "Alphabet", "Amazon", "Meta"} <= names
    assert "Satya Nadella" in {p.name for p in seed.people}


def test_seed_one_new_deal_and_the_2019_billion_as_background(seed: Analysis) -> None:
    """Exactly one new Microsoft -> OpenAI deal of $10bn; the 2019 $1bn is background."""
    live = [d for d in seed.deals if not d.background]
    assert len(live) == 1
    deal = live[0]
    assert (deal.investor, deal.target) == ("Microsoft", "OpenAI")
    assert deal.amount_usd == pytest.approx(1e10)
    past = [d for d in seed.deals if d.background]
    assert any(
        (d.investor, d.target) == ("Microsoft", "OpenAI") and d.amount_usd == pytest.approx(1e9)
        for d in past
    )


def test_seed_layoff(seed: Analysis) -> None:
    """Microsoft's 10,000 job cuts are found as a current layoff."""
    live = [lay for lay in seed.layoffs if not lay.background]
    assert any(lay.company == "Microsoft" and lay.headcount == 10_000 for lay in live)
