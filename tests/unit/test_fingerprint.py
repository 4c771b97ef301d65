"""Near-duplicate fingerprints: robust to small edits, far apart for different stories."""

from __future__ import annotations

import itertools
import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsradar.fingerprint import (
    BANDS,
    MAX_DISTANCE,
    FingerprintIndex,
    band_keys,
    distance,
    enrich,
    fingerprint,
    is_near_duplicate,
    normalise,
    simhash,
)
from newsradar.models import Article
from newsradar.nlp.schema import Analysis

TITLE = "Globex to cut 1,200 jobs as cloud demand slows"
SUMMARY = (
    "The software maker said on Tuesday it would reduce its workforce by about 1,200 "
    "people, mostly in sales, after two quarters of weaker orders from business customers."
)


def shared_dir() -> Path:
    """The shared data: $NEWSRADAR_SHARED_DIR/data, else ../shared/data beside the repository."""
    env = os.environ.get("NEWSRADAR_SHARED_DIR")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared"
    return root / "data"


def test_fingerprint_is_16_hex_digits_and_deterministic() -> None:
    """The fingerprint is a stable 64-bit hex string (no per-process hash seed)."""
    fp = fingerprint(TITLE, SUMMARY)
    assert len(fp) == 16
    assert fp == f"{simhash(SUMMARY):016x}"
    assert fingerprint(TITLE, SUMMARY) == fp


def test_short_summary_is_hashed_with_the_title() -> None:
    """A long summary alone decides; a short one is hashed together with the title."""
    assert fingerprint("Any headline", SUMMARY) == fingerprint("Another headline", SUMMARY)
    assert fingerprint(TITLE, "Shares fell.") == format(simhash(TITLE + "\nShares fell."), "016x")
    assert fingerprint(TITLE, "Shares fell.") != fingerprint("Other news", "Shares fell.")


def test_normalisation_ignores_case_accents_and_punctuation() -> None:
    """Typography that syndication changes does not change the fingerprint."""
    assert normalise("Élan «Vital»: l’IA!") == ["elan", "vital", "l", "ia"]
    assert fingerprint("Société Générale cuts jobs", "") == fingerprint(
        "SOCIETE GENERALE — cuts   jobs.", ""
    )


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (TITLE + " - Reuters", SUMMARY),
        (TITLE, SUMMARY.replace("Tuesday", "Wednesday")),
        (TITLE.replace("1,200", "1200"), SUMMARY),
        (TITLE, SUMMARY.replace("mostly", "largely")),
    ],
)
def test_small_edits_stay_near(title: str, summary: str) -> None:
    """A syndicated copy with a suffix or one edited word is a near duplicate."""
    assert is_near_duplicate(fingerprint(TITLE, SUMMARY), fingerprint(title, summary))


def test_different_story_is_far() -> None:
    """Another story about the same company is not a near duplicate."""
    other = fingerprint(
        "Globex shares jump after record quarter",
        "Investors cheered a surprise profit and a raised forecast for the full year.",
    )
    assert distance(fingerprint(TITLE, SUMMARY), other) > MAX_DISTANCE


def test_near_fingerprints_share_a_band() -> None:
    """Pigeonhole: fingerprints within MAX_DISTANCE bits share at least one band key."""
    rng = random.Random(7)
    for _ in range(200):
        value = rng.getrandbits(64)
        flipped = value
        for bit in rng.sample(range(64), MAX_DISTANCE):
            flipped ^= 1 << bit
        a, b = f"{value:016x}", f"{flipped:016x}"
        assert len(band_keys(a)) == BANDS
        assert set(band_keys(a)) & set(band_keys(b))


def test_index_names_the_first_article_and_is_idempotent() -> None:
    """Copies point to the first article; adding an article twice gives the same answer."""
    index = FingerprintIndex()
    original = fingerprint(TITLE, SUMMARY)
    copy = fingerprint(TITLE + " | Example Daily", SUMMARY)
    assert index.add(original, "a1") is None
    assert index.add(copy, "a2") == "a1"
    assert index.add(copy, "a2") == "a1"
    assert index.add(original, "a1") is None
    assert index.add(fingerprint("Unrelated headline about weather", "Rain."), "a3") is None
    assert len(index) == 2


def test_index_forgets_the_oldest_beyond_its_bound() -> None:
    """The index is bounded: the oldest original is forgotten first."""
    index = FingerprintIndex(max_entries=2)
    texts = ["alpha story about ports", "beta story about trains", "gamma story about ships"]
    fps = [fingerprint(t, "") for t in texts]
    for n, fp in enumerate(fps):
        index.add(fp, f"a{n}")
    assert len(index) == 2
    assert index.lookup(fps[0], "x") is None
    assert index.lookup(fps[2], "x") == "a2"


def test_enrich_marks_a_copy_without_dropping_it() -> None:
    """enrich() keeps both articles and marks the second as a near duplicate of the first."""
    analysis = Analysis(text=f"{TITLE}\n{SUMMARY}", language="en", language_score=1.0)
    index = FingerprintIndex()
    when = datetime(2024, 3, 1, tzinfo=UTC)

    def article(n: int, title: str) -> Article:
        return Article(
            id=f"a{n}",
            feed_id="f",
            feed_url="https://news.example/feed",
            source=f"Site {n}",
            title=title,
            summary=SUMMARY,
            fetched=when,
        )

    first = enrich(article(1, TITLE), analysis, index)
    second = enrich(article(2, TITLE + " (AP)"), analysis, index)
    assert first.near_duplicate_of is None
    assert second.near_duplicate_of == "a1"
    assert second.id == "a2"
    assert second.fingerprint == fingerprint(TITLE + " (AP)", SUMMARY)


def test_dev_set_items_are_not_near_duplicates_but_their_copies_are() -> None:
    """On the real dev items: no two different items collide; lightly edited copies match."""
    rows = [
        json.loads(line)
        for line in (shared_dir() / "news_dev.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(rows) > 100
    fps = [fingerprint(r["title"], r["summary"]) for r in rows]
    closest = min(distance(a, b) for a, b in itertools.combinations(fps, 2))
    assert closest > MAX_DISTANCE
    caught = sum(
        is_near_duplicate(fp, fingerprint("Rewritten: " + r["title"] + " | Example", r["summary"]))
        for r, fp in zip(rows, fps, strict=True)
    )
    assert caught / len(rows) >= 0.95
