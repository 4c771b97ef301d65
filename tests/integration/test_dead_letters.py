"""Dead letters through the running service: bad messages on every topic, failed deliveries,
replay, and secrets kept out of the log, /metrics and news.dlq.

Design rule under test: an agent never stops on a message it cannot process; the
message goes to news.dlq with the stage, the topic, the reason and its original
bytes, and the next message is processed as usual.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from aiokafka import AIOKafkaProducer

from newsradar.broker import EmbeddedBroker
from newsradar.models import Article

from .conftest import Service, consume, publish, run_cli, wait_until
from .feedserver import FeedServer
from .receivers import SLACK_PATH, Reply, SlackReceiver, WebhookReceiver
from .test_hostile_feeds import metric, metrics_port, scrape

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEAL_RULE = {"name": "deals", "kind": "deal", "min_amount_usd": 1_000_000, "channels": ["log"]}
#: Topic (unprefixed) -> the stage that consumes it, as dead letters name it.
STAGES = {
    "news.articles": "enrich",
    "news.reports": "events",
    "news.alerts": "deliver",
    "news.feeds": "feeds",
}
#: Topics the service writes but never reads back: garbage there must change nothing.
OUTPUT_ONLY = ("news.enriched", "news.events")


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 document with (title, link, description) items."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f"<pubDate>Wed, 25 Nov 2026 14:00:00 GMT</pubDate>"
        f"<description>{escape(d)}</description></item>"
        for t, link, d in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Loopback</title><link>http://127.0.0.1/</link>{body}</channel></rss>"
    ).encode()


DEAL_FEED = rss(
    [
        (
            "Microsoft invests $10 billion in ChatGPT maker OpenAI",
            "http://127.0.0.1/en/msft-openai",
            "Microsoft is investing $10 billion in OpenAI, the maker of ChatGPT.",
        )
    ]
)


async def produce(bootstrap: str, messages: list[tuple[str, int, bytes | None, bytes]]) -> None:
    """Send (topic, partition, key, value) messages and wait for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for topic, partition, key, value in messages:
            await producer.send_and_wait(topic, value, key=key, partition=partition)
    finally:
        await producer.stop()


def with_version(raw: bytes, version: int) -> bytes:
    """A real message of a topic, re-encoded with another schema_version."""
    data = json.loads(raw)
    data["schema_version"] = version
    return json.dumps(data).encode()


