"""The Faust app: topics, tables, agents and timers of one newsradar worker.

Agents stay thin: decode, call the stage's pure code, encode, send, and apply
the error policy (dead-letter what cannot be decoded; never let an exception
escape the loop, since Faust would ack the message and silently drop it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import logging
import tempfile
import time
import weakref
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import aiokafka
import faust
import faust.streams as faust_streams
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from newsradar import __version__
from newsradar.alerts.delivery import Deliverer, DeliveryHooks
from newsradar.alerts.rules import apply_and_decide
from newsradar.config import TOPIC_NAMES, KafkaSettings, Settings
from newsradar.errors import DecodeError
from newsradar.events import BookCache, Report, reports_from
from newsradar.fingerprint import FingerprintIndex, enrich
from newsradar.ingest.canonical import feed_id as make_feed_id
from newsradar.ingest.fetch import FeedFetcher, FetchSettings
from newsradar.ingest.poller import PollBounds, Poller, parse_executor
from newsradar.ingest.state import FeedCommand, FeedState, apply_command, is_due
from newsradar.metrics import Metrics
from newsradar.models import Alert, Article, DeadLetter, Enriched, decode, utcnow
from newsradar.nlp.analyze import analyze, preload
from newsradar.nlp.entities import gazetteer

log = logging.getLogger(__name__)

FEEDS_TOPIC = "news.feeds"
REPORTS_TOPIC = "news.reports"
STAGES = ("feeds", "enrich", "events", "deliver")
#: How long a poll waits for the broker to acknowledge its articles before it gives up
#: (the feed's state then stays as it was, and the next attempt publishes them again).
PUBLISH_TIMEOUT_SECONDS = 10.0
INTERNAL_TOPICS = (FEEDS_TOPIC, REPORTS_TOPIC)


def _cap_consumer_fetch_wait(max_wait_ms: int) -> None:
    """Cap how long a consumer's fetch may wait for data, for every consumer in this process.

    Faust hard-codes fetch_max_wait_ms=1500 for its consumer and offers no setting. Kafka
    answers a fetch as soon as data arrives, so that costs nothing there; the embedded
    Tansu broker answers only when the wait has elapsed, which added up to 1.5 s per
    stage. Patching the aiokafka constructor is the only hook Faust leaves.
    """
    original = aiokafka.AIOKafkaConsumer.__init__
    if getattr(original, "_newsradar_cap", None) == max_wait_ms:
        return
    base = getattr(original, "_newsradar_original", original)

    def capped(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["fetch_max_wait_ms"] = min(kwargs.get("fetch_max_wait_ms", 500), max_wait_ms)
        base(self, *args, **kwargs)

    capped._newsradar_cap = max_wait_ms  # type: ignore[attr-defined]
    capped._newsradar_original = base  # type: ignore[attr-defined]
    aiokafka.AIOKafkaConsumer.__init__ = capped


def all_topic_names(kafka: KafkaSettings) -> list[str]:
    """Every topic newsradar creates itself (public and internal), prefix applied."""
    return [kafka.topic(n) for n in (*TOPIC_NAMES, *INTERNAL_TOPICS)]


class _MetricsHooks(DeliveryHooks):
    """Counts delivery retries in Prometheus (outcomes are counted by the agent)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def on_retry(self, channel: str, channel_type: str, cause: str) -> None:
        self.metrics.delivery_retries.labels(channel).inc()


