"""A feed that answers 304 and publishes nothing new is polled less and less often."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from newsradar.ingest.canonical import feed_id
from newsradar.ingest.fetch import FeedFetcher, FetchSettings
from newsradar.ingest.poller import PollBounds, Poller
from newsradar.ingest.state import FeedState, apply_command
from newsradar.metrics import Metrics
from newsradar.models import Article

from .feedserver import SAMPLE_FEED, FeedServer

pytestmark = pytest.mark.integration

DAY = 24 * 3600.0
#: The newest <pubDate> of the sample feed (Tue, 24 Nov 2026 09:15:00 +0100).
NEWEST = datetime(2026, 11, 24, 8, 15, tzinfo=UTC)


async def _poll_then_not_modified(configured: int | None) -> tuple[FeedState, float]:
    """Poll the sample feed, pretend its last estimate was a busy 2 minutes, poll again."""

    async def publish(articles: Sequence[Article]) -> None:
        return None

    async with (
        FeedServer() as server,
        FeedFetcher(FetchSettings(allow_private_addresses=True)) as fetcher,
    ):
        poller = Poller(
            fetcher, publish, Metrics(CollectorRegistry()), PollBounds(max_interval=7 * 86400)
        )
        url = server.url(SAMPLE_FEED)
        state = FeedState(feed_id=feed_id(url), url=url, name="quiet", interval=configured)
        first = await poller.poll(state)
        state = apply_command(state, first.command, partition=0, max_seen=200)
        busy = state.model_copy(update={"interval_seconds": 120.0})
        second = await poller.poll(busy)
    assert second.outcome == "not_modified"
    assert second.command.interval_seconds is not None
    return state, second.command.interval_seconds


async def test_not_modified_feed_slows_down_with_its_silence() -> None:
    """On a 304 the next interval grows to half the silence since the newest entry, not the
    busy estimate of the last parse (the sample feed has been quiet for days)."""
    state, interval = await _poll_then_not_modified(configured=None)
    assert state.newest_entry == NEWEST
    silence = (datetime.now(UTC) - NEWEST).total_seconds()
    assert interval > 120.0
    assert min(silence / 2, 7 * DAY) * 0.99 <= interval <= min(silence / 2, 7 * DAY) + 60


async def test_not_modified_feed_keeps_the_configured_interval_as_its_ceiling() -> None:
    """An operator's interval still bounds a quiet feed's polls."""
    _, interval = await _poll_then_not_modified(configured=300)
    assert interval == 300.0
