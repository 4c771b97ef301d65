"""Faults injected for real into running services: SIGKILL, a frozen broker, failing receivers,
and a worker lost from a group of two.

What "right" means is checked where a user would see it: at the receiving end (a loopback
Standard-Webhooks receiver that verifies every signature), by counting distinct
`webhook-id`s (nothing lost) and accepted receptions (nothing doubled), plus the topics, the
service log and /metrics.
"""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import yaml
from aiokafka.partitioner import murmur2

from newsradar.broker import EmbeddedBroker, free_port
from newsradar.ingest.canonical import feed_id as make_feed_id

from .conftest import Service, consume, publish
from .feedserver import FeedServer
from .receivers import Receiver, Reply, SlackReceiver, WebhookReceiver, closed_port_url
from .test_hostile_feeds import metric, metrics_port, scrape

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECRET = "whsec_" + base64.b64encode(b"fault-injection-secret-0123456789").decode()

#: Written for these tests: each headline makes exactly one report (checked by the analysis
#: tests' conventions: investor -> target with an amount, or a company with a headcount).
DEALS = [
    (
        "Microsoft invests $10 billion in ChatGPT maker OpenAI",
        "Microsoft is investing $10 billion in OpenAI.",
    ),
    (
        "Amazon invests $4 billion in AI start-up Anthropic",
        "Amazon will invest $4 billion in Anthropic.",
    ),
    ("Nvidia invests $2 billion in xAI", "Nvidia is investing $2 billion in Elon Musk's xAI."),
    ("SoftBank invests $1 billion in Mistral AI", "SoftBank will invest $1 billion in Mistral AI."),
    ("Google invests $300 million in Cohere", "Google is investing $300 million in Cohere."),
    (
        "Salesforce invests $500 million in Hugging Face",
        "Salesforce will invest $500 million in Hugging Face.",
    ),
]
LAYOFFS = [
    ("Intel to cut 15,000 jobs", "Intel said it will cut 15,000 jobs to reduce costs."),
    ("Meta to lay off 10,000 employees", "Meta will lay off 10,000 employees in a new round."),
    ("IBM to cut 3,900 jobs", "IBM said it would cut 3,900 jobs."),
    (
        "Siemens streicht 5.000 Stellen",
        "Der Konzern Siemens will weltweit 5.000 Stellen streichen.",
    ),
    ("Renault va supprimer 2 000 emplois", "Le constructeur Renault va supprimer 2 000 emplois."),
    ("Spotify cuts 1,500 jobs", "Spotify is cutting 1,500 jobs, about 17% of its staff."),
]
RULES = [
    {"name": "deals", "kind": "deal", "min_amount_usd": 1_000_000, "channels": ["hook"]},
    {"name": "big-deals", "kind": "deal", "min_amount_usd": 1_000_000_000, "channels": ["hook"]},
    {"name": "layoffs", "kind": "layoff", "min_headcount": 1000, "channels": ["hook"]},
]
#: One alert per rule and event: 6 deals + 4 deals of $1bn or more + 6 layoffs.
EXPECTED_ALERTS = 16
FAST_DELIVERY = {
    "max_attempts": 3,
    "base_delay_seconds": 0.2,
    "max_delay_seconds": 1.0,
    "max_total_delay_seconds": 3.0,
    "timeout_seconds": 2.0,
    "rate_per_second": {},
    "digest_interval_seconds": 0,
}


def rss(items: list[tuple[str, str]], tag: str) -> bytes:
    """An RSS 2.0 feed of (title, description) items with links and GUIDs unique to `tag`."""
    body = "".join(
        f"<item><title>{escape(title)}</title><link>http://127.0.0.1/{tag}/{i}</link>"
        f"<guid isPermaLink='false'>{tag}-{i}</guid>"
        f"<pubDate>Wed, 25 Nov 2026 {8 + i % 10:02d}:00:00 GMT</pubDate>"
        f"<description>{escape(text)}</description></item>"
        for i, (title, text) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{tag}</title><link>http://127.0.0.1/{tag}</link>{body}</channel></rss>"
    ).encode()


