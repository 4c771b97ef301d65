"""Topics from what the extraction found, each with the evidence spans that fired.

- ai_investment: a deal that is not only recalled (background), whose
  target is an AI company (an `ai_lab` of the gazetteer, "AI" in its name, or AI
  cues in the deal's sentence). Spending on one's own AI data centres has no target
  organisation and so is no deal. Talks and denials keep the topic (the story is
  about the investment either way), with a lower score when every deal is denied.
- layoffs: job cuts that are not only recalled, with a company or a headcount.

Adding a topic is adding a rule here and its cues to the lexicons.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsradar.nlp.extract import DealFound, LayoffFound

AI_INVESTMENT = "ai_investment"
LAYOFFS = "layoffs"
TOPICS: tuple[str, ...] = (AI_INVESTMENT, LAYOFFS)


@dataclass(frozen=True, slots=True)
class TopicFound:
    """A topic with its score and evidence spans (start, end)."""

    name: str
    score: float
    evidence: tuple[tuple[int, int], ...]


def _score(base: float, n: int) -> float:
    return round(min(0.99, base + 0.1 * (n - 1)), 2)


def decide_topics(
    deals: list[DealFound],
    layoffs: list[LayoffFound],
    ai_spans: list[tuple[int, int]],
) -> list[TopicFound]:
    """The topics supported by `deals` and `layoffs`; `ai_spans` are AI-cue evidence."""
    topics: list[TopicFound] = []
    live = [d for d in deals if not d.background and d.target and d.ai]
    if live:
        evidence = [d.evidence for d in live]
        if any(d.amount is not None for d in live):
            evidence += [(d.amount.start, d.amount.end) for d in live if d.amount is not None]
        evidence += ai_spans[:1]
        base = 0.75 if any(d.investor and d.amount for d in live) else 0.6
        if all(d.stage == "denied" for d in live):
            base = 0.5
        topics.append(TopicFound(AI_INVESTMENT, _score(base, len(live)), tuple(evidence)))
    cuts = [
        lay
        for lay in layoffs
        if not lay.background
        and (lay.company is not None or lay.headcount is not None or lay.percent is not None)
    ]
    if cuts:
        base = 0.75 if any(lay.headcount or lay.percent for lay in cuts) else 0.6
        topics.append(TopicFound(LAYOFFS, _score(base, len(cuts)), tuple(c.evidence for c in cuts)))
    return topics
