"""Held-out sets 2 to 11 (tests/data/eval/heldout{2..11}.jsonl): floors against regressions.

Each set was written blind to the analyser by someone who never read src/; how each is
used since (tuned on, or half of it kept blind) is in tests/data/eval/README.md. The
floors sit just under what the analyser achieved when they were set, so a change that
costs more than a point or an item on unseen-style news fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from newsradar.evaluation import evaluate

EVAL_DIR = Path(__file__).resolve().parents[1] / "data" / "eval"


class Floors(NamedTuple):
    items: int
    ai_investment: float
    layoffs: float
    language: float
    organisations: float
    deals_with_amount: float
    layoffs_found: float


# Achieved when set (second session): ai_investment F1 / layoffs F1 / weakest language /
# organisations F1 / deals with amount / layoffs found. The deal and layoff floors were
# raised in recall session 3 to one item under what was then achieved (noted "now").
FLOORS = {
    # 0.957 / 0.960 / 0.914 / 0.910 / 24 of 36 / 30 of 36
    # now 28 of 36 / 33 of 36
    "heldout2": Floors(80, 0.93, 0.94, 0.89, 0.89, 0.75, 0.86),
    # 0.933 / 0.986 / 0.944 / 0.920 / 31 of 40 / 33 of 36
    # now 32 of 40 / 34 of 36
    "heldout3": Floors(100, 0.91, 0.96, 0.92, 0.90, 0.77, 0.91),
    # 0.949 / 0.986 / 0.923 / 0.871 / 27 of 40 / 31 of 36
    # now 29 of 40 / 32 of 36
    "heldout4": Floors(100, 0.92, 0.96, 0.90, 0.85, 0.70, 0.86),
    # 0.921 / 0.986 / 0.919 / 0.877 / 28 of 40 / 28 of 36
    # now 29 of 40 / 30 of 36
    "heldout5": Floors(100, 0.90, 0.96, 0.89, 0.85, 0.70, 0.80),
    # 0.929 / 0.935 / 0.878 / 0.898 / 43 of 60 / 27 of 32
    # now 43 of 60 / 29 of 32
    "heldout6": Floors(120, 0.90, 0.91, 0.85, 0.87, 0.69, 0.87),
    # 0.943 / 0.984 / 0.913 / 0.873 / 41 of 64 / 24 of 32
    # now 45 of 64 / 28 of 32
    "heldout7": Floors(120, 0.92, 0.96, 0.88, 0.85, 0.68, 0.84),
    # 0.906 / 0.984 / 0.857 / 0.902 / 50 of 64 / 24 of 32
    # now 50 of 64 / 26 of 32
    "heldout8": Floors(120, 0.88, 0.96, 0.83, 0.87, 0.75, 0.78),
    # 0.913 / 0.947 / 0.884 / 0.874 / 32 of 56 / 26 of 40
    # now 34 of 56 / 28 of 40
    "heldout9": Floors(120, 0.89, 0.92, 0.86, 0.85, 0.58, 0.67),
    # Third session, blind (measured once at the end; see the eval README):
    # 0.870 / 0.986 / 0.857 / 0.905 / 36 of 60 / 31 of 36
    "heldout10": Floors(120, 0.86, 0.97, 0.84, 0.89, 0.58, 0.83),
    # 0.915 / 0.990 / 0.923 / 0.849 / 41 of 64 / 32 of 48
    "heldout11": Floors(120, 0.90, 0.97, 0.91, 0.83, 0.62, 0.64),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_heldout_set_floors(name: str) -> None:
    """Topic, language, organisation, deal and layoff figures stay at their floors."""
    floors = FLOORS[name]
    report = evaluate(EVAL_DIR / f"{name}.jsonl")
    assert report.items == floors.items
    assert report.topics["ai_investment"].f1 >= floors.ai_investment
    assert report.topics["layoffs"].f1 >= floors.layoffs
    assert (
        report.failures(
            min_language_f1=floors.language,
            min_org_f1=floors.organisations,
            min_deals=floors.deals_with_amount,
            min_layoffs=floors.layoffs_found,
        )
        == []
    )
