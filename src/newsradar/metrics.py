"""Every metric newsradar exports, in one place.

Names follow `newsradar_<noun>_<unit>` / `_total`. Labels come from a fixed set:
`feed` is the feed's configured name (never its URL), `outcome`/`kind` are short
enums. Nothing here ever carries an article URL, an id or a secret.
The registry is passed in, so tests can run several apps in one process.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from newsradar import __version__
from newsradar.nlp import compiled_modules

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

DELIVERY_OUTCOMES = ("delivered", "failed", "skipped", "duplicate")

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


class Metrics:
    """The metric objects of one newsradar process, registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        ProcessCollector(registry=registry)
        self.build_info = Gauge(
            "newsradar_build_info",
            "Version of the running worker; analysis is 'compiled' (mypyc, setup.py) or "
            "'python' (NEWSRADAR_PURE_PYTHON, about 1.5x slower).",
            ["version", "analysis"],
            registry=registry,
        )
        compiled = all(compiled_modules().values())
        self.build_info.labels(__version__, "compiled" if compiled else "python").set(1)
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
        self.feeds_failing = Gauge(
            "newsradar_feeds_failing",
            "Feeds owned by this worker whose last poll failed.",
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
        # -- analysis ------------------------------------------------------------------
        self.articles_analyzed = Counter(
            "newsradar_articles_analyzed_total",
            "Articles analysed, by detected language.",
            ["language"],
            registry=registry,
        )
        self.analyze_seconds = Histogram(
            "newsradar_analyze_seconds",
            "Time analyze() took for one article.",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1),
            registry=registry,
        )
        self.topics_detected = Counter(
            "newsradar_topics_detected_total",
            "Articles in which a topic was detected, by topic and language.",
            ["topic", "language"],
            registry=registry,
        )
        self.entities_found = Counter(
            "newsradar_entities_found_total",
            "Entities found, by kind (organization, person, money, headcount).",
            ["kind"],
            registry=registry,
        )
        self.extractions = Counter(
            "newsradar_extractions_total",
            "Deals and layoffs extracted, by kind and whether they are background mentions.",
            ["kind", "background"],
            registry=registry,
        )
        self.near_duplicates = Counter(
            "newsradar_articles_near_duplicate_total",
            "Articles marked as near-duplicates of an earlier one (syndicated copies).",
            registry=registry,
        )
        # -- events and alerts ---------------------------------------------------------
        self.events = Counter(
            "newsradar_events_total",
            "Event states produced, by kind and status.",
            ["kind", "status"],
            registry=registry,
        )
        self.event_organizations = Counter(
            "newsradar_event_organizations_total",
            "New events by party (gazetteer organisations only; others count as 'other').",
            ["kind", "organization"],
            registry=registry,
        )
        self.deal_amount_usd = Histogram(
            "newsradar_deal_amount_usd",
            "Amounts of new deal events, in US dollars.",
            buckets=(1e6, 1e7, 5e7, 1e8, 5e8, 1e9, 5e9, 1e10, 5e10, 1e11),
            registry=registry,
        )
        self.alert_decisions = Counter(
            "newsradar_alert_decisions_total",
            "Alert decisions made, by rule and reason (new, update).",
            ["rule", "reason"],
            registry=registry,
        )
        self.deliveries = Counter(
            "newsradar_deliveries_total",
            "Alert deliveries, by channel and outcome (delivered, failed, skipped, duplicate).",
            ["channel", "outcome"],
            registry=registry,
        )
        self.delivery_retries = Counter(
            "newsradar_delivery_retries_total",
            "Delivery attempts that were retried, by channel.",
            ["channel"],
            registry=registry,
        )
        self.fetch_to_decision_seconds = Histogram(
            "newsradar_fetch_to_decision_seconds",
            "From the article being fetched to the alert decision.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.fetch_to_delivery_seconds = Histogram(
            "newsradar_fetch_to_delivery_seconds",
            "From the article being fetched to the alert being delivered.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.published_to_delivery_seconds = Histogram(
            "newsradar_published_to_delivery_seconds",
            "From the article's own publication time to the alert being delivered.",
            buckets=(10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600),
            registry=registry,
        )

    def initialise(
        self,
        *,
        feeds: Iterable[str],
        channels: Iterable[str],
        rules: Iterable[str],
        stages: Iterable[str],
    ) -> None:
        """Create the known labelled series at zero, so a first event shows as an increase."""
        for feed in feeds:
            self.articles_published.labels(feed)
            self.articles_duplicate.labels(feed)
            for outcome in POLL_OUTCOMES:
                self.feed_polls.labels(feed, outcome)
        for channel in channels:
            self.delivery_retries.labels(channel)
            for outcome in DELIVERY_OUTCOMES:
                self.deliveries.labels(channel, outcome)
        for rule in rules:
            for reason in ("new", "update"):
                self.alert_decisions.labels(rule, reason)
        for stage in stages:
            self.dead_letters.labels(stage)