def accepted_ids(receiver: Receiver) -> Counter[str]:
    """webhook-id (or, for Slack, the header text) of every accepted delivery, with counts."""
    ids: Counter[str] = Counter()
    for request in receiver.received:
        ids[request.headers.get("webhook-id") or json.dumps(request.json(), sort_keys=True)] += 1
    return ids


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str, log: str = "") -> None:
    """Poll `predicate` every 0.1 s; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not reached in {timeout} s\n{log[-3000:]}"
        await asyncio.sleep(0.1)


def second_worker_config(config: Path) -> Path:
    """The same service config (same app id, topics, feeds) with its own metrics port."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["metrics"]["port"] = free_port()
    path = config.with_name(config.stem + "-b.yaml")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def test_sigkill_mid_delivery_then_restart_loses_and_doubles_nothing(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """A worker SIGKILLed while a webhook delivery is in flight and alerts are queued, then
    restarted: every (rule, event) is accepted exactly once by the receiver, every signature
    verifies, and news.alerts holds one decision per (rule, event)."""
    async with WebhookReceiver(SECRET, default=Reply(200, delay_seconds=120)) as hook:
        # Two deliveries are accepted, the next ones hang: the kill lands while they are in
        # flight, with more alerts queued behind them and articles still being analysed.
        hook.script(Reply(200), Reply(200))
        deal_path = publish(feeds, "deals.xml", rss(DEALS, "deals"))
        layoff_path = publish(feeds, "layoffs.xml", rss(LAYOFFS, "layoffs"))
        config = service_config(
            [
                {"name": "Deals", "url": feeds.url(deal_path), "language": "en"},
                {"name": "Layoffs", "url": feeds.url(layoff_path)},
            ],
            rules=RULES,
            channels={"hook": {"type": "webhook", "url": hook.url, "secret": SECRET}},
            delivery={
                **FAST_DELIVERY,
                "timeout_seconds": 60,
                "rate_per_second": {"webhook": 5},
                "burst": {"webhook": 1},
            },
        )
        prefix = f"t{service_config.run_id}."
        service = Service(config, tmp_path / "service.log").start()
        services.append(service)
        await service.started()
        await wait_for(lambda: len(hook.requests) >= 3, 60, "a hanging delivery", service.log())
        # Let the accepted deliveries reach the ledger: a kill between a receiver's 200 and
        # the ledger write is the one window only the receiver's webhook-id dedup can cover.
        # Wait for the two ledger entries on its changelog rather than for a fixed time (a
        # loaded machine can take longer than a second).
        ledger = f"nr-{service_config.run_id}-ledger-changelog"
        written = await consume(kafka.bootstrap, ledger, expect=2, timeout=60)
        assert len(written) >= 2
        assert service.process is not None
        assert service.stop(signal.SIGKILL) == -signal.SIGKILL
        # Requests already on the wire are still read by the receiver: they get the hanging
        # reply too (a receiver that accepted one would see its webhook-id twice: the
        # at-least-once window that webhook-id deduplication covers).
        await asyncio.sleep(0.5)
        in_flight = [r for r in hook.requests if r.status is None]
        accepted_before = len(hook.received)
        print(f"killed with {accepted_before} accepted and {len(in_flight)} in flight")
        assert accepted_before == 2 and in_flight  # really mid-stream
        hook.default = Reply(200)

        service.start()
        await wait_for(
            lambda: len(accepted_ids(hook)) >= EXPECTED_ALERTS, 60, "all alerts", service.log()
        )
        await asyncio.sleep(3.0)  # room for a duplicate to show up
        ids = accepted_ids(hook)
        assert len(ids) == EXPECTED_ALERTS
        doubled = {k: n for k, n in ids.items() if n > 1}
        assert not doubled, doubled
        assert all(r.verified for r in hook.requests)
        assert {k.split(":", 1)[0] for k in ids} == {"deals", "big-deals", "layoffs"}
        assert all(r.status is None for r in in_flight)  # cut off: never counted as accepted

        decisions = await consume(
            kafka.bootstrap, prefix + "news.alerts", expect=EXPECTED_ALERTS, timeout=20, settle=2
        )
        keys = Counter(r.key.decode() for r in decisions)
        assert set(keys) == set(ids)
        assert sum(keys.values()) == EXPECTED_ALERTS, {k: n for k, n in keys.items() if n > 1}
        assert "Traceback" not in service.log()


@pytest.fixture
def own_broker() -> Iterator[EmbeddedBroker]:
    """A broker for this test alone (it gets frozen); always thawed before it is stopped."""
    broker = EmbeddedBroker().start()
    try:
        yield broker
    finally:
        broker.resume()  # a paused broker must never be left behind, nor stopped frozen
        broker.stop()


def on_broker(config: Path, broker: EmbeddedBroker) -> Path:
    """Point a service config at `broker` instead of the session broker."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["kafka"]["bootstrap_servers"] = broker.bootstrap
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


async def test_broker_frozen_at_start_up_service_waits_then_catches_up(
    own_broker: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """A broker frozen (SIGSTOP) when the service starts: it logs that it waits and retries,
    starts nothing, then, once the broker is thawed, delivers every alert exactly once and
    shows the wait on /metrics."""
    async with WebhookReceiver(SECRET) as hook:
        path = publish(feeds, "deals.xml", rss(DEALS[:3], "deals"))
        config = on_broker(
            service_config(
                [{"name": "Deals", "url": feeds.url(path)}],
                rules=RULES[:1],
                channels={"hook": {"type": "webhook", "url": hook.url, "secret": SECRET}},
                delivery=FAST_DELIVERY,
            ),
            own_broker,
        )
        own_broker.pause()
        try:
            service = Service(config, tmp_path / "service.log").start()
            services.append(service)
            await service.wait_for_log("waiting for Kafka", timeout=30)
            await service.wait_for_log("retry_delay_seconds", count=2, timeout=30)
            assert "newsradar starting" not in service.log()
            assert feeds.requests == []  # nothing polled while the broker is away
        finally:
            own_broker.resume()
        await service.started(timeout=60)
        await wait_for(lambda: len(hook.received) >= 3, 60, "three alerts", service.log())
        await asyncio.sleep(2.0)
        assert sorted(accepted_ids(hook).values()) == [1, 1, 1]
        samples = await scrape(metrics_port(config))
        assert metric(samples, "newsradar_broker_unreachable_total") >= 1


async def test_broker_frozen_mid_run_nothing_lost_and_catches_up(
    own_broker: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """A broker frozen (SIGSTOP) for 15 s while new articles arrive: the service logs and
    counts that the broker is unreachable, keeps serving /metrics, and after the thaw every
    article is published and every alert delivered exactly once."""
    async with WebhookReceiver(SECRET) as hook:
        path = publish(feeds, "deals.xml", rss(DEALS[:2], "deals"))
        config = on_broker(
            service_config(
                [{"name": "Deals", "url": feeds.url(path)}],
                rules=RULES[:1],
                channels={"hook": {"type": "webhook", "url": hook.url, "secret": SECRET}},
                delivery=FAST_DELIVERY,
            ),
            own_broker,
        )
        prefix = f"t{service_config.run_id}."
        service = Service(config, tmp_path / "service.log").start()
        services.append(service)
        await service.started()
        await wait_for(lambda: len(hook.received) >= 2, 60, "first alerts", service.log())
        port = metrics_port(config)
        before = metric(await scrape(port), "newsradar_broker_unreachable_total")

        own_broker.pause()
        try:
            publish(feeds, "deals.xml", rss(DEALS, "deals"))  # four new deals meanwhile
            polls = feeds.count(path)
            await wait_for(lambda: feeds.count(path) > polls, 20, "a poll during the freeze")
            await asyncio.sleep(15.0)
            samples = await scrape(port)  # /metrics answers while Kafka does not
            frozen_log = service.log()
        finally:
            own_broker.resume()
        assert samples, "/metrics did not answer while the broker was frozen"

        await wait_for(lambda: len(hook.received) >= 6, 90, "alerts after the thaw", service.log())
        await asyncio.sleep(3.0)
        ids = accepted_ids(hook)
        assert len(ids) == 6 and set(ids.values()) == {1}, ids
        articles = await consume(own_broker.bootstrap, prefix + "news.articles", expect=6)
        assert {json.loads(r.value)["title"] for r in articles} == {t for t, _ in DEALS}
        # While frozen, the service said so: a log line with the retry delay, and the metric.
        assert "retry_delay_seconds" in frozen_log, frozen_log[-2500:]
        assert metric(samples, "newsradar_broker_unreachable_total") > before


async def test_failing_receivers_retry_dead_letter_and_do_not_hold_up_other_alerts(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """One deal alert to six channels: slow past the timeout, down, 429 then OK, 5xx then OK,
    always 5xx, and healthy. Transient failures are retried (Retry-After honoured, same
    webhook-id), lasting ones are dead-lettered with their reason; and a later layoff alert to
    a healthy channel arrives while the slow channel is still being retried."""
    down_url = closed_port_url()
    async with (
        WebhookReceiver(SECRET, default=Reply(200, delay_seconds=30)) as slow,
        SlackReceiver() as limited,
        WebhookReceiver(SECRET) as flaky,
        WebhookReceiver(SECRET, default=Reply(503, "busy")) as broken,
        WebhookReceiver(SECRET) as good,
        WebhookReceiver(SECRET) as other,
    ):
        limited.script(Reply(429, "rate_limited", headers={"Retry-After": "1"}))
        flaky.script(Reply(500, "oops"), Reply(502, "bad gateway"))

        def hook(receiver: WebhookReceiver | str) -> dict[str, str]:
            url = receiver if isinstance(receiver, str) else receiver.url
            return {"type": "webhook", "url": url, "secret": SECRET}

        path = publish(feeds, "wire.xml", rss(DEALS[:1], "wire"))
        config = service_config(
            [{"name": "Wire", "url": feeds.url(path)}],
            rules=[
                {
                    "name": "deals",
                    "kind": "deal",
                    "channels": ["slow", "down", "limited", "flaky", "broken", "good"],
                },
                {"name": "layoffs", "kind": "layoff", "channels": ["other"]},
            ],
            channels={
                "slow": hook(slow),
                "down": hook(down_url),
                "limited": {"type": "slack", "webhook_url": limited.url},
                "flaky": hook(flaky),
                "broken": hook(broken),
                "good": hook(good),
                "other": hook(other),
            },
            delivery={**FAST_DELIVERY, "timeout_seconds": 3.0, "max_total_delay_seconds": 5.0},
        )
        prefix = f"t{service_config.run_id}."
        service = Service(config, tmp_path / "service.log").start()
        services.append(service)
        await service.started()
        await wait_for(lambda: len(slow.requests) >= 1, 60, "first slow attempt", service.log())
        # While the slow channel is retried, a layoff is reported: its alert must not wait.
        publish(feeds, "wire.xml", rss([*DEALS[:1], *LAYOFFS[:1]], "wire"))
        await wait_for(lambda: len(other.received) >= 1, 30, "the layoff alert", service.log())
        other_at = other.received[0].at
        await wait_for(lambda: len(slow.requests) >= 3, 30, "third slow attempt", service.log())
        assert other_at < slow.requests[2].at, "the layoff alert waited for the slow channel"

        letters = await consume(
            kafka.bootstrap, prefix + "news.dlq", expect=3, timeout=30, settle=2
        )
        reasons = sorted(json.loads(r.value)["reason"] for r in letters)
        assert len(reasons) == 3, reasons
        broken_reason, down_reason, slow_reason = reasons
        assert broken_reason.startswith("broken: HTTP 503"), broken_reason
        assert down_reason.startswith("down: "), down_reason
        assert slow_reason.startswith("slow: ") and "timeout" in slow_reason, slow_reason
        assert all(json.loads(r.value)["stage"] == "deliver" for r in letters)

        assert len(good.received) == 1 and len(other.received) == 1
        assert [r.status for r in flaky.requests] == [500, 502, 200]
        assert len({r.headers["webhook-id"] for r in flaky.requests}) == 1  # one id, retried
        assert [r.status for r in limited.requests] == [429, 200]
        assert limited.gaps()[0] >= 1.0  # Retry-After honoured
        assert [r.status for r in broken.requests] == [503, 503, 503]
        assert len(slow.requests) == 3 and slow.received == []
        assert all(r.verified for x in (slow, flaky, broken, good, other) for r in x.requests)

        samples = await scrape(metrics_port(config))
        delivered = {
            c: metric(samples, "newsradar_deliveries_total", channel=c, outcome="delivered")
            for c in ("limited", "flaky", "good", "other")
        }
        failed = {
            c: metric(samples, "newsradar_deliveries_total", channel=c, outcome="failed")
            for c in ("slow", "down", "broken")
        }
        assert set(delivered.values()) == {1} and set(failed.values()) == {1}
        assert metric(samples, "newsradar_delivery_retries_total", channel="flaky") == 2
        assert metric(samples, "newsradar_dead_letters_total", stage="deliver") == 3


def feed_partition(url: str, partitions: int) -> int:
    """The news.feeds partition of a feed (Kafka's default partitioner on its feed id)."""
    key = make_feed_id(url).encode()
    return (murmur2(key) & 0x7FFFFFFF) % partitions


async def test_two_workers_one_killed_survivor_takes_over_feeds_and_events_once(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """Two workers share the partitions; one is SIGKILLed. The survivor polls all feeds, picks
    up their state and the events table: new items are alerted once, a second outlet's report
    of a deal alerted before the kill is an update (no new alert), nothing is doubled."""
    partitions = 2
    # Three feeds on each partition of news.feeds, so that each worker owns some.
    names: dict[int, list[str]] = {0: [], 1: []}
    for i in range(100):
        name = f"wire{i}.xml"
        bucket = names[feed_partition(feeds.url(f"/feeds/{name}"), partitions)]
        if len(bucket) < 3:
            bucket.append(name)
    files = names[0] + names[1]
    assert len(files) == 6
    async with WebhookReceiver(SECRET) as hook:
        for i, name in enumerate(files):
            publish(feeds, name, rss([DEALS[i]], f"w{i}"))
        config = service_config(
            [{"name": f"Wire {i}", "url": feeds.url(f"/feeds/{n}")} for i, n in enumerate(files)],
            rules=RULES,
            channels={"hook": {"type": "webhook", "url": hook.url, "secret": SECRET}},
            delivery=FAST_DELIVERY,
        )
        worker_a = Service(config, tmp_path / "a.log").start()
        services.append(worker_a)
        await worker_a.started()
        config_b = second_worker_config(config)
        worker_b = Service(config_b, tmp_path / "b.log").start()
        services.append(worker_b)
        await worker_b.started()
        port_a, port_b = metrics_port(config), metrics_port(config_b)

        async def owned(port: int) -> float:
            return metric(await scrape(port), "newsradar_feeds_owned")

        deadline = time.monotonic() + 45
        while not (await owned(port_a) == 3 and await owned(port_b) == 3):
            assert time.monotonic() < deadline, worker_b.log()[-3000:]
            await asyncio.sleep(0.5)
        await wait_for(lambda: len(hook.received) >= 10, 60, "the first ten alerts")

        assert worker_b.stop(signal.SIGKILL) == -signal.SIGKILL
        # Each feed now has a layoff, and repeats another feed's deal (a second outlet).
        for i, name in enumerate(files):
            repeat = DEALS[(i + 1) % len(DEALS)]
            publish(feeds, name, rss([DEALS[i], LAYOFFS[i], repeat], f"w{i}"))
        deadline = time.monotonic() + 45
        while await owned(port_a) != 6:
            assert time.monotonic() < deadline, worker_a.log()[-3000:]
            await asyncio.sleep(0.5)
        await wait_for(
            lambda: len(hook.received) >= EXPECTED_ALERTS, 60, "all alerts", worker_a.log()
        )
        # The repeated deals reached the survivor's events table, as updates of known events.
        prefix = f"t{service_config.run_id}."
        records = await consume(kafka.bootstrap, prefix + "news.events", expect=18, timeout=30)
        events = [json.loads(r.value) for r in records]
        assert len({e["key"] for e in events if e["status"] == "new"}) == 12
        assert len([e for e in events if e["status"] == "update"]) >= 6
        await asyncio.sleep(2.0)
        ids = accepted_ids(hook)
        assert len(ids) == EXPECTED_ALERTS and set(ids.values()) == {1}, ids
        per_rule_event = Counter(k.rsplit(":", 1)[0] for k in ids)
        assert set(per_rule_event.values()) == {1}, per_rule_event
        assert all(r.verified for r in hook.requests)
