"""A real Prometheus scraping `newsradar run`: the service's HTTP endpoints answer, every
dashboard and alert query runs on live data, and the metrics that matter move when the seed
article goes through the pipeline."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import pytest
import yaml

from newsradar.broker import EmbeddedBroker

from .conftest import REPO, Service, publish
from .feedserver import FeedServer
from .prometheus import (
    PROMETHEUS_SERIES,
    PrometheusServer,
    alert_rules,
    dashboard_expressions,
    families_in_exposition,
    live_config,
    metric_names,
)

pytestmark = pytest.mark.integration

SEED_TITLE = "Microsoft va investir 10 milliards de dollars dans OpenAI"
SEED_LINK = "http://127.0.0.1/fr/microsoft-openai"


def seed_article() -> str:
    """The motivating article, read at run time from the shared data (never copied here)."""
    shared = Path(os.environ.get("NEWSRADAR_SHARED_DIR", REPO.parent / "shared"))
    return (shared / "data" / "seed_article.txt").read_text(encoding="utf-8")


def rss(title: str, link: str, description: str) -> bytes:
    """An RSS 2.0 feed with one item published now."""
    published = format_datetime(datetime.now(UTC), usegmt=True)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Loopback</title><link>http://127.0.0.1/</link><language>fr</language>"
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<pubDate>{published}</pubDate><description>{escape(description)}</description></item>"
        "</channel></rss>"
    ).encode()


def default_rules() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rules of config/newsradar.yaml, every one sending to the log channel."""
    data = yaml.safe_load((REPO / "config" / "newsradar.yaml").read_text(encoding="utf-8"))
    rules = [dict(rule, channels=["log"]) for rule in data["rules"]]
    return rules, {"log": {"type": "log"}}


@dataclass
class Running:
    """A started `newsradar run` and where its web server listens."""

    service: Service
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET on loopback."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.5
) -> bool:
    """Poll an async predicate until it holds; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if await check():
                return True
        except (aiohttp.ClientError, AssertionError, OSError):
            pass
        await asyncio.sleep(interval)
    return False


@pytest.fixture
async def newsradar(
    kafka: EmbeddedBroker,
    feeds: FeedServer,
    service_config: Any,
    services: list[Service],
    tmp_path: Path,
) -> AsyncIterator[Running]:
    """`newsradar run` on the session broker, polling a loopback feed with the seed article."""
    path = publish(feeds, "seed.xml", rss(SEED_TITLE, SEED_LINK, seed_article()))
    rules, channels = default_rules()
    config = service_config(
        [{"name": "Seed", "url": feeds.url(path), "language": "fr"}],
        rules=rules,
        channels=channels,
    )
    port = yaml.safe_load(config.read_text(encoding="utf-8"))["metrics"]["port"]
    service = Service(config, tmp_path / "service.log").start()
    services.append(service)
    running = Running(service, port)

    async def alive() -> bool:
        return (await get(f"{running.url}/healthz"))[0] == 200

    assert await eventually(alive, timeout=90), service.log()[-4000:]
    yield running


async def test_health_ready_and_metrics_endpoints_answer(newsradar: Running) -> None:
    """/healthz says the process is alive, /readyz turns ready once the consumer has partitions
    and the poller runs, and /metrics serves newsradar's and Faust's families as text."""
    status, _, body = await get(f"{newsradar.url}/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"

    async def ready() -> bool:
        status, _, body = await get(f"{newsradar.url}/readyz")
        return status == 200 and json.loads(body) == {"ready": True}

    assert await eventually(ready, timeout=60), newsradar.service.log()[-4000:]

    status, content_type, text = await get(f"{newsradar.url}/metrics")
    assert status == 200, text[:2000]
    assert content_type.startswith("text/plain")
    families = families_in_exposition(text)
    assert "newsradar_feed_polls_total" in families
    assert "newsradar_articles_published_total" in families
    assert "faust_messages_received_total" in families
    assert "faust_topic_partition_end_offset" in families


async def test_prometheus_answers_every_dashboard_and_alert_query(
    newsradar: Running, tmp_path: Path
) -> None:
    """A real Prometheus scraping the service every second evaluates every dashboard and alert
    expression, every metric they use is exported, no alert condition holds on the healthy
    service, and articles published, deals detected and alert decisions are non-zero after the
    seed article went through."""
    config = live_config(f"127.0.0.1:{newsradar.port}")
    with PrometheusServer(tmp_path / "prometheus", config) as prometheus:

        async def scraped() -> bool:
            return await prometheus.value('up{job="newsradar"}') == 1

        assert await eventually(scraped, timeout=60), (
            f"target never up: {await prometheus.api('targets')}\n{newsradar.service.log()[-3000:]}"
        )

        key_metrics = {
            "articles published": "sum(newsradar_articles_published_total)",
            "deals detected": 'sum(newsradar_extractions_total{kind="deal"})',
            "alert decisions": "sum(newsradar_alert_decisions_total)",
        }

        async def key_metrics_moved() -> bool:
            for expr in key_metrics.values():
                if not (await prometheus.value(expr) or 0) > 0:
                    return False
            return True

        await eventually(key_metrics_moved, timeout=90, interval=1.0)
        await asyncio.sleep(3)  # a few more scrapes, so rate() windows hold several samples

        problems: list[str] = []
        for name, expr in key_metrics.items():
            value = await prometheus.value(expr)
            if not (value or 0) > 0:
                problems.append(f"{name}: {expr} = {value}, expected > 0")

        status, _, exposition = await get(f"{newsradar.url}/metrics")
        assert status == 200, f"/metrics answered {status}"
        exported = families_in_exposition(exposition)
        stored = {
            series["metric"]["__name__"]
            for series in await prometheus.query(
                'count by (__name__) ({__name__=~"newsradar_.+|faust_.+"})'
            )
        }
        served = {
            line.split("{")[0].split(" ")[0]
            for line in exposition.splitlines()
            if line and not line.startswith("#") and line.startswith(("newsradar_", "faust_"))
        }
        if missing := served - stored:
            problems.append(f"served but not stored by Prometheus: {sorted(missing)}")

        queries = [*dashboard_expressions(rate_interval="30s", range_="10m")]
        queries += [(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]
        answered = 0
        for label, expr in queries:
            try:
                result = await prometheus.query(expr)
            except AssertionError as exc:
                problems.append(f"{label}: invalid on a live server: {exc}")
                continue
            answered += bool(result)
            if label.startswith("alert ") and result:  # a healthy pipeline trips no alert
                problems.append(f"{label} would fire on a healthy service: {result}")
            absent = metric_names(expr) - PROMETHEUS_SERIES - exported
            if absent:
                problems.append(f"{label}: not in /metrics: {sorted(absent)}")

        rules = [r for g in (await prometheus.api("rules"))["groups"] for r in g["rules"]]
        assert sorted(r["name"] for r in rules) == sorted(r["alert"] for r in alert_rules())
        for rule in rules:
            if rule["health"] != "ok":
                problems.append(f"rule {rule['name']}: {rule['health']} {rule.get('lastError')}")

        print(f"{answered} of {len(queries)} queries returned series on live data")
        assert not problems, "\n".join(problems) + "\n" + newsradar.service.log()[-3000:]
        assert answered >= len(queries) // 2