async def test_bad_messages_on_every_topic_are_dead_lettered_and_agents_go_on(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
) -> None:
    """Garbage bytes, JSON of the wrong shape and a wrong schema_version on every partition of
    every consumed topic each land on news.dlq with stage, topic, reason and exact bytes; the
    agents then still process a valid article end to end and keep applying feed commands."""
    deal_path = publish(feeds, "deal.xml", DEAL_FEED)
    config = service_config(
        [{"name": "Wire", "url": feeds.url(deal_path)}],
        rules=[DEAL_RULE],
        channels={"log": {"type": "log"}},
    )
    prefix = f"t{service_config.run_id}."
    service = Service(config, tmp_path / "service.log").start()
    services.append(service)
    await service.started()
    await consume(kafka.bootstrap, prefix + "news.alerts", expect=1, timeout=60)
    await service.wait_for_log("alert channel=log rule=deals", timeout=30)

    # One real message of each topic, to make wrong-version copies that are otherwise valid.
    real = {
        topic: (await consume(kafka.bootstrap, prefix + topic, expect=1, timeout=10))[0].value
        for topic in STAGES
    }
    partitions = 2
    bad: list[tuple[str, int, bytes | None, bytes]] = []
    expected: dict[bytes, tuple[str, str]] = {}  # value -> (stage, words of the reason)
    for topic, stage in STAGES.items():
        for partition in range(partitions):
            for value, words in (
                (b"\xff\xfe\x00garbage " + f"{topic}/{partition}".encode(), ""),
                (json.dumps({"hello": f"{topic}/{partition}"}).encode(), ""),
                (with_version(real[topic], 90 + partition), f"schema_version {90 + partition}"),
            ):
                bad.append((prefix + topic, partition, f"bad-{partition}".encode(), value))
                expected[value] = (stage, words)
    # Output-only topics get garbage too: no stage reads them, so no dead letter may come of it.
    ignored = [
        (prefix + topic, p, b"bad", b"\xff garbage on an output topic")
        for topic in OUTPUT_ONLY
        for p in range(partitions)
    ]
    await produce(kafka.bootstrap, bad + ignored)
    polls_before = feeds.count(deal_path)

    letters = await consume(
        kafka.bootstrap, prefix + "news.dlq", expect=len(bad), timeout=60, settle=2.0
    )
    assert len(letters) == len(bad), [json.loads(r.value)["reason"] for r in letters]
    found: dict[bytes, dict[str, Any]] = {}
    for record in letters:
        letter = json.loads(record.value)
        if letter["original_base64"] is not None:
            original = base64.b64decode(letter["original_base64"])
        else:
            original = letter["original"].encode("utf-8")
        found[original] = letter
    assert set(found) == set(expected)
    for value, (stage, words) in expected.items():
        letter = found[value]
        assert letter["stage"] == stage, letter
        assert (
            letter["topic"].startswith(prefix) and STAGES[letter["topic"][len(prefix) :]] == stage
        )
        assert letter["reason"] and words in letter["reason"], letter
        assert letter["key"] in {"bad-0", "bad-1"}

    # Every agent goes on: a valid article sent after the garbage goes all the way to an alert.
    article = Article(
        id="valid-after-garbage",
        feed_id="manual",
        feed_url="http://127.0.0.1/manual.xml",
        source="Manual",
        url="http://127.0.0.1/manual/amazon-anthropic",
        title="Amazon invests $4 billion in AI start-up Anthropic",
        summary="Amazon will invest $4 billion in Anthropic, the maker of Claude.",
        language="en",
    )
    await produce(
        kafka.bootstrap,
        [(prefix + "news.articles", p, article.id.encode(), article.to_bytes()) for p in (0, 1)],
    )
    await service.wait_for_log("alert channel=log rule=deals", count=2, timeout=60)
    # news.alerts also holds the bad messages sent above; records come in any partition order.
    records = await consume(kafka.bootstrap, prefix + "news.alerts", expect=2 + 6, timeout=30)
    parties = [
        json.loads(r.value)["event"]["parties"]
        for r in records
        if r.value not in expected and r.value.startswith(b"{")
    ]
    assert ["Amazon", "Anthropic"] in parties or ["Anthropic", "Amazon"] in parties, parties
    # ...and the feed commands agent too: the feed is polled again (each poll needs the
    # previous poll's command applied to its state).
    await wait_until(lambda: feeds.count(deal_path) >= polls_before + 2, timeout=30)

    samples = await scrape(metrics_port(config))
    for stage in STAGES.values():
        assert metric(samples, "newsradar_dead_letters_total", stage=stage) == 3 * partitions
    assert service.process is not None and service.process.poll() is None


