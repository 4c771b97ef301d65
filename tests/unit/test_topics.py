"""Topic decisions from deals and layoffs, with evidence and scores."""

from __future__ import annotations

from newsradar.nlp.extract import AmountRef, DealFound, LayoffFound
from newsradar.nlp.topics import AI_INVESTMENT, LAYOFFS, decide_topics


def deal(**kw: object) -> DealFound:
    """A deal with defaults for the fields a test does not care about."""
    base: dict[str, object] = {
        "investor": "Nvidia",
        "target": "Cohere",
        "co_investors": [],
        "amount": AmountRef(5e8, "USD", 5e8, 20, 32),
        "stage": "announced",
        "background": False,
        "evidence": (7, 14),
        "ai": True,
    }
    base.update(kw)
    return DealFound(**base)  # type: ignore[arg-type]


def test_ai_deal_gives_ai_investment_with_evidence() -> None:
    """A live deal in an AI company is ai_investment, with the cue and amount as evidence."""
    topics = decide_topics([deal()], [], [(40, 42)])
    assert [t.name for t in topics] == [AI_INVESTMENT]
    assert (7, 14) in topics[0].evidence and (20, 32) in topics[0].evidence
    assert 0.0 < topics[0].score <= 1.0


def test_denied_deal_keeps_the_topic_with_a_lower_score() -> None:
    """A denied deal is still a story about an AI investment (label convention), scored lower."""
    denied = decide_topics([deal(stage="denied")], [], [])
    assert [t.name for t in denied] == [AI_INVESTMENT]
    assert denied[0].score < decide_topics([deal()], [], [])[0].score


def test_background_or_non_ai_deals_are_not_news() -> None:
    """Recalled, target-less or non-AI deals do not make the topic."""
    for d in (
        deal(background=True),
        deal(target=None),
        deal(ai=False),
    ):
        assert decide_topics([d], [], []) == []


def test_layoff_needs_company_or_figure() -> None:
    """A live layoff with a company or a figure is the layoffs topic; a bare word is not."""
    with_company = LayoffFound("Dell", None, None, False, (0, 4))
    bare = LayoffFound(None, None, None, False, (0, 4))
    recalled = LayoffFound("Dell", 500, None, True, (0, 4))
    assert [t.name for t in decide_topics([], [with_company], [])] == [LAYOFFS]
    assert decide_topics([], [bare], []) == []
    assert decide_topics([], [recalled], []) == []


def test_more_evidence_scores_higher() -> None:
    """Two supporting layoffs score at least as high as one."""
    one = decide_topics([], [LayoffFound("A", 5, None, False, (0, 1))], [])[0].score
    two = decide_topics(
        [],
        [LayoffFound("A", 5, None, False, (0, 1)), LayoffFound("B", 6, None, False, (2, 3))],
        [],
    )[0].score
    assert two >= one