class Pipeline:
    """One worker's Faust app with newsradar's topics, tables, agents and timers."""

    def __init__(
        self,
        settings: Settings,
        bootstrap: Sequence[str],
        *,
        registry: CollectorRegistry | None = None,
        datadir: str | None = None,
        embedded: bool = False,
    ) -> None:
        self.settings = settings
        self.bootstrap = list(bootstrap)
        self.registry = registry or CollectorRegistry()
        self.metrics = Metrics(self.registry)
        self.metrics.initialise(
            feeds=[f.name for f in settings.feeds],
            channels=list(settings.channels),
            rules=[r.name for r in settings.rules],
            stages=list(STAGES),
        )
        kafka = settings.kafka
        # Faust wants a data directory even with in-memory tables; it is removed on exit.
        self._scratch = tempfile.TemporaryDirectory(prefix="newsradar-")
        # The embedded broker holds a join open for the whole rebalance timeout, so it gets
        # short timeouts; a real cluster gets Faust's defaults unless configured.
        fetch_wait_ms = kafka.fetch_max_wait_ms or (50 if embedded else None)
        if fetch_wait_ms is not None:
            _cap_consumer_fetch_wait(fetch_wait_ms)
        session_timeout = kafka.session_timeout or (6.0 if embedded else 60.0)
        rebalance_timeout = kafka.rebalance_timeout or (2.0 if embedded else 60.0)
        self.app = faust.App(
            kafka.app_id,
            broker=[f"kafka://{b.removeprefix('kafka://')}" for b in self.bootstrap],
            store="memory://",
            topic_partitions=kafka.partitions,
            topic_replication_factor=kafka.replication_factor,
            datadir=datadir or self._scratch.name,
            web_enabled=True,
            web_bind=settings.metrics.host,
            web_port=settings.metrics.port,
            web_host=settings.metrics.host,
            consumer_auto_offset_reset="earliest",
            producer_acks=-1,
            producer_max_batch_size=262_144,
            broker_commit_every=100,
            broker_commit_interval=1.0,
            table_standby_replicas=1,
            broker_session_timeout=session_timeout,
            broker_rebalance_timeout=rebalance_timeout,
            broker_heartbeat_interval=min(3.0, session_timeout / 6),
        )
        self.topics = {
            name: self.app.topic(
                kafka.topic(name),
                key_serializer="raw",
                value_serializer="raw",
                partitions=kafka.partitions,
            )
            for name in (*TOPIC_NAMES, *INTERNAL_TOPICS)
        }
        # Tables hold raw bytes: values are versioned wire models decoded by newsradar.
        self.feeds_table = self._bytes_table("feeds")
        self.events_table = self._bytes_table("events")
        self.ledger_table = self._bytes_table("ledger")
        self.fingerprints = FingerprintIndex()
        self._books = BookCache()
        # Organisation labels on metrics are limited to the gazetteer (bounded cardinality).
        self._known_orgs = frozenset(
            name for kind, name in gazetteer().aliases.values() if kind == "org"
        )
        # Built here, not in a start-up task, so the delivery agent never runs without it
        # (it opens its HTTP session lazily, inside the event loop).
        self.deliverer = Deliverer(
            settings.channels, settings.delivery, hooks=_MetricsHooks(self.metrics)
        )
        self.feeds = {make_feed_id(str(f.url)): f for f in settings.feeds}
        self._in_flight: dict[str, int] = {}
        self._decoded: dict[bytes, tuple[bytes, FeedState]] = {}
        # One delivery at a time per alert: a replay can bring the same alert twice at once.
        self._alert_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._retry_at: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._poll_slots = asyncio.Semaphore(settings.polling.concurrency)
        self._executor = parse_executor(settings.polling.parse_processes)
        self.fetcher: FeedFetcher | None = None
        self.poller: Poller | None = None
        setup_prometheus_sensors(
            self.app, pattern="/faust-metrics", registry=self.registry, name_prefix="faust"
        )
        self._register()

    def _bytes_table(self, name: str) -> Any:
        """A Faust table of bytes keyed by bytes, co-partitioned with newsradar's topics."""
        return self.app.Table(
            name,
            default=None,
            partitions=self.settings.kafka.partitions,
            key_type=bytes,
            value_type=bytes,
            schema=faust.Schema(key_serializer="raw", value_serializer="raw"),
        )

    def topic_names(self) -> list[str]:
        """Every topic newsradar creates itself, prefix applied."""
        return all_topic_names(self.settings.kafka)

    # -- wiring -------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        settings = self.settings

        @app.page("/metrics")
        async def metrics_page(web: Any, request: Any) -> Any:
            # CONTENT_TYPE_LATEST carries a charset, which aiohttp refuses as content_type=.
            # Rendering many feeds' series takes a while: keep it off the event loop.
            body = await asyncio.get_running_loop().run_in_executor(
                None, generate_latest, self.registry
            )
            return web.bytes(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

        @app.page("/healthz")
        async def healthz(web: Any, request: Any) -> Any:
            return web.json({"status": "ok", "version": __version__})

        @app.page("/readyz")
        async def readyz(web: Any, request: Any) -> Any:
            ready = self.is_ready()
            return web.json({"ready": ready}, status=200 if ready else 503)

        @app.agent(self.topics[FEEDS_TOPIC], name="apply_feed_commands")
        async def apply_feed_commands(stream: Any) -> None:
            async for event in stream.events():
                await self._guarded("feeds", event, self._apply_feed_command)

        @app.agent(self.topics["news.articles"], name="analyze_articles")
        async def analyze_articles(stream: Any) -> None:
            async for event in stream.events():
                await self._guarded("enrich", event, self._analyze_article)

        @app.agent(self.topics[REPORTS_TOPIC], name="track_events")
        async def track_events(stream: Any) -> None:
            async for event in stream.events():
                await self._guarded("events", event, self._track_event)

        # Several actors, so a batch stuck on a slow channel's retries does not hold up the
        # alerts behind it; Faust commits an offset only once every message before it is acked.
        @app.agent(self.topics["news.alerts"], name="deliver_alerts", concurrency=8)
        async def deliver_alerts(stream: Any) -> None:
            # Batches let updates of one event fold into one digest message; the batch's
            # offsets are committed only after all of its deliveries ended.
            async for batch in stream.take_events(64, within=0.25):
                await self._deliver_batch(batch)

        @app.task
        async def register_feeds() -> None:
            await self._register_feeds()

        @app.timer(interval=settings.polling.tick, name="poll_due_feeds")
        async def poll_due_feeds() -> None:
            self._schedule_due_feeds()

        @app.task
        async def start_fetcher() -> None:
            polling = settings.polling
            self.fetcher = FeedFetcher(
                FetchSettings(
                    connect_timeout_seconds=polling.connect_timeout,
                    total_timeout_seconds=polling.timeout,
                    max_body_bytes=polling.max_body_bytes,
                    max_redirects=polling.max_redirects,
                    per_host_limit=polling.per_host_concurrency,
                    total_limit=polling.concurrency,
                    allow_private_addresses=settings.security.allow_private_addresses,
                )
            )
            self.poller = Poller(
                self.fetcher,
                self.publish_articles,
                self.metrics,
                PollBounds(
                    min_interval=polling.min_interval,
                    max_interval=polling.max_interval,
                    default_interval=polling.default_interval,
                    max_backoff=polling.max_errors_backoff,
                ),
                executor=self._executor,
            )
            # Build the analysis matchers now (about a second), not on the first article.
            seconds = await asyncio.get_running_loop().run_in_executor(None, preload)
            log.info("analysis ready load_seconds=%.2f", seconds)
            try:
                await asyncio.Event().wait()  # live as long as the worker
            finally:
                await self.deliverer.close()
                self.poller = None
                await self.fetcher.close()
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._scratch.cleanup()

    def is_ready(self) -> bool:
        """Broker reachable (consumer has an assignment or is running) and agents started."""
        try:
            consumer_ready = bool(self.app.consumer.assignment())
        except Exception:
            return False
        return consumer_ready and self.poller is not None

    # -- dead letters -------------------------------------------------------------------

    async def dead_letter(
        self, stage: str, topic: str, reason: str, key: bytes | None, value: bytes | None
    ) -> None:
        """Send an unprocessable message to news.dlq with the reason and its original bytes."""
        raw = value or b""
        try:
            text = raw.decode("utf-8")
            encoded = None
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace")
            encoded = base64.b64encode(raw).decode("ascii")
        letter = DeadLetter(
            stage=stage,
            topic=topic,
            reason=reason[:2000],
            key=key.decode("utf-8", "replace") if key else None,
            original=text[:100_000],
            original_base64=encoded,
        )
        self.metrics.dead_letters.labels(stage).inc()
        log.warning("dead-lettered message stage=%s topic=%s reason=%s", stage, topic, reason)
        await self.topics["news.dlq"].send(key=key, value=letter.to_bytes())

    async def _guarded(self, stage: str, event: Any, handler: Any) -> Any:
        """Run one stage on one message and return what it returns (None when it failed);
        whatever it cannot process goes to news.dlq.

        An exception escaping an agent would make Faust ack the message and drop it,
        so every failure becomes a dead letter with its reason and original bytes.
        """
        topic = event.message.topic
        # Faust marks an event "current" only while an agent iterates events one by one;
        # in a batch (take_events) each task binds its own, so table writes land in the
        # changelog partition of the event's topic partition. (Faust has no public API.)
        faust_streams._current_event.set(weakref.ref(event))
        try:
            return await handler(event)
        except DecodeError as exc:
            await self.dead_letter(stage, topic, str(exc), event.key, event.value)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("stage failed stage=%s topic=%s", stage, topic)
            await self.dead_letter(
                stage, topic, f"{type(exc).__name__}: {exc}", event.key, event.value
            )

    # -- analysis, events, decisions ------------------------------------------------------

    async def _analyze_article(self, event: Any) -> None:
        article = decode(Article, event.value)
        started = time.perf_counter()
        published = article.published.date().isoformat() if article.published else None
        # Feeds that carry the text only in content:encoded get that text analysed instead.
        body = article.summary or (article.content or "")[:10_000]
        analysis = analyze(article.title, body, language=article.language, published=published)
        self.metrics.analyze_seconds.observe(time.perf_counter() - started)
        enriched = enrich(article, analysis, self.fingerprints)
        self._count_analysis(enriched)
        await self.topics["news.enriched"].send(key=article.id.encode(), value=enriched.to_bytes())
        # Reports go straight to the topic keyed by book key (one hop less than reading
        # news.enriched back): all reports of one deal meet on one partition there.
        for report in reports_from(enriched):
            await self.topics[REPORTS_TOPIC].send(
                key=report.book_key.encode(), value=report.to_bytes()
            )

    def _count_analysis(self, enriched: Enriched) -> None:
        analysis = enriched.analysis
        m = self.metrics
        language = analysis.language or "und"
        m.articles_analyzed.labels(language).inc()
        for topic in analysis.topics:
            m.topics_detected.labels(topic.name, language).inc()
        for kind, found in (
            ("organization", analysis.organizations),
            ("person", analysis.people),
            ("money", analysis.money),
            ("headcount", analysis.headcounts),
        ):
            if found:
                m.entities_found.labels(kind).inc(len(found))
        for deal in analysis.deals:
            m.extractions.labels("deal", str(deal.background).lower()).inc()
        for layoff in analysis.layoffs:
            m.extractions.labels("layoff", str(layoff.background).lower()).inc()
        if enriched.near_duplicate_of:
            m.near_duplicates.inc()

    async def _track_event(self, event: Any) -> None:
        report = decode(Report, event.value)
        key = report.book_key.encode()
        raw = self.events_table.get(key)
        book = None
        if raw is not None:
            try:
                book = self._books.decode(report.book_key, raw)
            except DecodeError as exc:
                log.error("discarding undecodable event book key=%s: %s", report.book_key, exc)
        new_book, state, alerts = apply_and_decide(
            book, report, self.settings.events, self.settings.rules
        )
        if new_book is not book:  # a repeat leaves the book as it was: nothing to write
            self.events_table[key] = self._books.encode(new_book)
        if state.repeat:
            return
        self.metrics.events.labels(state.kind, state.status).inc()
        if state.status == "new":
            for party in state.parties:
                name = party if party in self._known_orgs else "other"
                self.metrics.event_organizations.labels(state.kind, name).inc()
            if state.kind == "deal" and state.amount_usd:
                self.metrics.deal_amount_usd.observe(state.amount_usd)
        await self.topics["news.events"].send(key=state.key.encode(), value=state.to_bytes())
        now = utcnow()
        for alert in alerts:
            alert = alert.model_copy(
                update={"article_fetched": report.fetched, "article_published": report.published}
            )
            self.metrics.alert_decisions.labels(alert.rule, alert.reason.split(":")[0]).inc()
            if report.fetched:
                self.metrics.fetch_to_decision_seconds.observe(
                    max(0.0, (now - report.fetched).total_seconds())
                )
            await self.topics["news.alerts"].send(
                key=alert.ledger_key.encode(), value=alert.to_bytes()
            )

    # -- delivery -------------------------------------------------------------------------

    async def _deliver_batch(self, batch: Sequence[Any]) -> None:
        """Deliver a batch of alerts, make their ledger entries durable once, then
        dead-letter the failed channels.

        One producer flush per batch, not one per alert: each flush waits for every
        message in flight, and 64 concurrent flushes woke each other on every message
        sent (a tenth of the worker's CPU under load). The batch's offsets are acked
        only after this returns, so the ledger is still durable before they can be
        committed.
        """
        failed: list[tuple[Any, str]] = []
        outcomes = await asyncio.gather(
            *(
                self._guarded("deliver", event, functools.partial(self._deliver_alert, failed))
                for event in batch
            )
        )
        # False: nothing written to the ledger; None: the handler failed midway, maybe
        # after writing some of it.
        if any(outcome is not False for outcome in outcomes):
            await self.app.producer.flush()
        for event, reason in failed:
            await self.dead_letter("deliver", event.message.topic, reason, event.key, event.value)

    async def _deliver_alert(self, failed: list[tuple[Any, str]], event: Any) -> bool:
        """Deliver one alert to its channels not yet in the ledger; True when it wrote the
        ledger (the caller flushes), failures appended to `failed`."""
        alert = decode(Alert, event.value)
        lock = self._alert_locks.get(alert.ledger_key)
        if lock is None:
            lock = self._alert_locks[alert.ledger_key] = asyncio.Lock()
        async with lock:  # the ledger check below must see a concurrent twin's delivery
            return await self._deliver_alert_once(event, alert, failed)

    async def _deliver_alert_once(
        self, event: Any, alert: Alert, failed_out: list[tuple[Any, str]]
    ) -> bool:
        deliverer = self.deliverer
        pending = []
        for channel in alert.channels:
            entry = f"{alert.ledger_key}@{channel}".encode()
            if self.ledger_table.get(entry) is not None:
                self.metrics.deliveries.labels(channel, "duplicate").inc()
                continue
            pending.append((channel, entry))
        results = await asyncio.gather(
            *(deliverer.deliver(alert, channel) for channel, _ in pending)
        )
        now = utcnow()
        failed: list[str] = []
        for (channel, entry), result in zip(pending, results, strict=True):
            self.metrics.deliveries.labels(channel, result.outcome).inc()
            if result.outcome == "failed":
                failed.append(f"{channel}: {result.reason}")
                continue
            self.ledger_table[entry] = now.isoformat().encode()
            if result.outcome == "delivered":
                if alert.article_fetched:
                    self.metrics.fetch_to_delivery_seconds.observe(
                        max(0.0, (now - alert.article_fetched).total_seconds())
                    )
                if alert.article_published:
                    self.metrics.published_to_delivery_seconds.observe(
                        max(0.0, (now - alert.article_published).total_seconds())
                    )
        failed_out.extend((event, reason) for reason in failed)
        # The caller makes the ledger durable before the offset moves on: a crash after
        # that must not deliver this alert again.
        return bool(pending)

    # -- feeds --------------------------------------------------------------------------

    async def _apply_feed_command(self, event: Any) -> None:
        command = decode(FeedCommand, event.value)
        key = command.feed_id.encode()
        previous = self.feeds_table.get(key)
        state = None
        if previous is not None:
            try:
                state = decode(FeedState, previous)
            except DecodeError as exc:
                log.error("discarding undecodable feed state feed_id=%s: %s", command.feed_id, exc)
        new_state = apply_command(
            state,
            command,
            partition=event.message.partition,
            max_seen=self.settings.polling.seen_ids_per_feed,
        )
        self.feeds_table[key] = new_state.to_bytes()

    async def _send_command(self, command: FeedCommand) -> None:
        fut = await self.topics[FEEDS_TOPIC].send(
            key=command.feed_id.encode(), value=command.to_bytes()
        )
        await fut

    async def _register_feeds(self) -> None:
        for fid, feed in self.feeds.items():
            await self._send_command(
                FeedCommand(
                    kind="register",
                    feed_id=fid,
                    url=str(feed.url),
                    name=feed.name,
                    interval=feed.interval,
                    language=feed.language,
                )
            )
        log.info("registered feeds count=%d", len(self.feeds))

    async def publish_articles(self, articles: Sequence[Article]) -> None:
        """Publish articles and return only once the broker acknowledged every one."""
        topic = self.topics["news.articles"]
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                futures = [
                    await topic.send(key=a.id.encode(), value=a.to_bytes()) for a in articles
                ]
                await asyncio.gather(*futures)
        except Exception:
            self.metrics.publish_failures.labels(topic.get_topic_name()).inc()
            raise

    def owned_partitions(self) -> set[int]:
        """Partitions of the feeds topic this worker actively owns."""
        name = self.topics[FEEDS_TOPIC].get_topic_name()
        try:
            actives = self.app.assignor.assigned_actives()
        except Exception:
            return set()
        return {tp.partition for tp in actives if tp.topic == name}

    def _schedule_due_feeds(self) -> None:
        if self.poller is None:
            return
        owned = self.owned_partitions()
        now = utcnow()
        loop_time = asyncio.get_running_loop().time()
        late = timedelta(seconds=max(5 * self.settings.polling.tick, 30))
        owned_count = overdue = failing = 0
        for key, raw in list(self.feeds_table.items()):
            state = self._feed_state(key, raw)
            if state is None:
                continue
            if state.partition not in owned or state.feed_id not in self.feeds:
                continue
            owned_count += 1
            if state.consecutive_errors:
                failing += 1
            if not is_due(state, now):
                continue
            if now - state.next_due > late:
                overdue += 1
            expected = self._in_flight.get(state.feed_id)
            if expected is not None and state.polls < expected:
                continue  # a poll is running, or its outcome is not applied yet
            if self._retry_at.get(state.feed_id, 0.0) > loop_time:
                continue
            self._in_flight[state.feed_id] = state.polls + 1
            task = asyncio.create_task(self._poll(state), name=f"poll-{state.feed_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.metrics.feeds_owned.set(owned_count)
        self.metrics.feeds_failing.set(failing)
        self.metrics.feeds_overdue.set(overdue)

    def _feed_state(self, key: bytes, raw: bytes) -> FeedState | None:
        """The decoded state for a table value, decoded once per value, not once per tick
        (10,000 feeds' JSON took half of every second to decode)."""
        cached = self._decoded.get(key)
        if cached is not None and cached[0] is raw:
            return cached[1]
        try:
            state = decode(FeedState, raw)
        except DecodeError:
            return None
        self._decoded[key] = (raw, state)
        return state

    async def _poll(self, state: FeedState) -> None:
        assert self.poller is not None
        async with self._poll_slots:
            try:
                outcome = await self.poller.poll(state)
                await self._send_command(outcome.command)
            except asyncio.CancelledError:
                self._in_flight.pop(state.feed_id, None)
                raise
            except Exception as exc:
                # The broker did not acknowledge: the state stays as it was, so the next
                # attempt republishes what may be missing (at-least-once, never lost).
                self.metrics.broker_unreachable.inc()
                self._in_flight.pop(state.feed_id, None)
                self._retry_at[state.feed_id] = asyncio.get_running_loop().time() + 5.0
                log.warning(
                    "poll not recorded feed=%s error=%s retry_delay_seconds=5",
                    state.name,
                    f"{type(exc).__name__}: {exc}",
                )

    async def stop_tasks(self) -> None:
        """Cancel polls in progress (tests and shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
