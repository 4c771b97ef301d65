"""Every metric newsradar exports, in one place.

Names follow `newsradar_<noun>_<unit>` / `_total`. Labels come from a fixed set:
`feed` is the feed's configured name (never its URL), `outcome`/`kind` are short
enums. Nothing here ever carries an article URL, an id or a secret.
The registry is passed in, so tests can run several apps in one process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

POLL_OUTCOMES = (
    "ok",
    "not_modified",
    "malformed",
    "empty",
    "timeout",
    "connect",
    "http_status",
    "too_large",
    "too_many_redirects",
    "blocked_address",
    "error",
)

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


class Metrics:
    """The metric objects of one newsradar process, registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.feed_polls = Counter(
            "newsradar_feed_polls_total",
            "Feed polls by outcome.",
            ["feed", "outcome"],
            registry=registry,
        )
        self.feed_fetch_seconds = Histogram(
            "newsradar_feed_fetch_seconds",
            "Time to fetch a feed body.",
            ["feed"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.feed_bytes = Counter(
            "newsradar_feed_bytes_total",
            "Feed body bytes received (after decompression).",
            ["feed"],
            registry=registry,
        )
        self.feed_last_success = Gauge(
            "newsradar_feed_last_success_timestamp_seconds",
            "Unix time of the last successful poll of a feed.",
            ["feed"],
            registry=registry,
        )
        self.feed_consecutive_errors = Gauge(
            "newsradar_feed_consecutive_errors",
            "Consecutive failed polls of a feed.",
            ["feed"],
            registry=registry,
        )
        self.feeds_overdue = Gauge(
            "newsradar_feeds_overdue",
            "Feeds owned by this worker whose poll is more than a tick late.",
            registry=registry,
        )
        self.feeds_owned = Gauge(
            "newsradar_feeds_owned",
            "Feeds whose partition this worker owns.",
            registry=registry,
        )
        self.articles_published = Counter(
            "newsradar_articles_published_total",
            "Articles published to news.articles.",
            ["feed"],
            registry=registry,
        )
        self.articles_duplicate = Counter(
            "newsradar_articles_duplicate_total",
            "Feed entries skipped because they were published before.",
            ["feed"],
            registry=registry,
        )
        self.publish_failures = Counter(
            "newsradar_publish_failures_total",
            "Batches whose publication the broker did not acknowledge.",
            ["topic"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "newsradar_dead_letters_total",
            "Messages sent to the dead-letter topic, by stage.",
            ["stage"],
            registry=registry,
        )
        self.broker_unreachable = Counter(
            "newsradar_broker_unreachable_total",
            "Times the broker could not be reached and newsradar waited to retry.",
            registry=registry,
        )
