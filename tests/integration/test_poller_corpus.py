"""The poller over the whole feedparser corpus served on loopback: nothing escapes, all counted."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from newsradar.ingest.canonical import feed_id
from newsradar.ingest.fetch import FeedFetcher, FetchSettings
from newsradar.ingest.poller import PollBounds, Poller
from newsradar.ingest.state import FeedState, apply_command
from newsradar.metrics import POLL_OUTCOMES, Metrics
from newsradar.models import Article

from .feedserver import FEEDS_DIR, FeedServer

pytestmark = pytest.mark.integration

CORPUS = FEEDS_DIR / "feedparser"


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "LICENSE")


async def test_every_corpus_file_is_polled_published_or_counted() -> None:
    """Each corpus file, polled like a feed, publishes its entries or is counted by kind; a
    second poll publishes nothing again; the outcome counters add up to the polls made."""
    published: list[Article] = []

    async def publish(articles: Sequence[Article]) -> None:
        published.extend(articles)

    registry = CollectorRegistry()
    metrics = Metrics(registry)
    files = corpus_files()
    outcomes: Counter[str] = Counter()
    async with (
        FeedServer() as server,
        FeedFetcher(FetchSettings(allow_private_addresses=True)) as fetcher,
    ):
        poller = Poller(fetcher, publish, metrics, PollBounds())
        slots = asyncio.Semaphore(16)

        async def poll_twice(path: Path) -> tuple[Path, str, int, int]:
            url = server.url("/feeds/" + path.relative_to(FEEDS_DIR).as_posix())
            state = FeedState(feed_id=feed_id(url), url=url, name="corpus")
            async with slots:
                first = await poller.poll(state)
                state = apply_command(state, first.command, partition=0, max_seen=1000)
                second = await poller.poll(state)
            return path, first.outcome, first.published, second.published

        results = await asyncio.wait_for(
            asyncio.gather(*(poll_twice(p) for p in files)), timeout=240
        )
    for path, outcome, first_count, second_count in results:
        outcomes[outcome] += 1
        assert outcome in POLL_OUTCOMES, (path, outcome)
        assert second_count == 0, f"{path} republished {second_count} articles"
        malformed_on_purpose = path.name.startswith("bozo_") or "illformed" in path.parts
        if first_count and malformed_on_purpose:
            assert outcome == "malformed", (path, outcome)
    # Most corpus files test feed-level elements and have no items: "empty", not failing.
    assert outcomes["ok"] >= 15 and outcomes["empty"] > 1000 and outcomes["malformed"] > 10
    # Within a feed an id is published once (across feeds the same link is the same article).
    assert len({(a.feed_id, a.id) for a in published}) == len(published)
    counted = sum(
        registry.get_sample_value("newsradar_feed_polls_total", {"feed": "corpus", "outcome": o})
        or 0
        for o in POLL_OUTCOMES
    )
    assert counted == 2 * len(files)
    print(f"corpus outcomes over {len(files)} files: {dict(outcomes)}; published {len(published)}")