async def refused_deliveries(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    replay: bool,
) -> None:
    """One alert to a Slack and a webhook channel that refuse it (a 5xx, then a 4xx); checks the
    dead letters, the metrics and that no secret leaks; with `replay`, then replays them."""
    secret = "whsec_" + base64.b64encode(b"dead-letter-test-secret-0123456789").decode()
    async with SlackReceiver() as slack, WebhookReceiver(secret) as hook:
        monkeypatch.setenv("NR_TEST_SLACK_URL", slack.url)
        monkeypatch.setenv("NR_TEST_WEBHOOK_SECRET", secret)
        token = SLACK_PATH.rsplit("/", 1)[1]
        slack.script(Reply(500, "internal_error"))
        slack.default = Reply(403, "invalid_token")
        hook.script(Reply(503, "busy"))
        hook.default = Reply(410, "gone")
        deal_path = publish(feeds, "deal.xml", DEAL_FEED)
        config = service_config(
            [{"name": "Wire", "url": feeds.url(deal_path)}],
            rules=[{**DEAL_RULE, "channels": ["team", "hook"]}],
            channels={
                "team": {"type": "slack", "webhook_url": "${NR_TEST_SLACK_URL}"},
                "hook": {"type": "webhook", "url": hook.url, "secret": "${NR_TEST_WEBHOOK_SECRET}"},
            },
        )
        prefix = f"t{service_config.run_id}."
        service = Service(config, tmp_path / "service.log").start()
        services.append(service)
        await service.started()

        letters = await consume(
            kafka.bootstrap, prefix + "news.dlq", expect=2, timeout=90, settle=2.0
        )
        assert len(letters) == 2
        reasons = sorted(json.loads(r.value)["reason"] for r in letters)
        assert reasons[0].startswith("hook: ") and "410" in reasons[0], reasons
        assert reasons[1].startswith("team: ") and "403" in reasons[1], reasons
        assert all(json.loads(r.value)["stage"] == "deliver" for r in letters)
        # One retry after the 5xx, then the permanent answer: two requests each.
        assert [r.status for r in slack.requests] == [500, 403]
        assert [r.status for r in hook.requests] == [503, 410]
        assert all(r.verified for r in hook.requests)

        port = metrics_port(config)
        samples = await scrape(port)
        assert metric(samples, "newsradar_deliveries_total", channel="team", outcome="failed") == 1
        assert metric(samples, "newsradar_deliveries_total", channel="hook", outcome="failed") == 1
        assert metric(samples, "newsradar_dead_letters_total", stage="deliver") == 2
        assert metric(samples, "newsradar_delivery_retries_total", channel="hook") == 1

        # Nothing of either secret anywhere an operator or an attacker might read.
        metrics_text = repr(samples)
        dlq_text = b"".join(r.value + (r.key or b"") for r in letters).decode("utf-8", "replace")
        secret_key = secret.removeprefix("whsec_")
        for where, text in (
            ("log", service.log()),
            ("metrics", metrics_text),
            ("dlq", dlq_text),
        ):
            assert secret_key[:12] not in text, where
            assert token not in text, where
            assert "T0NEWSRDR" not in text, where  # no part of the Slack URL path either

        if not replay:
            return
        # The receivers recover; replaying the dead letters delivers each alert once.
        slack.default = Reply(200, "ok")
        hook.default = Reply(200, "ok")
        result = await run_cli("dlq", "replay", "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1])["resent"] == 2
        deadline = time.monotonic() + 30
        while len(slack.received) < 1 or len(hook.received) < 1:
            assert time.monotonic() < deadline, service.log()[-3000:]
            await asyncio.sleep(0.2)
        again = await run_cli("dlq", "replay", "--config", str(config))
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout.strip().splitlines()[-1])["resent"] == 0
        await asyncio.sleep(3.0)  # would be enough for a second delivery to arrive
        assert len(slack.received) == 1 and len(hook.received) == 1
        ids = {r.headers["webhook-id"] for r in hook.received}
        assert len(ids) == 1 and next(iter(ids)).startswith("deals:")
        for where, text in (("log", service.log()), ("replay", result.stdout + result.stderr)):
            assert secret_key[:12] not in text and token not in text, where


async def test_failed_deliveries_dead_lettered_with_reasons_and_no_secret_anywhere(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Slack and webhook receivers that refuse: each delivery is retried on 5xx, dead-lettered on
    a permanent 4xx with the channel and reason; the webhook secret and the Slack token (given
    through env vars) appear nowhere in the service log, /metrics or news.dlq."""
    await refused_deliveries(
        kafka, feeds, service_config, services, tmp_path, monkeypatch, replay=False
    )


async def test_alert_dead_lettered_on_two_channels_replayed_once_per_channel(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An alert that failed on two channels has two dead letters (each holding the whole alert);
    once the receivers recover, `newsradar dlq replay` delivers it once per channel, not once
    per dead letter, and a second replay re-sends nothing."""
    await refused_deliveries(
        kafka, feeds, service_config, services, tmp_path, monkeypatch, replay=True
    )
